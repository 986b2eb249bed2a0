//! Signed requests to CCV's REST API v1, sent through the host's `http` import.
//!
//! Every request is signed when it is made (see [`crate::signing`]); the host may resend an
//! idempotent one unchanged within a minute, well inside the five minutes a signature is valid.
//! Resends are the host's alone, so that one call is sent a bounded number of times: a write the
//! host must not resend (POST) that CCV refuses fails its record, which a later run tries again.
//! Each request carries CCV's own
//! operation as its label ("GET /products/{id}"), so that the host paces it under the limit CCV
//! counts it against. Answers that carry a signature are checked.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tillbridge_sdk::clock;
use tillbridge_sdk::fetch::{Request, Response};
use tillbridge_sdk::http::Method;
use tillbridge_sdk::types::PluginError;

use crate::errors::{self, Failure};
use crate::signing::Keys;
use crate::wire::Page;

/// The largest page CCV gives (its Python client's cap; the simulator's too).
pub const PAGE_SIZE: usize = 250;

/// CCV's rate limits per minute, per operation, as its documentation gives each operation's
/// ("Rate limit:" in the docs, the doc comments of `src/Endpoints/*Endpoint.php` in
/// `jacobdekeizer/ccvshop-client`): 150 for reads, 100 for writes, 30 for `GET /productqueries`.
/// Declared to the host, which paces each operation under its own.
pub const RATE_LIMITS: [(&str, u32); 6] = [
    ("GET *", READS_PER_MINUTE),
    ("POST *", 100),
    ("PUT *", 100),
    ("PATCH *", 100),
    ("DELETE *", 100),
    ("GET /productqueries", QUERIES_PER_MINUTE),
];

/// Reads of one operation per minute.
pub const READS_PER_MINUTE: u32 = 150;

/// `GET /productqueries` per minute.
pub const QUERIES_PER_MINUTE: u32 = 30;

/// Where the API lives, how to sign for it, and which of CCV's schemas to ask for.
#[derive(Debug, Clone)]
pub struct Client {
    /// "https://shop.example", without a path.
    origin: String,
    /// The API's path, e.g. "/api/rest/v1".
    prefix: String,
    keys: Keys,
    /// The `Accept` media type (see [`crate::settings::MediaType`]).
    accept: &'static str,
}

impl Client {
    /// A client for the webshop at `url` (with or without `/api/rest/v1`).
    pub fn new(url: &str, keys: Keys) -> Result<Client, PluginError> {
        let bad = |why: &str| {
            PluginError::fatal(format!(
                "the connection's url {url:?} {why}; write it as https://yourshop.ccvshop.nl"
            ))
        };
        let url = url.trim().trim_end_matches('/');
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("has no scheme"))?;
        if !matches!(scheme, "http" | "https") {
            return Err(bad("is not http or https"));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("has a query or fragment"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() {
            return Err(bad("has no host"));
        }
        let path = path.trim_end_matches('/');
        let prefix = if path.ends_with("/api/rest/v1") {
            path.to_string()
        } else {
            format!("{path}/api/rest/v1")
        };
        Ok(Client {
            origin: format!("{scheme}://{authority}"),
            prefix,
            keys,
            accept: crate::settings::MediaType::default().header(),
        })
    }

    /// The same client asking for the schemas of `accept` (`application/vnd.verto.…+json`).
    pub fn accepting(self, accept: &'static str) -> Client {
        Client { accept, ..self }
    }

    /// The key pair.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// `GET path?query`, read as `T`.
    pub fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, Failure> {
        let answer = self.send(Method::Get, path, query, &[], true)?;
        Ok(answer.json()?)
    }

    /// One page of a collection: `size` items from `start`.
    pub fn page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        start: usize,
        size: usize,
    ) -> Result<Page<T>, Failure> {
        let (start, size) = (start.to_string(), size.clamp(1, PAGE_SIZE).to_string());
        let mut query = query.to_vec();
        query.extend([("start", start.as_str()), ("size", size.as_str())]);
        self.get(path, &query)
    }

    /// Every item of a collection, in pages of [`PAGE_SIZE`]: ⌈n / 250⌉ requests.
    pub fn all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, Failure> {
        let mut items = Vec::new();
        loop {
            let page: Page<T> = self.page(path, query, items.len(), PAGE_SIZE)?;
            let more = page.next.is_some() && !page.items.is_empty();
            items.extend(page.items);
            if !more {
                return Ok(items);
            }
        }
    }

    /// `POST path` with a JSON body; the created resource read as `T`. Never resent by the host.
    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Failure> {
        let bytes = serde_json::to_vec(body).map_err(PluginError::from)?;
        let answer = self.send(Method::Post, path, &[], &bytes, false)?;
        Ok(answer.json()?)
    }

