//! Who gets to run an engine call, and when — decided before anything is instantiated, so that calls
//! waiting their turn hold no instance:
//!
//! 1. a place among the calls of the caller's **share** (a tenant's customers; each person's calls
//!    without a tenant; operators and the system; anonymous callers) — one tenant cannot take the pool;
//! 2. on PostgreSQL, for calls that write, the tenant's **writer turn**: writers of one tenant queue in
//!    this process instead of failing each other's serialisable transactions (on SQLite the database's
//!    one writer lock plays that part, see [`crate::db::Database::writer_turn`]);
//! 3. an **instance** of the pool; operators and the system have a few instances of their own, so that
//!    a flood of customer calls never locks out the operator who would stop it.
//!
//! A call that cannot get its place or its instance within `admission_wait` is `unavailable` (HTTP 503
//! with `Retry-After`); a writer waits at most its deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::bindings::{Actor, EngineError, ErrorCode};
use crate::runtime::{Caller, RuntimeConfig, engine_error};

/// Instances kept for operators and the system.
pub const PLATFORM_INSTANCES: u32 = 8;

/// Whose share a call counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Share {
    Tenant(String),
    Person(String),
    Platform,
    Anonymous,
}

impl Share {
    fn of(caller: &Caller) -> Share {
        match (&caller.actor, &caller.tenant_id) {
            (Actor::Operator(_) | Actor::System, _) => Share::Platform,
            (Actor::Anonymous, _) => Share::Anonymous,
            (_, Some(t)) => Share::Tenant(t.clone()),
            (Actor::Identity(p), None) => Share::Person(p.external_id.clone()),
            (Actor::ApiKey(k), None) => Share::Person(k.key_id.clone()),
        }
    }
}

/// The gates of one share: its calls, and its writers (one at a time).
struct Gates {
    calls: Arc<Semaphore>,
    writer: Arc<Semaphore>,
}

type Shares = Arc<Mutex<HashMap<Share, Arc<Gates>>>>;

pub(crate) struct Admission {
    customer_instances: Arc<Semaphore>,
    platform_instances: Arc<Semaphore>,
    shares: Shares,
    per_share: usize,
    platform_calls: usize,
    wait: Duration,
    serialise_writers: bool,
}

/// A call's place in its share; the share's entry goes with its last call.
pub struct Admitted {
    gates: Arc<Gates>,
    share: Share,
    shares: Shares,
    _call: Option<OwnedSemaphorePermit>,
    platform: bool,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
        self._call = None;
        // The map's reference and this one alone: nobody else of the share is running or waiting.
        if Arc::strong_count(&self.gates) <= 2 {
            shares.remove(&self.share);
        }
    }
}

/// What one attempt holds while it runs: its writer turn (if it writes) and its instance.
pub struct Turn {
    _writer: Option<OwnedSemaphorePermit>,
    _instance: OwnedSemaphorePermit,
}

fn busy(what: &str) -> EngineError {
    engine_error(ErrorCode::Unavailable, format!("{what}; nothing was done, try again shortly"))
}

impl Admission {
    pub(crate) fn new(config: &RuntimeConfig, serialise_writers: bool) -> Self {
        let pool = config.max_concurrent_calls.max(2);
        let reserved = PLATFORM_INSTANCES.min(pool / 2);
        Admission {
            customer_instances: Arc::new(Semaphore::new((pool - reserved) as usize)),
            platform_instances: Arc::new(Semaphore::new(reserved as usize)),
            shares: Arc::new(Mutex::new(HashMap::new())),
            per_share: config.max_calls_per_tenant.clamp(1, pool) as usize,
            platform_calls: pool as usize,
            wait: config.admission_wait,
            serialise_writers,
        }
    }

    /// A place among the calls of the caller's share.
    pub(crate) async fn admit(&self, caller: &Caller) -> Result<Admitted, EngineError> {
        let share = Share::of(caller);
        let platform = share == Share::Platform;
        let gates = {
            let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
            let size = if platform { self.platform_calls } else { self.per_share };
            shares
                .entry(share.clone())
                .or_insert_with(|| Arc::new(Gates { calls: Arc::new(Semaphore::new(size)), writer: Arc::new(Semaphore::new(1)) }))
                .clone()
        };
        let mut admitted = Admitted { gates: gates.clone(), share, shares: self.shares.clone(), _call: None, platform };
        let permit = tokio::time::timeout(self.wait, gates.calls.clone().acquire_owned())
            .await
            .map_err(|_| busy("too many calls of this tenant are in progress"))?
            .map_err(|_| busy("the runtime is shutting down"))?;
        admitted._call = Some(permit);
        Ok(admitted)
    }

    /// One attempt's writer turn (PostgreSQL writes; at most `deadline`) and then its instance.
    pub(crate) async fn turn(&self, admitted: &Admitted, writes: bool, deadline: Duration) -> Result<Turn, EngineError> {
        let writer = if writes && self.serialise_writers {
            Some(
                tokio::time::timeout(deadline, admitted.gates.writer.clone().acquire_owned())
                    .await
                    .map_err(|_| busy("this tenant's writes are queued too long"))?
                    .map_err(|_| busy("the runtime is shutting down"))?,
            )
        } else {
            None
        };
        let instance = if admitted.platform {
            match self.platform_instances.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => self.instance(&self.customer_instances).await?,
            }
        } else {
            self.instance(&self.customer_instances).await?
        };
        Ok(Turn { _writer: writer, _instance: instance })
    }

    async fn instance(&self, pool: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, EngineError> {
        tokio::time::timeout(self.wait, pool.clone().acquire_owned())
            .await
            .map_err(|_| busy("every sandbox instance is in use"))?
            .map_err(|_| busy("the runtime is shutting down"))
    }
}
