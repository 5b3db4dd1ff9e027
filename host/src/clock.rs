//! The one clock of the host. Every engine call reads it once: that instant is the call's `now`, used by
//! the engine and by every time a driver writes. Tests swap in a [`ManualClock`] to move time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Microseconds since the Unix epoch, UTC.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, in microseconds since the Unix epoch, UTC.
    fn now_micros(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        chrono::Utc::now().timestamp_micros()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `start_micros` (microseconds since the Unix epoch).
    pub fn new(start_micros: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start_micros)))
    }

    /// Moves the clock to `micros`, forwards or backwards; every clone sees the change.
    pub fn set(&self, micros: i64) {
        self.0.store(micros, Ordering::SeqCst);
    }

    /// Moves the clock forward by `seconds` (backward when negative); every clone sees the change.
    pub fn advance_secs(&self, seconds: i64) {
        self.0.fetch_add(seconds * 1_000_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_micros(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
