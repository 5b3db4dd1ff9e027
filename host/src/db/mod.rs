//! The database behind the drivers: SQLite (embedded default) or PostgreSQL (production).
//!
//! SQL is written once, with `$N` parameters that both backends accept, and run on either through
//! [`on_tx!`](crate::on_tx); the few statements that differ are chosen with [`Backend`]. Values cross
//! with the codecs of [`codec`]: ids are `uuid` on PostgreSQL and text on SQLite, times `timestamptz`
//! and integer microseconds, JSON `jsonb` and text.
//!
//! Transactions: one per engine call. PostgreSQL runs it `SERIALIZABLE` (the runtime retries a call that
//! loses a serialisation race); SQLite takes the write lock up front (`BEGIN IMMEDIATE`) behind one
//! in-process writer lock, so callers queue instead of failing with "database is locked". On PostgreSQL
//! a call's connection is one the engine kept from an earlier call that wrote, when there is one
//! ([`kept`]), rather than one from sqlx's pool.

pub mod codec;
pub mod cursor;
pub mod errors;
pub mod kept;
pub(crate) mod recent_reads;
pub mod rows;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Runs `$body` with `$c` bound to the transaction's connection, whichever the backend.
#[macro_export]
macro_rules! on_tx {
    // A statement without rows: how many rows it affected.
    ($tx:expr, rows |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t, _) => {
                let $c = &mut **t;
                $body.await.map(|r| r.rows_affected())
            }
            $crate::db::Tx::Postgres(t, _) => {
                let $c = &mut **t;
                $body.await.map(|r| r.rows_affected())
            }
        }
    };
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t, _) => {
                let $c = &mut **t;
                $body.await
            }
            $crate::db::Tx::Postgres(t, _) => {
                let $c = &mut **t;
                $body.await
            }
        }
    };
}

/// Runs `$body` with `$p` bound to the pool, whichever the backend (host-side queries outside engine
/// calls: authentication, readiness).
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db.pool() {
            $crate::db::Pool::Sqlite($p, _) => $body.await,
            $crate::db::Pool::Postgres($p, _) => $body.await,
        }
    };
}

/// [`on_pool!`](crate::on_pool) for a statement that may run twice without harm: a read, or a write that
/// skips itself the second time (a read's throttled access log row). A connection the server ended while
/// it sat in the pool (see [`CHECK_IDLE_AFTER`](crate::db::CHECK_IDLE_AFTER)) fails it, and it runs again
/// on another, as a call's `BEGIN` does (`Database::again_on_lost_idle_connection`). On PostgreSQL it runs
/// on a connection kept between calls, and keeps it after it answered ([`kept`](crate::db::kept)).
#[macro_export]
macro_rules! on_pool_idempotent {
    ($db:expr, |$p:ident| $body:expr) => {{
        let db: &$crate::db::Database = $db;
        db.again_on_lost_idle_connection(|| async {
            match db.pool() {
                $crate::db::Pool::Sqlite($p, _) => $body.await,
                $crate::db::Pool::Postgres(_, kept) => {
                    let mut lease = kept.lease().await?;
                    let $p = &mut *lease;
                    let answered = $body.await;
                    // A statement that failed goes back to sqlx's pool, checked.
                    if answered.is_ok() {
                        lease.keep();
                    }
                    answered
                }
            }
        })
        .await
    }};
}

/// Which database engine a pool or transaction talks to, for the few statements written per backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL, for production.
    Postgres,
}

/// A handle to the database the engine's drivers use: opaque, cheap to clone. Made by
/// [`Database::connect`] from a URL, or from an embedder's own `sqlx` pool.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    /// The pins whose reads this process logged lately (shared by every call on this database).
    recent_reads: Arc<recent_reads::RecentReads>,
}

/// The pool behind a [`Database`] (what the crate's macros match on; not part of the embedding API).
#[doc(hidden)]
#[derive(Clone)]
pub enum Pool {
    /// A SQLite pool, with the in-process lock that lets one writing transaction in at a time.
    Sqlite(SqlitePool, Arc<Mutex<()>>),
    /// A PostgreSQL pool, with the connections kept between calls.
    Postgres(PgPool, Arc<kept::KeptConnections>),
}

/// The SQLite writer lock, taken before a writing call is instantiated and handed to its transaction.
pub type WriterGuard = OwnedMutexGuard<()>;

