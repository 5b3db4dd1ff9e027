//! Who gets to run an engine call, and when — decided before anything is instantiated, so that calls
//! waiting their turn hold no instance:
//!
//! 1. a place in the caller's **share** (a tenant's customers; each person's calls without a tenant;
//!    operators and the system; anonymous callers): at most `max_calls_per_tenant` reading calls and as
//!    many writing calls at once, counted apart so that queued writers never crowd out reads — one
//!    tenant cannot take the pool;
//! 2. on PostgreSQL, for attempts that write, the written tenant's **writer turn**: writers of one tenant
//!    (operators' included) queue in this process instead of failing each other's serialisable
//!    transactions (on SQLite the database's one writer lock plays that part, see
//!    [`crate::db::Database::writer_turn`]);
//! 3. an **instance** of the pool; operators and the system have a few instances of their own, so that
//!    a flood of customer calls never locks out the operator who would stop it.
//!
//! A reading call that cannot get its place or its instance within `admission_wait` is `unavailable`
//! (HTTP 503 with `Retry-After`); a writing call waits for its place and turn until its deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::bindings::{Actor, EngineError, ErrorCode};
use crate::runtime::{Caller, RuntimeConfig, engine_error};

/// Instances kept for operators and the system.
pub const PLATFORM_INSTANCES: u32 = 8;

/// What a call may do, as admission sees it: which place of its share it takes, and whether it needs its
/// tenant's writer turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Only reads: a reading place, no writer turn.
    Reads,
    /// Writes: a writing place, and a writer turn for every attempt.
    Writes,
    /// Reads until it tries to write (an operation that seldom writes, on PostgreSQL): a reading place,
    /// and the writer turn only for an attempt that runs as a writer.
    ReadsUntilItWrites,
}

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

    /// Whose writer turn a writing call takes: the tenant it writes, whoever calls.
    fn writer(caller: &Caller) -> Share {
        match &caller.tenant_id {
            Some(t) => Share::Tenant(t.clone()),
            None => Share::of(caller),
        }
    }
}

/// The gates of one share: its reading calls, its writing calls, and its writer turn (one at a time).
struct Gates {
    reads: Arc<Semaphore>,
    writes: Arc<Semaphore>,
    writer: Arc<Semaphore>,
}

/// The shares in use, each with how many calls hold or wait for it (the entry goes with the last).
#[derive(Default)]
struct Shares(Mutex<HashMap<Share, (Arc<Gates>, usize)>>);

impl Shares {
    fn enter(&self, share: &Share, size: usize) -> Arc<Gates> {
        let mut shares = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = shares.entry(share.clone()).or_insert_with(|| {
            let gates = Gates {
                reads: Arc::new(Semaphore::new(size)),
                writes: Arc::new(Semaphore::new(size)),
                writer: Arc::new(Semaphore::new(1)),
            };
            (Arc::new(gates), 0)
        });
        entry.1 += 1;
        entry.0.clone()
    }

    fn leave(&self, share: &Share) {
        let mut shares = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = shares.get_mut(share) {
            entry.1 -= 1;
            if entry.1 == 0 {
                shares.remove(share);
            }
        }
    }
}

/// The runtime's admission control: the instance pools (customers' and the platform's reserve), the
/// shares in use and the waits, as configured.
pub(crate) struct Admission {
    customer_instances: Arc<Semaphore>,
    platform_instances: Arc<Semaphore>,
    shares: Arc<Shares>,
    per_share: usize,
    platform_calls: usize,
    wait: Duration,
    serialise_writers: bool,
}

