//! A plugin's stdout and stderr: never the host's own. Lines go to the log under the plugin's
//! name, and the last few kilobytes are kept so that a crash can be explained (a Rust panic
//! prints its message to stderr just before it traps).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::runtime::Tap;

/// How much of a stream is kept for error messages.
const TAIL: usize = 8 * 1024;

#[derive(Default)]
struct Buffer {
    tail: VecDeque<u8>,
    line: Vec<u8>,
}

/// One output stream of one plugin instance.
#[derive(Clone)]
pub struct Output {
    caller: Arc<str>,
    stream: &'static str,
    buffer: Arc<Mutex<Buffer>>,
    tap: Option<Arc<Tap>>,
}

impl Output {
    /// A stream named `stream` ("stdout", "stderr") of the plugin `caller`, its lines also to
    /// `tap` when there is one.
    pub fn new(caller: &str, stream: &'static str, tap: Option<Arc<Tap>>) -> Self {
        Output {
            caller: caller.into(),
            stream,
            buffer: Arc::default(),
            tap,
        }
    }

    /// The last bytes written, as text.
    pub fn tail(&self) -> String {
        let buffer = self.buffer.lock().expect("output lock");
        let bytes: Vec<u8> = buffer.tail.iter().copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn write(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().expect("output lock");
        buffer.tail.extend(bytes);
        let excess = buffer.tail.len().saturating_sub(TAIL);
        buffer.tail.drain(..excess);
        for &b in bytes {
            if b == b'\n' {
                let line = std::mem::take(&mut buffer.line);
                if let Some(tap) = &self.tap {
                    tap.log(&String::from_utf8_lossy(&line));
                }
                tracing::debug!(target: "plugin", plugin = %self.caller, stream = self.stream, "{}", String::from_utf8_lossy(&line));
            } else if buffer.line.len() < TAIL {
                buffer.line.push(b);
            }
        }
    }
}

impl AsyncWrite for Output {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for Output {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Output {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// The panic message in a plugin's stderr, if it panicked: the lines after "panicked at".
pub fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at")?;
    let rest = &stderr[start..];
    let mut lines = rest.lines();
    let location = lines
        .next()?
        .trim_start_matches("panicked at ")
        .trim_end_matches(':');
    let message: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).collect();
    Some(format!(
        "panicked at {location}: {}",
        message.join(" ").trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_bounded_tail() {
        let out = Output::new("p", "stderr", None);
        for _ in 0..2000 {
            out.write(b"0123456789\n");
        }
        assert_eq!(out.tail().len(), TAIL);
    }

    #[test]
    fn finds_the_panic_message() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:54:20:\nthe hostile plugin panics on purpose\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("panicked at src/lib.rs:54:20: the hostile plugin panics on purpose")
        );
        assert_eq!(panic_message("all fine"), None);
    }
}