/// How long a PostgreSQL connection may sit idle in the pool before it is checked (one round trip)
/// before a caller gets it. A connection used this recently is handed out unchecked: checking every
/// one (sqlx's default, `test_before_acquire`) cost every call a round trip before its `BEGIN`. One
/// that died all the same fails at its `BEGIN`, and the call takes another ([`Database::begin_with`]);
/// sqlx also checks every connection as it is given back to the pool. A call that wrote keeps its clean
/// connection for the next call instead, for up to this long idle ([`kept`]).
pub const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

/// The options of the PostgreSQL pool [`Database::connect`] opens.
fn postgres_pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(32)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                // A dead connection is closed, and the pool hands out another.
                Ok(meta.idle_for < CHECK_IDLE_AFTER || sqlx::Connection::ping(connection).await.is_ok())
            })
        })
}

/// The transaction of one engine call.
pub enum Tx {
    /// With the writer lock, unless the transaction only reads (`None`: `BEGIN DEFERRED`, outside it).
    Sqlite(Transaction<'static, Sqlite>, Option<OwnedMutexGuard<()>>),
    /// A PostgreSQL transaction: `SERIALIZABLE`, or `REPEATABLE READ READ ONLY` for a call that only
    /// reads (the server refuses its writes).
    Postgres(kept::PgTransaction, Access),
}

/// How a transaction that may have written ends ([`Tx::finish`], [`Tx::abandon`]).
enum Ending {
    Commit,
    Rollback,
}

/// Whether a transaction may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It only reads: it has nothing to make durable.
    ReadOnly,
    /// It may write.
    ReadWrite,
}

impl Database {
    /// The engine's database on an embedder's own SQLite pool. Its connections should have foreign keys
    /// on and a busy timeout, as [`Database::connect`] sets them; writes are serialised by the handle.
    pub fn from_sqlite_pool(pool: SqlitePool) -> Self {
        Database::of(Pool::Sqlite(pool, Arc::new(Mutex::new(()))))
    }

    /// The engine's database on an embedder's own PostgreSQL pool. Connections the engine's calls used
    /// cleanly stay with the handle for the next call, up to [`kept::KEEP_IDLE`] idle and at most half
    /// the pool's connections, before they go back to the pool ([`kept`]): the pool's `before_acquire`
    /// and `after_release` hooks run only when a connection leaves or rejoins the pool, not between the
    /// engine's calls. Closing the pool yourself waits up to `KEEP_IDLE` for them; [`Database::close`]
    /// gives them back first.
    pub fn from_postgres_pool(pool: PgPool) -> Self {
        let kept = kept::KeptConnections::new(pool.clone());
        Database::of(Pool::Postgres(pool, kept))
    }

    fn of(pool: Pool) -> Self {
        Database { pool, recent_reads: Arc::default() }
    }

    /// The pins whose reads this process logged lately.
    pub(crate) fn recent_reads(&self) -> &recent_reads::RecentReads {
        &self.recent_reads
    }