/// A call's place in its share (and, for a writer, the gates of the tenant it writes); released when
/// the call ends.
pub struct Admitted {
    call: Option<OwnedSemaphorePermit>,
    share: Share,
    writer: Option<(Share, Arc<Gates>)>,
    shares: Arc<Shares>,
    platform: bool,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.call = None;
        self.shares.leave(&self.share);
        if let Some((share, _)) = self.writer.take() {
            self.shares.leave(&share);
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
    /// Sizes the pools and shares from `config`; `serialise_writers` turns on per-tenant writer turns (for
    /// PostgreSQL).
    pub(crate) fn new(config: &RuntimeConfig, serialise_writers: bool) -> Self {
        let pool = config.max_concurrent_calls;
        let reserved = PLATFORM_INSTANCES.min(pool / 2);
        Admission {
            customer_instances: Arc::new(Semaphore::new((pool - reserved) as usize)),
            platform_instances: Arc::new(Semaphore::new(reserved as usize)),
            shares: Arc::new(Shares::default()),
            per_share: config.max_calls_per_tenant.clamp(1, pool) as usize,
            platform_calls: pool as usize,
            wait: config.admission_wait,
            serialise_writers,
        }
    }

    /// A place in the caller's share: a reader waits at most `admission_wait`, a writer until `deadline`.
    pub(crate) async fn admit(
        &self,
        caller: &Caller,
        admit: Admit,
        deadline: Instant,
    ) -> Result<Admitted, EngineError> {
        let writes = admit == Admit::Writes;
        let share = Share::of(caller);
        let platform = share == Share::Platform;
        let size = if platform { self.platform_calls } else { self.per_share };
        let gates = self.shares.enter(&share, size);
        let writer = (admit != Admit::Reads && self.serialise_writers).then(|| {
            // Entered again even when it is the caller's own share: `Admitted` leaves each once, and a
            // share left too often was dropped from the map while calls still held it, so that the next
            // call made new gates — a second writer turn and fresh places beside the ones in use.
            let writer = Share::writer(caller);
            let size = if writer == Share::Platform { self.platform_calls } else { self.per_share };
            let gates = self.shares.enter(&writer, size);
            (writer, gates)
        });
        let mut admitted = Admitted { call: None, share, writer, shares: self.shares.clone(), platform };
        let (semaphore, until) = if writes {
            (gates.writes.clone(), deadline)
        } else {
            (gates.reads.clone(), deadline.min(Instant::now() + self.wait))
        };
        let permit = tokio::time::timeout_at(until, semaphore.acquire_owned())
            .await
            .map_err(|_| busy("too many calls of this tenant are in progress"))?
            .map_err(|_| busy("the runtime is shutting down"))?;
        admitted.call = Some(permit);
        Ok(admitted)
    }

    /// One attempt's writer turn (an attempt that `writes`, on PostgreSQL; until `deadline`) and then its
    /// instance.
    pub(crate) async fn turn(&self, admitted: &Admitted, writes: bool, deadline: Instant) -> Result<Turn, EngineError> {
        let writer = match &admitted.writer {
            Some((_, gates)) if writes => Some(
                tokio::time::timeout_at(deadline, gates.writer.clone().acquire_owned())
                    .await
                    .map_err(|_| busy("this tenant's writes are queued too long"))?
                    .map_err(|_| busy("the runtime is shutting down"))?,
            ),
            _ => None,
        };
        let until = deadline.min(Instant::now() + self.wait);
        let instance = if admitted.platform {
            match self.platform_instances.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => self.instance(&self.customer_instances, until).await?,
            }
        } else {
            self.instance(&self.customer_instances, until).await?
        };
        Ok(Turn { _writer: writer, _instance: instance })
    }

    async fn instance(&self, pool: &Arc<Semaphore>, until: Instant) -> Result<OwnedSemaphorePermit, EngineError> {
        tokio::time::timeout_at(until, pool.clone().acquire_owned())
            .await
            .map_err(|_| busy("every sandbox instance is in use"))?
            .map_err(|_| busy("the runtime is shutting down"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::{Instant, timeout};

    use super::*;
    use crate::bindings::ApiKeyPrincipal;

    fn key_of(tenant: &str) -> Caller {
        let key = ApiKeyPrincipal {
            key_id: "k".into(),
            scopes: vec![],
            created_by: None,
            creator_role: None,
            allowed_workers: None,
            max_concurrent_runs: None,
            rate_limit_rpm: None,
            expires_at: None,
        };
        Caller::new(Actor::ApiKey(key), Some(tenant))
    }

    /// A tenant's writers keep one writer turn and its bounded places while any of its calls is admitted:
    /// a writer that leaves before its turn does not let the next one in beside the one writing.
    #[tokio::test]
    async fn a_tenants_writer_turn_and_places_outlive_the_calls_that_leave() {
        let config = RuntimeConfig { max_calls_per_tenant: 2, ..RuntimeConfig::default() };
        let admission = Admission::new(&config, true);
        let caller = key_of("t");
        let deadline = Instant::now() + Duration::from_secs(5);
        let writing = admission.admit(&caller, Admit::Writes, deadline).await.unwrap();
        let _turn = admission.turn(&writing, true, deadline).await.unwrap();
        // A second writer is admitted, and leaves before its turn.
        drop(admission.admit(&caller, Admit::Writes, deadline).await.unwrap());
        let next = admission.admit(&caller, Admit::Writes, deadline).await.unwrap();
        let short = Instant::now() + Duration::from_millis(100);
        assert!(admission.turn(&next, true, short).await.is_err(), "the next writer waits for the writer's turn");
        // A call that seldom writes takes a reading place, and the turn only for an attempt that writes.
        let checking = admission.admit(&caller, Admit::ReadsUntilItWrites, deadline).await.unwrap();
        assert!(admission.turn(&checking, false, deadline).await.is_ok());
        assert!(admission.turn(&checking, true, short).await.is_err());
        // Both writing places are taken (`writing` and `next`): a third writer waits.
        assert!(timeout(Duration::from_millis(100), admission.admit(&caller, Admit::Writes, deadline)).await.is_err());
        // Once every call has left, nothing of the tenant's share is kept.
        drop((_turn, writing, next, checking));
        assert!(admission.shares.0.lock().unwrap().is_empty());
    }
}
