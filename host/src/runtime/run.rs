//! Running one engine call: admission, a fresh store and instance per attempt, one deadline for the
//! whole call, one transaction per attempt (committed when the export answers `ok` — a read-only one is
//! ended without waiting, [`crate::db::Tx::finish`]; rolled back on `err`, a trap, the deadline or a scope
//! violation), and the attempt run again when PostgreSQL reports a serialisation race.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, ComponentNamedList, Instance, Lift, Lower, TypedFunc};

use crate::admission::{Admit, Admitted, Turn};
use crate::bindings::{CallContext, EngineError, ErrorCode};
use crate::bindings::{accounts, lifecycle, memory_pins, onboarding, policies, tenants};
use crate::call::Outcome;
use crate::contract::{Effect, Operation};
use crate::db::Backend;
use crate::db::errors::is_retryable;
use crate::drivers::DriverView;
use crate::drivers::memory_pins_driver::ReadLog;
use crate::runtime::{Caller, Exports, Runtime};

/// What to do with a finished attempt of an engine call.
pub enum Settled<R> {
    /// The call answered ok and what it did is committed (or it only read, or began nothing): the
    /// answer, and the access log of the reads it made, to write once the call has let go of its
    /// instance and turn ([`ReadLog::write`]).
    Answered(R, ReadLog),
    /// The call is over with this error: whatever it did is rolled back, and its reads go unlogged.
    Failed(EngineError),
    /// The attempt lost a serialisation race and was rolled back: run the call again.
    Retry,
    /// The attempt ran read-only until it wrote, and it tried to write; it was rolled back: run the call
    /// again as a writer (see [`crate::contract::Effect::SeldomWrites`]).
    RunAsWriter,
}

/// Calls run again after losing a serialisation race (since the process started).
pub static RETRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Calls of operations that seldom write that did write, and ran again as writers (since the process
/// started).
pub static RUN_AS_WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Calls refused because they kept losing races until their deadline.
pub static CONTENTION_FAILURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An engine error made by the host (the guest makes its own).
pub fn engine_error(code: ErrorCode, message: impl Into<String>) -> EngineError {
    EngineError { code, message: message.into() }
}

/// What a caller is told about a trap; the details go to the log.
fn trap_error(trap: &wasmtime::Error) -> EngineError {
    if trap.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
        return engine_error(ErrorCode::Unavailable, "the call exceeded its deadline; nothing was written");
    }
    tracing::error!(error = ?trap, "the engine trapped; rolled back");
    engine_error(ErrorCode::Internal, "the engine failed; nothing was written")
}

/// What settling an attempt needs of its store ([`Runtime::settle`]), taken out of it so that the store
/// and its instance can go while the transaction commits.
struct Ended {
    state: Outcome,
    read_log: ReadLog,
    policy_runs: Vec<crate::policy::stats::Run>,
    now: i64,
}

impl Ended {
    fn take<T: DriverView>(store: &mut Store<T>) -> Ended {
        let drivers = store.data_mut().drivers();
        Ended {
            state: drivers.take_outcome(),
            read_log: drivers.take_read_log(),
            policy_runs: drivers.take_policy_runs(),
            now: drivers.now.0,
        }
    }
}

/// Does `work` while `waiting` waits for the database: `waiting` is polled once first (it sends its
/// statement, or queues for a connection), then `work` runs to its end, then `waiting` is awaited.
/// `work` is not expected to wait itself (instantiating, dropping a store): were the call's deadline to
/// cancel it, what `waiting` had already answered would be dropped with it (a transaction rolled back
/// by sqlx, not by [`crate::db::Tx::abandon`]).
async fn while_waiting<W: Future, O: Future>(waiting: W, work: O) -> (W::Output, O::Output) {
    let mut waiting = std::pin::pin!(waiting);
    let mut early = None;
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(output) = waiting.as_mut().poll(cx) {
            early = Some(output);
        }
        std::task::Poll::Ready(())
    })
    .await;
    let worked = work.await;
    let waited = match early {
        Some(output) => output,
        None => waiting.await,
    };
    (waited, worked)
}

