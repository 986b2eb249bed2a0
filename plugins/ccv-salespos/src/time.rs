//! UTC times as CCV's filters take them. The guest has the host's clock only as milliseconds, and
//! a date library would be a large dependency for one conversion.

/// "2026-11-28T18:40:00Z" for milliseconds since 1970-01-01T00:00:00Z.
pub fn iso_utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Milliseconds since 1970-01-01T00:00:00Z of an RFC 3339 time ("2026-11-28T18:40:00Z",
/// "2026-11-28T19:40:00.250+01:00"; a date alone is its midnight, UTC); none when it is not one.
pub fn parse_utc(text: &str) -> Option<u64> {
    let text = text.trim();
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut millis = 0;
    let rest = &text[10..];
    if !rest.is_empty() {
        let clock = rest.strip_prefix(['T', 't', ' '])?;
        let hms: Vec<i64> = clock
            .get(..8)?
            .split(':')
            .map(|n| n.parse().ok())
            .collect::<Option<_>>()?;
        let [h, m, s] = hms[..] else { return None };
        secs += h * 3600 + m * 60 + s;
        let mut zone = &clock[8..];
        if let Some(fraction) = zone.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            let first3 = format!("{:0<3}", &fraction[..digits.min(3)]);
            millis = first3.parse::<i64>().ok()?;
            zone = &fraction[digits..];
        }
        secs -= match zone {
            "" | "Z" | "z" => 0,
            offset => {
                let sign = match offset.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let digits = offset[1..].replace(':', "");
                let (h, m) = (digits.get(..2)?, digits.get(2..)?);
                sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
            }
        };
    }
    u64::try_from(secs * 1000 + millis).ok()
}

/// The day number (days since 1970-01-01) of a calendar date, after Howard Hinnant's
/// `days_from_civil`.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar date of a day number (days since 1970-01-01), after Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_become_utc_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(1_795_881_600_999), "2026-11-28T16:00:00Z");
        assert_eq!(iso_utc(4_102_444_799_000), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn rfc_3339_times_become_milliseconds() {
        for ms in [0, 951_782_400_000, 1_795_881_600_000, 4_102_444_799_000] {
            assert_eq!(parse_utc(&iso_utc(ms)), Some(ms));
        }
        assert_eq!(
            parse_utc("2026-11-28T17:00:00.999+01:00"),
            Some(1_795_881_600_999)
        );
        assert_eq!(parse_utc("2026-11-28T16:00:00.5Z"), Some(1_795_881_600_500));
        assert_eq!(
            parse_utc("2026-11-28T11:30:00-0430"),
            Some(1_795_881_600_000)
        );
        assert_eq!(parse_utc("2026-11-28"), Some(1_795_824_000_000));
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-28T16",
            "2026-11-28T16:00:00+x",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }
}
