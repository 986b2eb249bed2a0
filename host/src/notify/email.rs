//! The e-mail channel: the message's text, sent through the configured SMTP server with
//! `lettre`: STARTTLS or TLS from the first byte (certificates checked as the platform checks
//! them), or plain for a relay on this machine; bounded in time, sent again once after a passing
//! failure.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::message::Message;
use crate::config::{EmailConfig, Security};

/// The longest one SMTP conversation step may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Attempts per message.
const ATTEMPTS: u32 = 2;

/// An SMTP server and who the messages go to.
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl Email {
    /// The channel `config` describes.
    pub fn new(config: &EmailConfig) -> Result<Email> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let host = config.host.as_str();
        let builder = match config.security {
            Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            Security::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                host,
            )),
        }
        .with_context(|| format!("cannot prepare the SMTP connection to {host}"))?;
        let mut builder = builder.port(config.port()).timeout(Some(TIMEOUT));
        if let (Some(user), Some(password)) = (&config.user, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Email {
            transport: builder.build(),
            from: config.sender(),
            to: config.recipients(),
        })
    }

    /// Sends `message` to every recipient, once more after a passing failure.
    pub async fn send(&self, message: &Message, pause: Duration) -> Result<()> {
        let mut mail = lettre::Message::builder()
            .from(self.from.clone())
            .subject(message.subject.clone());
        for to in &self.to {
            mail = mail.to(to.clone());
        }
        let mail = mail
            .body(message.text.clone())
            .context("cannot compose the e-mail")?;
        let mut attempt = 1;
        loop {
            match self.transport.send(mail.clone()).await {
                Ok(_) => return Ok(()),
                Err(e) if attempt < ATTEMPTS && !e.is_permanent() => {
                    tracing::debug!("the e-mail was not sent ({e}); trying again in {pause:?}");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(e) => bail!("the e-mail was not sent: {:#}", anyhow::Error::from(e)),
            }
        }
    }
}