/// The future of one attempt's export call: boxed and `Send`, so that a call's future is `Send` for every
/// store data type (an `async` closure's future, generic over the borrows it is given, is not provably
/// so today) and can be served by a multi-threaded executor.
pub type AttemptFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<Result<R, EngineError>>> + Send + 'a>>;

/// One attempt of an engine call, handed to the code that makes its export call: the attempt's store, a
/// fresh instance in it of the engine's component of the operation's interface, and the call context the
/// guest receives.
pub struct Attempt<'a, 'env, T: 'static> {
    /// The attempt's store (its data holds the driver context).
    pub store: &'a mut Store<T>,
    /// A fresh instance of the engine's component of the operation's interface (it exports that interface
    /// alone: [`crate::runtime::ACCOUNT_ENGINE_INTERFACE_COMPONENTS`]).
    pub instance: &'a Instance,
    /// The context the guest receives with the call.
    pub ctx: &'a CallContext,
    exports: &'a Exports,
    /// The function of the operation the call runs.
    function: ComponentExportIndex,
    /// What the attempt's code borrows from its caller (`'env`) outlives the attempt.
    _env: PhantomData<&'a &'env ()>,
}

impl<T: DriverView> Attempt<'_, '_, T> {
    /// Calls the function of the operation this attempt runs with `params` (the call context first),
    /// typed as the bindings' `types` say, e.g. `tenants::Guest::func_check_run_quota`: the operation
    /// decides which function is called, `types` only its types, which are checked against the
    /// component's. Only that function is looked up and type-checked, not its whole interface.
    pub async fn call<'p, G, P, O>(&mut self, _types: fn(&'p G) -> TypedFunc<P, (O,)>, params: P) -> wasmtime::Result<O>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        O: Lift + Send + Sync + 'static,
    {
        let func = self.instance.get_typed_func::<P, (O,)>(&mut *self.store, &self.function)?;
        Ok(func.call_async(&mut *self.store, params).await?.0)
    }

    /// The typed functions of `accounts` in this attempt's instance (an error unless the attempt runs an
    /// operation of `accounts`: its instance exports no other interface).
    pub fn accounts(&mut self) -> wasmtime::Result<accounts::Guest> {
        self.exports.accounts.load(&mut *self.store, self.instance)
    }

    /// The typed functions of `tenants` in this attempt's instance (an error unless the attempt runs an
    /// operation of `tenants`: its instance exports no other interface).
    pub fn tenants(&mut self) -> wasmtime::Result<tenants::Guest> {
        self.exports.tenants.load(&mut *self.store, self.instance)
    }

    /// The typed functions of `memory-pins` in this attempt's instance (an error unless the attempt runs an
    /// operation of `memory-pins`: its instance exports no other interface).
    pub fn memory_pins(&mut self) -> wasmtime::Result<memory_pins::Guest> {
        self.exports.memory_pins.load(&mut *self.store, self.instance)
    }

    /// The typed functions of `onboarding` in this attempt's instance (an error unless the attempt runs an
    /// operation of `onboarding`: its instance exports no other interface).
    pub fn onboarding(&mut self) -> wasmtime::Result<onboarding::Guest> {
        self.exports.onboarding.load(&mut *self.store, self.instance)
    }

    /// The typed functions of `lifecycle` in this attempt's instance (an error unless the attempt runs an
    /// operation of `lifecycle`: its instance exports no other interface).
    pub fn lifecycle(&mut self) -> wasmtime::Result<lifecycle::Guest> {
        self.exports.lifecycle.load(&mut *self.store, self.instance)
    }

    /// The typed functions of `policies` in this attempt's instance (an error unless the attempt runs an
    /// operation of `policies`: its instance exports no other interface).
    pub fn policies(&mut self) -> wasmtime::Result<policies::Guest> {
        self.exports.policies.load(&mut *self.store, self.instance)
    }
}

