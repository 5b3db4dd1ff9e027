//! The harness of the black-box suite: real databases, the real component in the real host.
//!
//! Every test body runs once per backend through [`each_backend`]: on a fresh SQLite file, and on a fresh
//! PostgreSQL schema when `TEST_POSTGRES_URL` names a server (`.ci/run` always sets it; locally the
//! PostgreSQL half is skipped, and says so).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use account_host::bindings::tenants::{NewTenant, Tenant};
use account_host::bindings::{
    Actor, EngineError, ErrorCode, IdentityPrincipal, OperatorPrincipal, PageRequest, Plan, TenantStatus,
};
use account_host::clock::ManualClock;
use account_host::db::Database;
use account_host::{CacheConfig, Caller, Runtime, RuntimeConfig};

pub mod tools;
pub mod wire;

/// 2026-03-15T12:00:00Z, a fixed start for the manual clock.
pub const T0: i64 = 1_773_576_000_000_000;
pub const SECOND: i64 = 1_000_000;
pub const DAY: i64 = 86_400 * SECOND;

/// Which database a test body runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One backend's database, runtime and clock for one test body.
pub struct Harness {
    pub backend: Backend,
    pub runtime: Runtime,
    pub clock: ManualClock,
    pub db: Database,
    cleanup: Cleanup,
}

enum Cleanup {
    File(#[allow(dead_code)] tempfile_path::TempPath),
    Schema { admin_url: String, schema: String },
    Done,
}

impl Drop for Harness {
    /// A test that panicked never reached `close`: its PostgreSQL schema is dropped here, on a thread of
    /// its own (a `Drop` cannot await, and the test's runtime may be the one unwinding).
    fn drop(&mut self) {
        // Only a schema is taken here: a SQLite file goes with the harness's last field, after its pool.
        if !matches!(self.cleanup, Cleanup::Schema { .. }) {
            return;
        }
        if let Cleanup::Schema { admin_url, schema } = std::mem::replace(&mut self.cleanup, Cleanup::Done) {
            let (done, dropped) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(drop_schema(&admin_url, &schema));
                }
                let _ = done.send(());
            });
            // The harness's own sessions may hold locks the drop needs while their tasks wait for the
            // thread this blocks; `drop_schema` ends those sessions first. Both waits are bounded anyway.
            let _ = dropped.recv_timeout(std::time::Duration::from_secs(15));
        }
    }
}

/// Drops a test's PostgreSQL schema and everything in it. The test's own sessions are ended first: one
/// left inside a transaction (a background task of a test that panicked, whose thread the harness's
/// `Drop` now blocks) would otherwise hold locks the drop waits for until it gives up.
async fn drop_schema(admin_url: &str, schema: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        if let Some(pool) = admin.postgres_pool() {
            let ended = sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
            )
            .bind(schema)
            .execute(pool)
            .await;
            if let Err(e) = ended {
                eprintln!("NOTE: the sessions of schema {schema} were not ended before dropping it: {e}");
            }
            // In one transaction, so that the timeouts hold for the drop on the same connection.
            let drop = format!(
                "SET LOCAL lock_timeout = '10s'; SET LOCAL statement_timeout = '10s'; DROP SCHEMA {schema} CASCADE"
            );
            if let Ok(mut tx) = pool.begin().await {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut *tx).await;
                let _ = tx.commit().await;
            }
        }
        admin.close().await;
    }
}

mod tempfile_path {
    /// A file removed (with its WAL companions) when dropped.
    pub struct TempPath(pub std::path::PathBuf);
    impl Drop for TempPath {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = self.0.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

static SKIP_NOTICE: AtomicBool = AtomicBool::new(false);

/// The PostgreSQL server of the suite, if one is configured.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() && !SKIP_NOTICE.swap(true, Ordering::SeqCst) {
        // Written to stderr directly: the test harness captures `eprintln!`, and this must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "NOTE: PostgreSQL tests skipped: set TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run them"
        );
    }
    url
}

/// Where compiled components are cached between test binaries (the suite's own directory and key).
pub fn test_cache() -> CacheConfig {
    let base = std::env::temp_dir();
    CacheConfig { dir: base.join("account-engine-test-cache"), key_file: base.join("account-engine-test-cache.key") }
}

pub fn test_config() -> RuntimeConfig {
    RuntimeConfig { max_concurrent_calls: 64, cache: Some(test_cache()), ..RuntimeConfig::default() }
}

impl Harness {
    pub async fn sqlite() -> Harness {
        Self::sqlite_with(test_config()).await
    }

    pub async fn sqlite_with(config: RuntimeConfig) -> Harness {
        let path = std::env::temp_dir().join(format!("aos-test-{}.db", uuid::Uuid::new_v4()));
        let db = Database::connect(&format!("sqlite:{}", path.display())).await.expect("open SQLite");
        Self::finish(Backend::Sqlite, db, Cleanup::File(tempfile_path::TempPath(path)), config).await
    }

    pub async fn postgres(admin_url: &str) -> Harness {
        Self::postgres_with(admin_url, test_config()).await
    }

