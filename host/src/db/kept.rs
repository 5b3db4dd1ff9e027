//! PostgreSQL connections the engine keeps from one call to the next, instead of giving each back to
//! sqlx's pool when its call ends.
//!
//! sqlx checks every connection given back to its pool with a round trip (a `ping`, in a task it spawns
//! for it), whatever the connection went through. After a `COMMIT` or a `ROLLBACK` the server answered,
//! or a statement outside any transaction that answered, a connection is known to be clean — no
//! transaction open, nothing in flight — so the next call can take it as it is: [`Lease::keep`] keeps
//! it, [`KeptConnections::lease`] hands out the one kept last. That takes the check's round trip, the
//! task and the pool's bookkeeping off every call that writes, and off authentication's lookups
//! (`on_pool_idempotent!`).
//!
//! Any other connection goes back to sqlx's pool as before, through its check: one whose transaction
//! was dropped (a cancelled call: sqlx queues its `ROLLBACK`, and the check sends it and reads whatever
//! was still in flight), one whose `COMMIT` or statement failed, and one a read-only call used (its
//! `ROLLBACK` rides on the check after the call, so that the caller does not wait for it, and no
//! snapshot stays open on the server while the connection waits for a call).
//!
//! A kept connection idle for [`KEEP_IDLE`] goes back to sqlx's pool (a task that runs while any is
//! kept), so that the pool's own rules apply to it again — its check before an idle connection is handed
//! out ([`CHECK_IDLE_AFTER`](super::CHECK_IDLE_AFTER)), its idle timeout, an embedder's queries on the
//! pool, [`sqlx::Pool::close`] — and so does one kept for [`KEEP_AT_MOST`] in all, however busy (the
//! pool's connection lifetime).

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::SqlSafeStr;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use sqlx_core::transaction::TransactionManager;
use tokio::task::JoinHandle;

/// sqlx's transaction management for PostgreSQL (what its `Transaction` does on begin, end and drop).
type Manager = <Postgres as sqlx::Database>::TransactionManager;

/// How long a kept connection may wait for a call before it goes back to sqlx's pool: the time after
/// which the pool checks an idle connection before handing it out.
pub const KEEP_IDLE: Duration = super::CHECK_IDLE_AFTER;

/// How long a connection may go from call to call before it goes back to sqlx's pool all the same, whose
/// lifetime limit applies only to connections it holds.
pub const KEEP_AT_MOST: Duration = Duration::from_secs(60);

/// The connections kept between calls on one PostgreSQL pool.
pub struct KeptConnections {
    pool: PgPool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Clean connections, the one kept last at the end.
    idle: Vec<Kept>,
    /// The task that gives connections idle for [`KEEP_IDLE`] back to the pool; none while none is kept.
    sweeper: Option<JoinHandle<()>>,
    /// Set by [`KeptConnections::release_all`]: nothing is kept or handed out any more.
    closed: bool,
}

struct Kept {
    connection: PoolConnection<Postgres>,
    /// When the connection was first kept (for [`KEEP_AT_MOST`]).
    since: Instant,
    /// When its last call ended.
    idle_since: Instant,
}

impl Kept {
    /// When it has been idle for [`KEEP_IDLE`], and goes back to the pool.
    fn idle_until(&self) -> Instant {
        self.idle_since + KEEP_IDLE
    }
}

