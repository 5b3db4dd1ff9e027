//! The wasmtime embedding: one engine and one compiled component per process (cached on disk so a
//! restart does not recompile), an `InstancePre`, the pooling allocator, and a fresh store and instance
//! for every engine call, with a deadline and a memory cap.
//!
//! An engine call is one transaction (see [`crate::call`]): [`Runtime::settle`] commits it when the
//! export returns `ok`, rolls it back on `err`, on a trap, on a deadline or on a scope violation, and asks
//! for the whole call to run again when PostgreSQL reports a serialisation race.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimitsBuilder};

use crate::admission::{Admission, Admitted, Turn};
use crate::bindings::{AccountEngine, Actor, CallContext, EngineError, EngineSettings, ErrorCode};
use crate::cache::{CacheConfig, ComponentCache};
use crate::call::CallState;
use crate::clock::{Clock, SystemClock};
use crate::db::Database;
use crate::db::errors::is_retryable;
use crate::health::Health;

/// The engine component, built from `guest/` by the build script.
pub static ACCOUNT_ENGINE_COMPONENT: &[u8] = include_bytes!(env!("ACCOUNT_ENGINE_COMPONENT"));

include!(concat!(env!("OUT_DIR"), "/contract_wit.rs"));

/// Writes the engine component (`account-engine.wasm`), its contract (`wit/`, documented) and the types of
/// its functions (`account-engine.types.json`) into `dir`: what a host in another language needs, from the
/// binary alone.
pub fn write_contract(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = vec![dir.join("account-engine.wasm"), dir.join("account-engine.types.json")];
    std::fs::create_dir_all(dir)?;
    std::fs::write(&written[0], ACCOUNT_ENGINE_COMPONENT)?;
    std::fs::write(&written[1], CONTRACT_TYPES_JSON)?;
    for (name, text) in CONTRACT_WIT {
        let path = dir.join("wit").join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// A deliberately misbehaving component (from `tests/rogue-guest`), embedded only when the test suite asks
/// for it (feature `rogue-guest`): the library an embedder builds does not carry it.
#[cfg(feature = "rogue-guest")]
#[doc(hidden)]
pub static ROGUE_GUEST_COMPONENT: &[u8] = include_bytes!(env!("ROGUE_GUEST_COMPONENT"));

/// Where the test suite's tenant policies were built (`<name>.wasm`: the examples and the hostile ones);
/// only with feature `rogue-guest`.
#[cfg(feature = "rogue-guest")]
#[doc(hidden)]
pub const TEST_POLICIES_DIR: &str = env!("TEST_POLICIES_DIR");

/// Linear memory kept mapped in a pooled slot between calls (where PAGEMAP_SCAN is available).
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// Epoch ticks: the granularity of the CPU deadline.
const TICK: Duration = Duration::from_millis(5);

/// Host settings passed to the engine with every call.
#[derive(Debug, Clone)]
pub struct Settings {
    pub memory_pins_enabled: bool,
    pub support_email: String,
    pub support_hours: String,
    pub support_response_time: String,
    /// How many tenants one person may own (projects they create).
    pub max_owned_tenants_per_user: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            memory_pins_enabled: true,
            support_email: "support@example.com".into(),
            support_hours: "24/7".into(),
            support_response_time: "Within 24 hours".into(),
            max_owned_tenants_per_user: 10,
        }
    }
}

