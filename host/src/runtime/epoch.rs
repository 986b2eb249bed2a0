//! The engine's epoch, ticked only while a plugin runs.
//!
//! Epochs are what lets the host take back control from a plugin that computes without end, and
//! what makes a long computation yield to the executor (see the deadline callback in
//! [`super::session`]). They need to advance only while some store is inside a call: a daemon
//! that waits hours for its next scheduled run has no plugin to interrupt, and a thread waking a
//! hundred times a second for nothing keeps a core from idling.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch ticks while a plugin runs: the granularity of the computation budget.
const TICK: Duration = Duration::from_millis(10);

/// How many ticks the ticker goes on after the last call ended before it sleeps: the calls of a
/// run follow each other closely, and waking a sleeping thread for each would cost more than a
/// tick.
const LINGER_TICKS: u32 = 100;

/// How long the idle ticker sleeps before it looks whether its engine is gone (then it ends).
const IDLE_CHECK: Duration = Duration::from_secs(60);

/// The ticker of one engine; shared by the runtime and its plugins.
pub struct EpochTicker {
    /// Calls in flight, across every store of the engine.
    running: AtomicUsize,
    /// The ticking thread, woken by the first call after a pause.
    thread: OnceLock<Thread>,
}

impl EpochTicker {
    /// Starts the ticking thread, which ends once the engine is gone.
    pub fn start(engine: &Engine) -> Arc<EpochTicker> {
        let ticker = Arc::new(EpochTicker {
            running: AtomicUsize::new(0),
            thread: OnceLock::new(),
        });
        let weak = engine.weak();
        let shared = ticker.clone();
        let handle = std::thread::Builder::new()
            .name("tillbridge-epoch".into())
            .spawn(move || {
                let mut idle_ticks: u32 = 0;
                while let Some(engine) = weak.upgrade() {
                    if shared.running.load(Ordering::Acquire) > 0 {
                        idle_ticks = 0;
                    } else {
                        idle_ticks = idle_ticks.saturating_add(1);
                    }
                    if idle_ticks <= LINGER_TICKS {
                        engine.increment_epoch();
                        drop(engine);
                        std::thread::sleep(TICK);
                    } else {
                        drop(engine);
                        // Woken at once by `running` (an unpark before the park is not lost).
                        std::thread::park_timeout(IDLE_CHECK);
                    }
                }
            })
            .expect("cannot start the epoch thread");
        ticker
            .thread
            .set(handle.thread().clone())
            .expect("set once, here");
        ticker
    }

    /// Marks a call in flight until the guard is dropped: the epoch ticks meanwhile.
    pub fn running(self: &Arc<Self>) -> Running {
        if self.running.fetch_add(1, Ordering::AcqRel) == 0
            && let Some(thread) = self.thread.get()
        {
            thread.unpark();
        }
        Running(self.clone())
    }
}

/// A call in flight (see [`EpochTicker::running`]).
pub struct Running(Arc<EpochTicker>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}
