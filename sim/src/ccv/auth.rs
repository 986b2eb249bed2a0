//! CCV's request signing (HMAC-SHA512, no OAuth), checked strictly, and the signature CCV puts on
//! every answer.
//!
//! A request carries `x-public` (the public key), `x-date` (now, ISO 8601 UTC) and `x-hash`, the
//! lowercase hex HMAC-SHA512 with the secret of `public|METHOD|uri|body|x-date`: `uri` is the path
//! and query string exactly as sent, `body` the exact bytes (empty for GET and DELETE). An answer
//! carries `x-date` and `x-hash` over `public|METHOD|uri|answer body|x-date`.

use std::time::Duration;

use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha512;

use super::error::CcvError;

type HmacSha512 = Hmac<Sha512>;

/// Signs a request exactly as CCV documents it: the `x-hash` header for these parts.
///
/// For tests and for connector authors; `uri_with_query` is the path and query string as sent
/// (e.g. `/api/rest/v1/products/?productnumber=A-1`) and `body` the exact body ("" for none).
pub fn sign(
    public_key: &str,
    secret: &str,
    method: &str,
    uri_with_query: &str,
    body: &str,
    x_date: &str,
) -> String {
    sign_bytes(
        public_key,
        secret,
        method,
        uri_with_query,
        body.as_bytes(),
        x_date,
    )
}

/// [`sign`] over a body of raw bytes.
pub fn sign_bytes(
    public_key: &str,
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    x_date: &str,
) -> String {
    hex::encode(
        mac(public_key, secret, method, uri, body, x_date)
            .finalize()
            .into_bytes(),
    )
}

fn mac(
    public_key: &str,
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    x_date: &str,
) -> HmacSha512 {
    let mut mac =
        HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    let parts = [
        public_key.as_bytes(),
        method.as_bytes(),
        uri.as_bytes(),
        body,
        x_date.as_bytes(),
    ];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            mac.update(b"|");
        }
        mac.update(part);
    }
    mac
}

/// `x-date` as CCV's official examples write it: `2022-11-26T00:45:54Z`.
pub fn format_x_date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Reads an `x-date` in one of the formats CCV's clients are seen to send: `…Z`, `…+00:00` (PHP's
/// `c`) and `…+0000`. Other offsets, fractions of seconds and other layouts are refused: CCV asks
/// for UTC.
pub fn parse_x_date(text: &str) -> Option<DateTime<Utc>> {
    if let Some(naive) = text.strip_suffix('Z') {
        return NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M:%S")
            .ok()
            .map(|n| n.and_utc());
    }
    ["%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%dT%H:%M:%S%z"]
        .iter()
        .find_map(|format| DateTime::parse_from_str(text, format).ok())
        .filter(|at| at.offset().local_minus_utc() == 0)
        .map(|at| at.with_timezone(&Utc))
}

/// The key pair a simulator accepts, and how far off a request's clock may be.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The API public key.
    pub public_key: String,
    /// The API secret.
    pub secret: String,
    /// How far `x-date` may be from the simulator's clock, either way.
    pub max_clock_skew: Duration,
}

impl Credentials {
    /// Checks a request's signature; `uri` is the path and query as sent.
    pub fn check(
        &self,
        headers: &HeaderMap,
        method: &str,
        uri: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), CcvError> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let public = header("x-public")
            .ok_or_else(|| CcvError::unknown_public_key("The x-public header is missing."))?;
        if public != self.public_key {
            return Err(CcvError::unknown_public_key(format!(
                "Unknown public key {public:?}."
            )));
        }
        let x_date =
            header("x-date").ok_or_else(|| CcvError::bad_date("The x-date header is missing."))?;
        let date = parse_x_date(x_date).ok_or_else(|| {
            CcvError::bad_date(format!(
                "x-date {x_date:?} is not an ISO 8601 UTC date such as 2022-11-26T00:45:54Z."
            ))
        })?;
        let skew = (now - date).abs().to_std().unwrap_or(Duration::MAX);
        if skew > self.max_clock_skew {
            return Err(CcvError::bad_date(format!(
                "x-date {x_date} differs {}s from the server time {}; at most {}s is allowed.",
                skew.as_secs(),
                format_x_date(now),
                self.max_clock_skew.as_secs()
            )));
        }
        let x_hash =
            header("x-hash").ok_or_else(|| CcvError::bad_hash("The x-hash header is missing."))?;
        let expected = mac(&self.public_key, &self.secret, method, uri, body, x_date);
        let given = hex::decode(x_hash)
            .ok()
            .filter(|_| !x_hash.bytes().any(|b| b.is_ascii_uppercase()));
        match given {
            Some(bytes) if expected.verify_slice(&bytes).is_ok() => Ok(()),
            _ => Err(CcvError::bad_hash(
                "x-hash does not match HMAC-SHA512(secret, public|METHOD|uri|body|x-date) in lowercase hex.",
            )),
        }
    }

    /// The `x-date` and `x-hash` headers of an answer.
    pub fn sign_answer(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> (String, String) {
        let x_date = format_x_date(now);
        let x_hash = sign_bytes(&self.public_key, &self.secret, method, uri, body, &x_date);
        (x_date, x_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_date_formats_are_read_and_others_refused() {
        let at = parse_x_date("2022-11-26T00:45:54Z").unwrap();
        assert_eq!(parse_x_date("2022-11-26T00:45:54+00:00"), Some(at));
        assert_eq!(parse_x_date("2022-11-26T00:45:54+0000"), Some(at));
        assert_eq!(parse_x_date("2022-11-26T01:45:54+01:00"), None);
        assert_eq!(parse_x_date("2022-11-26 00:45:54"), None);
        assert_eq!(parse_x_date("2022-11-26T00:45:54.123Z"), None);
        assert_eq!(format_x_date(at), "2022-11-26T00:45:54Z");
    }

    #[test]
    fn the_string_to_sign_joins_the_parts_with_bars() {
        // From `printf 'pub|GET|/api/rest/v1/||2022-11-26T00:45:54Z' |
        // openssl dgst -sha512 -hmac secret`.
        let hash = sign(
            "pub",
            "secret",
            "GET",
            "/api/rest/v1/",
            "",
            "2022-11-26T00:45:54Z",
        );
        assert_eq!(
            hash,
            "80562faa960a6c79dc3c00e7978554fa30704b0e1e71252d3341c1597b268d52\
             1bf4a523b09590f88da303511fb75fa68fdc2e0f7f4821f9e020f212afc01082"
        );
        assert_eq!(hash.len(), 128);
    }
}
