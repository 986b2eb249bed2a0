//! Points in time as milliseconds since 1970, read from and written in the forms Shopware and
//! HTTP use. Shopware stores `DATETIME(3)` in UTC and answers `2024-01-02T10:00:00.123+00:00`;
//! its range filters compare with text, which MySQL reads best as `2024-01-02 10:00:00.123`.
//!
//! Small enough to write here rather than pull a date library into every WASM build.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn number(text: &str) -> Option<i64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Reads `2024-01-02T10:00:00.123+00:00`, `…Z`, `2024-01-02 10:00:00` or `2024-01-02`; a time
/// without an offset is UTC, as Shopware stores it.
pub fn parse(text: &str) -> Option<Millis> {
    let text = text.trim();
    let (date, rest) = match text.find(['T', ' ']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let mut parts = date.split('-');
    let (year, month, day) = (
        number(parts.next()?)?,
        number(parts.next()?)?,
        number(parts.next()?)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset_ms) = split_offset(rest)?;
    let mut millis = 0;
    if !clock.is_empty() {
        let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
        let mut hms = hms.split(':');
        let hour = number(hms.next()?)?;
        let minute = number(hms.next()?)?;
        let second = hms.next().map_or(Some(0), number)?;
        if hms.next().is_some() || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let fraction_ms = if fraction.is_empty() {
            0
        } else {
            let digits: String = fraction.chars().chain("000".chars()).take(3).collect();
            number(fraction)?;
            number(&digits)?
        };
        millis = ((hour * 60 + minute) * 60 + second) * 1000 + fraction_ms;
    }
    Some(days_from_civil(year, month, day) * 86_400_000 + millis - offset_ms)
}

/// Splits `10:00:00.123+02:00` into the clock and the offset in milliseconds.
fn split_offset(rest: &str) -> Option<(&str, i64)> {
    if let Some(clock) = rest.strip_suffix('Z') {
        return Some((clock, 0));
    }
    // The offset sign comes after the clock, so look from the end (dates have '-' too).
    match rest.rfind(['+', '-']) {
        Some(at) if at > 0 => {
            let (hours, minutes) = rest[at + 1..].split_once(':')?;
            let size = (number(hours)? * 60 + number(minutes)?) * 60_000;
            let sign = if rest.as_bytes()[at] == b'-' { -1 } else { 1 };
            Some((&rest[..at], sign * size))
        }
        _ => Some((rest, 0)),
    }
}

fn parts(at: Millis) -> (i64, i64, i64, i64, i64, i64, i64) {
    let days = at.div_euclid(86_400_000);
    let in_day = at.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    (
        year,
        month,
        day,
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    )
}

/// RFC 3339 in UTC, as the canonical model wants it: `2024-01-02T10:00:00Z`, with the
/// milliseconds only when there are some (`2024-01-02T10:00:00.123Z`).
pub fn rfc3339(at: Millis) -> String {
    let (y, mo, d, h, mi, s, ms) = parts(at);
    if ms == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }
}

/// The form a Shopware range filter compares with a `DATETIME(3)` column.
pub fn for_filter(at: Millis) -> String {
    let (y, mo, d, h, mi, s, ms) = parts(at);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03}")
}

/// Reads an HTTP `Date` header (`Tue, 15 Nov 1994 08:12:31 GMT`): the server's clock.
pub fn http_date(text: &str) -> Option<Millis> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut words = text.split_whitespace().skip(1);
    let day = number(words.next()?)?;
    let month_name = words.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as i64 + 1;
    let year = number(words.next()?)?;
    let clock = words.next()?;
    parse(&format!("{year:04}-{month:02}-{day:02}T{clock}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopware_times_round_trip() {
        let at = parse("2024-01-02T10:00:00.123+00:00").unwrap();
        assert_eq!(rfc3339(at), "2024-01-02T10:00:00.123Z");
        assert_eq!(for_filter(at), "2024-01-02 10:00:00.123");
        assert_eq!(parse(&for_filter(at)), Some(at));
        assert_eq!(parse(&rfc3339(at)), Some(at));
    }

    #[test]
    fn offsets_and_short_forms() {
        let utc = parse("2026-11-28T18:40:00Z").unwrap();
        assert_eq!(parse("2026-11-28T19:40:00+01:00"), Some(utc));
        assert_eq!(parse("2026-11-28T17:40:00-01:00"), Some(utc));
        assert_eq!(rfc3339(utc), "2026-11-28T18:40:00Z");
        assert_eq!(
            rfc3339(parse("1970-01-01").unwrap()),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(parse("2024-02-29T00:00:00.5Z").unwrap() % 1000, 500);
        assert_eq!(parse("1969-12-31T23:59:59Z"), Some(-1000));
    }

    #[test]
    fn nonsense_is_refused() {
        for text in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-01-02T25:00:00Z",
            "2024-01-02Tx",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn http_dates_are_the_servers_clock() {
        assert_eq!(
            http_date("Tue, 15 Nov 1994 08:12:31 GMT").map(rfc3339),
            Some("1994-11-15T08:12:31Z".into())
        );
        assert_eq!(http_date("garbage"), None);
    }
}
