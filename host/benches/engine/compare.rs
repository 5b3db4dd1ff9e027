//! Component against native, per operation: each operation through the engine with a fresh sandboxed
//! instance per call (as in production), and the same driver calls in the same order made directly on
//! the host's driver implementation in one transaction (the physical limit of this design). The two are
//! interleaved call by call, alternating which goes first, so that drift on a shared machine (WAL
//! checkpoints, autovacuum, a neighbour's load) falls on both alike.

use std::time::Duration;

use account_host::Caller;
use account_host::bindings::accounts_facade_driver::Host as Facade;
use account_host::bindings::memory_pins_driver::{Host as Pins, MemoryAuditEntry};
use account_host::bindings::onboarding_driver::Host as Onboarding;
use account_host::bindings::tenant_driver::{AuditEntry, Host as TenantDriver, NewApiKey as NewKeyRow};
use account_host::bindings::tenant_lifecycle_driver::Host as Lifecycle;
use account_host::bindings::tenants::NewApiKey;
use account_host::bindings::{Actor, IdentityPrincipal, MemoryAuditOperation, PageRequest, Role};
use account_host::call::CallState;
use account_host::identity::sha256_hex;

use crate::setup::{Backend, commit, median, reading, timed};

pub const WARMUP: usize = 20;
pub const ITERATIONS: usize = 300;
/// Pins `c0`… that exist for `get pin` (written by the `upsert pin` round) and the peer.
pub const PINS: usize = WARMUP + ITERATIONS;
/// Members of the comparison tenant: a full first page of 50 and more behind it.
pub const MEMBERS: u64 = 60;

pub struct Comparison {
    pub backend: &'static str,
    pub operation: &'static str,
    pub component: Duration,
    pub native: Duration,
    /// Driver statements of one call on each side: the same work, or the comparison is not fair.
    pub statements: (u64, u64),
    /// Exchanges with the database of one call on each side: the statements, `BEGIN`, `COMMIT`, and a
    /// read's access log written after it.
    pub round_trips: (u64, u64),
}

pub struct SideBySide {
    component: Duration,
    native: Duration,
    statements: (u64, u64),
    round_trips: (u64, u64),
}

/// Statements and round trips the drivers made while `f` ran.
async fn counted(f: impl Future<Output = ()>) -> (Duration, (u64, u64)) {
    let before = (account_host::call::statements_run(), account_host::call::round_trips_run());
    let time = timed(f).await;
    (time, (account_host::call::statements_run() - before.0, account_host::call::round_trips_run() - before.1))
}

/// Runs `component(i)` and `native(i)` side by side and returns their medians.
async fn side_by_side<C, CF, N, NF>(mut component: C, mut native: N) -> SideBySide
where
    C: FnMut(usize) -> CF,
    CF: Future<Output = ()>,
    N: FnMut(usize) -> NF,
    NF: Future<Output = ()>,
{
    for i in 0..WARMUP {
        component(i).await;
        native(i).await;
    }
    let (mut c, mut n) = (Vec::with_capacity(ITERATIONS), Vec::with_capacity(ITERATIONS));
    let mut statements = Vec::with_capacity(ITERATIONS);
    for i in WARMUP..WARMUP + ITERATIONS {
        let (ct, cs, nt, ns);
        if i % 2 == 0 {
            (ct, cs) = counted(component(i)).await;
            (nt, ns) = counted(native(i)).await;
        } else {
            (nt, ns) = counted(native(i)).await;
            (ct, cs) = counted(component(i)).await;
        }
        c.push(ct);
        n.push(nt);
        statements.push((cs, ns));
    }
    // The typical call's (creating a tenant's first API key also moves its onboarding on, for example).
    statements.sort();
    let ((cs, ct), (ns, nt)) =
        statements.chunk_by(|a, b| a == b).max_by_key(|run| run.len()).map_or(((0, 0), (0, 0)), |run| run[0]);
    SideBySide { component: median(c), native: median(n), statements: (cs, ns), round_trips: (ct, nt) }
}

