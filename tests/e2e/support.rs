//! Shared helpers: fixture components, a runtime in a temporary folder, the binary, log capture,
//! a local HTTP server.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tillbridge::runtime::Runtime;

/// The compiled component of a test fixture or built-in plugin, by file stem.
pub fn component(stem: &str) -> Vec<u8> {
    let path = PathBuf::from(tillbridge::builtin::PLUGIN_DIR).join(format!("{stem}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Serves `app` on a free port of this machine until the test ends; its address.
pub async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// A runtime whose compile cache lives in a fresh temporary folder.
pub fn runtime() -> (Runtime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Runtime::new(&dir.path().join("cache")).unwrap(), dir)
}

/// The `tillbridge` binary, run in `dir`, without the environment's configuration, with a user
/// cache folder of the tests' own (not the real user's).
pub fn tillbridge(dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tillbridge"));
    cmd.current_dir(dir)
        .env_remove("TILLBRIDGE_CONFIG")
        .env_remove("RUST_LOG")
        .env(
            "XDG_CACHE_HOME",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
        );
    cmd
}

/// Log lines written while it lives (for tests on a current-thread runtime).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Captures every log line of this thread until the guard is dropped.
    pub fn start() -> (LogCapture, tracing::subscriber::DefaultGuard) {
        let capture = LogCapture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (capture, tracing::subscriber::set_default(subscriber))
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs a command that must succeed and print JSON: what it printed.
pub fn json_of(command: &mut assert_cmd::Command) -> serde_json::Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The lines `child` writes to its stderr (piped), as they come, read by a thread that ends with
/// the stream.
pub fn stderr_lines(
    child: &mut std::process::Child,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    use std::io::BufRead;
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().expect("stderr piped");
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    (lines, reader)
}
