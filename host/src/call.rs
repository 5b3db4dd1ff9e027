//! The state of one engine call, owned by its wasmtime `Store`: the call's context, its transaction
//! (begun by the runtime while it makes the call's instance, or else by the first statement), its tenant
//! scope, and what the runtime must know when the guest returns (a scope violation, a lost serialisation
//! race).
//!
//! Every driver module implements its generated `Host` trait on [`CallState`].

use std::time::Instant;

use wasmtime_wasi::random::WasiRandomCtx;

use crate::bindings::{Actor, DriverError, DriverErrorCode};
use crate::db::codec::{Id, Ts};
use crate::db::errors::{driver_error, from_sqlx, is_connection_lost, is_retryable, is_write_in_read_only};
use crate::db::{Backend, Database, Tx};
use crate::drivers::memory_pins_driver::{AccessRow, ReadLog};

/// Which tenants the driver calls of an engine call may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Operators and the system: any tenant.
    Platform,
    /// A customer call: this tenant (and tenants the call itself created).
    Tenant(Id),
    /// A customer call without a tenant (accepting an invitation, creating a first project): only tenants
    /// the call created, or the tenant of an invitation whose token it presented.
    NoTenant,
}

/// Runs one statement on the call's transaction and maps a failure to a [`DriverError`].
#[macro_export]
macro_rules! sql {
    ($state:expr, rows |$c:ident| $body:expr) => {{
        let tx = $state.tx().await?;
        let result = $crate::on_tx!(tx, rows | $c | $body);
        result.map_err(|e| $state.fail(e))
    }};
    ($state:expr, |$c:ident| $body:expr) => {{
        let tx = $state.tx().await?;
        let result = $crate::on_tx!(tx, |$c| $body);
        result.map_err(|e| $state.fail(e))
    }};
}

/// What the runtime must know about a finished call.
pub struct Outcome {
    /// The call's transaction, if one was begun: to commit or roll back.
    pub tx: Option<Tx>,
    /// The first scope violation, if the guest attempted one.
    pub violation: Option<String>,
    /// PostgreSQL reported a serialisation race: the whole call must run again.
    pub lost_race: bool,
    /// The attempt ran read-only until it wrote, and it tried to write: the call must run again as a
    /// writer ([`CallState::set_read_only_until_it_writes`]).
    pub needs_writer: bool,
    /// A statement failed outside a savepoint: the call must not commit.
    pub failed: bool,
    /// The database could not be reached during the call (a lost connection, or none to be had in time):
    /// whatever the guest answered, the caller is told `unavailable`.
    pub unavailable: bool,
    /// What the database said when the connection was lost, if it was (the database may be down): with
    /// `unavailable`, or alone when the lost `BEGIN` was sent before the guest ran and no statement
    /// needed it.
    pub connection_lost: Option<String>,
    /// A tenant policy denied or failed: the caller gets this error and nothing is written.
    pub doomed: Option<crate::bindings::EngineError>,
}

