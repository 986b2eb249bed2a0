//! The webhook channel: the message as JSON, POSTed to the configured URL (a Slack incoming
//! webhook shows its `text`; any other receiver gets the structured fields too). The request is
//! the host's own, not a plugin's: bounded in time, sent again once or twice after a passing
//! failure, and its errors never show the URL (it is a secret).

use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::message::Message;

/// Attempts per message: the first and two more after a passing failure.
const ATTEMPTS: u32 = 3;

/// A webhook to post messages to.
pub struct Webhook {
    client: reqwest::Client,
    url: String,
}

impl Webhook {
    /// A webhook at `url`, with connections and answers bounded in time.
    pub fn new(url: &str) -> Result<Webhook> {
        // Installing twice is harmless; the first provider wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("tillbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot make the webhook's HTTP client")?;
        Ok(Webhook {
            client,
            url: url.to_string(),
        })
    }

    /// Posts `message`, again after a passing failure (no answer, 429, 5xx), `pause` doubling
    /// between attempts.
    pub async fn send(&self, message: &Message, pause: Duration) -> Result<()> {
        let body = serde_json::to_vec(message).context("cannot write the message as JSON")?;
        let mut wait = pause;
        let mut attempt = 1;
        loop {
            let request = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            let error = match request.send().await {
                Ok(answer) if answer.status().is_success() => return Ok(()),
                Ok(answer) => {
                    let status = answer.status();
                    if !status.is_server_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS
                    {
                        bail!("the webhook refused the message: {status}");
                    }
                    format!("the webhook answered {status}")
                }
                Err(e) => format!(
                    "the webhook cannot be reached: {:#}",
                    anyhow::Error::from(e.without_url())
                ),
            };
            if attempt == ATTEMPTS {
                bail!("{error} ({ATTEMPTS} attempts)");
            }
            tracing::debug!("{error}; trying again in {wait:?}");
            tokio::time::sleep(wait).await;
            wait *= 2;
            attempt += 1;
        }
    }
}
