//! The runtime of the engine component: one wasmtime engine per process, the engine compiled as one
//! component per interface it exports (a call's instance wires only the driver functions its interface
//! can call), an `InstancePre` of each, the pooling allocator, and a fresh store and instance for every
//! engine call, with a deadline and a memory cap.
//!
//! [`Runtime`] is the batteries-included way to run the engine. It is built on the pieces an embedder can
//! also take one by one: [`crate::drivers::add_to_linker`] puts the engine's imports into any
//! `Linker<T>` whose store data exposes the driver context ([`crate::drivers::DriverView`]), and
//! [`RuntimeBuilder::link`] lets a platform add its own host interfaces to the same linker.
//!
//! An engine call is one transaction (see [`crate::call`]): [`Runtime::run`] commits it when the export
//! returns `ok`, rolls it back on `err`, on a trap, on the deadline or on a scope violation, and runs the
//! call again when PostgreSQL reports a serialisation race.

mod config;
mod epoch;
mod exports;
mod run;
mod wasm;

use std::sync::Arc;

use wasmtime::component::{Component, Instance, Linker};
use wasmtime::{Engine, Store, StoreLimitsBuilder};

pub use config::{Caller, RuntimeConfig, Settings};
pub(crate) use epoch::EpochTicker;
pub use epoch::Ticking;
use exports::Parts;
pub use exports::{ExportedFunction, Exports, PACKAGE, VERSION};
pub use run::{
    Attempt, AttemptFuture, CONTENTION_FAILURES, RETRIES, RUN_AS_WRITERS, Settled, backoff_of, engine_error,
};
pub use wasm::{
    ACCOUNT_ENGINE_COMPONENT, ACCOUNT_ENGINE_INTERFACE_COMPONENTS, InterfaceShape, component_shape, load_component,
    write_contract,
};
#[cfg(feature = "rogue-guest")]
pub use wasm::{ROGUE_GUEST_COMPONENT, TEST_POLICIES_DIR};

use crate::admission::Admission;
use crate::bindings::{CallContext, EngineSettings};
use crate::call::CallState;
use crate::clock::{Clock, SystemClock};
use crate::db::Database;
use crate::drivers::DriverView;
use crate::health::Health;

/// Makes a call's store data from its driver context.
type StoreData<T> = Arc<dyn Fn(CallState) -> T + Send + Sync>;
/// Adds an embedder's host interfaces to the runtime's linker.
type LinkStep<T> = Box<dyn FnOnce(&mut Linker<T>) -> wasmtime::Result<()> + Send>;

/// The process-wide runtime of the engine component. `T` is the data of each call's store: the driver
/// context itself ([`CallState`], the default), or an embedder's own type that holds one.
pub struct Runtime<T: 'static = CallState> {
    engine: Engine,
    /// The engine's components, one per interface, ready to instantiate.
    parts: Parts<T>,
    exports: Exports,
    linker: Linker<T>,
    data: StoreData<T>,
    db: Database,
    clock: Arc<dyn Clock>,
    config: RuntimeConfig,
    admission: Admission,
    health: Health,
    policies: Arc<crate::policy::Policies>,
    ticker: EpochTicker,
}

/// How a [`Runtime`] is made: its database, clock and limits, the data of its stores and the host
/// interfaces an embedder adds beside the engine's.
pub struct RuntimeBuilder<T: 'static = CallState> {
    db: Database,
    clock: Arc<dyn Clock>,
    config: RuntimeConfig,
    data: StoreData<T>,
    link: Vec<LinkStep<T>>,
}

impl Runtime<CallState> {
    /// A runtime on `db` with the system clock and default limits; the engine's components are compiled
    /// on a blocking thread, off the async executor.
    pub async fn new(db: Database) -> anyhow::Result<Self> {
        Self::builder(db).build().await
    }

    /// A runtime on `db` with `clock` and `config`, compiled on this thread (it takes a second or more
    /// without a cache: from async code, prefer [`RuntimeBuilder::build`]).
    pub fn with(db: Database, clock: Arc<dyn Clock>, config: RuntimeConfig) -> anyhow::Result<Self> {
        Self::builder(db).clock(clock).config(config).build_blocking()
    }

    /// A builder of a runtime whose stores hold the driver context alone.
    pub fn builder(db: Database) -> RuntimeBuilder<CallState> {
        RuntimeBuilder::with_store_data(db, |drivers| drivers)
    }
}

impl<T: DriverView> RuntimeBuilder<T> {
    /// A builder of a runtime whose stores hold the embedder's own data, made by `data` around each
    /// call's driver context.
    pub fn with_store_data(db: Database, data: impl Fn(CallState) -> T + Send + Sync + 'static) -> Self {
        RuntimeBuilder {
            db,
            clock: Arc::new(SystemClock),
            config: RuntimeConfig::default(),
            data: Arc::new(data),
            link: Vec::new(),
        }
    }