    /// The SQLite pool, for an embedder's own queries beside the engine's.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool, _) => Some(pool),
            Pool::Postgres(..) => None,
        }
    }

    /// The PostgreSQL pool, for an embedder's own queries beside the engine's.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(pool, _) => Some(pool),
            Pool::Sqlite(..) => None,
        }
    }

    /// The pool (for the crate's macros).
    #[doc(hidden)]
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Opens a pool for a `sqlite:` or `postgres://` URL. A SQLite file is created if missing.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
            let pool = postgres_pool_options().connect_with(options).await.context("connecting to PostgreSQL")?;
            Ok(Database::from_postgres_pool(pool))
        } else if url.starts_with("sqlite:") {
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let mut options = SqliteConnectOptions::from_str(url)
                .context("parsing the SQLite URL")?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            if !in_memory {
                options = options.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal);
            }
            // An in-memory database lives as long as its one connection. A connection of this process's
            // own SQLite does not die while it is idle: none is checked before a call gets it (the check
            // is a round trip to the connection's worker thread).
            let pool = if in_memory {
                SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
            } else {
                SqlitePoolOptions::new().max_connections(8)
            };
            let pool = pool.test_before_acquire(false);
            let pool = pool.connect_with(options).await.context("opening the SQLite database")?;
            Ok(Database::from_sqlite_pool(pool))
        } else {
            anyhow::bail!("unsupported database URL (expected sqlite:… or postgres://…): {url}")
        }
    }

    /// Which backend the pool talks to.
    pub fn backend(&self) -> Backend {
        match &self.pool {
            Pool::Sqlite(..) => Backend::Sqlite,
            Pool::Postgres(..) => Backend::Postgres,
        }
    }

    /// Applies the schema migrations of the backend (idempotent).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Sqlite(pool, _) => {
                let migrator = sqlx::migrate!("../migrations/sqlite");
                accept_rewritten_migrations(pool, &migrator).await?;
                migrator.run(pool).await?
            }
            Pool::Postgres(pool, _) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Begins the transaction of an engine call. A call that only reads gets a consistent snapshot
    /// without the costs of serialisability: on PostgreSQL `REPEATABLE READ READ ONLY` (no predicate locks,
    /// which concurrent serialisable readers otherwise pile up; the server refuses any write), on SQLite
    /// a deferred transaction outside the writer lock (readers run beside the writer in WAL mode).
    pub async fn begin(&self, read_only: bool) -> Result<Tx, sqlx::Error> {
        self.begin_with(read_only, None).await
    }

    /// [`Database::begin`] with the writer lock already taken (SQLite; see [`Database::writer_turn`]).
    pub async fn begin_with(&self, read_only: bool, writer: Option<WriterGuard>) -> Result<Tx, sqlx::Error> {
        match &self.pool {
            Pool::Sqlite(pool, _) if read_only => Ok(Tx::Sqlite(pool.begin_with("BEGIN DEFERRED").await?, None)),
            Pool::Sqlite(pool, lock) => {
                let guard = match writer {
                    Some(guard) => guard,
                    None => lock.clone().lock_owned().await,
                };
                Ok(Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?, Some(guard)))
            }
            Pool::Postgres(_, kept) => {
                let begin = match read_only {
                    true => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                    false => "BEGIN ISOLATION LEVEL SERIALIZABLE",
                };
                // A connection the server ended while it sat in the pool fails at its BEGIN, before
                // anything of the call ran: the call takes another.
                let tx = self.again_on_lost_idle_connection(|| kept.begin(begin)).await?;
                let access = if read_only { Access::ReadOnly } else { Access::ReadWrite };
                Ok(Tx::Postgres(tx, access))
            }
        }
    }

    /// Waits for the SQLite writer lock (none on PostgreSQL, whose writers run side by side).
    pub async fn writer_turn(&self) -> Option<WriterGuard> {
        match &self.pool {
            Pool::Sqlite(_, lock) => Some(lock.clone().lock_owned().await),
            Pool::Postgres(..) => None,
        }
    }

    /// Whether the database server is there — independent of how busy the pool is (a pool with no free
    /// connection says nothing about the server): a new connection, where only a connection failure
    /// means "gone" (a server that refuses more connections, or answers with an error, is there).
    /// SQLite is a file of this process: only a closed pool makes it unreachable.
    pub async fn reachable(&self) -> bool {
        match &self.pool {
            Pool::Sqlite(pool, _) => !pool.is_closed(),
            Pool::Postgres(pool, _) => {
                use sqlx::Connection;
                match sqlx::PgConnection::connect_with(&pool.connect_options()).await {
                    Ok(mut connection) => {
                        let answered = sqlx::query("SELECT 1").execute(&mut connection).await;
                        let _ = connection.close().await;
                        answered.as_ref().err().is_none_or(|e| !errors::is_connection_lost(e))
                    }
                    Err(e) => !errors::is_connection_lost(&e),
                }
            }
        }
    }

    /// Runs `attempt` — a `BEGIN`, or a statement on the pool that may run twice without harm — again
    /// when it failed on a connection the server ended while it sat in the pool (a restart, an
    /// administrator; see [`CHECK_IDLE_AFTER`]). Each dead connection is closed as it fails, so the
    /// connections idle at the start bound the tries (when all of them were dead, the last try is on a new
    /// connection). Never on SQLite, whose connections are this process's and do not die while idle.
    #[doc(hidden)]
    pub async fn again_on_lost_idle_connection<T, Attempt>(
        &self,
        mut attempt: impl FnMut() -> Attempt,
    ) -> Result<T, sqlx::Error>
    where
        Attempt: std::future::Future<Output = Result<T, sqlx::Error>>,
    {
        let mut idle = self.idle_connections();
        loop {
            match attempt().await {
                Err(e) if idle > 0 && errors::is_connection_lost(&e) => idle -= 1,
                done => return done,
            }
        }
    }

    /// How many connections sit idle in the pool, as far as a retry after a connection the server ended
    /// is concerned: none on SQLite, whose connections are this process's and do not die while idle.
    fn idle_connections(&self) -> usize {
        match &self.pool {
            Pool::Sqlite(..) => 0,
            Pool::Postgres(pool, kept) => pool.num_idle() + kept.len(),
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        let one: Result<i64, _> = on_pool!(self, |p| sqlx::query_scalar("SELECT CAST(1 AS BIGINT)").fetch_one(p));
        one.is_ok()
    }

    /// Closes the pool: gives back the connections kept between calls, waits for those in use to be
    /// returned, then closes them all.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool, _) => pool.close().await,
            Pool::Postgres(pool, kept) => {
                kept.release_all();
                pool.close().await
            }
        }
    }
}

