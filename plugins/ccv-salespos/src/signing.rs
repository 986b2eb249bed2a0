//! CCV's request signature, exactly as its API documentation gives it: `x-hash` is the lowercase
//! hex HMAC-SHA512, keyed with the API secret, of `public|METHOD|uri|body|x-date`, where `uri` is
//! the path with its query string as sent and `body` the bytes as sent (empty for none). CCV signs
//! its answers the same way, over the answer's body and its own `x-date`.

use hmac::{Hmac, Mac};
use sha2::Sha512;

type HmacSha512 = Hmac<Sha512>;

/// The API key pair of a CCV webshop.
#[derive(Clone)]
pub struct Keys {
    /// Sent as `x-public`.
    pub public: String,
    /// Never sent: it only keys the HMAC.
    pub secret: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Keys {
    fn mac(&self, method: &str, uri: &str, body: &[u8], x_date: &str) -> HmacSha512 {
        let mut mac =
            HmacSha512::new_from_slice(self.secret.as_bytes()).expect("HMAC takes any key length");
        let parts: [&[u8]; 5] = [
            self.public.as_bytes(),
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

    /// The `x-hash` of a request: `method` upper case, `uri` the path and query as sent.
    pub fn sign(&self, method: &str, uri: &str, body: &[u8], x_date: &str) -> String {
        hex::encode(self.mac(method, uri, body, x_date).finalize().into_bytes())
    }

    /// Whether an answer's `x-hash` is CCV's signature of it (compared in constant time).
    pub fn answer_is_authentic(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
        x_date: &str,
        x_hash: &str,
    ) -> bool {
        let Ok(given) = hex::decode(x_hash.trim()) else {
            return false;
        };
        self.mac(method, uri, body, x_date)
            .verify_slice(&given)
            .is_ok()
    }
}

/// A secret derived from the API secret, for values CCV requires but nobody uses (a user's
/// password: customers booked by tillbridge never log in). Unguessable without the secret.
pub fn derived_secret(keys: &Keys, purpose: &str, salt: &str) -> String {
    let mut hash = keys.sign("DERIVE", purpose, salt.as_bytes(), "");
    hash.truncate(32);
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys {
            public: "pub".into(),
            secret: "secret".into(),
        }
    }

    #[test]
    fn the_string_to_sign_is_the_documented_one() {
        // printf 'pub|GET|/api/rest/v1/||2022-11-26T00:45:54Z' | openssl dgst -sha512 -hmac secret
        assert_eq!(
            keys().sign("GET", "/api/rest/v1/", b"", "2022-11-26T00:45:54Z"),
            "80562faa960a6c79dc3c00e7978554fa30704b0e1e71252d3341c1597b268d52\
             1bf4a523b09590f88da303511fb75fa68fdc2e0f7f4821f9e020f212afc01082"
        );
    }

    #[test]
    fn every_part_counts() {
        let base = keys().sign(
            "POST",
            "/api/rest/v1/users?x=1",
            b"{}",
            "2026-01-01T00:00:00Z",
        );
        for other in [
            keys().sign(
                "PATCH",
                "/api/rest/v1/users?x=1",
                b"{}",
                "2026-01-01T00:00:00Z",
            ),
            keys().sign(
                "POST",
                "/api/rest/v1/users?x=2",
                b"{}",
                "2026-01-01T00:00:00Z",
            ),
            keys().sign(
                "POST",
                "/api/rest/v1/users?x=1",
                b"{ }",
                "2026-01-01T00:00:00Z",
            ),
            keys().sign(
                "POST",
                "/api/rest/v1/users?x=1",
                b"{}",
                "2026-01-01T00:00:01Z",
            ),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(base.len(), 128);
        assert!(!base.bytes().any(|b| b.is_ascii_uppercase()));
    }

    #[test]
    fn answers_are_checked_against_their_own_date_and_body() {
        let k = keys();
        let hash = k.sign(
            "GET",
            "/api/rest/v1/products",
            b"{\"a\":1}",
            "2026-01-01T00:00:00Z",
        );
        assert!(k.answer_is_authentic(
            "GET",
            "/api/rest/v1/products",
            b"{\"a\":1}",
            "2026-01-01T00:00:00Z",
            &hash
        ));
        assert!(!k.answer_is_authentic(
            "GET",
            "/api/rest/v1/products",
            b"{\"a\":2}",
            "2026-01-01T00:00:00Z",
            &hash
        ));
        assert!(!k.answer_is_authentic(
            "GET",
            "/api/rest/v1/products",
            b"{\"a\":1}",
            "2026-01-01T00:00:00Z",
            "not hex"
        ));
    }

    #[test]
    fn derived_secrets_depend_on_the_secret_and_salt() {
        let a = derived_secret(&keys(), "password", "a@example.org|1");
        assert_eq!(a.len(), 32);
        assert_ne!(a, derived_secret(&keys(), "password", "b@example.org|1"));
        let other = Keys {
            secret: "other".into(),
            ..keys()
        };
        assert_ne!(a, derived_secret(&other, "password", "a@example.org|1"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn parts() -> impl Strategy<Value = (String, String, String, Vec<u8>, String)> {
            (
                ".*",
                "GET|POST|PUT|PATCH|DELETE",
                "/api/rest/v1/[a-z/0-9?=&%]*",
                prop::collection::vec(any::<u8>(), 0..200),
                "[0-9T:Z-]{0,25}",
            )
        }

        proptest! {
            /// Any request signs to what CCV's documented string gives (the simulator's own
            /// implementation of it), and an answer signed so is authentic.
            #[test]
            fn a_signature_is_the_documented_hmac_and_verifies(
                secret in ".*",
                (public, method, uri, body, x_date) in parts(),
            ) {
                let keys = Keys { public: public.clone(), secret: secret.clone() };
                let hash = keys.sign(&method, &uri, &body, &x_date);
                prop_assert_eq!(hash.len(), 128);
                prop_assert_eq!(
                    &hash,
                    &tillbridge_sim::ccv::sign_bytes(&public, &secret, &method, &uri, &body, &x_date)
                );
                prop_assert!(keys.answer_is_authentic(&method, &uri, &body, &x_date, &hash));
            }

            /// Changing any part of an answer, or its hash, makes it inauthentic.
            #[test]
            fn every_part_of_an_answer_counts(
                (public, method, uri, body, x_date) in parts(),
                extra in "[a-z0-9]{1,5}",
                flip in 0usize..128,
            ) {
                let keys = Keys { public, secret: "secret".into() };
                let hash = keys.sign(&method, &uri, &body, &x_date);
                let longer_body = [body.as_slice(), extra.as_bytes()].concat();
                let longer_uri = uri.clone() + &extra;
                let later_date = x_date.clone() + &extra;
                prop_assert!(!keys.answer_is_authentic(&method, &longer_uri, &body, &x_date, &hash));
                prop_assert!(!keys.answer_is_authentic(&method, &uri, &longer_body, &x_date, &hash));
                prop_assert!(!keys.answer_is_authentic(&method, &uri, &body, &later_date, &hash));
                let mut wrong = hash.into_bytes();
                wrong[flip] = if wrong[flip] == b'0' { b'1' } else { b'0' };
                let wrong = String::from_utf8(wrong).unwrap();
                prop_assert!(!keys.answer_is_authentic(&method, &uri, &body, &x_date, &wrong));
            }
        }
    }
}
