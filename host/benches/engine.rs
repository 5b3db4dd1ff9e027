//! The sandbox's cost, measured side by side in one run: each operation through the component (a fresh
//! sandboxed instance per call, as in production) against the same driver calls made natively from Rust
//! in one transaction (the physical limit of this design), on SQLite in memory, SQLite on disk (WAL) and
//! PostgreSQL (when `BENCH_POSTGRES_URL` or `TEST_POSTGRES_URL` names one); then the cost of a fresh
//! instance alone, and throughput at 1, 8 and 64 concurrent callers.
//!
//! Run: `cargo bench -p account-host --bench engine` (figures and targets are printed; see BENCHMARKS.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use account_host::bindings::memory_pins_driver::Host as Pins;
use account_host::bindings::tenant_driver::{Host as TenantDriver, NewApiKey as NewKeyRow};
use account_host::bindings::tenant_lifecycle_driver::Host as Lifecycle;
use account_host::bindings::accounts_facade_driver::Host as Facade;
use account_host::bindings::onboarding_driver::Host as Onboarding;
use account_host::bindings::memory_pins_driver::MemoryAuditEntry;
use account_host::bindings::tenant_driver::AuditEntry;
use account_host::bindings::tenants::{NewApiKey, NewTenant};
use account_host::bindings::{Actor, MemoryAuditOperation, PageRequest, Plan};
use account_host::call::CallState;
use account_host::clock::SystemClock;
use account_host::db::Database;
use account_host::{Caller, Runtime, RuntimeConfig};
use sha2::{Digest, Sha256};

const ITERATIONS: usize = 300;

struct Backend {
    name: &'static str,
    db: Database,
    runtime: Runtime,
}