impl Tx {
    /// Which backend the transaction runs on.
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(..) => Backend::Sqlite,
            Tx::Postgres(..) => Backend::Postgres,
        }
    }

    /// Whether the transaction may write.
    pub fn access(&self) -> Access {
        match self {
            Tx::Sqlite(_, None) | Tx::Postgres(_, Access::ReadOnly) => Access::ReadOnly,
            Tx::Sqlite(_, Some(_)) | Tx::Postgres(_, Access::ReadWrite) => Access::ReadWrite,
        }
    }

    /// Ends the transaction of a call that answered ok. One that may have written is committed (a
    /// round trip, counted); on PostgreSQL its connection is then kept for the next call, unchecked
    /// ([`kept`]). One that only read has nothing to make durable, and its caller does not
    /// wait for the database: the answer is final once the last read is back. It is rolled back — for a
    /// transaction that wrote nothing, the same as a commit — by sqlx as the connection goes back to the
    /// pool, in the one exchange sqlx makes then to check the connection, after the call.
    pub async fn finish(self) -> Result<(), sqlx::Error> {
        self.end(Ending::Commit).await
    }

    /// Rolls back the transaction of a call that failed: one that may have written before the call lets
    /// go of its writer lock or turn (a round trip, counted); one that only read as [`Tx::finish`] ends
    /// it, without waiting.
    pub async fn abandon(self) -> Result<(), sqlx::Error> {
        self.end(Ending::Rollback).await
    }

    /// [`Tx::finish`] and [`Tx::abandon`]: a read-only transaction is dropped (its ROLLBACK queued, sent
    /// with sqlx's check of the connection), one that may have written ends as `ending` says.
    async fn end(self, ending: Ending) -> Result<(), sqlx::Error> {
        if self.access() == Access::ReadOnly {
            return Ok(());
        }
        crate::call::count_round_trip();
        match ending {
            Ending::Commit => self.commit().await,
            Ending::Rollback => self.rollback().await,
        }
    }

    /// Commits the transaction, releasing the SQLite writer lock it held.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t, _guard) => t.commit().await,
            Tx::Postgres(t, _) => t.commit().await,
        }
    }

    /// Rolls the transaction back, releasing the SQLite writer lock it held.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t, _guard) => t.rollback().await,
            Tx::Postgres(t, _) => t.rollback().await,
        }
    }

    /// Runs a statement that returns nothing (savepoints and the like).
    pub async fn execute(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        on_tx!(self, rows | c | sqlx::query(sql).execute(c)).map(|_| ())
    }
}

/// SQLite migrations whose text was rewritten after release without changing what they do, with the
/// SHA-384 of the texts they had (`migrations/sqlite/rewritten.json`, read by every host).
const REWRITTEN_SQLITE_MIGRATIONS: &str = include_str!("../../../migrations/sqlite/rewritten.json");

/// A database that applied a rewritten migration's old text records the new text's checksum instead, so
/// that sqlx accepts it. Any other checksum (a migration edited by someone else) is left for sqlx to
/// refuse.
async fn accept_rewritten_migrations(
    pool: &sqlx::SqlitePool,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), sqlx::Error> {
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_one(pool)
            .await?;
    if applied == 0 {
        return Ok(());
    }
    let rewritten: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(REWRITTEN_SQLITE_MIGRATIONS).expect("migrations/sqlite/rewritten.json is a JSON object");
    for (version, olds) in rewritten.iter().filter_map(|(k, v)| Some((k.parse::<i64>().ok()?, v.as_array()?))) {
        let Some(migration) = migrator.iter().find(|m| m.version == version) else { continue };
        for old in olds.iter().filter_map(serde_json::Value::as_str) {
            let old: Vec<u8> =
                (0..old.len()).step_by(2).filter_map(|i| u8::from_str_radix(old.get(i..i + 2)?, 16).ok()).collect();
            sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = $2 AND checksum = $3")
                .bind(migration.checksum.as_ref())
                .bind(version)
                .bind(old)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}
