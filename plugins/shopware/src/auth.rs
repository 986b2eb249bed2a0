//! OAuth client credentials: the integration's access key id and secret buy an access token,
//! which is kept for its lifetime and refreshed shortly before it runs out (or after a 401),
//! never fetched per request. With `remember_token` (the default) the token, and the version
//! detected with it, are kept in the connection's key-value store, so the next run (a new
//! session) does not spend a request on them. The token is never logged.

use serde::{Deserialize, Serialize};
use tillbridge_sdk::fetch::Request;
use tillbridge_sdk::types::PluginError;
use tillbridge_sdk::{clock, kv, settings};

use crate::errors;
use crate::timestamps::Millis;

/// The key-value entry holding the token between sessions.
const KV_KEY: &str = "session";

/// The integration's credentials, from the granted secrets.
pub struct Credentials {
    client_id: String,
    client_secret: String,
}

impl Credentials {
    /// The secrets `client_id` and `client_secret`.
    pub fn load() -> Result<Credentials, PluginError> {
        Ok(Credentials {
            client_id: settings::secret("client_id")?,
            client_secret: settings::secret("client_secret")?,
        })
    }
}

/// An access token and what was learnt with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    /// The shop it is for (a changed URL or key never reuses an old token).
    url: String,
    /// The key it is for, as a keyed hash (the state file keeps no credential).
    client: String,
    /// The bearer token.
    access: String,
    /// When to stop using it (already shortened by the refresh margin).
    use_until: Millis,
    /// The version detected with it.
    pub version: Option<String>,
}

/// Refresh this long before the token runs out: a minute, or a fifth of a short lifetime.
fn margin(lifetime_ms: u64) -> u64 {
    (lifetime_ms / 5).min(60_000)
}

/// The token of a session.
pub struct Auth {
    credentials: Credentials,
    url: String,
    remember: bool,
    token: Option<Token>,
}

impl Auth {
    /// The session's auth; a token remembered from an earlier session is taken if still good.
    pub fn new(credentials: Credentials, url: &str, remember: bool) -> Auth {
        let mut auth = Auth {
            credentials,
            url: url.to_string(),
            remember,
            token: None,
        };
        if remember {
            auth.token = kv::get(KV_KEY)
                .and_then(|text| serde_json::from_str::<Token>(&text).ok())
                .filter(|t| {
                    t.url == auth.url && t.client == kv::personal_key(&auth.credentials.client_id)
                });
        }
        auth
    }

    /// A token that is still good, if the session has one.
    pub fn current(&self) -> Option<&Token> {
        self.token
            .as_ref()
            .filter(|t| clock::now_millis() < u64::try_from(t.use_until).unwrap_or(0))
    }

    /// The bearer token, fetching a new one when there is none or it is about to expire; a new
    /// token remembers the version the session already knows.
    pub fn bearer(&mut self, version: Option<&str>) -> Result<String, PluginError> {
        if self.current().is_none() {
            self.fetch(version)?;
        }
        Ok(self
            .token
            .as_ref()
            .map(|t| t.access.clone())
            .unwrap_or_default())
    }

    /// Drops the token (after a 401): the next request fetches a new one.
    pub fn forget(&mut self) {
        self.token = None;
        if self.remember {
            kv::delete(KV_KEY);
        }
    }

    /// Remembers the version detected with the current token.
    pub fn set_version(&mut self, version: &str) {
        if let Some(token) = &mut self.token {
            token.version = Some(version.to_string());
        }
        self.save();
    }

    fn save(&self) {
        if let (true, Some(token)) = (self.remember, &self.token)
            && let Ok(text) = serde_json::to_string(token)
        {
            kv::set_many(&[(KV_KEY.to_string(), text)]);
        }
    }

    fn fetch(&mut self, version: Option<&str>) -> Result<(), PluginError> {
        #[derive(Deserialize)]
        struct Answer {
            access_token: String,
            expires_in: u64,
        }
        let asked_at = clock::now_millis();
        // Asking twice for a token is harmless, so the host may resend it after a passing
        // failure.
        let answer = Request::post(&format!("{}/api/oauth/token", self.url))
            .json(&serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret,
            }))?
            .operation("POST /api/oauth/token")
            .idempotent(true)
            .send()?;
        if !(200..300).contains(&answer.status()) {
            return Err(match answer.status() {
                400 | 401 => PluginError::Auth(format!(
                    "Shopware refused the integration's credentials ({}); check the connection's client_id and client_secret (an integration's access key id and secret, Settings › System › Integrations)",
                    errors::entries(&serde_json::from_slice(answer.bytes()).unwrap_or_default())
                        .first()
                        .map_or("no reason given".into(), |e| e.detail.clone())
                )),
                status => errors::for_status(
                    status,
                    answer.bytes(),
                    answer.retry_after_ms(),
                    "issue an access token",
                ),
            });
        }
        let token: Answer = answer.json()?;
        let lifetime = token.expires_in.saturating_mul(1_000);
        self.token = Some(Token {
            url: self.url.clone(),
            client: kv::personal_key(&self.credentials.client_id),
            access: token.access_token,
            use_until: i64::try_from(asked_at + lifetime - margin(lifetime)).unwrap_or(i64::MAX),
            version: version.map(str::to_string),
        });
        self.save();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_before_they_run_out() {
        assert_eq!(
            margin(600_000),
            60_000,
            "a minute early for Shopware's ten minutes"
        );
        assert_eq!(margin(3_000), 600, "a fifth of a short lifetime");
        assert_eq!(margin(0), 0);
    }

    /// The logic above against the SDK's mock host (`cargo test`, no Shopware): one token
    /// request per lifetime, a fresh one after the clock passes the margin, and a later
    /// session that takes the remembered token without asking.
    #[test]
    fn one_token_per_lifetime_and_the_next_session_reuses_it() {
        use tillbridge_sdk::http::Method;
        use tillbridge_sdk::mock;

        let url = "https://shop.test";
        mock::reset();
        mock::set_secret("client_id", "SWIA1");
        mock::set_secret("client_secret", "s3cret");
        let token_url = format!("{url}/api/oauth/token");
        for access in ["first", "second"] {
            mock::respond(
                Method::Post,
                &token_url,
                mock::json(
                    200,
                    &serde_json::json!({ "access_token": access, "expires_in": 600 }),
                ),
            );
        }

        let mut auth = Auth::new(Credentials::load().unwrap(), url, true);
        assert_eq!(auth.bearer(None).unwrap(), "first");
        mock::advance(539);
        assert_eq!(
            auth.bearer(None).unwrap(),
            "first",
            "still a minute before expiry"
        );
        let mut next_session = Auth::new(Credentials::load().unwrap(), url, true);
        assert_eq!(
            next_session.bearer(None).unwrap(),
            "first",
            "remembered in kv"
        );
        assert_eq!(mock::requests().len(), 1);

        mock::advance(1);
        assert_eq!(auth.bearer(None).unwrap(), "second");
        let sent: serde_json::Value = serde_json::from_slice(&mock::requests()[1].body).unwrap();
        assert_eq!(sent["client_secret"], "s3cret");
        assert!(mock::requests()[1].idempotent);
    }
}