impl KeptConnections {
    pub(super) fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(KeptConnections { pool, state: Mutex::default() })
    }

    /// How many connections are kept (idle, clean, possibly ended by the server since).
    pub(super) fn len(&self) -> usize {
        self.lock().idle.len()
    }

    /// The connection kept last, or one from sqlx's pool when none is kept. A connection the server ended
    /// while it was kept fails at its first statement (see
    /// [`super::Database::again_on_lost_idle_connection`]).
    pub async fn lease(self: &Arc<Self>) -> Result<Lease, sqlx::Error> {
        let (connection, since) = match self.take() {
            Some(kept) => (kept.connection, kept.since),
            None => (self.pool.acquire().await?, Instant::now()),
        };
        Ok(Lease { connection: Some(connection), since, kept: self.clone(), begun_unconfirmed: false })
    }

    /// Begins a transaction with `statement` (a `BEGIN …`) on a leased connection.
    pub(super) async fn begin(self: &Arc<Self>, statement: &'static str) -> Result<PgTransaction, sqlx::Error> {
        let mut lease = self.lease().await?;
        // Until the server has answered, sqlx does not count the transaction (its depth is raised after
        // the answer): dropped in between, the lease closes the connection (see `Lease::drop`).
        lease.begun_unconfirmed = true;
        Manager::begin(&mut lease, Some(statement.into_sql_str())).await?;
        lease.begun_unconfirmed = false;
        Ok(PgTransaction(lease))
    }

    /// The connection kept last. Those kept for [`KEEP_AT_MOST`], or idle for [`KEEP_IDLE`] (the sweeper
    /// is late), go back to the pool instead, whose rules apply to them again.
    fn take(&self) -> Option<Kept> {
        let mut spent = Vec::new();
        let taken = {
            let mut state = self.lock();
            if state.closed {
                return None;
            }
            loop {
                match state.idle.pop() {
                    Some(kept) if kept.since.elapsed() >= KEEP_AT_MOST || Instant::now() >= kept.idle_until() => {
                        spent.push(kept)
                    }
                    other => break other,
                }
            }
        };
        drop(spent);
        taken
    }

    /// Keeps a clean connection for the next call, unless a caller of the pool may be waiting for one:
    /// then, as when the pool is closed, it goes back to the pool now (sqlx hands it to the caller that
    /// has waited longest). Also kept at most half the pool's connections, so that a burst of calls does
    /// not leave the pool empty for an embedder's own queries until the sweeper gives them back.
    fn keep(self: &Arc<Self>, connection: PoolConnection<Postgres>, since: Instant) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return release_without_runtime(&self.pool, connection);
        };
        let max = self.pool.options().get_max_connections() as usize;
        // Connections out of the pool (this one, those kept, those in use): at the maximum, a caller of
        // `acquire` may be waiting for one of them.
        let out = (self.pool.size() as usize).saturating_sub(self.pool.num_idle());
        let mut state = self.lock();
        if state.closed || self.pool.is_closed() || out >= max || state.idle.len() >= max / 2 {
            drop(state);
            return drop(connection);
        }
        state.idle.push(Kept { connection, since, idle_since: Instant::now() });
        if state.sweeper.as_ref().is_none_or(|sweeper| sweeper.is_finished()) {
            state.sweeper = Some(runtime.spawn(sweep(Arc::downgrade(self))));
        }
    }

    /// Gives every kept connection back to the pool, and keeps none from now on (before the pool is
    /// closed, which waits for them).
    pub(super) fn release_all(&self) {
        let idle = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.idle)
        };
        drop(idle);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a list and a handle, consistent between any two statements: a panic elsewhere
        // while it was locked leaves nothing half done.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for KeptConnections {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.state.get_mut().unwrap_or_else(|p| p.into_inner()).idle);
        if tokio::runtime::Handle::try_current().is_ok() {
            return drop(idle);
        }
        for kept in idle {
            release_without_runtime(&self.pool, kept.connection);
        }
    }
}

/// sqlx gives a connection back to its pool in a task, which needs a tokio runtime (it panics without
/// one). Without one, a kept connection — no transaction open — is closed instead, and its place in the
/// pool freed; a pool that keeps a minimum of connections would spawn a replacement, so there it is
/// leaked instead (the pool has one connection fewer to give).
fn release_without_runtime(pool: &PgPool, connection: PoolConnection<Postgres>) {
    let raw = match pool.options().get_min_connections() {
        0 => connection.detach(),
        _ => connection.leak(),
    };
    drop(raw);
}

