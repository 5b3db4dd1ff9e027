//! What every part of the benchmark stands on: one database and one runtime per backend, tenants, bulk
//! seeding in SQL (fast enough for a million rows), and the native side's transaction helpers.

use futures_util::TryFutureExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use account_host::bindings::tenants::NewTenant;
use account_host::bindings::{Actor, Plan};
use account_host::call::CallState;
use account_host::clock::SystemClock;
use account_host::db::codec::{Id, Ts};
use account_host::db::{Backend as Kind, Database};
use account_host::{Caller, Runtime, RuntimeConfig, on_pool};

pub struct Backend {
    pub name: &'static str,
    pub db: Database,
    pub runtime: Runtime,
}

impl Backend {
    pub async fn open(name: &'static str, url: &str) -> Backend {
        let db = Database::connect(url).await.unwrap_or_else(|e| panic!("connecting to {name}: {e:#}"));
        db.migrate().await.expect("migrate");
        let base = std::env::temp_dir();
        let cache = account_host::CacheConfig {
            dir: base.join("account-engine-bench-cache"),
            key_file: base.join("account-engine-bench-cache.key"),
        };
        let config = RuntimeConfig { cache: Some(cache), ..RuntimeConfig::default() };
        let runtime = Runtime::with(db.clone(), Arc::new(SystemClock), config).expect("runtime");
        Backend { name, db, runtime }
    }

    pub fn is_postgres(&self) -> bool {
        self.db.backend() == Kind::Postgres
    }

    /// A fresh enterprise-plan tenant (the largest quotas, so no benchmark call is refused by a quota).
    pub async fn tenant(&self, slug_prefix: &str) -> String {
        let slug = format!("{slug_prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let tenant =
            NewTenant { name: slug.clone(), slug, plan: Plan::Enterprise, external_org_id: None, billing_email: None };
        self.runtime.tenants().create_tenant(&Caller::system(None), &tenant).await.expect("tenant").id
    }

    /// The native side of a call: the host's own driver state, exactly as an engine call gets it.
    pub fn native(&self, tenant: &str) -> CallState {
        CallState::new(self.db.clone(), &Actor::System, Some(tenant), now(), wasmtime::StoreLimits::default())
    }

    /// `n` users, and when `tenant` is given their memberships in it, in three statements. User `g`
    /// (1-based) has e-mail `u{g:07}-{batch}@bench.example`, so e-mail order is `g` order.
    pub async fn seed_users(&self, batch: &str, n: u64, tenant: Option<&str>) -> Vec<(String, String)> {
        let n = n as i64;
        let at = Ts(now());
        let (users, members) = match self.db.backend() {
            Kind::Postgres => (
                "INSERT INTO users (id, clerk_user_id, email, status, created_at, updated_at, email_verified) \
                 SELECT ($1 || '-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'bench|' || $1 || '|' || g, \
                 'u' || lpad(g::text, 7, '0') || '-' || $1 || '@bench.example', 'active', $3, $3, true \
                 FROM generate_series(1, $2::bigint) g",
                "INSERT INTO tenant_memberships (id, tenant_id, user_id, role, created_at, user_email) \
                 SELECT ($1 || '-0001-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, $4, \
                 ($1 || '-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'member', $3, \
                 'u' || lpad(g::text, 7, '0') || '-' || $1 || '@bench.example' \
                 FROM generate_series(1, $2::bigint) g",
            ),
            Kind::Sqlite => (
                "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $2) \
                 INSERT INTO users (id, clerk_user_id, email, status, created_at, updated_at, email_verified) \
                 SELECT printf('%s-0000-4000-8000-%012x', $1, g), 'bench|' || $1 || '|' || g, \
                 printf('u%07d-%s@bench.example', g, $1), 'active', $3, $3, true FROM s",
                "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $2) \
                 INSERT INTO tenant_memberships (id, tenant_id, user_id, role, created_at, user_email) \
                 SELECT printf('%s-0001-4000-8000-%012x', $1, g), $4, printf('%s-0000-4000-8000-%012x', $1, g), 'member', $3, \
                 printf('u%07d-%s@bench.example', g, $1) FROM s",
            ),
        };
        on_pool!(&self.db, |p| sqlx::query(users).bind(batch).bind(n).bind(at).execute(p).map_ok(drop))
            .expect("seeding users");
        if let Some(tenant) = tenant {
            let t = Id::parse(tenant).expect("tenant id");
            on_pool!(&self.db, |p| sqlx::query(members).bind(batch).bind(n).bind(at).bind(&t).execute(p).map_ok(drop))
                .expect("seeding members");
        }
        (1..=n).map(|g| (user_id(batch, g), user_email(batch, g))).collect()
    }

    /// `n` pins in `tenant`, keys `p{g:07}`, created one microsecond apart (pin `n` is the newest).
    pub async fn seed_pins(&self, tenant: &str, n: u64) {
        let t = Id::parse(tenant).expect("tenant id");
        let sql = match self.db.backend() {
            Kind::Postgres => {
                "INSERT INTO memory_pins (tenant_id, key, value, source, created_at, updated_at) \
                 SELECT $1, 'p' || lpad(g::text, 7, '0'), jsonb_build_object('n', g), 'api', \
                 $3 + g * interval '1 microsecond', $3 + g * interval '1 microsecond' FROM generate_series(1, $2::bigint) g"
            }
            Kind::Sqlite => {
                "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $2) \
                 INSERT INTO memory_pins (tenant_id, key, value, source, created_at, updated_at) \
                 SELECT $1, printf('p%07d', g), json_object('n', g), 'api', $3 + g, $3 + g FROM s"
            }
        };
        on_pool!(&self.db, |p| sqlx::query(sql).bind(&t).bind(n as i64).bind(Ts(now())).execute(p).map_ok(drop))
            .expect("seeding pins");
    }

    /// Refreshes the planner's statistics after bulk loads (and on PostgreSQL the visibility map, which
    /// index-only scans rely on).
    pub async fn analyze(&self) {
        let sql = if self.is_postgres() { "VACUUM ANALYZE" } else { "ANALYZE" };
        on_pool!(&self.db, |p| sqlx::query(sql).execute(p).map_ok(drop)).expect("analyze");
    }
}

/// How far a list's total is counted: the engine's `validate::TOTAL_COUNT_UP_TO` (guest/src/validate.rs),
/// which the native side of a comparison asks for too.
pub const TOTAL_COUNT_UP_TO: u64 = 1001;

pub fn user_id(batch: &str, g: i64) -> String {
    format!("{batch}-0000-4000-8000-{g:012x}")
}

pub fn user_email(batch: &str, g: i64) -> String {
    format!("u{g:07}-{batch}@bench.example")
}

/// Eight hex digits naming one seeding batch (the first group of its ids).
pub fn batch() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Commits a native call's transaction, as the runtime does when the engine answers `ok`.
/// Ends a native call as the runtime ends one: commits, then writes its reads' access log.
/// What this process (all its threads) has used so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Processor time in user mode.
    pub user: Duration,
    /// Processor time in the kernel (on a VM, mostly the wake-ups each exchange with the database makes).
    pub system: Duration,
    /// Times a thread gave up the processor to wait (voluntary context switches): each exchange with the
    /// database that the caller waits for is one, and so is each wait for a lock, a turn or a connection.
    pub waits: u64,
}