/// Statements run by drivers in this process (the benchmark checks that the component and the native
/// path run the same ones).
static STATEMENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Exchanges with the database in this process that its calls wait for: the statements, each call's
/// `BEGIN`, the `COMMIT` (or `ROLLBACK`) of a transaction that may write, and the access log of its
/// reads written after it (the benchmark's round trips). Not counted: the check sqlx makes of every
/// connection given back to its pool, after the call, which also ends a read-only transaction
/// ([`crate::db::Tx::finish`]).
static ROUND_TRIPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many driver statements this process has run (savepoints included).
pub fn statements_run() -> u64 {
    STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// How many exchanges with the database this process's calls have made (see [`statements_run`]).
pub fn round_trips_run() -> u64 {
    ROUND_TRIPS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Counts one exchange with the database of an engine call (the runtime counts the `COMMIT` or
/// `ROLLBACK` that ends a call; a native caller of the drivers does the same to be compared).
#[doc(hidden)]
pub fn count_round_trip() {
    ROUND_TRIPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The driver context of one engine call: its database, transaction, tenant scope and what the runtime
/// must learn when the guest returns. Every driver implements its `Host` trait on it.
pub struct CallState {
    db: Database,
    tx: Option<Tx>,
    /// Why the `BEGIN` the runtime sent before the guest ran failed ([`CallState::begin`]): the first
    /// statement reports it, as its own `BEGIN` would have.
    begin_failure: Option<sqlx::Error>,
    /// The guest ran a statement: the call read something (its transaction may have been begun before
    /// the guest ran, so a transaction alone says nothing).
    ran_statement: bool,
    pub(crate) now: Ts,
    pub(crate) started: Instant,
    scope: Scope,
    created_tenants: Vec<Id>,
    /// The human behind the call, if any: (internal user id, identity-provider subject).
    identity: Option<(Option<Id>, String)>,
    violation: Option<String>,
    retry: bool,
    /// A statement failed outside a savepoint: PostgreSQL has aborted the transaction, and on every backend
    /// the call must not commit. Later driver calls are refused.
    failed: bool,
    unavailable: bool,
    /// What the database said when the connection was lost, if it was.
    connection_lost: Option<String>,
    savepoints: u32,
    /// The attempt's transaction is a read-only one: the operation only reads (see
    /// [`crate::engine::is_read_only`]), or it seldom writes and this is its first attempt on PostgreSQL.
    read_only: bool,
    /// The read-only transaction is a first attempt of an operation that seldom writes: a write the
    /// server refuses asks for the call to run again as a writer ([`CallState::needs_writer`]).
    until_it_writes: bool,
    /// The server refused a write of such a first attempt.
    needs_writer: bool,
    /// The tenant row the last statement read with the tenant's status, until the next statement
    /// ([`CallState::keep_tenant_row`]).
    tenant_row: Option<crate::db::rows::TenantRecord>,
    /// The access log rows of the pins this read-only call read, written after it commits.
    read_log: Vec<AccessRow>,
    /// The SQLite writer lock, when the runtime took it before instantiating (goes into the transaction).
    writer: Option<crate::db::WriterGuard>,
    /// Created on first use: most calls need no randomness, and seeding a CSPRNG per call is not free.
    pub(crate) random: Option<WasiRandomCtx>,
    pub(crate) limits: wasmtime::StoreLimits,
    /// The store's hold on the engine's epoch clock, which its guest's deadline is measured by.
    clock: Option<crate::runtime::Ticking>,
    /// The tenant policy runtime (none: this host runs no policies, and a tenant that has one is refused).
    pub(crate) policies: Option<std::sync::Arc<crate::policy::Policies>>,
    /// Each tenant's active policy version as this call's lifecycle check read it.
    pub(crate) policy_seen: Vec<(Id, crate::policy::policy_gate::ActiveVersion)>,
    /// A tenant's policy denied or failed: the call must not commit, whatever the engine answers.
    doomed: Option<crate::bindings::EngineError>,
    /// The tenant policy hooks this attempt ran (counted when it is settled, not if it runs again).
    policy_runs: Vec<crate::policy::stats::Run>,
    /// Why the host refused the component this call installs (it compiled it before the call), told to
    /// the engine when it inspects the component.
    upload_refusal: Option<crate::bindings::EngineError>,
}

impl CallState {
    /// The context of a call by `actor` on `tenant_id` at `now` (microseconds), with its store limits.
    pub fn new(db: Database, actor: &Actor, tenant_id: Option<&str>, now: i64, limits: wasmtime::StoreLimits) -> Self {
        let scope = match (actor, tenant_id) {
            (Actor::Operator(_) | Actor::System, _) => Scope::Platform,
            (_, Some(t)) => Id::parse(t).map(Scope::Tenant).unwrap_or(Scope::NoTenant),
            (_, None) => Scope::NoTenant,
        };
        let identity = match actor {
            Actor::Identity(p) => Some((p.user_id.as_deref().and_then(|u| Id::parse(u).ok()), p.external_id.clone())),
            _ => None,
        };
        CallState {
            db,
            tx: None,
            begin_failure: None,
            ran_statement: false,
            now: Ts(now),
            started: Instant::now(),
            scope,
            created_tenants: Vec::new(),
            identity,
            violation: None,
            retry: false,
            failed: false,
            unavailable: false,
            connection_lost: None,
            savepoints: 0,
            read_only: false,
            until_it_writes: false,
            needs_writer: false,
            tenant_row: None,
            read_log: Vec::new(),
            writer: None,
            random: None,
            limits,
            clock: None,
            policies: None,
            policy_seen: Vec::new(),
            doomed: None,
            policy_runs: Vec::new(),
            upload_refusal: None,
        }
    }

    /// Which database the call runs on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Runs the call in a read-only transaction (set before it begins).
    pub fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
        self.until_it_writes = false;
    }

    /// Runs the call in a read-only transaction until it writes (set before it begins): the
    /// first attempt of an operation that seldom writes, on PostgreSQL, which refuses the write (25006).
    /// Its attempt then ends as [`Outcome::needs_writer`], and the runtime runs the call again as a writer.
    pub fn set_read_only_until_it_writes(&mut self) {
        self.read_only = true;
        self.until_it_writes = true;
    }

    /// Whether the call runs in a read-only transaction.
    pub(crate) fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The access log of the call's pin reads, for the runtime to hand on once the call has committed
    /// (`Settled::Answered`) — never after a rollback. Public only for the benchmark's native calls,
    /// which commit by themselves.
    #[doc(hidden)]
    pub fn take_read_log(&mut self) -> ReadLog {
        let log = ReadLog::new(self.db.clone(), std::mem::take(&mut self.read_log));
        // Nothing read, so nothing to log: a log row without its read is not kept.
        if self.ran_statement { log } else { log.without_rows() }
    }

    /// The attempt tried to write something the host keeps until after the commit while its transaction
    /// is read-only: refused, as the server refuses a write, and likewise an attempt that runs read-only
    /// until it writes then runs again as a writer.
    pub(crate) fn refuse_write_in_read_only(&mut self) {
        if self.until_it_writes {
            self.needs_writer = true;
        }
    }

    /// Keeps the tenant row the statement just run read (with the tenant's status) for a read of that
    /// row that follows before any other statement: the row in the call's snapshot, as that read would
    /// find it, since nothing can have changed it in between.
    pub(crate) fn keep_tenant_row(&mut self, row: crate::db::rows::TenantRecord) {
        self.tenant_row = Some(row);
    }

    /// Tenant `t`'s row, if the statement just run read it ([`CallState::keep_tenant_row`]).
    pub(crate) fn take_tenant_row(&mut self, t: &Id) -> Option<crate::db::rows::TenantRecord> {
        self.tenant_row.take_if(|row| row.id == *t)
    }

    /// Keeps a pin read's access log row until the call commits (a read-only call reads a few pins at
    /// most: more is refused).
    pub(crate) fn defer_read_log(&mut self, row: AccessRow) -> Result<(), DriverError> {
        const MAX_READ_LOG_ROWS: usize = 16;
        if self.read_log.len() >= MAX_READ_LOG_ROWS {
            return Err(driver_error(DriverErrorCode::Invalid, "too many access log rows in one call"));
        }
        self.read_log.push(row);
        Ok(())
    }

    /// Keeps the engine's epoch clock going for as long as the store lives ([`crate::runtime::Runtime::store`]).
    pub(crate) fn hold_clock(&mut self, clock: crate::runtime::Ticking) {
        self.clock = Some(clock);
    }

    /// Gives the call the tenant policy runtime.
    pub fn set_policies(&mut self, policies: std::sync::Arc<crate::policy::Policies>) {
        self.policies = Some(policies);
    }

    /// The call must end with `error` and roll back (a tenant policy denied or failed); the first one
    /// stands.
    pub(crate) fn doom(&mut self, error: crate::bindings::EngineError) {
        self.doomed.get_or_insert(error);
    }

    /// The host refused the component this call installs (see [`crate::engine::policies`]).
    pub(crate) fn refuse_upload(&mut self, refusal: Option<crate::bindings::EngineError>) {
        self.upload_refusal = refusal;
    }

    /// Why the host refused the component this call installs, if it did.
    pub(crate) fn upload_refusal(&self) -> Option<crate::bindings::EngineError> {
        self.upload_refusal.clone()
    }

    /// Notes a tenant policy hook this attempt ran.
    pub(crate) fn ran_policy(&mut self, run: crate::policy::stats::Run) {
        self.policy_runs.push(run);
    }

    /// The hooks this attempt ran, to be counted.
    pub fn take_policy_runs(&mut self) -> Vec<crate::policy::stats::Run> {
        std::mem::take(&mut self.policy_runs)
    }

    /// Hands the call the writer lock its runtime took for it.
    pub fn set_writer(&mut self, writer: Option<crate::db::WriterGuard>) {
        self.writer = writer;
    }

    /// The call's transaction, begun on first use unless the runtime began it ([`CallState::begin`]).
    /// Every statement of a driver goes through here.
    pub async fn tx(&mut self) -> Result<&mut Tx, DriverError> {
        // A statement may change the row kept from the one before it.
        self.tenant_row = None;
        if self.failed {
            return Err(driver_error(
                DriverErrorCode::Backend,
                "an earlier statement of this call failed; its transaction will be rolled back",
            ));
        }
        STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        count_round_trip();
        self.ran_statement = true;
        if self.tx.is_none() && self.begin_failure.is_none() {
            let begun = self.begin().await;
            self.begun(begun);
        }
        if let Some(e) = self.begin_failure.take() {
            return Err(self.fail(e));
        }
        Ok(self.tx.as_mut().expect("begun above"))
    }

    /// Begins the call's transaction before the guest runs, as its first statement would (read-only or
    /// not, with the writer lock the runtime took): an owned future, so that the runtime makes the
    /// call's instance while `BEGIN` waits for the database. Its result goes to [`CallState::begun`].
    ///
    /// Boxed: beginning takes a future of some 9 KB (sqlx's), and every driver function's future holds
    /// this one ([`CallState::tx`] begins when nothing has); wasmtime moves each host call's future into
    /// a box of its own, so unboxed it copied those 9 KB on every host call, begun or not.
    #[doc(hidden)]
    pub fn begin(&mut self) -> std::pin::Pin<Box<dyn Future<Output = Result<Tx, sqlx::Error>> + Send + 'static>> {
        let (db, read_only, writer) = (self.db.clone(), self.read_only, self.writer.take());
        Box::pin(async move { db.begin_with(read_only, writer).await })
    }

    /// Hands the call the transaction [`CallState::begin`] began, or why it could not be begun.
    #[doc(hidden)]
    pub fn begun(&mut self, begun: Result<Tx, sqlx::Error>) {
        count_round_trip();
        match begun {
            Ok(tx) => self.tx = Some(tx),
            Err(e) => self.begin_failure = Some(e),
        }
    }

    /// Records what a database failure means for the call and maps it for the guest.
    pub fn fail(&mut self, e: sqlx::Error) -> DriverError {
        if is_retryable(&e) {
            self.retry = true;
        } else if self.until_it_writes && is_write_in_read_only(&e) {
            self.needs_writer = true;
        } else if is_connection_lost(&e) {
            self.unavailable = true;
            self.connection_lost.get_or_insert_with(|| e.to_string());
        } else if matches!(e, sqlx::Error::PoolTimedOut) {
            self.unavailable = true;
        } else {
            tracing::debug!(error = %e, "driver statement failed");
        }
        if self.savepoints == 0 {
            self.failed = true;
        }
        from_sqlx(&e)
    }

    /// Checks that the call may touch `tenant_id` and parses it.
    pub fn tenant(&mut self, tenant_id: &str) -> Result<Id, DriverError> {
        let id = Id::parse(tenant_id)?;
        if self.in_scope(&id) {
            return Ok(id);
        }
        let message = format!("tenant {id} is outside this call's scope");
        tracing::warn!(%message, "guest driver call refused");
        self.violation.get_or_insert(message.clone());
        Err(driver_error(DriverErrorCode::ScopeViolation, message))
    }

    /// Whether rows of `id` are visible to this call (for lookups that do not name a tenant).
    pub fn in_scope(&self, id: &Id) -> bool {
        match &self.scope {
            Scope::Platform => true,
            Scope::Tenant(t) => t == id || self.created_tenants.contains(id),
            Scope::NoTenant => self.created_tenants.contains(id),
        }
    }

    /// The tenant the call's credential names, if it names one.
    pub(crate) fn scope_tenant(&self) -> Option<Id> {
        match &self.scope {
            Scope::Tenant(t) => Some(t.clone()),
            _ => None,
        }
    }

    /// Operators and the system.
    pub fn is_platform(&self) -> bool {
        self.scope == Scope::Platform
    }

    /// A tenant this call created is in its scope for the rest of the call.
    pub fn created_tenant(&mut self, id: &Id) {
        self.created_tenants.push(id.clone());
    }

    /// Presenting an invitation's token puts its tenant in the call's scope (beside the tenant the call
    /// already had, if any: a member of one tenant accepts an invitation to another).
    pub fn admit_tenant_by_token(&mut self, id: &Id) {
        match &self.scope {
            Scope::NoTenant => self.scope = Scope::Tenant(id.clone()),
            Scope::Tenant(t) if t != id && !self.created_tenants.contains(id) => self.created_tenants.push(id.clone()),
            _ => {}
        }
    }

    /// Refuses a write only operators and the system may make (plans, statuses), recording the violation.
    pub fn platform_only(&mut self, what: &str) -> Result<(), DriverError> {
        if self.is_platform() {
            return Ok(());
        }
        let message = format!("{what} is an operator's write");
        tracing::warn!(%message, "guest driver call refused");
        self.violation.get_or_insert(message.clone());
        Err(driver_error(DriverErrorCode::ScopeViolation, message))
    }

    /// Whether `user_id` is the calling person's user.
    pub(crate) fn is_caller_user(&self, user_id: &Id) -> bool {
        matches!(&self.identity, Some((Some(u), _)) if u == user_id)
    }

    /// Whether `external_id` is the calling person's identity-provider subject.
    pub(crate) fn is_caller_subject(&self, external_id: &str) -> bool {
        matches!(&self.identity, Some((_, e)) if e == external_id)
    }

    /// The tenants whose members this call may see.
    pub(crate) fn scope_tenants(&self) -> Vec<Id> {
        let mut tenants = self.created_tenants.clone();
        if let Scope::Tenant(t) = &self.scope {
            tenants.push(t.clone());
        }
        tenants
    }

    /// Writes to a user row are the user's own (or the platform's).
    pub fn may_write_user(&mut self, user_id: &Id) -> Result<(), DriverError> {
        if self.is_caller_user(user_id) || self.scope == Scope::Platform {
            return Ok(());
        }
        let message = format!("user {user_id} is not the caller");
        self.violation.get_or_insert(message.clone());
        Err(driver_error(DriverErrorCode::ScopeViolation, message))
    }

    /// A user this call created for its own identity is the caller's user for the rest of the call.
    pub(crate) fn created_user(&mut self, user_id: &Id, external_id: &str) {
        if let Some((user, subject)) = &mut self.identity
            && subject == external_id
        {
            *user = Some(user_id.clone());
        }
    }

    /// Reads about a user that only the user (or the platform) may make.
    pub fn may_read_user(&mut self, user_id: &Id) -> Result<(), DriverError> {
        self.may_write_user(user_id)
    }

    /// A user is created for the calling identity only (or by the platform).
    pub fn may_create_user(&mut self, external_id: &str) -> Result<(), DriverError> {
        if self.is_caller_subject(external_id) || self.scope == Scope::Platform {
            return Ok(());
        }
        let message = "a user may only be created for the calling identity".to_string();
        self.violation.get_or_insert(message.clone());
        Err(driver_error(DriverErrorCode::ScopeViolation, message))
    }

    /// Entering and leaving a savepoint: a failure inside one does not doom the transaction.
    pub(crate) fn savepoint_depth(&mut self, delta: i32) {
        self.savepoints = self.savepoints.saturating_add_signed(delta);
    }

    /// Ends the call: what the runtime must do with it.
    pub fn take_outcome(&mut self) -> Outcome {
        // Nothing read in the transaction outlives it.
        self.tenant_row = None;
        // A `BEGIN` sent before the guest ran failed, and no statement needed it: the guest's answer
        // stands, but a lost connection is still the runtime's to know (the database may be down).
        if let Some(e) = self.begin_failure.take() {
            tracing::debug!(error = %e, "the call's BEGIN failed; no statement needed it");
            if is_connection_lost(&e) {
                self.connection_lost.get_or_insert_with(|| e.to_string());
            }
        }
        Outcome {
            tx: self.tx.take(),
            violation: self.violation.take(),
            lost_race: self.retry,
            needs_writer: std::mem::take(&mut self.needs_writer),
            failed: self.failed,
            unavailable: self.unavailable,
            connection_lost: self.connection_lost.take(),
            doomed: self.doomed.take(),
        }
    }
}

impl crate::bindings::aos::accounts::types::Host for CallState {}
impl crate::bindings::aos::accounts::policy_types::Host for CallState {}

/// `wasi:random/random`: the CSPRNG behind key and token material, from wasmtime-wasi.
impl wasmtime_wasi::p2::bindings::random::random::Host for CallState {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        wasmtime_wasi::p2::bindings::random::random::Host::get_random_bytes(
            self.random.get_or_insert_with(WasiRandomCtx::default),
            len,
        )
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        wasmtime_wasi::p2::bindings::random::random::Host::get_random_u64(
            self.random.get_or_insert_with(WasiRandomCtx::default),
        )
    }
}