/// Limits and settings of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Wall-clock limit of one engine call, database work included.
    pub call_deadline: Duration,
    /// Linear memory one instance may grow to.
    pub max_memory_bytes: usize,
    /// Engine calls that may run at once (instances in the pool).
    pub max_concurrent_calls: u32,
    /// Engine calls of one tenant that may run at once, reading and writing counted apart (see
    /// [`crate::admission`]), so that one tenant cannot take every instance. With the default of 16 and
    /// 10 tenants per person, one person cannot fill the default pool of 256 either.
    pub max_calls_per_tenant: u32,
    /// How long a reading call waits for its place and an instance before it is refused as `unavailable`
    /// (HTTP 503 with `Retry-After`); writing calls wait until their deadline. Nothing is instantiated
    /// while a call waits.
    pub admission_wait: Duration,
    /// How often a call that lost a serialisation race may run again; it stops earlier when its deadline
    /// would pass (the usual limit).
    pub max_attempts: u32,
    /// Where the compiled component is cached; none (the default) compiles at every start.
    pub cache: Option<CacheConfig>,
    /// The limits of tenants' own policy components (see [`crate::policy`]).
    pub policies: crate::policy::PolicyLimits,
    pub settings: Settings,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            call_deadline: Duration::from_secs(10),
            max_memory_bytes: 64 << 20,
            max_concurrent_calls: 256,
            max_calls_per_tenant: 16,
            admission_wait: Duration::from_secs(2),
            max_attempts: 1000,
            cache: None,
            policies: crate::policy::PolicyLimits::default(),
            settings: Settings::default(),
        }
    }
}

/// Who is calling, as the host established it (from a credential, the command line or a test).
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub tenant_id: Option<String>,
    pub request_id: String,
}

impl Caller {
    pub fn new(actor: Actor, tenant_id: Option<&str>) -> Self {
        Caller { actor, tenant_id: tenant_id.map(str::to_string), request_id: uuid::Uuid::new_v4().to_string() }
    }

    pub fn system(tenant_id: Option<&str>) -> Self {
        Self::new(Actor::System, tenant_id)
    }

    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self
    }
}

/// What to do with a finished attempt of an engine call.
pub enum Settled<T> {
    Done(Result<T, EngineError>),
    Retry,
}

/// Where each engine interface's functions sit in the component, looked up once at startup (a missing
/// export fails there). A call loads only its own interface's functions: loading type-checks every
/// function loaded, and doing that for all 49 exports on every call cost more than the rest of
/// instantiation together.
pub struct Exports {
    pub accounts: crate::bindings::accounts::GuestIndices,
    pub tenants: crate::bindings::tenants::GuestIndices,
    pub memory_pins: crate::bindings::memory_pins::GuestIndices,
    pub onboarding: crate::bindings::onboarding::GuestIndices,
    pub lifecycle: crate::bindings::lifecycle::GuestIndices,
    pub policies: crate::bindings::policies::GuestIndices,
}

impl Exports {
    fn new(pre: &wasmtime::component::InstancePre<CallState>) -> anyhow::Result<Self> {
        use crate::bindings::{accounts, lifecycle, memory_pins, onboarding, policies, tenants};
        Ok(Exports {
            accounts: accounts::GuestIndices::new(pre)?,
            tenants: tenants::GuestIndices::new(pre)?,
            memory_pins: memory_pins::GuestIndices::new(pre)?,
            onboarding: onboarding::GuestIndices::new(pre)?,
            lifecycle: lifecycle::GuestIndices::new(pre)?,
            policies: policies::GuestIndices::new(pre)?,
        })
    }
}

/// The process-wide runtime of the engine component.
pub struct Runtime {
    engine: Engine,
    pre: InstancePre<CallState>,
    exports: Exports,
    linker: Linker<CallState>,
    db: Database,
    clock: Arc<dyn Clock>,
    config: RuntimeConfig,
    /// The component's operations, for JSON calls (`engine::dynamic`); read on first use.
    pub(crate) operations: std::sync::OnceLock<Vec<crate::engine::dynamic::Operation>>,
    admission: Admission,
    health: Health,
    policies: Arc<crate::policy::Policies>,
    _ticker: EpochTicker,
}

