//! A tap on one plugin, for `tillbridge conformance`: it sees every request the plugin makes
//! (allowed or not) and every line it logs (through the `log` import or on stdout and stderr),
//! and it can answer the plugin's requests itself, so that an error is injected on the host's
//! side, whatever the system behind would have said.

use std::sync::Mutex;

use crate::runtime::bindings::tillbridge::plugin::http::Response;

/// A request the plugin made.
#[derive(Debug, Clone, PartialEq)]
pub struct TappedRequest {
    /// "GET", "POST", …
    pub method: String,
    /// The URL as the plugin gave it.
    pub url: String,
}

#[derive(Default)]
struct Seen {
    requests: Vec<TappedRequest>,
    logs: Vec<String>,
    canned: Option<Response>,
}

/// What a tap saw, shared by every session it is given to.
#[derive(Default)]
pub struct Tap {
    seen: Mutex<Seen>,
}

impl Tap {
    /// From now on, every request to an allowed host is answered with `response` instead of
    /// being sent; none: sent again.
    pub fn answer_with(&self, response: Option<Response>) {
        self.seen.lock().expect("tap lock").canned = response;
    }

    /// The answer to give instead of sending, if one is set.
    pub(crate) fn canned(&self) -> Option<Response> {
        self.seen.lock().expect("tap lock").canned.clone()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<TappedRequest> {
        self.seen.lock().expect("tap lock").requests.clone()
    }

    /// Every log line so far.
    pub fn logs(&self) -> Vec<String> {
        self.seen.lock().expect("tap lock").logs.clone()
    }

    pub(crate) fn request(&self, method: &str, url: &str) {
        self.seen
            .lock()
            .expect("tap lock")
            .requests
            .push(TappedRequest {
                method: method.to_string(),
                url: url.to_string(),
            });
    }

    pub(crate) fn log(&self, line: &str) {
        self.seen
            .lock()
            .expect("tap lock")
            .logs
            .push(line.to_string());
    }
}