/// The fewest exchanges with the database an operation needs in this design (one transaction, one
/// statement per driver call the engine must make), to read beside the measured round trips. A read-only
/// transaction is ended without the caller waiting (`Tx::finish`): its end goes with the check sqlx
/// makes of every connection given back to the pool, an exchange after every call that neither side
/// counts.
pub fn floor(operation: &str, backend: &str) -> u64 {
    match operation {
        // BEGIN, lifecycle status, pin (the access log: once per pin and hour, after it).
        "get pin" => 3,
        // BEGIN, status, storage (the plan's bound), upsert, access log, COMMIT (on SQLite the access log
        // is in a savepoint: two more, in process).
        "upsert pin" => 6,
        // BEGIN, status with the tenant's row (counters), running runs; on PostgreSQL read-only (it
        // writes only when a period has rolled over), on SQLite a writer's, with its COMMIT.
        "check run quota" if backend == "PostgreSQL" => 3,
        "check run quota" => 4,
        // BEGIN, status, page, bounded count.
        "list members page" => 4,
        // BEGIN, invitation, status, user, membership, insert membership, mark accepted, audit, COMMIT: one
        // per driver call (an invitation the system made has no inviter to check). The host makes insert
        // membership two statements (the row with the user's e-mail, the default tenant): 10 are measured.
        "accept invitation" => 9,
        // BEGIN, status with the tenant's row, key count, insert key, audit, onboarding, COMMIT.
        "create API key" => 7,
        _ => 0,
    }
}

/// The comparison tenant of a backend: `MEMBERS` members and `PINS` pins `c0`…, written by the engine.
pub struct Fixture {
    pub tenant: String,
}

