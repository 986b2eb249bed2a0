//! Who may see the dashboard: whoever has its token. A browser signs in once (with `?token=` in
//! the address tillbridge printed, or on the sign-in page) and then carries a session cookie
//! derived from the token (HttpOnly, SameSite=Lax); the command line sends the token itself as
//! a bearer token, and the JSON API takes nothing else. Every form that changes something carries
//! a CSRF token derived from the token too, and is refused without it.

use axum::extract::{Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, LOCATION, REFERRER_POLICY,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::App;

/// The session cookie's name.
const SESSION: &str = "tillbridge_session";

/// The token and what is derived from it.
pub struct Auth {
    token: String,
    session: String,
    csrf: String,
    /// The path the dashboard is served under: empty, or `/i/NAME` for a section.
    base: String,
}

impl Auth {
    pub fn new(token: String, base: &str) -> Self {
        let derive = |purpose: &str| {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
            mac.update(purpose.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        };
        Auth {
            session: derive("tillbridge dashboard session"),
            csrf: derive("tillbridge dashboard csrf"),
            token,
            base: base.to_string(),
        }
    }

    /// A new random token (when flows.toml sets none).
    pub fn generate_token() -> String {
        use rand::RngExt;
        hex::encode(rand::rng().random::<[u8; 32]>())
    }

    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The CSRF token every form carries.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Whether `given` is the token (in constant time).
    pub fn is_token(&self, given: &str) -> bool {
        same(given, &self.token)
    }

    /// Whether a form's CSRF field is right.
    pub fn is_csrf(&self, given: &str) -> bool {
        same(given, &self.csrf)
    }

    /// The Set-Cookie header that signs a browser in: to this dashboard's pages only (a section's
    /// cookie is not sent to another integration's section).
    pub fn session_cookie(&self) -> HeaderValue {
        let cookie = Cookie::build((SESSION, self.session.clone()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path(format!("{}/", self.base))
            .build();
        HeaderValue::from_str(&cookie.to_string()).expect("a cookie is a header value")
    }

    fn bearer(&self, headers: &HeaderMap) -> bool {
        headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| self.is_token(t.trim()))
    }

    fn has_session(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .any(|c| c.name() == SESSION && same(c.value(), &self.session))
    }
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Lets a request through only with the token: the JSON API with the bearer token, pages with the
/// session cookie (or `?token=`, which signs the browser in and leads to the same page without it
/// in the address). The sign-in page and the style sheet are open.
pub async fn require_token(State(app): State<App>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path == "/login" || path == "/static/style.css" {
        return next.run(request).await;
    }
    let auth = &app.auth;
    if path.starts_with("/api/") {
        return if auth.bearer(request.headers()) {
            next.run(request).await
        } else {
            (
                StatusCode::UNAUTHORIZED,
                "this API needs the dashboard's token: Authorization: Bearer TOKEN\n",
            )
                .into_response()
        };
    }
    if auth.has_session(request.headers()) || auth.bearer(request.headers()) {
        return next.run(request).await;
    }
    let query = request.uri().query().unwrap_or_default();
    let given = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned());
    match given {
        Some(token) if request.method() == axum::http::Method::GET && auth.is_token(&token) => {
            let rest: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    url::form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "token"),
                )
                .finish();
            let base = &auth.base;
            let target = if rest.is_empty() {
                format!("{base}{path}")
            } else {
                format!("{base}{path}?{rest}")
            };
            let mut response = StatusCode::SEE_OTHER.into_response();
            let headers = response.headers_mut();
            headers.insert(SET_COOKIE, auth.session_cookie());
            headers.insert(
                LOCATION,
                HeaderValue::from_str(&target).unwrap_or(HeaderValue::from_static("/")),
            );
            response
        }
        given => app
            .pages
            .login(StatusCode::UNAUTHORIZED, given.is_some())
            .into_response(),
    }
}

/// Headers on every answer: nothing is cached, framed, sniffed or sent on as a referrer, and the
/// pages load nothing but their own style sheet and charts.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