impl Usage {
    pub fn now() -> Usage {
        // SAFETY: getrusage writes only the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
        let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        Usage { user: time(usage.ru_utime), system: time(usage.ru_stime), waits: usage.ru_nvcsw as u64 }
    }

    /// Processor time, user and kernel.
    pub fn cpu(&self) -> Duration {
        self.user + self.system
    }
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, before: Usage) -> Usage {
        Usage { user: self.user - before.user, system: self.system - before.system, waits: self.waits - before.waits }
    }
}

/// Processor time (user + system, all threads) this process has used.
pub fn process_cpu() -> Duration {
    Usage::now().cpu()
}

/// Starts a new peak for [`peak_rss_kib`] (Linux: `/proc/self/clear_refs`).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// This process's peak resident set since the last [`reset_peak_rss`], KiB (`VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// The native side of a call that only reads: a read-only transaction, as the runtime gives one.
pub fn reading(mut state: CallState) -> CallState {
    state.set_read_only(true);
    state
}

/// Ends a native call as the runtime ends one that answered ok (`Tx::finish`: a write is committed,
/// a read ends without waiting), then writes its reads' access log.
pub async fn commit(mut state: CallState) {
    if let Some(tx) = state.take_outcome().tx {
        tx.finish().await.expect("commit");
    }
    state.take_read_log().write(tokio::time::Instant::now() + Duration::from_secs(10)).await;
}

pub async fn timed<F: std::future::Future<Output = ()>>(f: F) -> Duration {
    let start = Instant::now();
    f.await;
    start.elapsed()
}

pub fn median(mut times: Vec<Duration>) -> Duration {
    percentile(&mut times, 0.5)
}

pub fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() as f64 * p) as usize).min(times.len() - 1)]
}

pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