pub async fn compare(b: &Backend) -> (Fixture, Vec<Comparison>) {
    let fixture = Fixture { tenant: b.tenant("bench").await };
    let tenant = &fixture.tenant;
    b.seed_users(&crate::setup::batch(), MEMBERS, Some(tenant)).await;
    let sys = Caller::system(Some(tenant));
    let mut rows = Vec::new();
    let mut push = |operation, r: SideBySide| {
        rows.push(Comparison {
            backend: b.name,
            operation,
            component: r.component,
            native: r.native,
            statements: r.statements,
            round_trips: r.round_trips,
        })
    };

    let pins = b.runtime.memory_pins();
    push(
        "upsert pin",
        side_by_side(
            |i| {
                let (pins, sys) = (&pins, &sys);
                async move {
                    pins.upsert_pin(sys, &format!("c{i}"), r#"{"step":1,"note":"benchmark"}"#, None, Some(3600))
                        .await
                        .unwrap();
                }
            },
            |i| native_upsert_pin(b, tenant, format!("n{i}"), r#"{"note":"benchmark","step":1}"#),
        )
        .await,
    );

    push(
        "get pin",
        side_by_side(
            |i| {
                let (pins, sys) = (&pins, &sys);
                async move {
                    pins.get_pin(sys, &format!("c{}", i % PINS)).await.unwrap().expect("pin");
                }
            },
            |i| native_get_pin(b, tenant, format!("n{}", i % PINS)),
        )
        .await,
    );

    let tenants = b.runtime.tenants();
    push(
        "check run quota",
        side_by_side(
            |_| {
                let (tenants, sys) = (&tenants, &sys);
                async move {
                    assert!(tenants.check_run_quota(sys).await.unwrap().allowed);
                }
            },
            |_| native_check_run_quota(b, tenant),
        )
        .await,
    );

    let accounts = b.runtime.accounts();
    let first_page = PageRequest { limit: 50, after: None };
    push(
        "list members page",
        side_by_side(
            |_| {
                let (accounts, sys, page) = (&accounts, &sys, &first_page);
                async move {
                    assert_eq!(accounts.list_users(sys, None, None, page).await.unwrap().items.len(), 50);
                }
            },
            |_| async move {
                let mut s = reading(b.native(tenant));
                Lifecycle::fetch_tenant_status(&mut s, tenant.clone()).await.unwrap();
                let page =
                    Facade::fetch_users(&mut s, tenant.clone(), None, None, PageRequest { limit: 50, after: None })
                        .await
                        .unwrap();
                assert_eq!(page.items.len(), 50);
                Facade::count_users(&mut s, tenant.clone(), None, None, crate::setup::TOTAL_COUNT_UP_TO).await.unwrap();
                commit(s).await;
            },
        )
        .await,
    );

    push("accept invitation", accept_invitation(b, tenant).await);
    push("create API key", create_api_key(b).await);
    (fixture, rows)
}

/// Accepting an invitation as the invited, signed-in user. Each call needs a fresh invitation, made by
/// the engine beforehand (untimed).
async fn accept_invitation(b: &Backend, tenant: &str) -> SideBySide {
    let users = b.seed_users(&crate::setup::batch(), 2 * (WARMUP + ITERATIONS) as u64, None).await;
    let sys = Caller::system(Some(tenant));
    let mut invitations = Vec::with_capacity(users.len());
    for (_, email) in &users {
        let created = b.runtime.accounts().invite_user(&sys, email, Role::Member).await.expect("invitation");
        invitations.push((created.invitation.id, created.token));
    }
    let invitee = |k: usize| {
        let (id, email) = &users[k];
        Actor::Identity(IdentityPrincipal {
            external_id: format!("bench|{id}"),
            email: email.clone(),
            user_id: Some(id.clone()),
            name: None,
            email_verified: true,
        })
    };
    let (invitee, invitations) = (&invitee, &invitations);
    side_by_side(
        |i| async move {
            let (id, token) = &invitations[2 * i];
            let caller = Caller::new(invitee(2 * i), None);
            assert!(b.runtime.accounts().accept_invitation(&caller, id, token).await.unwrap().accepted);
        },
        |i| async move {
            let (id, token) = &invitations[2 * i + 1];
            let Actor::Identity(who) = invitee(2 * i + 1) else { unreachable!() };
            let user = who.user_id.clone().unwrap();
            let mut s = CallState::new(
                b.db.clone(),
                &Actor::Identity(who),
                None,
                crate::setup::now(),
                wasmtime::StoreLimits::default(),
            );
            let invitation = Facade::fetch_invitation_by_id_and_token(&mut s, id.clone(), sha256_hex(token))
                .await
                .unwrap()
                .expect("invitation");
            Lifecycle::fetch_tenant_status(&mut s, invitation.tenant_id.clone()).await.unwrap();
            Facade::fetch_user_by_id(&mut s, user.clone()).await.unwrap().expect("user");
            assert!(
                Facade::fetch_membership(&mut s, invitation.tenant_id.clone(), user.clone()).await.unwrap().is_none()
            );
            Facade::insert_membership(
                &mut s,
                invitation.tenant_id.clone(),
                user.clone(),
                invitation.role,
                invitation.invited_by.clone(),
            )
            .await
            .unwrap();
            Facade::update_invitation_accepted(&mut s, invitation.tenant_id.clone(), invitation.id.clone())
                .await
                .unwrap();
            TenantDriver::insert_audit_log(
                &mut s,
                AuditEntry {
                    tenant_id: Some(invitation.tenant_id.clone()),
                    user_id: Some(user.clone()),
                    api_key_id: None,
                    action: "accept_invitation".into(),
                    resource_type: "invitation".into(),
                    resource_id: Some(invitation.id.clone()),
                    actor: Some(format!("identity:bench|{user}")),
                    old_value: None,
                    new_value: Some(format!(r#"{{"role":"member","user_id":"{user}"}}"#)),
                    request_id: None,
                },
            )
            .await
            .unwrap();
            commit(s).await;
        },
    )
    .await
}

/// Creating an API key: status, tenant, key count, insert, audit, onboarding state. Keys count against
/// the plan's limit, so a fresh tenant serves every 90 keys (made untimed, between calls).
async fn create_api_key(b: &Backend) -> SideBySide {
    let per_tenant = 45;
    let mut tenants = Vec::new();
    for _ in 0..(WARMUP + ITERATIONS).div_ceil(per_tenant) {
        tenants.push(b.tenant("keys").await);
    }
    let tenants = &tenants;
    let new_key = NewApiKey {
        name: "bench".into(),
        permissions: None,
        allowed_workers: None,
        expires_in_days: None,
        rate_limit_rpm: None,
        max_concurrent_runs: None,
    };
    let new_key = &new_key;
    side_by_side(
        |i| async move {
            let caller = Caller::system(Some(&tenants[i / per_tenant]));
            b.runtime.tenants().create_api_key(&caller, new_key).await.unwrap();
        },
        |i| async move {
            let t = tenants[i / per_tenant].clone();
            let mut s = b.native(&t);
            Lifecycle::fetch_tenant_status(&mut s, t.clone()).await.unwrap();
            TenantDriver::fetch_tenant_by_id(&mut s, t.clone()).await.unwrap().expect("tenant");
            TenantDriver::count_active_api_keys(&mut s, t.clone()).await.unwrap();
            let secret = format!("aos_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
            let key = TenantDriver::insert_api_key(
                &mut s,
                t.clone(),
                NewKeyRow {
                    user_id: None,
                    name: "bench".into(),
                    key_prefix: secret[..12].into(),
                    key_hash: sha256_hex(&secret),
                    permissions: vec!["run:*".into(), "read:*".into()],
                    allowed_workers: None,
                    expires_at: None,
                    rate_limit_rpm: None,
                    max_concurrent_runs: None,
                    parent_key_id: None,
                },
            )
            .await
            .unwrap();
            TenantDriver::insert_audit_log(
                &mut s,
                AuditEntry {
                    tenant_id: Some(t.clone()),
                    user_id: None,
                    api_key_id: None,
                    action: "create_api_key".into(),
                    resource_type: "api_key".into(),
                    resource_id: Some(key.id),
                    actor: Some("system".into()),
                    old_value: None,
                    new_value: Some(r#"{"name":"bench"}"#.into()),
                    request_id: None,
                },
            )
            .await
            .unwrap();
            Onboarding::fetch_onboarding_state(&mut s, t.clone()).await.unwrap();
            commit(s).await;
        },
    )
    .await
}

/// Get pin through the component 20,000 times, then natively 20,000 times: something to profile
/// (`PROFILE_OPERATION=list_members`: a page of 50 members through the component 5,000 times).
pub async fn profile(b: &Backend) {
    // A call that makes no driver call at all (the feature switch refuses it first): the component's
    // fixed cost per call.
    let config = account_host::RuntimeConfig {
        settings: account_host::Settings { memory_pins_enabled: false, ..Default::default() },
        ..Default::default()
    };
    let bare = account_host::Runtime::with(b.db.clone(), std::sync::Arc::new(account_host::clock::SystemClock), config)
        .unwrap();
    let sys = Caller::system(Some("00000000-0000-4000-8000-000000000000"));
    cpu();
    let start = std::time::Instant::now();
    for _ in 0..20_000 {
        bare.memory_pins().get_pin(&sys, "k").await.unwrap_err();
    }
    println!("component, no driver call: {:?} per call, {:?} CPU", start.elapsed() / 20_000, cpu() / 20_000);
    let tenant = b.tenant("profile").await;
    let sys = Caller::system(Some(&tenant));
    if std::env::var("PROFILE_OPERATION").as_deref() == Ok("list_members") {
        b.seed_users(&crate::setup::batch(), MEMBERS, Some(&tenant)).await;
        let accounts = b.runtime.accounts();
        let page = PageRequest { limit: 50, after: None };
        cpu();
        let start = std::time::Instant::now();
        for _ in 0..5_000 {
            accounts.list_users(&sys, None, None, &page).await.unwrap();
        }
        println!("list members: {:?} per call, {:?} CPU", start.elapsed() / 5_000, cpu() / 5_000);
        return;
    }
    let pins = b.runtime.memory_pins();
    if std::env::var("PROFILE_OPERATION").as_deref() == Ok("upsert_pin") {
        let value = r#"{"note":"benchmark","step":1}"#;
        cpu();
        let start = std::time::Instant::now();
        for i in 0..5_000 {
            pins.upsert_pin(&sys, &format!("c{i}"), value, None, Some(3600)).await.unwrap();
        }
        println!("upsert pin, component: {:?} per call, {:?} CPU", start.elapsed() / 5_000, cpu() / 5_000);
        if std::env::var_os("PROFILE_COMPONENT_ONLY").is_some() {
            return;
        }
        let start = std::time::Instant::now();
        for i in 0..5_000 {
            native_upsert_pin(b, &tenant, format!("n{i}"), value).await;
        }
        println!("upsert pin, native: {:?} per call, {:?} CPU", start.elapsed() / 5_000, cpu() / 5_000);
        return;
    }
    pins.upsert_pin(&sys, "k", r#"{"step":1}"#, None, None).await.unwrap();
    cpu();
    let start = std::time::Instant::now();
    for _ in 0..20_000 {
        pins.get_pin(&sys, "k").await.unwrap().expect("pin");
    }
    println!("component: {:?} per call, {:?} CPU", start.elapsed() / 20_000, cpu() / 20_000);
    if std::env::var_os("PROFILE_COMPONENT_ONLY").is_some() {
        return;
    }
    cpu();
    let start = std::time::Instant::now();
    for _ in 0..20_000 {
        native_get_pin(b, &tenant, "k".into()).await;
    }
    println!("native: {:?} per call, {:?} CPU", start.elapsed() / 20_000, cpu() / 20_000);
}

/// Processor time of the whole process since the last call (all threads, user and system).
fn cpu() -> Duration {
    static LAST: std::sync::Mutex<Duration> = std::sync::Mutex::new(Duration::ZERO);
    let now = crate::setup::process_cpu();
    let mut last = LAST.lock().unwrap();
    let spent = now - *last;
    *last = now;
    spent
}

/// Get pin's driver calls made natively, as the component makes them: status, pin, its access log, in a
/// read-only transaction.
pub async fn native_get_pin(b: &Backend, tenant: &str, key: String) {
    let mut s = reading(b.native(tenant));
    Lifecycle::fetch_tenant_status(&mut s, tenant.into()).await.unwrap();
    let row = Pins::get_pin(&mut s, tenant.into(), key).await.unwrap().expect("pin");
    Pins::write_audit(&mut s, pin_audit(tenant, &row.key, MemoryAuditOperation::Get, None)).await.unwrap();
    commit(s).await;
}

/// Upsert pin's driver calls made natively, as the component makes them: status, storage, the pin, its
/// access log, in a writer's transaction.
pub async fn native_upsert_pin(b: &Backend, tenant: &str, key: String, value: &str) {
    let mut s = b.native(tenant);
    Lifecycle::fetch_tenant_status(&mut s, tenant.into()).await.unwrap();
    Pins::fetch_pin_storage(&mut s, tenant.into(), key.clone()).await.unwrap();
    let row = Pins::upsert_pin(&mut s, tenant.into(), key, value.into(), "api".into(), Some(3600)).await.unwrap();
    let hash = sha256_hex(value)[..16].to_string();
    Pins::write_audit(&mut s, pin_audit(tenant, &row.key, MemoryAuditOperation::Upsert, Some(hash))).await.unwrap();
    commit(s).await;
}

/// Check run quota's driver calls made natively: status, tenant, running runs, in the transaction the
/// runtime gives them: on PostgreSQL a read-only one (no period rolls over here, so the call writes
/// nothing), on SQLite a writer's.
pub async fn native_check_run_quota(b: &Backend, tenant: &str) {
    let mut s = b.native(tenant);
    if b.db.backend() == account_host::db::Backend::Postgres {
        s.set_read_only_until_it_writes();
    }
    Lifecycle::fetch_tenant_status(&mut s, tenant.into()).await.unwrap();
    TenantDriver::fetch_tenant_by_id(&mut s, tenant.into()).await.unwrap().expect("tenant");
    TenantDriver::count_running_runs(&mut s, tenant.into()).await.unwrap();
    commit(s).await;
}

fn pin_audit(tenant: &str, key: &str, operation: MemoryAuditOperation, hash: Option<String>) -> MemoryAuditEntry {
    MemoryAuditEntry {
        operation,
        tenant_id: tenant.into(),
        key: key.into(),
        success: true,
        agent_id: None,
        source: Some("api".into()),
        cache_hit: false,
        error_message: None,
        old_value_hash: None,
        new_value_hash: hash,
        extra: None,
    }
}
