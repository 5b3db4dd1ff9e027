//! Whether the database is reachable, as the runtime last learned it. A call that loses its connection
//! marks the database down (one clear log line); while it is down, calls are refused at once as
//! `unavailable` instead of each waiting for a connection, and at most one probe at a time (every
//! [`PROBE_EVERY`]) checks whether it is back — recovery needs no restart and no request to succeed first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::db::Database;

/// How often a down database is probed.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);
/// How long a probe (and a readiness check) waits for the database.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

/// The database's health as the runtime last learned it: down or up, and the single-flight probe that
/// checks whether a down database is back.
#[derive(Default)]
pub struct Health {
    down: AtomicBool,
    last_probe: std::sync::Mutex<Option<Instant>>,
    probing: tokio::sync::Mutex<()>,
}

impl Health {
    /// A call lost its connection: the database is down until a probe says otherwise.
    pub fn lost(&self, error: &str) {
        if !self.down.swap(true, Ordering::SeqCst) {
            tracing::error!(%error, "database unavailable: calls are refused with 503 until it answers again");
        }
    }

    fn back(&self) {
        if self.down.swap(false, Ordering::SeqCst) {
            tracing::info!("database available again");
        }
    }

    /// Whether the database is currently marked down (no probe involved).
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Whether calls may go ahead: yes while the database is up; while it is down, only once a probe
    /// (made here, at most every [`PROBE_EVERY`], by one caller at a time) finds it back.
    pub async fn admit(&self, db: &Database) -> bool {
        if !self.is_down() {
            return true;
        }
        self.probe(db).await;
        !self.is_down()
    }

    /// A call could not get a connection in time: the pool may just be busy, or the server gone. A new
    /// connection tells which (one probe at a time, at most every [`PROBE_EVERY`]).
    pub async fn suspect(&self, db: &Database) {
        if !self.is_down() {
            self.probe(db).await;
        }
    }

    /// Readiness: the state the last probe found, probed again when it is older than [`PROBE_EVERY`]
    /// (single-flight, so that a flood of readiness checks costs one connection every 250 ms at most).
    pub async fn ready(&self, db: &Database) -> bool {
        self.probe(db).await;
        !self.is_down()
    }

    /// Checks within [`PROBE_TIMEOUT`] that the server takes a new connection, and records what it
    /// found — unless another caller is probing or a probe ran less than [`PROBE_EVERY`] ago.
    async fn probe(&self, db: &Database) {
        let Ok(_probing) = self.probing.try_lock() else { return };
        {
            let mut last = self.last_probe.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < PROBE_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        self.check(db).await;
    }

    /// Checks within [`PROBE_TIMEOUT`] that the server takes a new connection, and records what it found.
    async fn check(&self, db: &Database) {
        if tokio::time::timeout(PROBE_TIMEOUT, db.reachable()).await.unwrap_or(false) {
            self.back();
        } else {
            self.lost("the database did not take a new connection");
        }
    }
}