    pub async fn postgres_with(admin_url: &str, config: RuntimeConfig) -> Harness {
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url).await.expect("connect to PostgreSQL");
        if let Some(pool) = admin.postgres_pool() {
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(pool)
                .await
                .expect("create schema");
        }
        admin.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        // The sessions carry the schema's name, so that dropping it can end them first (`drop_schema`).
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}&application_name={schema}");
        let db = Database::connect(&url).await.expect("connect to the test schema");
        Self::finish(Backend::Postgres, db, Cleanup::Schema { admin_url: admin_url.to_string(), schema }, config).await
    }

    async fn finish(backend: Backend, db: Database, cleanup: Cleanup, config: RuntimeConfig) -> Harness {
        db.migrate().await.expect("migrate");
        let clock = ManualClock::new(T0);
        let runtime = Runtime::with(db.clone(), Arc::new(clock.clone()), config).expect("runtime");
        Harness { backend, runtime, clock, db, cleanup }
    }

    /// Drops what the test created (the PostgreSQL schema; the SQLite file goes with the harness). A
    /// harness dropped without `close` (its test panicked) drops its schema in `Drop`.
    pub async fn close(mut self) {
        self.db.close().await;
        if let Cleanup::Schema { admin_url, schema } = std::mem::replace(&mut self.cleanup, Cleanup::Done) {
            drop_schema(&admin_url, &schema).await;
        }
    }

    /// The PostgreSQL schema the harness made, if it made one.
    pub fn schema(&self) -> Option<&str> {
        match &self.cleanup {
            Cleanup::Schema { schema, .. } => Some(schema),
            _ => None,
        }
    }

    /// The internal user id of an identity, once it has a user.
    pub async fn user_id(&self, external_id: &str) -> Option<String> {
        account_host::identity::user_id_for_subject(&self.db, external_id).await.expect("resolve identity")
    }

    /// A caller for a human identified by `external_id`, resolved like the server resolves a JWT.
    pub async fn human(&self, external_id: &str, email: &str, tenant_id: Option<&str>) -> Caller {
        let user_id = self.user_id(external_id).await;
        Caller::new(
            Actor::Identity(IdentityPrincipal {
                external_id: external_id.into(),
                email: email.into(),
                user_id,
                name: None,
                email_verified: true,
            }),
            tenant_id,
        )
    }

    /// A caller for a human whose identity provider does not vouch for the e-mail.
    pub async fn unverified_human(&self, external_id: &str, email: &str, tenant_id: Option<&str>) -> Caller {
        let mut caller = self.human(external_id, email, tenant_id).await;
        if let Actor::Identity(identity) = &mut caller.actor {
            identity.email_verified = false;
        }
        caller
    }

    /// A tenant created by an operator.
    pub async fn tenant(&self, slug: &str) -> Tenant {
        self.runtime
            .tenants()
            .create_tenant(
                &operator(None),
                &NewTenant {
                    name: format!("Tenant {slug}"),
                    slug: slug.into(),
                    plan: Plan::Free,
                    external_org_id: None,
                    billing_email: None,
                },
            )
            .await
            .expect("create tenant")
    }

    /// A tenant whose owner is the human `external_id` (created through `create-project`), and the
    /// owner's caller.
    pub async fn owned_tenant(&self, name: &str, external_id: &str) -> (String, Caller) {
        let email = format!("{external_id}@example.com");
        let creator = self.human(external_id, &email, None).await;
        let project = self.runtime.accounts().create_project(&creator, name, None).await.expect("create project");
        let owner = self.human(external_id, &email, Some(&project.project_id)).await;
        (project.project_id, owner)
    }

    /// Adds the human `external_id` to the tenant with `role`, through a real invitation and acceptance,
    /// and returns their caller in that tenant.
    pub async fn member(
        &self,
        owner: &Caller,
        tenant_id: &str,
        external_id: &str,
        role: account_host::bindings::Role,
    ) -> Caller {
        let email = format!("{external_id}@example.com");
        let invited = self.runtime.accounts().invite_user(owner, &email, role).await.expect("invite");
        let invitee = self.human(external_id, &email, None).await;
        let accepted = self
            .runtime
            .accounts()
            .accept_invitation(&invitee, &invited.invitation.id, &invited.token)
            .await
            .expect("accept");
        assert!(accepted.accepted, "{}", accepted.message);
        self.human(external_id, &email, Some(tenant_id)).await
    }

    /// Counts rows with a SQL query that returns one integer (test assertions on what was written).
    pub async fn count(&self, sql: &str) -> i64 {
        account_host::on_pool!(&self.db, |pool| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(pool))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Active members `first..first + n` of `tenant_id` (role member; users `bulk|{g}`,
    /// `bulk-{g}@bulk.example`), written in two statements: lists and counts over more rows than the
    /// engine's bounds.
    pub async fn seed_members(&self, tenant_id: &str, first: u32, n: u32) {
        let last = first + n - 1;
        let (ids, users, members) = if self.schema().is_some() {
            (
                format!("WITH RECURSIVE s(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM s WHERE g < {last})"),
                "SELECT md5('u' || g)::uuid, 'bulk|' || g, 'bulk-' || g || '@bulk.example', 'active', now(), now(), true FROM s",
                format!(
                    "SELECT md5('m' || g)::uuid, '{tenant_id}', md5('u' || g)::uuid, 'member', now(), 'bulk-' || g || '@bulk.example' FROM s"
                ),
            )
        } else {
            (
                format!("WITH RECURSIVE s(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM s WHERE g < {last})"),
                "SELECT printf('00000000-0000-4000-8000-%012x', g), 'bulk|' || g, 'bulk-' || g || '@bulk.example', 'active', 1, 1, 1 FROM s",
                format!(
                    "SELECT printf('00000000-0001-4000-8000-%012x', g), '{tenant_id}', printf('00000000-0000-4000-8000-%012x', g), 'member', 1, 'bulk-' || g || '@bulk.example' FROM s"
                ),
            )
        };
        self.execute(&format!(
            "{ids} INSERT INTO users (id, clerk_user_id, email, status, created_at, updated_at, email_verified) {users}"
        ))
        .await;
        self.execute(&format!(
            "{ids} INSERT INTO tenant_memberships (id, tenant_id, user_id, role, created_at, user_email) {members}"
        ))
        .await;
    }

    /// `n` pins of `tenant_id` without a TTL (keys `bulk-{g}`), written in one statement.
    pub async fn seed_pins(&self, tenant_id: &str, n: u32) {
        let (value, at) = if self.schema().is_some() { ("'{}'::jsonb", "now()") } else { ("'{}'", "1") };
        self.execute(&format!(
            "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) \
             INSERT INTO memory_pins (tenant_id, key, value, source, created_at, updated_at) \
             SELECT '{tenant_id}', 'bulk-' || g, {value}, 'api', {at}, {at} FROM s"
        ))
        .await;
    }

    /// Runs a statement directly (test fixtures for tables owned by other domains).
    pub async fn execute(&self, sql: &str) {
        account_host::on_pool!(&self.db, |pool| async {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(pool).await.map(|_| ())
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// Runs `body` on SQLite, and on PostgreSQL when configured, each on a fresh database that is removed
/// afterwards (also when the body panics: see [`Harness`]'s `Drop`).
pub async fn each_backend(body: impl AsyncFn(&Harness)) {
    each_backend_with(test_config(), body).await
}

/// [`each_backend`] with a runtime configured by the test.
pub async fn each_backend_with(config: RuntimeConfig, body: impl AsyncFn(&Harness)) {
    let h = Harness::sqlite_with(config.clone()).await;
    body(&h).await;
    h.close().await;
    if let Some(url) = postgres_url() {
        let h = Harness::postgres_with(&url, config).await;
        body(&h).await;
        h.close().await;
    }
}

/// [`each_backend`] for bodies that need the harness by value (to share it with spawned tasks); each
/// harness cleans up when the body drops it.
pub async fn each_backend_owned(body: impl AsyncFn(Harness)) {
    body(Harness::sqlite().await).await;
    if let Some(url) = postgres_url() {
        body(Harness::postgres(&url).await).await;
    }
}

/// A new API key named `name`, with the defaults for everything else.
pub fn key(name: &str) -> account_host::bindings::tenants::NewApiKey {
    account_host::bindings::tenants::NewApiKey {
        name: name.into(),
        permissions: None,
        allowed_workers: None,
        expires_in_days: None,
        rate_limit_rpm: None,
        max_concurrent_runs: None,
    }
}

/// An operator acting on `tenant_id` (or on no tenant).
pub fn operator(tenant_id: Option<&str>) -> Caller {
    Caller::new(Actor::Operator(OperatorPrincipal { operator_id: "founder@example.com".into() }), tenant_id)
}

/// An API-key caller with the given scopes (a key of no person, without restrictions).
pub fn api_key(tenant_id: &str, key_id: &str, scopes: &[&str]) -> Caller {
    Caller::new(
        Actor::ApiKey(account_host::bindings::ApiKeyPrincipal {
            key_id: key_id.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            created_by: None,
            creator_role: None,
            allowed_workers: None,
            max_concurrent_runs: None,
            rate_limit_rpm: None,
            expires_at: None,
        }),
        Some(tenant_id),
    )
}

/// The caller of a real API key secret, resolved the way the server resolves `Authorization: Bearer aos_…`
/// (its scopes, restrictions and its creator's current role, read from the database).
pub async fn key_caller(h: &Harness, secret: &str) -> Option<Caller> {
    let key = account_host::identity::api_key(&h.db, secret, account_host::clock::Clock::now_micros(&h.clock))
        .await
        .expect("resolve key")?;
    Some(Caller::new(Actor::ApiKey(key.principal()), Some(&key.tenant_id)))
}

pub fn page(limit: u32) -> PageRequest {
    PageRequest { limit, after: None }
}

/// Asserts that a result is the engine error with `code`, and returns its message.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, EngineError>, code: ErrorCode) -> String {
    match result {
        Err(e) if e.code == code => e.message,
        other => panic!("expected {code:?}, got {other:?}"),
    }
}

pub fn is_active(t: &Tenant) -> bool {
    t.status == TenantStatus::Active
}