/// Gives connections idle for [`KEEP_IDLE`] back to the pool, until none is kept (or the handle is gone).
async fn sweep(kept: Weak<KeptConnections>) {
    loop {
        let next = {
            let Some(kept) = kept.upgrade() else { return };
            let mut state = kept.lock();
            let now = Instant::now();
            let (stale, fresh): (Vec<Kept>, Vec<Kept>) =
                std::mem::take(&mut state.idle).into_iter().partition(|k| now >= k.idle_until());
            state.idle = fresh;
            let next = state.idle.iter().map(Kept::idle_until).min();
            if next.is_none() {
                // Under the lock: a connection kept from now on finds no sweeper and starts one.
                state.sweeper = None;
            }
            drop(state);
            drop(stale);
            next
        };
        match next {
            Some(at) => tokio::time::sleep_until(at.into()).await,
            None => return,
        }
    }
}

/// A connection taken from the kept ones or from sqlx's pool, until it is kept again ([`Lease::keep`])
/// or dropped (back to sqlx's pool, through its check). Statements run on the connection it dereferences
/// to.
pub struct Lease {
    /// Always there until the lease ends.
    connection: Option<PoolConnection<Postgres>>,
    since: Instant,
    kept: Arc<KeptConnections>,
    /// A `BEGIN` was sent and its answer not read yet.
    begun_unconfirmed: bool,
}

impl Lease {
    /// Keeps the connection for the next call: for a connection whose last exchange answered. One still
    /// inside a transaction sqlx counts goes back to sqlx's pool instead, as if dropped (its `ROLLBACK`
    /// sent there).
    pub fn keep(mut self) {
        if self.begun_unconfirmed {
            return;
        }
        if let Some(connection) = self.connection.take_if(|c| Manager::get_transaction_depth(c) == 0) {
            self.kept.keep(connection, self.since);
        }
    }
}

impl Deref for Lease {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.connection.as_ref().expect("a lease's connection is there until it ends")
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.connection.as_mut().expect("a lease's connection is there until it ends")
    }
}

impl Drop for Lease {
    /// A connection not kept: a read-only call's, one whose `COMMIT` or statement failed, a cancelled
    /// call's. As sqlx's own `Transaction` does, the `ROLLBACK` of a transaction still open is queued; the
    /// connection goes back to sqlx's pool, whose check sends it and reads what was still in flight — or
    /// closes the connection if it is broken.
    ///
    /// A lease dropped between sending its `BEGIN` and reading the answer (a call cancelled there) closes
    /// the connection instead: sqlx counts a transaction only once its `BEGIN` is answered, so it would
    /// queue no `ROLLBACK`, and its check would read the answer and hand the connection, inside that
    /// transaction, to whoever takes it next (launchbadge/sqlx#2054). Closed, the server ends it.
    fn drop(&mut self) {
        if let Some(mut connection) = self.connection.take() {
            if self.begun_unconfirmed {
                connection.close_on_drop();
            } else if Manager::get_transaction_depth(&connection) > 0 {
                Manager::start_rollback(&mut connection);
            }
            drop(connection);
        }
    }
}

/// A call's PostgreSQL transaction, on a leased connection. Ended, the connection is kept for the next
/// call; dropped, the transaction is rolled back as the lease ends.
pub struct PgTransaction(Lease);

impl PgTransaction {
    /// Commits; the connection is kept for the next call.
    pub(super) async fn commit(mut self) -> Result<(), sqlx::Error> {
        Manager::commit(&mut self.0).await?;
        self.0.keep();
        Ok(())
    }

    /// Rolls back, waiting for the server; the connection is kept for the next call.
    pub(super) async fn rollback(mut self) -> Result<(), sqlx::Error> {
        Manager::rollback(&mut self.0).await?;
        self.0.keep();
        Ok(())
    }
}

impl Deref for PgTransaction {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.0
    }
}

impl DerefMut for PgTransaction {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.0
    }
}