    /// The clock the engine reads its `now` from (the system clock by default).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Limits and settings (the defaults otherwise).
    pub fn config(mut self, config: RuntimeConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds host interfaces of the embedder's own to the linker the engine's drivers are in (for
    /// components of its own it instantiates with [`Runtime::linker`]).
    pub fn link(mut self, step: impl FnOnce(&mut Linker<T>) -> wasmtime::Result<()> + Send + 'static) -> Self {
        self.link.push(Box::new(step));
        self
    }

    /// Compiles the engine's components, one per interface (or loads them from the configured cache), on
    /// a blocking thread, off the async executor, and starts the runtime.
    pub async fn build(self) -> anyhow::Result<Runtime<T>> {
        tokio::task::spawn_blocking(move || self.build_blocking()).await?
    }

    /// Compiles the engine's components, one per interface (or loads them from the configured cache), on
    /// this thread and starts the runtime.
    pub fn build_blocking(self) -> anyhow::Result<Runtime<T>> {
        let RuntimeBuilder { db, clock, mut config, data, link } = self;
        // A pool of one could not keep an instance for operators beside a customer's.
        config.max_concurrent_calls = config.max_concurrent_calls.max(2);
        let engine = wasm::engine(&config)?;
        let mut linker = Linker::<T>::new(&engine);
        crate::drivers::add_to_linker(&mut linker)?;
        for step in link {
            step(&mut linker)?;
        }
        // Every attempt of a call gets a fresh instance of its interface's component and makes one call on
        // it.
        let mut parts = Parts::new();
        for &(interface, wasm) in ACCOUNT_ENGINE_INTERFACE_COMPONENTS {
            let component = load_component(&engine, wasm, config.cache.as_ref())?;
            parts.push((interface, linker.instantiate_pre(&component)?));
        }
        let exports = Exports::new(&engine, &parts)?;
        let ticker = EpochTicker::start(&engine, config.call_deadline, "wasm-epoch");
        let admission = Admission::new(&config, db.backend() == crate::db::Backend::Postgres);
        // A place for a hook of every call that may run, and for uploads checked outside calls.
        let policies =
            Arc::new(crate::policy::Policies::new(config.policies.clone(), config.max_concurrent_calls + 4)?);
        crate::policy::stats::Stats::flush_in_background(&policies, &db);
        policies.warm_in_background(&db);
        Ok(Runtime {
            engine,
            parts,
            exports,
            linker,
            data,
            db,
            clock,
            config,
            admission,
            health: Health::default(),
            policies,
            ticker,
        })
    }
}

impl<T: DriverView> Runtime<T> {
    /// The database the runtime's calls run on.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The wasmtime engine every call's store belongs to. Make stores with [`Runtime::store`]: the
    /// engine's epoch, which their deadlines are counted in, advances only while a store holds the
    /// engine's clock, as those do. A store made on this engine some other way must hold one of
    /// [`Runtime::hold_epoch_clock`] for its whole life (in its data), or its guest has no deadline.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A hold on the engine's epoch clock: while any is held, the clock ticks (a tick is a fiftieth of
    /// the call deadline, at most 100 ms), so the epoch deadlines of the engine's stores pass. Every
    /// store of [`Runtime::store`] holds one; a store an embedder makes itself on [`Runtime::engine`]
    /// needs its own.
    pub fn hold_epoch_clock(&self) -> Ticking {
        self.ticker.running()
    }

    /// How many ticks of the engine's epoch clock make `deadline` (at least one): what to give
    /// `Store::set_epoch_deadline` for a store made on [`Runtime::engine`].
    pub fn epoch_ticks_in(&self, deadline: std::time::Duration) -> u64 {
        self.ticker.ticks_in(deadline)
    }

    /// The linker with every import of the engine world (and the embedder's own interfaces), for
    /// instantiating other components against the same drivers.
    pub fn linker(&self) -> &Linker<T> {
        &self.linker
    }

    /// The runtime's limits and settings.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The runtime of tenants' policy components.
    pub fn policy_runtime(&self) -> &crate::policy::Policies {
        &self.policies
    }

    /// Where the engine's functions sit: the component of their interface and their index in it.
    pub fn exports(&self) -> &Exports {
        &self.exports
    }

    /// The compiled component of the engine's interface `interface` (e.g. `memory-pins`): the one the
    /// runtime instantiates for that interface's calls ([`ACCOUNT_ENGINE_INTERFACE_COMPONENTS`]).
    pub fn component_of(&self, interface: &str) -> Option<&Component> {
        self.parts.iter().find(|(name, _)| *name == interface).map(|(_, pre)| pre.component())
    }

    /// A fresh store with the data of `caller`'s calls (the runtime's deadline and memory limit), and the
    /// context the engine would receive: each attempt of an engine call runs in one, and an embedder runs
    /// components of its own in one, against [`Runtime::linker`]. Those take the places
    /// [`RuntimeConfig::embedder_instances`] sets aside (an instantiation beyond them fails), never an
    /// engine call's.
    pub fn store(&self, caller: &Caller) -> (Store<T>, CallContext) {
        let now = self.clock.now_micros();
        let limits = StoreLimitsBuilder::new().memory_size(self.config.max_memory_bytes).instances(4).build();
        let mut drivers = CallState::new(self.db.clone(), &caller.actor, caller.tenant_id.as_deref(), now, limits);
        drivers.set_policies(self.policies.clone());
        // The store keeps the epoch clock going while it lives: its guest's deadline depends on it.
        drivers.hold_clock(self.hold_epoch_clock());
        let mut store = Store::new(&self.engine, (self.data)(drivers));
        store.limiter(|data| &mut data.drivers().limits);
        store.set_epoch_deadline(self.epoch_ticks_in(self.config.call_deadline));
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

    /// A fresh instance of the engine's component of `interface` in `store` (what every engine call of
    /// that interface starts with).
    #[doc(hidden)]
    pub async fn instantiate(&self, store: &mut Store<T>, interface: &str) -> wasmtime::Result<Instance> {
        let part = self.parts.iter().position(|(name, _)| *name == interface);
        let part = part.ok_or_else(|| wasmtime::Error::msg(format!("the engine has no interface {interface}")))?;
        self.instantiate_part(store, part).await
    }

    /// A fresh instance of the component at `part` of [`Runtime::parts`](Parts) in `store`.
    async fn instantiate_part(&self, store: &mut Store<T>, part: usize) -> wasmtime::Result<Instance> {
        self.parts[part].1.instantiate_async(store).await
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
}
