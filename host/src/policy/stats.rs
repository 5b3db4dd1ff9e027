//! The counters of policy versions (calls, denials, failures, the last failure), collected in memory and
//! written in one short transaction per interval ([`Stats::flush`]), outside the calls' transactions: a
//! denied or failed call rolls back everything it did, and its denial or failure must still count.
//!
//! A status read adds what this process has not written yet ([`Stats::pending_for`]), so an owner sees
//! their own host's calls at once; other hosts' calls appear after their next flush. (In the instant
//! between a flush's commit and its bookkeeping, a read may count the flushed calls twice; never fewer.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::bindings::aos::accounts::policy_types::Trigger;
use crate::db::Database;
use crate::db::codec::{Id, Ts};

/// Hooks run since the process started (metrics), denials and failures among them.
pub static CALLS: AtomicU64 = AtomicU64::new(0);
/// Hooks that denied since the process started (metrics); counted in [`CALLS`] too.
pub static DENIALS: AtomicU64 = AtomicU64::new(0);
/// Hooks that failed since the process started (metrics); counted in [`CALLS`] too.
pub static FAILURES: AtomicU64 = AtomicU64::new(0);

/// What one version's counters grew by since the last flush.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    /// Hook runs.
    pub calls: u64,
    /// Runs that denied.
    pub denials: u64,
    /// Runs that failed.
    pub failures: u64,
}

/// A policy's most recent failure.
#[derive(Debug, Clone)]
pub struct LastFailure {
    /// The version that failed.
    pub version: u32,
    /// The trigger whose hook failed.
    pub trigger: Trigger,
    /// What went wrong.
    pub message: String,
    /// When, in microseconds since the Unix epoch (the call's `now`).
    pub at: i64,
}

#[derive(Default, Clone)]
struct Pending {
    counters: HashMap<(Id, u32), Delta>,
    failures: HashMap<Id, LastFailure>,
}

/// The counters of every policy version and each tenant's last failure that this process has not
/// written yet (pending) or is writing (in flight).
#[derive(Default)]
pub struct Stats {
    pending: Mutex<Pending>,
    /// What a flush is writing right now: still added to reads until its transaction has committed, so
    /// a status read never misses counts that are on their way to the database.
    in_flight: Mutex<Pending>,
    flushing: tokio::sync::Mutex<()>,
}

/// One hook run of an engine call, counted when the call is settled.
#[derive(Debug, Clone)]
pub struct Run {
    /// The tenant whose policy ran.
    pub tenant: Id,
    /// The version that ran.
    pub version: u32,
    /// The trigger whose hook ran.
    pub trigger: Trigger,
    /// How the run ended.
    pub ran: Ran,
    /// Why it failed, if it did.
    pub failure: Option<String>,
}

/// How a hook run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// The hook allowed the operation (possibly with a change).
    Allowed,
    /// The hook denied the operation.
    Denied,
    /// The hook failed (trap, limit, malformed answer), or the engine refused its answer.
    Failed,
}

impl Stats {
    /// Counts one hook run of `(tenant, version)`.
    pub fn record(&self, tenant: &Id, version: u32, ran: Ran) {
        CALLS.fetch_add(1, Ordering::Relaxed);
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let delta = pending.counters.entry((tenant.clone(), version)).or_default();
        delta.calls += 1;
        match ran {
            Ran::Allowed => {}
            Ran::Denied => {
                DENIALS.fetch_add(1, Ordering::Relaxed);
                delta.denials += 1;
            }
            Ran::Failed => {
                FAILURES.fetch_add(1, Ordering::Relaxed);
                delta.failures += 1;
            }
        }
    }

    /// Counts the hook runs of a settled call. `refused_by_engine` is set when the engine refused the
    /// policy's answer itself (a key it tried to widen, a pin rewritten into an invalid one): the last run,
    /// which allowed with a change, is then a failure of the policy.
    pub fn count(&self, mut runs: Vec<Run>, refused_by_engine: Option<&str>, at: i64) {
        if let (Some(why), Some(last)) = (refused_by_engine, runs.last_mut())
            && last.ran == Ran::Allowed
        {
            last.ran = Ran::Failed;
            last.failure = Some(why.to_string());
        }
        for run in runs {
            self.record(&run.tenant, run.version, run.ran);
            if let Some(message) = run.failure {
                self.failed(&run.tenant, LastFailure { version: run.version, trigger: run.trigger, message, at });
            }
        }
    }