async fn backend(name: &'static str, url: &str) -> Backend {
    let db = Database::connect(url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let config = RuntimeConfig { cache_dir: Some(std::env::temp_dir().join("account-engine-bench-cache")), ..RuntimeConfig::default() };
    let runtime = Runtime::with(db.clone(), Arc::new(SystemClock), config).expect("runtime");
    Backend { name, db, runtime }
}

fn native(db: &Database, tenant: &str) -> CallState {
    let now = chrono::Utc::now().timestamp_micros();
    CallState::new(db.clone(), &Actor::System, Some(tenant), now, wasmtime::StoreLimits::default())
}

async fn commit(mut s: CallState) {
    if let Some(tx) = s.take_outcome().tx {
        tx.commit().await.expect("commit");
    }
}

/// Median of per-call times.
async fn measure<F, Fut>(mut f: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..20 {
        f(i).await;
    }
    let mut times = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS {
        let start = Instant::now();
        f(1000 + i).await;
        times.push(start.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

async fn new_tenant(b: &Backend, slug: &str) -> String {
    let op = Caller::system(None);
    b.runtime
        .tenants()
        .create_tenant(&op, &NewTenant { name: slug.into(), slug: slug.into(), plan: Plan::Enterprise, external_org_id: None, billing_email: None })
        .await
        .expect("tenant")
        .id
}

struct Row {
    backend: &'static str,
    operation: &'static str,
    component: Duration,
    native: Duration,
}

async fn compare(b: &Backend, rows: &mut Vec<Row>) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tenant = new_tenant(b, &format!("bench-{}", &run[..8])).await;
    let sys = Caller::system(Some(&tenant));
    let pins = b.runtime.memory_pins();

    // upsert pin: lifecycle status, upsert, memory audit.
    let component = measure(|i| {
        let (pins, sys) = (&pins, &sys);
        async move {
            pins.upsert_pin(sys, &format!("c{i}"), r#"{"step":1,"note":"benchmark"}"#, None, Some(3600)).await.unwrap();
        }
    })
    .await;
    let nat = measure(|i| {
        let (db, tenant) = (&b.db, &tenant);
        async move {
            let mut s = native(db, tenant);
            Lifecycle::fetch_tenant_status(&mut s, tenant.clone()).await.unwrap();
            let row = Pins::upsert_pin(&mut s, tenant.clone(), format!("n{i}"), r#"{"note":"benchmark","step":1}"#.into(), "api".into(), Some(3600))
                .await
                .unwrap();
            let hash: String = Sha256::digest(row.value.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect();
            Pins::write_audit(&mut s, audit(tenant, &row.key, MemoryAuditOperation::Upsert, Some(hash))).await.unwrap();
            commit(s).await;
        }
    })
    .await;
    rows.push(Row { backend: b.name, operation: "upsert pin", component, native: nat });

    // get pin: lifecycle status, get, memory audit.
    let component = measure(|i| {
        let (pins, sys) = (&pins, &sys);
        async move {
            pins.get_pin(sys, &format!("c{}", i % 300 + 1000)).await.unwrap().unwrap();
        }
    })
    .await;
    let nat = measure(|i| {
        let (db, tenant) = (&b.db, &tenant);
        async move {
            let mut s = native(db, tenant);
            Lifecycle::fetch_tenant_status(&mut s, tenant.clone()).await.unwrap();
            let row = Pins::get_pin(&mut s, tenant.clone(), format!("n{}", i % 300 + 1000)).await.unwrap().unwrap();
            Pins::write_audit(&mut s, audit(tenant, &row.key, MemoryAuditOperation::Get, None)).await.unwrap();
            commit(s).await;
        }
    })
    .await;
    rows.push(Row { backend: b.name, operation: "get pin", component, native: nat });

    // check run quota: lifecycle status, tenant, running runs.
    let tenants = b.runtime.tenants();
    let component = measure(|_| {
        let (tenants, sys) = (&tenants, &sys);
        async move {
            assert!(tenants.check_run_quota(sys).await.unwrap().allowed);
        }
    })
    .await;
    let nat = measure(|_| {
        let (db, tenant) = (&b.db, &tenant);
        async move {
            let mut s = native(db, tenant);
            Lifecycle::fetch_tenant_status(&mut s, tenant.clone()).await.unwrap();
            TenantDriver::fetch_tenant_by_id(&mut s, tenant.clone()).await.unwrap().unwrap();
            TenantDriver::count_running_runs(&mut s, tenant.clone()).await.unwrap();
            commit(s).await;
        }
    })
    .await;
    rows.push(Row { backend: b.name, operation: "check run quota", component, native: nat });

    // list one page of members: lifecycle status, page, count.
    let accounts = b.runtime.accounts();
    let component = measure(|_| {
        let (accounts, sys) = (&accounts, &sys);
        async move {
            accounts.list_users(sys, None, None, &PageRequest { limit: 50, after: None }).await.unwrap();
        }
    })
    .await;
    let nat = measure(|_| {
        let (db, tenant) = (&b.db, &tenant);
        async move {
            let mut s = native(db, tenant);
            Lifecycle::fetch_tenant_status(&mut s, tenant.clone()).await.unwrap();
            Facade::fetch_users(&mut s, tenant.clone(), None, None, PageRequest { limit: 50, after: None }).await.unwrap();
            Facade::count_users(&mut s, tenant.clone(), None, None).await.unwrap();
            commit(s).await;
        }
    })
    .await;
    rows.push(Row { backend: b.name, operation: "list members page", component, native: nat });

    // create API key: status, tenant, count, insert, audit, onboarding state; a fresh tenant per 90 keys.
    let key_tenants = std::cell::RefCell::new((String::new(), 90usize));
    let next_tenant = async || {
        let needs = key_tenants.borrow().1 >= 90;
        if needs {
            let t = new_tenant(b, &format!("k{}", &uuid::Uuid::new_v4().simple().to_string()[..12])).await;
            *key_tenants.borrow_mut() = (t, 0);
        }
        let mut k = key_tenants.borrow_mut();
        k.1 += 1;
        k.0.clone()
    };
    let mut component_times = Vec::new();
    let mut native_times = Vec::new();
    for i in 0..ITERATIONS {
        let t = next_tenant().await;
        let caller = Caller::system(Some(&t));
        let start = Instant::now();
        tenants.create_api_key(&caller, &NewApiKey { name: "bench".into(), permissions: None, allowed_workers: None, expires_in_days: None, rate_limit_rpm: None, max_concurrent_runs: None }).await.unwrap();
        component_times.push(start.elapsed());
        let t = next_tenant().await;
        let start = Instant::now();
        let mut s = native(&b.db, &t);
        Lifecycle::fetch_tenant_status(&mut s, t.clone()).await.unwrap();
        TenantDriver::fetch_tenant_by_id(&mut s, t.clone()).await.unwrap().unwrap();
        TenantDriver::count_active_api_keys(&mut s, t.clone()).await.unwrap();
        let secret = format!("aos_native{i}{}", uuid::Uuid::new_v4().simple());
        let hash: String = Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let key = TenantDriver::insert_api_key(&mut s, t.clone(), NewKeyRow {
            user_id: None, name: "bench".into(), key_prefix: secret[..12].into(), key_hash: hash,
            permissions: vec!["run:*".into(), "read:*".into()], allowed_workers: None, expires_at: None, rate_limit_rpm: None, max_concurrent_runs: None,
        }).await.unwrap();
        TenantDriver::insert_audit_log(&mut s, AuditEntry {
            tenant_id: Some(t.clone()), user_id: None, api_key_id: None, action: "create_api_key".into(), resource_type: "api_key".into(),
            resource_id: Some(key.id), actor: Some("system".into()), old_value: None, new_value: Some(r#"{"name":"bench"}"#.into()), request_id: None,
        }).await.unwrap();
        Onboarding::fetch_onboarding_state(&mut s, t.clone()).await.unwrap();
        commit(s).await;
        native_times.push(start.elapsed());
    }
    component_times.sort();
    native_times.sort();
    rows.push(Row { backend: b.name, operation: "create API key", component: component_times[ITERATIONS / 2], native: native_times[ITERATIONS / 2] });
}

fn audit(tenant: &str, key: &str, operation: MemoryAuditOperation, hash: Option<String>) -> MemoryAuditEntry {
    MemoryAuditEntry {
        operation, tenant_id: tenant.into(), key: key.into(), success: true, agent_id: None, source: Some("api".into()),
        cache_hit: false, error_message: None, old_value_hash: None, new_value_hash: hash, extra: None,
    }
}

/// A fresh store and instance, then teardown, without calling anything.
async fn instantiate_cost(b: &Backend) -> Duration {
    let caller = Caller::system(None);
    let n = 5000;
    for _ in 0..200 {
        let (mut store, _) = b.runtime.store(&caller);
        b.runtime.instantiate(&mut store).await.unwrap();
    }
    let start = Instant::now();
    for _ in 0..n {
        let (mut store, _) = b.runtime.store(&caller);
        b.runtime.instantiate(&mut store).await.unwrap();
    }
    start.elapsed() / n
}

/// Calls per second of `get pin` with `callers` concurrent callers for `window`.
async fn throughput(b: Arc<Backend>, tenant: String, callers: usize, window: Duration) -> f64 {
    let stop = Instant::now() + window;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..callers {
        let (b, tenant) = (b.clone(), tenant.clone());
        tasks.spawn(async move {
            let sys = Caller::system(Some(&tenant));
            let mut n = 0u64;
            while Instant::now() < stop {
                b.runtime.memory_pins().get_pin(&sys, "c1000").await.unwrap();
                n += 1;
            }
            n
        });
    }
    let total: u64 = tasks.join_all().await.into_iter().sum();
    total as f64 / window.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = std::env::temp_dir().join(format!("aos-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut backends = vec![
        backend("SQLite in memory", "sqlite::memory:").await,
        backend("SQLite on disk (WAL)", &format!("sqlite:{}", dir.join("bench.db").display())).await,
    ];
    let pg = std::env::var("BENCH_POSTGRES_URL").or_else(|_| std::env::var("TEST_POSTGRES_URL")).ok().filter(|u| !u.is_empty());
    match &pg {
        Some(url) => backends.push(backend("PostgreSQL", url).await),
        None => println!("NOTE: PostgreSQL skipped: set BENCH_POSTGRES_URL"),
    }

    let mut rows = Vec::new();
    for b in &backends {
        compare(b, &mut rows).await;
    }
    println!("\n## Component (fresh instance per call) against native driver calls, median of {ITERATIONS}\n");
    println!("| backend | operation | component µs | native µs | ratio | target ≤ 1.10 (PostgreSQL, SQLite on disk) |");
    println!("|---|---|---:|---:|---:|---|");
    for r in &rows {
        let ratio = r.component.as_secs_f64() / r.native.as_secs_f64();
        let target = if r.backend == "SQLite in memory" { "—" } else if ratio <= 1.10 { "met" } else { "NOT met" };
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.2} | {} |",
            r.backend,
            r.operation,
            r.component.as_secs_f64() * 1e6,
            r.native.as_secs_f64() * 1e6,
            ratio,
            target
        );
    }
    let cost = instantiate_cost(&backends[0]).await;
    let verdict = if cost <= Duration::from_micros(10) { "met" } else { "NOT met" };
    println!("\n## Fresh store + instance + teardown: {:.1} µs per call (target ≤ 10 µs: {verdict})\n", cost.as_secs_f64() * 1e6);

    let last = Arc::new(backends.pop().unwrap());
    let t = new_tenant(&last, &format!("tp-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])).await;
    last.runtime.memory_pins().upsert_pin(&Caller::system(Some(&t)), "c1000", "{}", None, None).await.unwrap();
    println!("## Throughput of `get pin` on {}\n", last.name);
    println!("| concurrent callers | calls/s |");
    println!("|---:|---:|");
    for callers in [1, 8, 64] {
        let rate = throughput(last.clone(), t.clone(), callers, Duration::from_secs(3)).await;
        println!("| {callers} | {rate:.0} |");
    }
    println!("\nNot measured yet: the Python/SQLAlchemy peer and the 1,000,000-row depth test (issue 6 stays open).");
    let _ = std::fs::remove_dir_all(&dir);
}
