//! Where notifications go in the tests: a webhook receiver (an axum server) and a mail server
//! (the SMTP protocol of `mailin` over a socket), both on this machine, recording what they get.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use mailin::{Action, Handler, SessionBuilder};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What a receiver got, in order.
type Got<T> = Arc<Mutex<Vec<T>>>;

/// Waits up to `within` for `got` to hold at least `n` items, then a moment more for any extra.
async fn wait_for<T: Clone>(got: &Got<T>, n: usize, within: Duration) -> Vec<T> {
    let until = tokio::time::Instant::now() + within;
    while got.lock().unwrap().len() < n && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    got.lock().unwrap().clone()
}

/// A webhook receiver that answers 200 and keeps every JSON body.
pub struct Hook {
    pub url: String,
    got: Got<Value>,
}

impl Hook {
    pub async fn start() -> Hook {
        let got: Got<Value> = Arc::default();
        let app = axum::Router::new()
            .route(
                "/hook",
                post(
                    |State(got): State<Got<Value>>, Json(body): Json<Value>| async move {
                        got.lock().unwrap().push(body);
                    },
                ),
            )
            .with_state(got.clone());
        let url = format!("http://{}/hook", crate::support::serve(app).await);
        Hook { url, got }
    }

    /// Every message so far.
    pub fn messages(&self) -> Vec<Value> {
        self.got.lock().unwrap().clone()
    }

    /// The messages, once there are at least `n` (or after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Value> {
        wait_for(&self.got, n, within).await
    }
}

/// The URL of a webhook nobody answers: a port that was free a moment ago.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/hook", listener.local_addr().unwrap())
}

/// A mail server that takes every message and keeps its text (headers and decoded body).
pub struct Mailbox {
    pub port: u16,
    got: Got<String>,
}

/// One SMTP session's handler: gathers the message's bytes.
struct Collect {
    data: Vec<u8>,
    got: Got<String>,
}

impl Handler for Collect {
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        let raw = String::from_utf8_lossy(&std::mem::take(&mut self.data)).into_owned();
        self.got.lock().unwrap().push(decoded(&raw));
        mailin::response::OK
    }
}

/// A message as a reader sees it: its headers, then its body with quoted-printable undone.
fn decoded(raw: &str) -> String {
    let (headers, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let body = if headers
        .to_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        let bytes = quoted_printable::decode(body, quoted_printable::ParseMode::Robust).unwrap();
        String::from_utf8(bytes).unwrap()
    } else {
        body.to_string()
    };
    format!("{headers}\r\n\r\n{body}")
}

impl Mailbox {
    pub async fn start() -> Mailbox {
        let got: Got<String> = Arc::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = got.clone();
        tokio::spawn(async move {
            while let Ok((socket, peer)) = listener.accept().await {
                tokio::spawn(session(socket, peer.ip(), server.clone()));
            }
        });
        Mailbox { port, got }
    }

    /// The messages, once there are at least `n` (or after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        wait_for(&self.got, n, within).await
    }
}

/// One client's SMTP conversation, line by line through `mailin`.
async fn session(socket: tokio::net::TcpStream, peer: IpAddr, got: Got<String>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let handler = Collect {
        data: Vec::new(),
        got,
    };
    let mut session = SessionBuilder::new("mail.test").build(peer, handler);
    let greeting = session.greeting().buffer().unwrap();
    if write.write_all(&greeting).await.is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Reply => {
                if write.write_all(&response.buffer().unwrap()).await.is_err() {
                    return;
                }
            }
            Action::Close | Action::UpgradeTls => {
                let _ = write.write_all(&response.buffer().unwrap()).await;
                return;
            }
        }
    }
}