    /// Remembers a failure as the tenant's last one (besides counting it with [`Stats::record`]).
    pub fn failed(&self, tenant: &Id, failure: LastFailure) {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).failures.insert(tenant.clone(), failure);
    }

    /// What this process counted for `(tenant, version)` and has not written yet, and the tenant's last
    /// failure if it is not written yet.
    pub fn pending_for(&self, tenant: &Id, version: Option<u32>) -> (Delta, Option<LastFailure>) {
        // In flight first, then pending: a flush moves counts from pending to in flight, never back the
        // other way while a reader holds neither lock.
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut delta = Delta::default();
        let mut last: Option<LastFailure> = None;
        for part in [&*in_flight, &*pending] {
            if let Some(d) = version.and_then(|v| part.counters.get(&(tenant.clone(), v))) {
                delta.calls += d.calls;
                delta.denials += d.denials;
                delta.failures += d.failures;
            }
            if let Some(f) = part.failures.get(tenant)
                && last.as_ref().is_none_or(|l| l.at <= f.at)
            {
                last = Some(f.clone());
            }
        }
        (delta, last)
    }

    /// Writes what was collected (one flush at a time); on failure it is kept for the next flush.
    pub async fn flush(&self, db: &Database) -> Result<usize, sqlx::Error> {
        let _one_at_a_time = self.flushing.lock().await;
        let (counters, failures) = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            in_flight.counters = std::mem::take(&mut pending.counters);
            in_flight.failures = std::mem::take(&mut pending.failures);
            (in_flight.counters.clone(), in_flight.failures.clone())
        };
        if counters.is_empty() && failures.is_empty() {
            return Ok(0);
        }
        let written = write(db, &counters, &failures).await;
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let flown = std::mem::take(&mut *in_flight);
        match written {
            Ok(()) => Ok(counters.len() + failures.len()),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (key, d) in flown.counters {
                    let entry = pending.counters.entry(key).or_default();
                    entry.calls += d.calls;
                    entry.denials += d.denials;
                    entry.failures += d.failures;
                }
                for (tenant, failure) in flown.failures {
                    let newer = pending.failures.get(&tenant).is_some_and(|f| f.at > failure.at);
                    if !newer {
                        pending.failures.insert(tenant, failure);
                    }
                }
                Err(e)
            }
        }
    }
}

async fn write(
    db: &Database,
    counters: &HashMap<(Id, u32), Delta>,
    failures: &HashMap<Id, LastFailure>,
) -> Result<(), sqlx::Error> {
    let writer = db.writer_turn().await;
    let mut tx = db.begin_with(false, writer).await?;
    for ((tenant, version), d) in counters {
        crate::on_tx!(
            &mut tx,
            rows | c
                | sqlx::query(
                    "UPDATE policy_versions SET calls = calls + $3, denials = denials + $4, failures = failures + $5 \
             WHERE tenant_id = $1 AND version = $2"
                )
                .bind(tenant)
                .bind(i64::from(*version))
                .bind(d.calls as i64)
                .bind(d.denials as i64)
                .bind(d.failures as i64)
                .execute(c)
        )?;
    }
    for (tenant, f) in failures {
        crate::on_tx!(&mut tx, rows |c| sqlx::query(
            "UPDATE policy_state SET failure_version = $2, failure_trigger = $3, failure_message = $4, failure_at = $5 \
             WHERE tenant_id = $1 AND (failure_at IS NULL OR failure_at <= $5)"
        )
        .bind(tenant)
        .bind(i64::from(f.version))
        .bind(super::trigger_name(f.trigger))
        .bind(&f.message)
        .bind(Ts(f.at))
        .execute(c))?;
    }
    tx.commit().await
}

/// How often counters are written.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Stats {
    /// Writes the counters of `policies` every second for as long as they exist (when the runtime is
    /// built inside a tokio runtime; otherwise a status read still adds what is pending).
    pub fn flush_in_background(policies: &std::sync::Arc<super::Policies>, db: &Database) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        let policies = std::sync::Arc::downgrade(policies);
        let db = db.clone();
        handle.spawn(async move {
            loop {
                tokio::time::sleep(FLUSH_EVERY).await;
                let Some(policies) = policies.upgrade() else { break };
                if let Err(e) = policies.stats.flush(&db).await {
                    tracing::debug!(error = %e, "policy counters not written yet; kept for the next flush");
                }
            }
        });
    }
}
