//! The dashboards of `tillbridge run --integrations … --listen ADDR`: each integration's own,
//! under `/i/NAME/` of the process's listener, with the token of its own flows.toml. An agency
//! gives each merchant the address and token of their section; one merchant's token opens no
//! other's (each section's session cookie is scoped to its path).
//!
//! Sections come and go while the process runs: an integration's appears once it has started
//! (a broken one has none until it is mended) and goes when it stops.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use tower::ServiceExt;

/// What a path segment must not hold as it is (RFC 3986's `pchar` keeps the rest), and what HTML
/// would escape (pages put the path in links as it is).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'\'')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The sections being served, by their path segment.
#[derive(Clone)]
pub struct Sections {
    origin: String,
    routers: Arc<RwLock<BTreeMap<String, Router>>>,
}

impl Sections {
    /// Sections of the listener at `origin`, e.g. `http://127.0.0.1:8780`.
    pub fn new(origin: String) -> Sections {
        Sections {
            origin: origin.trim_end_matches('/').to_string(),
            routers: Arc::default(),
        }
    }

    /// The path of integration `name`'s section, without the closing slash: `/i/shop-a`.
    pub fn base(name: &str) -> String {
        format!("/i/{}", utf8_percent_encode(name, SEGMENT))
    }

    /// The address of integration `name`'s section: `http://127.0.0.1:8780/i/shop-a/`.
    pub fn url(&self, name: &str) -> String {
        format!("{}{}/", self.origin, Sections::base(name))
    }

    /// Serves `router` as integration `name`'s section (instead of any it had).
    pub(super) fn insert(&self, name: &str, router: Router) {
        let segment = utf8_percent_encode(name, SEGMENT).to_string();
        self.lock_mut().insert(segment, router);
    }

    /// Takes integration `name`'s section away.
    pub(super) fn remove(&self, name: &str) {
        let segment = utf8_percent_encode(name, SEGMENT).to_string();
        self.lock_mut().remove(&segment);
    }

    /// The routes that lead to the sections, for the process's listener.
    pub fn routes(&self) -> Router {
        Router::new()
            .route("/i/{*rest}", any(dispatch))
            .with_state(self.clone())
    }

    fn lock_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Router>> {
        self.routers.write().unwrap_or_else(|e| e.into_inner())
    }

    fn router(&self, segment: &str) -> Option<Router> {
        let routers = self.routers.read().unwrap_or_else(|e| e.into_inner());
        routers.get(segment).cloned()
    }
}

/// Hands `/i/NAME/rest` to NAME's section as `/rest`.
async fn dispatch(State(sections): State<Sections>, mut request: Request) -> Response {
    let path = request.uri().path().to_string();
    let within = path.strip_prefix("/i/").unwrap_or_default();
    let (segment, rest) = match within.find('/') {
        Some(slash) => within.split_at(slash),
        // `/i/NAME`: the section's pages link from `/i/NAME/`, where its cookie applies.
        None => {
            return super::pages::see_other(&format!("{path}/"));
        }
    };
    let Some(router) = sections.router(segment) else {
        return (
            StatusCode::NOT_FOUND,
            "no integration of this name is running here; the list is at /\n",
        )
            .into_response();
    };
    let inner = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    };
    match inner.parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    }
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_path_segment() {
        assert_eq!(Sections::base("shop-a"), "/i/shop-a");
        assert_eq!(Sections::base("bäcker mai/2"), "/i/b%C3%A4cker%20mai%2F2");
        assert_eq!(Sections::base("<b>&'\""), "/i/%3Cb%3E%26%27%22");
        let sections = Sections::new("http://127.0.0.1:8780/".into());
        assert_eq!(sections.url("shop-a"), "http://127.0.0.1:8780/i/shop-a/");
    }
}