/// Calls run again after losing a serialisation race (since the process started).
pub static RETRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Calls refused because they kept losing races until their deadline.
pub static CONTENTION_FAILURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Runtime {
    /// A runtime on `db` with the system clock and default limits.
    pub async fn new(db: Database) -> anyhow::Result<Self> {
        Self::with(db, Arc::new(SystemClock), RuntimeConfig::default())
    }

    pub fn with(db: Database, clock: Arc<dyn Clock>, mut config: RuntimeConfig) -> anyhow::Result<Self> {
        // A pool of one could not keep an instance for operators beside a customer's.
        config.max_concurrent_calls = config.max_concurrent_calls.max(2);
        let engine = engine(&config)?;
        let mut linker = Linker::<CallState>::new(&engine);
        AccountEngine::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)?;
        let component = load_component(&engine, ACCOUNT_ENGINE_COMPONENT, config.cache.as_ref())?;
        let pre = linker.instantiate_pre(&component)?;
        let exports = Exports::new(&pre)?;
        let ticker = EpochTicker::start(&engine, TICK);
        let admission = Admission::new(&config, db.backend() == crate::db::Backend::Postgres);
        // A place for a hook of every call that may run, and for uploads checked outside calls.
        let policies =
            Arc::new(crate::policy::Policies::new(config.policies.clone(), config.max_concurrent_calls + 4)?);
        crate::policy::stats::Stats::flush_in_background(&policies, &db);
        policies.warm_in_background(&db);
        Ok(Runtime {
            engine,
            pre,
            exports,
            linker,
            db,
            clock,
            config,
            operations: std::sync::OnceLock::new(),
            admission,
            health: Health::default(),
            policies,
            _ticker: ticker,
        })
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker with every import of the engine world, for instantiating other components against the
    /// same drivers (tests use it for a deliberately misbehaving guest).
    pub fn linker(&self) -> &Linker<CallState> {
        &self.linker
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The runtime of tenants' policy components.
    pub fn policy_runtime(&self) -> &crate::policy::Policies {
        &self.policies
    }

    /// A fresh store for one attempt of an engine call, and the context the guest receives.
    pub fn store(&self, caller: &Caller) -> (Store<CallState>, CallContext) {
        let now = self.clock.now_micros();
        let limits = StoreLimitsBuilder::new().memory_size(self.config.max_memory_bytes).instances(4).build();
        let state = CallState::new(self.db.clone(), &caller.actor, caller.tenant_id.as_deref(), now, limits);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.data_mut().set_policies(self.policies.clone());
        let ticks = (self.config.call_deadline.as_millis() / TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        let s = &self.config.settings;
        let ctx = CallContext {
            actor: caller.actor.clone(),
            tenant_id: caller.tenant_id.clone(),
            request_id: caller.request_id.clone(),
            now,
            settings: EngineSettings {
                memory_pins_enabled: s.memory_pins_enabled,
                support_email: s.support_email.clone(),
                support_hours: s.support_hours.clone(),
                support_response_time: s.support_response_time.clone(),
                max_owned_tenants_per_user: s.max_owned_tenants_per_user,
            },
        };
        (store, ctx)
    }

    /// A fresh instance of the engine in `store` (what every engine call starts with); a call then loads
    /// its interface's functions from it with [`Runtime::exports`].
    pub async fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<wasmtime::component::Instance> {
        self.pre.instantiate_async(store).await
    }

    pub fn exports(&self) -> &Exports {
        &self.exports
    }

    /// The compiled engine component.
    pub fn component(&self) -> &Component {
        self.pre.component()
    }

    /// Ends one attempt: commits or rolls back its transaction and says what the caller gets. The tenant
    /// policy runs of an attempt that is run again are not counted (its retry runs them again).
    pub async fn settle<T>(
        &self,
        store: &mut Store<CallState>,
        outcome: wasmtime::Result<Result<T, EngineError>>,
        attempt: u32,
    ) -> Settled<T> {
        let runs = store.data_mut().take_policy_runs();
        let settled = self.settle_attempt(store, outcome, attempt).await;
        if let Settled::Done(result) = &settled {
            let refused_by_engine =
                result.as_ref().err().filter(|e| e.code == ErrorCode::PolicyFailed).map(|e| e.message.as_str());
            self.policies.stats.count(runs, refused_by_engine, store.data().now.0);
        }
        settled
    }

    async fn settle_attempt<T>(
        &self,
        store: &mut Store<CallState>,
        outcome: wasmtime::Result<Result<T, EngineError>>,
        attempt: u32,
    ) -> Settled<T> {
        let crate::call::Outcome { tx, violation, lost_race, failed, unavailable, connection_lost, doomed } =
            store.data_mut().take_outcome();
        let may_retry = attempt < self.config.max_attempts;
        let rollback = async |tx: Option<crate::db::Tx>| {
            if let Some(tx) = tx
                && let Err(e) = tx.rollback().await
            {
                tracing::warn!(error = %e, "rollback failed");
            }
        };
        if let Some(violation) = violation {
            rollback(tx).await;
            tracing::error!(%violation, "engine call touched data outside its scope; rolled back");
            return Settled::Done(Err(engine_error(
                ErrorCode::Forbidden,
                "the engine touched data outside the caller's tenant; nothing was written",
            )));
        }
        if unavailable {
            // A lost connection is `unavailable` wherever it happened (in a best-effort savepoint too):
            // nothing was written, and a client that retries on 503 does not drop the write.
            rollback(tx).await;
            match connection_lost {
                Some(error) => self.health.lost(&error),
                None => self.health.suspect(&self.db).await,
            }
            return Settled::Done(Err(engine_error(
                ErrorCode::Unavailable,
                "the database is unavailable; nothing was written",
            )));
        }
        if lost_race {
            rollback(tx).await;
            crate::runtime::RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return if may_retry {
                Settled::Retry
            } else {
                tracing::warn!(attempts = attempt, "a call kept losing serialisation races; refused as unavailable");
                CONTENTION_FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Settled::Done(Err(engine_error(ErrorCode::Unavailable, "too much contention; try again")))
            };
        }
        if let Some(refusal) = doomed {
            // The tenant's policy said no, or failed: fail closed, whatever the engine answered.
            rollback(tx).await;
            return Settled::Done(Err(refusal));
        }
        match outcome {
            Ok(Ok(_)) if failed => {
                rollback(tx).await;
                tracing::error!("the engine answered ok after a failed statement; rolled back");
                Settled::Done(Err(engine_error(
                    ErrorCode::Internal,
                    "a database statement failed; nothing was written",
                )))
            }
            Ok(Ok(value)) => match tx {
                None => Settled::Done(Ok(value)),
                Some(tx) => match tx.commit().await {
                    Ok(()) => Settled::Done(Ok(value)),
                    Err(e) if is_retryable(&e) && may_retry => {
                        RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Settled::Retry
                    }
                    Err(e) if crate::db::errors::is_connection_lost(&e) => {
                        self.health.lost(&e.to_string());
                        tracing::error!(error = %e, "the connection was lost while committing");
                        Settled::Done(Err(engine_error(
                            ErrorCode::Unavailable,
                            "the connection was lost while committing: the write may or may not have been made",
                        )))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "commit failed");
                        Settled::Done(Err(engine_error(
                            ErrorCode::Unavailable,
                            "the database could not commit; nothing was written",
                        )))
                    }
                },
            },
            Ok(Err(error)) => {
                rollback(tx).await;
                Settled::Done(Err(error))
            }
            Err(trap) => {
                rollback(tx).await;
                Settled::Done(Err(trap_error(&trap)))
            }
        }
    }

    /// Admits a call (see [`crate::admission`]); hold the result for the whole call. Refused at once
    /// while the database is known to be down.
    pub async fn admit(
        &self,
        caller: &Caller,
        read_only: bool,
        deadline: tokio::time::Instant,
    ) -> Result<Admitted, EngineError> {
        if !self.database_available().await {
            return Err(engine_error(
                ErrorCode::Unavailable,
                "the database is unavailable; nothing was done, try again",
            ));
        }
        self.admission.admit(caller, !read_only, deadline).await
    }

    /// What one attempt waits for before it is instantiated, at most until the call's `deadline`: on
    /// SQLite, a call that writes takes the database's writer lock (it goes into the call's
    /// transaction); on PostgreSQL, its tenant's writer turn; then an instance of the pool. Queued calls
    /// hold no instance.
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
        let turn = self.admission.turn(admitted, deadline).await?;
        Ok((turn, writer))
    }

    /// Whether the database takes connections (readiness): the health of the last probe, probed again
    /// at most every 250 ms and by one caller at a time.
    pub async fn ready(&self) -> bool {
        self.health.ready(&self.db).await
    }

    /// Whether the database is known to be down (without probing it).
    pub fn database_down(&self) -> bool {
        self.health.is_down()
    }

    /// Whether calls may use the database: yes while it is up; while it is known to be down, only once a
    /// probe (at most every 250 ms, one at a time) finds it back.
    pub async fn database_available(&self) -> bool {
        self.health.admit(&self.db).await
    }

    /// A database failure outside an engine call (authentication's lookups): learned like a call's.
    pub fn database_failed(&self, error: &sqlx::Error) {
        if crate::db::errors::is_connection_lost(error) {
            self.health.lost(&error.to_string());
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

    /// Waits before running a call again (see [`Runtime::backoff_of`]).
    pub async fn backoff(attempt: u32) {
        tokio::time::sleep(Self::backoff_of(attempt)).await;
    }
}

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

/// Runs one engine call: a fresh store and instance per attempt, the deadline, the transaction, and
/// retries after lost serialisation races. `$call` is the export call, using `$instance` (the typed
/// functions of `$interface`; with `raw`, the plain component instance), `$store` and `$ctx`; the
/// operation's name says whether its transaction is read-only.
#[macro_export]
macro_rules! engine_call {
    (raw $runtime:expr, $caller:expr, $read_only:expr, |$instance:ident, $store:ident, $ctx:ident| $call:expr) => {
        $crate::engine_call!(@run $runtime, $caller, $read_only, st => $runtime.instantiate(&mut st), |$instance, $store, $ctx| $call)
    };
    ($runtime:expr, $caller:expr, $interface:ident, $operation:literal, |$instance:ident, $store:ident, $ctx:ident| $call:expr) => {
        $crate::engine_call!(@run $runtime, $caller, $crate::engine::is_read_only(stringify!($interface), $operation), st => async {
            let instance = $runtime.instantiate(&mut st).await?;
            $runtime.exports().$interface.load(&mut st, &instance)
        }, |$instance, $store, $ctx| $call)
    };
    (@run $runtime:expr, $caller:expr, $read_only:expr, $st:ident => $instantiate:expr, |$instance:ident, $store:ident, $ctx:ident| $call:expr) => {{
        let runtime: &$crate::runtime::Runtime = $runtime;
        let read_only: bool = $read_only;
        let mut attempt = 0u32;
        // One deadline for the whole call: waiting for a place, every attempt, every back-off.
        let at = tokio::time::Instant::now() + runtime.config().call_deadline;
        match runtime.admit($caller, read_only, at).await {
            Err(refused) => Err(refused),
            Ok(admitted) => loop {
            attempt += 1;
            let (_turn, writer) = match runtime.turn(&admitted, read_only, at).await {
                Ok(turn) => turn,
                Err(refused) => break Err(refused),
            };
            let (mut $st, $ctx) = runtime.store($caller);
            $st.data_mut().set_read_only(read_only);
            $st.data_mut().set_writer(writer);
            let run = async {
                let $instance = $instantiate.await?;
                let $store = &mut $st;
                $call.await
            };
            let outcome = match tokio::time::timeout_at(at, run).await {
                Ok(outcome) => outcome,
                Err(_) => Err(wasmtime::Trap::Interrupt.into()),
            };
            match runtime.settle(&mut $st, outcome, attempt).await {
                $crate::runtime::Settled::Done(result) => break result,
                // Lost races are run again, backing off, for as long as the call's deadline allows.
                $crate::runtime::Settled::Retry if tokio::time::Instant::now() + $crate::runtime::Runtime::backoff_of(attempt) >= at => {
                    $crate::runtime::CONTENTION_FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    break Err($crate::runtime::engine_error(
                        $crate::bindings::ErrorCode::Unavailable,
                        "too much contention: the call kept losing races until its deadline; nothing was written, try again",
                    ));
                }
                $crate::runtime::Settled::Retry => {
                    // The store (and its pooled instance) goes before the instance's permit.
                    drop($st);
                    drop(_turn);
                    $crate::runtime::Runtime::backoff(attempt).await
                }
            }
        },
        }
    }};
}

fn engine(config: &RuntimeConfig) -> anyhow::Result<Engine> {
    // A call touches a few hundred KiB of its instance's memory. Resetting a slot by rewriting only the
    // pages it touched (found with PAGEMAP_SCAN, Linux 6.7+) instead of unmapping them spares the next
    // call the page faults of mapping them in again. Without PAGEMAP_SCAN, keeping memory resident means
    // rewriting all of it on every call, so the slot is unmapped as before.
    match Engine::new(&wasm_config(config, true)) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            tracing::debug!(error = %e, "PAGEMAP_SCAN is not available; pooled memory is reset by unmapping");
            Ok(Engine::new(&wasm_config(config, false))?)
        }
    }
}

