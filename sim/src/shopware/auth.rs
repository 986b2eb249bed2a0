//! `POST /api/oauth/token` (client credentials, password and refresh token grants, JSON or form
//! bodies) and the bearer check in front of every other `/api` route, with league/oauth2-server's
//! error codes and messages as Shopware passes them on.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::common::lock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::error::ApiError;
use super::query::query_to_json;

const MISSING_TOKEN: &str = "Missing token in \"Authorization\" header";
const DENIED: &str = "The resource owner or authorization server denied the request.";

/// The admin user of the password grant (Shopware's demo default).
pub const ADMIN_USER: (&str, &str) = ("admin", "shopware");

/// The OAuth client: its credentials, the tokens it issued, and their lifetime.
pub struct Auth {
    client_id: String,
    client_secret: String,
    ttl: Duration,
    key: Vec<u8>,
    access: Mutex<HashMap<String, Instant>>,
    refresh: Mutex<HashMap<String, ()>>,
    issued: AtomicUsize,
}

/// An OAuth error as Shopware renders league's `OAuthServerException`: code is the league
/// number, title the message, detail the hint.
fn oauth_error(status: StatusCode, code: u8, title: &str, hint: Option<&str>) -> ApiError {
    ApiError {
        status,
        errors: vec![json!({
            "code": code.to_string(),
            "status": status.as_u16().to_string(),
            "title": title,
            "detail": hint,
        })],
    }
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

impl Auth {
    /// A client with these credentials whose tokens live `ttl`.
    pub fn new(client_id: &str, client_secret: &str, ttl: Duration, seed: u64) -> Self {
        Auth {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            ttl,
            key: format!("tillbridge-sim-{seed}-{}", super::ids::random()).into_bytes(),
            access: Mutex::new(HashMap::new()),
            refresh: Mutex::new(HashMap::new()),
            issued: AtomicUsize::new(0),
        }
    }

    /// How many access tokens were issued.
    pub fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }

    /// A JWT-shaped token (header.payload.signature) that only this simulator accepts.
    fn jwt(&self, subject: &str) -> String {
        let header = base64url(br#"{"typ":"JWT","alg":"HS256"}"#);
        let expires = chrono::Utc::now().timestamp() + self.ttl.as_secs() as i64;
        let claims = json!({"aud": subject, "jti": super::ids::random(), "exp": expires});
        let payload = base64url(claims.to_string().as_bytes());
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(format!("{header}.{payload}").as_bytes());
        let signature = base64url(&mac.finalize().into_bytes());
        format!("{header}.{payload}.{signature}")
    }

    fn issue(&self, subject: &str, with_refresh: bool) -> Response {
        let token = self.jwt(subject);
        lock(&self.access).insert(token.clone(), Instant::now() + self.ttl);
        self.issued.fetch_add(1, Ordering::SeqCst);
        let mut body = json!({
            "token_type": "Bearer",
            "expires_in": self.ttl.as_secs(),
            "access_token": token,
        });
        if with_refresh {
            let refresh = super::ids::random() + &super::ids::random();
            lock(&self.refresh).insert(refresh.clone(), ());
            body["refresh_token"] = json!(refresh);
        }
        Json(body).into_response()
    }

    /// Answers a token request.
    pub fn token(&self, headers: &HeaderMap, body: &Bytes) -> Response {
        let form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        let params: Value = if form {
            query_to_json(&String::from_utf8_lossy(body))
        } else {
            serde_json::from_slice(body).unwrap_or(Value::Null)
        };
        let param = |name: &str| params.get(name).and_then(Value::as_str).unwrap_or_default();
        let missing = |name: &str| {
            oauth_error(
                StatusCode::BAD_REQUEST,
                3,
                "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.",
                Some(&format!("Check the `{name}` parameter")),
            )
            .into_response()
        };
        match param("grant_type") {
            "client_credentials" => {
                if param("client_id").is_empty() {
                    return missing("client_id");
                }
                if param("client_id") != self.client_id
                    || param("client_secret") != self.client_secret
                {
                    return oauth_error(
                        StatusCode::UNAUTHORIZED,
                        4,
                        "Client authentication failed",
                        None,
                    )
                    .into_response();
                }
                self.issue(&self.client_id, false)
            }
            "password" => {
                if param("client_id") != "administration" {
                    return oauth_error(
                        StatusCode::UNAUTHORIZED,
                        4,
                        "Client authentication failed",
                        None,
                    )
                    .into_response();
                }
                if param("username").is_empty() {
                    return missing("username");
                }
                if (param("username"), param("password")) != ADMIN_USER {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        6,
                        "The user credentials were incorrect.",
                        None,
                    )
                    .into_response();
                }
                self.issue("administration", true)
            }
            "refresh_token" => {
                let known = lock(&self.refresh).remove(param("refresh_token")).is_some();
                if !known {
                    return oauth_error(
                        StatusCode::UNAUTHORIZED,
                        8,
                        "The refresh token is invalid.",
                        Some("Token has been revoked"),
                    )
                    .into_response();
                }
                self.issue("administration", true)
            }
            "" => missing("grant_type"),
            _ => oauth_error(
                StatusCode::BAD_REQUEST,
                2,
                "The authorization grant type is not supported by the authorization server.",
                Some("Check that all required parameters have been provided"),
            )
            .into_response(),
        }
    }

    /// Checks `Authorization: Bearer …`.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let denied = |hint: &str| oauth_error(StatusCode::UNAUTHORIZED, 9, DENIED, Some(hint));
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(denied(MISSING_TOKEN));
        };
        let value = value.to_str().unwrap_or_default().trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        if token.is_empty() {
            return Err(denied(MISSING_TOKEN));
        }
        if token.matches('.').count() != 2 {
            return Err(denied("The JWT string must have two dots"));
        }
        match lock(&self.access).get(token) {
            Some(expires) if *expires > Instant::now() => Ok(()),
            _ => Err(denied("Access token could not be verified")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(base64url(b"hello"), "aGVsbG8");
        assert_eq!(base64url(b"hel"), "aGVs");
    }
}
