//! Locks that survive a panic: a handler that panics while it holds a simulator's state must not
//! leave every later request failing on a poisoned lock (the server answers that request 500, see
//! [`super::server`], and goes on serving).

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, taking the data over from a holder that panicked.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_holding_the_lock_does_not_lock_everyone_out() {
        let state = Mutex::new(1);
        let poisoned = std::panic::catch_unwind(|| {
            let _guard = state.lock().unwrap();
            panic!("a handler fails while it holds the state");
        });
        assert!(poisoned.is_err() && state.is_poisoned());
        *lock(&state) += 1;
        assert_eq!(*lock(&state), 2);
    }
}