    /// `PATCH path` with a JSON body. `idempotent` when the body sets absolute values, so that
    /// sending it twice does no harm and the host may resend it after a passing failure.
    pub fn patch(&self, path: &str, body: &Value, idempotent: bool) -> Result<(), Failure> {
        let bytes = serde_json::to_vec(body).map_err(PluginError::from)?;
        self.send(Method::Patch, path, &[], &bytes, idempotent)?;
        Ok(())
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: &[u8],
        idempotent: bool,
    ) -> Result<Response, Failure> {
        let verb = method_name(method);
        let uri = self.uri(path, query);
        let url = format!("{}{uri}", self.origin);
        let label = operation(verb, path);
        let x_date = clock::now();
        let x_hash = self.keys.sign(verb, &uri, body, &x_date);
        let mut request = Request::new(method, &url)
            .header("accept", self.accept)
            .header("x-public", &self.keys.public)
            .header("x-date", &x_date)
            .header("x-hash", &x_hash)
            .operation(&label)
            .idempotent(idempotent);
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body.to_vec());
        }
        let answer = request.send()?;
        if (200..300).contains(&answer.status()) {
            self.check_answer_signature(verb, &uri, &label, &answer)?;
            return Ok(answer);
        }
        // A refusal is reported as CCV gave it, signed or not: with a wrong secret every
        // signature mismatches, and "check the secret" is the useful message then.
        Err(errors::from_answer(
            &label,
            answer.status(),
            answer.bytes(),
            answer.retry_after_ms(),
        ))
    }

    /// A successful answer that is signed must be signed with this connection's keys; one that
    /// is not signed at all is taken as it is (CCV documents the signature as optional to check).
    fn check_answer_signature(
        &self,
        verb: &str,
        uri: &str,
        label: &str,
        answer: &Response,
    ) -> Result<(), Failure> {
        let Some(x_hash) = answer.header("x-hash") else {
            return Ok(());
        };
        let x_date = answer.header("x-date").unwrap_or_default();
        if self
            .keys
            .answer_is_authentic(verb, uri, answer.bytes(), x_date, x_hash)
        {
            Ok(())
        } else {
            Err(Failure::unanswered(PluginError::fatal(format!(
                "the answer to {label} is signed, but not by this CCV webshop: it was changed on the \
                 way or comes from elsewhere (check proxies and the connection's url)"
            ))))
        }
    }

    /// The path and query as sent and signed: `/api/rest/v1/products?productnumber=A%201`.
    fn uri(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut uri = format!("{}/{}", self.prefix, path.trim_start_matches('/'));
        for (i, (name, value)) in query.iter().enumerate() {
            uri.push(if i == 0 { '?' } else { '&' });
            uri.push_str(&encode(name));
            uri.push('=');
            uri.push_str(&encode(value));
        }
        uri
    }
}

/// The method as CCV signs it.
fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

/// CCV's operation for a request, the unit its rate limits count: the method and the resource
/// path with every id written `{id}` ("PATCH /attributecombinations/{id}").
pub fn operation(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("{method} /{}", segments.join("/"))
}

/// Percent-encodes a query name or value completely (all but RFC 3986's unreserved characters),
/// so that no layer between here and CCV re-encodes the URI that was signed.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> Result<Client, PluginError> {
        Client::new(
            url,
            Keys {
                public: "p".into(),
                secret: "s".into(),
            },
        )
    }

    #[test]
    fn operations_are_what_ccv_counts() {
        assert_eq!(operation("GET", "products"), "GET /products");
        assert_eq!(operation("GET", "products/12"), "GET /products/{id}");
        assert_eq!(
            operation("PATCH", "attributecombinations/77"),
            "PATCH /attributecombinations/{id}"
        );
        assert_eq!(
            operation("POST", "products/12/productattributevalues"),
            "POST /products/{id}/productattributevalues"
        );
    }

    #[test]
    fn the_signed_uri_is_the_encoded_path_and_query() {
        let c = client("https://shop.example/").unwrap();
        assert_eq!(c.uri("products", &[]), "/api/rest/v1/products");
        assert_eq!(
            c.uri(
                "productqueries",
                &[("productnumber", "A B/1&x=ü"), ("size", "5")]
            ),
            "/api/rest/v1/productqueries?productnumber=A%20B%2F1%26x%3D%C3%BC&size=5"
        );
        assert_eq!(c.origin, "https://shop.example");
    }

    #[test]
    fn urls_may_name_the_api_or_a_base_path() {
        let c = client("https://shop.example/api/rest/v1/").unwrap();
        assert_eq!(c.uri("users", &[]), "/api/rest/v1/users");
        let c = client("http://127.0.0.1:8802/pos").unwrap();
        assert_eq!(c.uri("users", &[]), "/pos/api/rest/v1/users");
        assert_eq!(c.origin, "http://127.0.0.1:8802");
        for bad in [
            "shop.example",
            "ftp://shop.example",
            "https://",
            "https://x/?a=1",
        ] {
            assert!(matches!(client(bad), Err(PluginError::Fatal(_))), "{bad}");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            /// The URI signed is the URI a standard parser sees, unchanged (nothing left to
            /// re-encode on the way), and its query decodes to exactly the parameters given.
            #[test]
            fn the_signed_uri_survives_parsing_and_decodes_to_the_parameters(
                path in "[a-z]{1,12}(/[0-9]{1,6})?",
                query in prop::collection::vec((".{1,10}", ".{0,20}"), 0..5),
            ) {
                let client = client("https://shop.example/api/rest/v1").unwrap();
                let pairs: Vec<(&str, &str)> =
                    query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let uri = client.uri(&path, &pairs);
                let parsed = url::Url::parse(&format!("https://shop.example{uri}")).unwrap();
                let as_sent = &parsed.as_str()["https://shop.example".len()..];
                prop_assert_eq!(as_sent, uri.as_str());
                let decoded: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                prop_assert_eq!(decoded, query);
            }
        }
    }
}