impl<T: DriverView> Runtime<T> {
    /// Runs `operation` for `caller`: `call` is given each [`Attempt`] and makes the export call. The
    /// operation's description says whether its transaction is read-only; one that seldom writes runs
    /// read-only on PostgreSQL until it tries to write, then again as a writer. Returns what the caller
    /// gets.
    pub async fn run<'env, R>(
        &self,
        caller: &Caller,
        operation: &Operation,
        call: impl for<'a> Fn(Attempt<'a, 'env, T>) -> AttemptFuture<'a, R>,
    ) -> Result<R, EngineError> {
        // SQLite has no read-only transaction the server enforces (a write in a deferred one is simply
        // made), so there an operation that seldom writes is a writer from the start.
        let mut until_it_writes = operation.effect == Effect::SeldomWrites && self.db.backend() == Backend::Postgres;
        let mut read_only = operation.reads_only() || until_it_writes;
        let mut ran_as_reader = false;
        // One deadline for the whole call: waiting for a place, every attempt, every back-off.
        let deadline = tokio::time::Instant::now() + self.config.call_deadline;
        let admit = match operation.effect {
            Effect::Reads => Admit::Reads,
            _ if until_it_writes => Admit::ReadsUntilItWrites,
            _ => Admit::Writes,
        };
        let admitted = self.admit(caller, admit, deadline).await?;
        let mut attempt = 0u32;
        loop {
            // A call run again as a writer is not a lost race: its attempts are counted from there.
            if !std::mem::take(&mut ran_as_reader) {
                attempt += 1;
            }
            let (turn, writer) = self.turn(&admitted, read_only, deadline).await?;
            let (mut store, ctx) = self.store(caller);
            if until_it_writes {
                store.data_mut().drivers().set_read_only_until_it_writes();
            } else {
                store.data_mut().drivers().set_read_only(read_only);
            }
            store.data_mut().drivers().set_writer(writer);
            let attempt_run = async {
                let (part, function) = self.exports.function_of(operation);
                let instance = match operation.is_public() {
                    // Answered from the call's settings, without the database.
                    true => self.instantiate_part(&mut store, part).await?,
                    false => self.instantiate_while_beginning(&mut store, part).await?,
                };
                let exports = &self.exports;
                let attempt =
                    Attempt { store: &mut store, instance: &instance, ctx: &ctx, exports, function, _env: PhantomData };
                call(attempt).await
            };
            let outcome = match tokio::time::timeout_at(deadline, attempt_run).await {
                Ok(outcome) => outcome,
                Err(_) => Err(wasmtime::Trap::Interrupt.into()),
            };
            // The store, and its instance with it, goes while the transaction commits (before the
            // instance's permit, `turn`).
            let ended = Ended::take(&mut store);
            match self.settle_ended(ended, outcome, attempt, async move { drop(store) }).await {
                // A committed read's access log is written once its instance and turn are given back:
                // waiting for the database (SQLite's writer lock), it holds nothing a writer may be
                // waiting for.
                Settled::Answered(value, read_log) => {
                    drop(turn);
                    drop(admitted);
                    read_log.write(deadline).await;
                    return Ok(value);
                }
                Settled::Failed(error) => return Err(error),
                // No back-off: nobody won a race against it, and it happens once per call.
                Settled::RunAsWriter => {
                    drop(turn);
                    RUN_AS_WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    (until_it_writes, read_only, ran_as_reader) = (false, false, true);
                }
                // Lost races are run again, backing off, for as long as the call's deadline allows.
                Settled::Retry if tokio::time::Instant::now() + backoff_of(attempt) >= deadline => {
                    CONTENTION_FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Err(engine_error(
                        ErrorCode::Unavailable,
                        "too much contention: the call kept losing races until its deadline; nothing was written, try again",
                    ));
                }
                Settled::Retry => {
                    drop(turn);
                    backoff(attempt).await
                }
            }
        }
    }

    /// A fresh instance of the engine, made while the attempt's transaction begins. `BEGIN` is a wait
    /// for the database (a round trip on PostgreSQL, the connection's thread on SQLite) and instantiating
    /// is work for this thread, so the one hides behind the other. The transaction is the one the
    /// guest's first statement would have begun ([`crate::call::CallState::begin`]); a `BEGIN` that
    /// failed is reported by that statement.
    async fn instantiate_while_beginning(&self, store: &mut Store<T>, part: usize) -> wasmtime::Result<Instance> {
        let begin = store.data_mut().drivers().begin();
        let (begun, instance) = while_waiting(begin, self.instantiate_part(store, part)).await;
        store.data_mut().drivers().begun(begun);
        instance
    }

    /// Ends one attempt: commits or rolls back its transaction and says what the caller gets. The tenant
    /// policy runs of an attempt that is run again are not counted (its retry runs them again).
    #[doc(hidden)]
    pub async fn settle<R>(
        &self,
        store: &mut Store<T>,
        outcome: wasmtime::Result<Result<R, EngineError>>,
        attempt: u32,
    ) -> Settled<R> {
        self.settle_ended(Ended::take(store), outcome, attempt, async {}).await
    }

    /// [`Runtime::settle`] of what was taken out of the attempt's store; `while_committing` runs while
    /// a `COMMIT` waits for the database (the caller lets the store and its instance go there).
    async fn settle_ended<R>(
        &self,
        ended: Ended,
        outcome: wasmtime::Result<Result<R, EngineError>>,
        attempt: u32,
        while_committing: impl Future<Output = ()>,
    ) -> Settled<R> {
        let Ended { state, read_log, policy_runs, now } = ended;
        let settled = self.settle_attempt(state, read_log, outcome, attempt, while_committing).await;
        let refused_by_engine = match &settled {
            Settled::Retry | Settled::RunAsWriter => return settled,
            Settled::Answered(..) => None,
            Settled::Failed(e) => (e.code == ErrorCode::PolicyFailed).then_some(e.message.as_str()),
        };
        self.policies.stats.count(policy_runs, refused_by_engine, now);
        settled
    }

    async fn settle_attempt<R>(
        &self,
        state: Outcome,
        read_log: ReadLog,
        outcome: wasmtime::Result<Result<R, EngineError>>,
        attempt: u32,
        while_committing: impl Future<Output = ()>,
    ) -> Settled<R> {
        let Outcome { tx, violation, lost_race, needs_writer, failed, unavailable, connection_lost, doomed } = state;
        let may_retry = attempt < self.config.max_attempts;
        // Lost at a `BEGIN` no statement needed: the answer stands, the health learns of it.
        if !unavailable && let Some(error) = &connection_lost {
            self.health.lost(error);
        }
        let rollback = async |tx: Option<crate::db::Tx>| {
            if let Some(tx) = tx
                && let Err(e) = tx.abandon().await
            {
                tracing::warn!(error = %e, "rollback failed");
            }
        };
        if let Some(violation) = violation {
            rollback(tx).await;
            tracing::error!(%violation, "engine call touched data outside its scope; rolled back");
            return Settled::Failed(engine_error(
                ErrorCode::Forbidden,
                "the engine touched data outside the caller's tenant; nothing was written",
            ));
        }
        if unavailable {
            // A lost connection is `unavailable` wherever it happened (in the best-effort access log too):
            // nothing was written, and a client that retries on 503 does not drop the write.
            rollback(tx).await;
            match connection_lost {
                Some(error) => self.health.lost(&error),
                None => self.health.suspect(&self.db).await,
            }
            return Settled::Failed(engine_error(
                ErrorCode::Unavailable,
                "the database is unavailable; nothing was written",
            ));
        }
        if needs_writer {
            // Before a lost race: the writer's attempt is the one that may race, and it runs next.
            rollback(tx).await;
            return Settled::RunAsWriter;
        }
        if lost_race {
            rollback(tx).await;
            RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return if may_retry {
                Settled::Retry
            } else {
                tracing::warn!(attempts = attempt, "a call kept losing serialisation races; refused as unavailable");
                CONTENTION_FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Settled::Failed(engine_error(ErrorCode::Unavailable, "too much contention; try again"))
            };
        }
        if let Some(refusal) = doomed {
            // The tenant's policy said no, or failed: fail closed, whatever the engine answered.
            rollback(tx).await;
            return Settled::Failed(refusal);
        }
        match outcome {
            Ok(Ok(_)) if failed => {
                rollback(tx).await;
                tracing::error!("the engine answered ok after a failed statement; rolled back");
                Settled::Failed(engine_error(ErrorCode::Internal, "a database statement failed; nothing was written"))
            }
            Ok(Ok(value)) => match tx {
                // Nothing begun (the public operation): nothing to end.
                None => Settled::Answered(value, read_log),
                Some(tx) => match while_waiting(tx.finish(), while_committing).await.0 {
                    Ok(()) => Settled::Answered(value, read_log),
                    Err(e) if is_retryable(&e) && may_retry => {
                        RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Settled::Retry
                    }
                    Err(e) if crate::db::errors::is_connection_lost(&e) => {
                        self.health.lost(&e.to_string());
                        tracing::error!(error = %e, "the connection was lost while committing");
                        Settled::Failed(engine_error(
                            ErrorCode::Unavailable,
                            "the connection was lost while committing: the write may or may not have been made",
                        ))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "commit failed");
                        Settled::Failed(engine_error(
                            ErrorCode::Unavailable,
                            "the database could not commit; nothing was written",
                        ))
                    }
                },
            },
            Ok(Err(error)) => {
                rollback(tx).await;
                Settled::Failed(error)
            }
            Err(trap) => {
                rollback(tx).await;
                Settled::Failed(trap_error(&trap))
            }
        }
    }

    /// Admits a call (see [`crate::admission`]); hold the result for the whole call. Refused at once
    /// while the database is known to be down.
    #[doc(hidden)]
    pub async fn admit(
        &self,
        caller: &Caller,
        admit: Admit,
        deadline: tokio::time::Instant,
    ) -> Result<Admitted, EngineError> {
        if !self.database_available().await {
            return Err(engine_error(
                ErrorCode::Unavailable,
                "the database is unavailable; nothing was done, try again",
            ));
        }
        self.admission.admit(caller, admit, deadline).await
    }

    /// What one attempt waits for before it is instantiated, at most until the call's `deadline`: on
    /// SQLite, an attempt that writes takes the database's writer lock (it goes into the call's
    /// transaction); on PostgreSQL, its tenant's writer turn; then an instance of the pool. Queued calls
    /// hold no instance.
    #[doc(hidden)]
    pub async fn turn(
        &self,
        admitted: &Admitted,
        read_only: bool,
        deadline: tokio::time::Instant,
    ) -> Result<(Turn, Option<crate::db::WriterGuard>), EngineError> {
        let writer = if read_only {
            None
        } else {
            tokio::time::timeout_at(deadline, self.db.writer_turn()).await.map_err(|_| {
                engine_error(
                    ErrorCode::Unavailable,
                    "the database is busy with other writes; nothing was done, try again",
                )
            })?
        };
        let turn = self.admission.turn(admitted, !read_only, deadline).await?;
        Ok((turn, writer))
    }
}

/// How long to wait before running a call again: doubling from 1 ms up to 64 ms, with up to as much
/// again of jitter so that the losers of one race do not meet again in the next.
pub fn backoff_of(attempt: u32) -> Duration {
    let base = 1_000u64 << attempt.saturating_sub(1).min(6);
    let jitter = u64::from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos(),
    ) % base;
    Duration::from_micros(base + jitter)
}

/// Waits before running a call again (see [`backoff_of`]).
pub async fn backoff(attempt: u32) {
    tokio::time::sleep(backoff_of(attempt)).await;
}