fn wasm_config(config: &RuntimeConfig, pagemap_scan: bool) -> Config {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(config.max_concurrent_calls)
        // The component is one core module with one memory, plus the small adapter modules
        // wit-component adds.
        .total_core_instances(config.max_concurrent_calls * 4)
        .total_memories(config.max_concurrent_calls)
        .total_tables(config.max_concurrent_calls * 2)
        .total_stacks(config.max_concurrent_calls)
        .max_memory_size(config.max_memory_bytes)
        .max_unused_warm_slots(config.max_concurrent_calls.min(64));
    if pagemap_scan {
        pool.pagemap_scan(wasmtime::Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(64 << 10);
    }
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        // Explicit bounds checks instead of guard pages and signal handlers. With guard pages, every
        // call's first `memory.grow` (Rust's allocator takes all its memory that way) cost an `mprotect`
        // to grow and another to shrink the slot back for the next instance; without them a slot stays
        // mapped, and a call's fixed cost fell from 25 to 14 µs. Guest code runs a little slower; it is a
        // small part of a call next to the database.
        .memory_guard_size(0)
        .memory_reservation(config.max_memory_bytes as u64)
        .signals_based_traps(false)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    wasm
}

/// Compiles a component, or loads it from a configured cache (see [`crate::cache`]).
pub fn load_component(engine: &Engine, wasm: &[u8], cache: Option<&CacheConfig>) -> anyhow::Result<Component> {
    match cache {
        None => Ok(Component::new(engine, wasm)?),
        Some(config) => ComponentCache::open(config)?.load_or_compile(engine, wasm),
    }
}

/// Advances an engine's epoch every tick on a background thread until it is dropped.
pub(crate) struct EpochTicker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl EpochTicker {
    pub(crate) fn start(engine: &Engine, tick: Duration) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawning the epoch thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One interface a component imports or exports, with the functions in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceShape {
    pub name: String,
    pub functions: Vec<String>,
}

/// The interfaces the engine component imports and exports, as the component itself declares them.
pub fn component_shape(engine: &Engine, wasm: &[u8]) -> anyhow::Result<(Vec<InterfaceShape>, Vec<InterfaceShape>)> {
    use wasmtime::component::types::{ComponentExtern, ComponentItem};
    let component = Component::new(engine, wasm)?;
    let ty = component.component_type();
    let shape = |name: &str, item: ComponentExtern<'_>| {
        let functions = match item.ty {
            ComponentItem::ComponentInstance(instance) => instance
                .exports(engine)
                .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(_)))
                .map(|(n, _)| n.to_string())
                .collect(),
            _ => Vec::new(),
        };
        InterfaceShape { name: name.to_string(), functions }
    };
    let imports = ty.imports(engine).map(|(n, e)| shape(n, e)).collect();
    let exports = ty.exports(engine).map(|(n, e)| shape(n, e)).collect();
    Ok((imports, exports))
}
