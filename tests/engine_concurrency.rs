//! What happens under concurrency, on every backend. PostgreSQL runs each engine call as a serialisable
//! transaction and the runtime re-runs a call that loses a race; SQLite serialises writers. Either way:
//! * of concurrent acceptances of one invitation, exactly one creates the membership;
//! * concurrent run creations never exceed the concurrent-run quota;
//! * two owners demoting each other at once leave the tenant with an owner;
//! * concurrent lifecycle transitions form one valid path through the state machine;
//! * on PostgreSQL, a quota check that writes nothing does not queue behind its tenant's writers, and
//!   one that rolls a usage period over does, and persists it.

use std::sync::Arc;

use account_host::bindings::tenants::NewRun;
use account_host::bindings::{ErrorCode, Role, TenantStatus};
use suite::{Backend, DAY, Harness, T0, each_backend, each_backend_owned, operator, postgres_url};

async fn finish(h: Arc<Harness>) {
    Arc::try_unwrap(h).ok().expect("all tasks done").close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acceptances_of_one_invitation_yield_one_membership() {
    each_backend_owned(async |h| {
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let invited = h.runtime.accounts().invite_user(&owner, "dan@example.com", Role::Member).await.unwrap();
        let h = Arc::new(h);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let (h, id, token) = (h.clone(), invited.invitation.id.clone(), invited.token.clone());
            tasks.spawn(async move {
                let dan = h.human("dan", "dan@example.com", None).await;
                h.runtime.accounts().accept_invitation(&dan, &id, &token).await
            });
        }
        let results: Vec<_> = tasks.join_all().await;
        let accepted = results.iter().filter(|r| matches!(r, Ok(a) if a.accepted)).count();
        assert_eq!(accepted, 1, "{results:?}");
        // The losers were told no (or to retry); none of them wrote anything.
        for r in &results {
            match r {
                Ok(a) => assert!(a.accepted || a.message == "Invalid or expired invitation"),
                Err(e) => assert!(matches!(e.code, ErrorCode::Conflict | ErrorCode::Unavailable), "{e:?}"),
            }
        }
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM tenant_memberships WHERE tenant_id = '{t}'")).await, 2);
        assert_eq!(h.count("SELECT COUNT(*) FROM users WHERE clerk_user_id = 'dan'").await, 1);
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'accept_invitation'").await, 1);
        finish(h).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_run_creations_never_exceed_the_quota() {
    each_backend_owned(async |h| {
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let h = Arc::new(h);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..12 {
            let (h, owner) = (h.clone(), owner.clone());
            tasks.spawn(async move {
                let run = NewRun { worker_id: "business-builder".into(), task: format!("task {i}"), input_json: None };
                h.runtime.tenants().create_run(&owner, &run).await
            });
        }
        let results = tasks.join_all().await;
        let created = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(created, 5, "the free plan allows 5 concurrent runs: {results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(matches!(r.code, ErrorCode::QuotaExceeded | ErrorCode::Unavailable), "{r:?}");
        }
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM worker_runs WHERE tenant_id = '{t}'")).await, 5);
        assert_eq!(h.count(&format!("SELECT CAST(runs_today AS BIGINT) FROM tenants WHERE id = '{t}'")).await, 5);
        finish(h).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_owners_demoting_each_other_leave_an_owner() {
    each_backend(async |h| {
        for round in 0..3 {
            let (t, ann) = h.owned_tenant(&format!("Acme {round}"), &format!("ann{round}")).await;
            let bob = h.member(&ann, &t, &format!("bob{round}"), Role::Owner).await;
            let ann_id = h.user_id(&format!("ann{round}")).await.unwrap();
            let bob_id = h.user_id(&format!("bob{round}")).await.unwrap();
            let acc = h.runtime.accounts();
            let (a, b) = tokio::join!(
                acc.update_user_role(&ann, &bob_id, Role::Admin),
                acc.update_user_role(&bob, &ann_id, Role::Admin)
            );
            assert!(a.is_ok() != b.is_ok(), "exactly one demotion wins: {a:?} {b:?}");
            let owners = h
                .count(&format!("SELECT COUNT(*) FROM tenant_memberships WHERE tenant_id = '{t}' AND role = 'owner'"))
                .await;
            assert_eq!(owners, 1);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_lifecycle_transitions_follow_the_state_machine() {
    each_backend_owned(async |h| {
        let t = h.tenant("acme").await;
        let h = Arc::new(h);
        let mut tasks = tokio::task::JoinSet::new();
        for (i, to) in [TenantStatus::Suspended, TenantStatus::Terminated, TenantStatus::Active, TenantStatus::Archived]
            .into_iter()
            .cycle()
            .take(12)
            .enumerate()
        {
            let (h, id) = (h.clone(), t.id.clone());
            tasks.spawn(
                async move { h.runtime.lifecycle().transition(&operator(Some(&id)), to, &format!("r{i}")).await },
            );
        }
        let done: Vec<(TenantStatus, TenantStatus)> =
            tasks.join_all().await.into_iter().filter_map(Result::ok).map(|t| (t.from_status, t.to_status)).collect();
        // The successful transitions chain from `active`, each from where the previous one left, and end
        // where the tenant is.
        let final_status = h.runtime.lifecycle().get_state(&operator(Some(&t.id))).await.unwrap().status;
        assert!(
            chains(TenantStatus::Active, final_status, &done),
            "transitions that do not chain from active to {final_status:?}: {done:?}"
        );
        finish(h).await;
    })
    .await;
}

/// Whether every transition of `transitions` (from, to) can be taken one after another, from `from`,
/// ending at `to`. Searched rather than read greedily: a history may come back to a state and leave it
/// another way the second time (active → suspended → active → suspended → terminated), and the first
/// way out found is not always the one taken first.
fn chains(from: TenantStatus, to: TenantStatus, transitions: &[(TenantStatus, TenantStatus)]) -> bool {
    if transitions.is_empty() {
        return from == to;
    }
    transitions.iter().enumerate().any(|(i, &(start, end))| {
        start == from && {
            let mut rest = transitions.to_vec();
            rest.remove(i);
            chains(end, to, &rest)
        }
    })
}

#[test]
fn chains_finds_a_history_that_comes_back_to_a_state_and_refuses_one_that_breaks() {
    use TenantStatus::{Active, Suspended, Terminated};
    // The CI history the greedy reading refused: leaving `suspended` for `terminated` first strands
    // the way back to `active`.
    let history = [(Active, Suspended), (Suspended, Terminated), (Suspended, Active), (Active, Suspended)];
    assert!(chains(Active, Terminated, &history));
    assert!(!chains(Active, Active, &history), "it ends where the tenant is");
    assert!(!chains(Active, Terminated, &[(Active, Suspended), (Active, Terminated)]), "two ways out of one state");
}

/// A quota check mostly reads; it writes only when a UTC day or month has rolled over since the tenant's
/// counters were last reset. On PostgreSQL it runs first as a reader: it does not wait for the writer
/// turn of its tenant, which a blocked write holds here, nor for a writing place of its tenant's share.
/// When it does have a reset to persist, it runs
/// again as a writer: it takes its turn, and the reset is written. (On SQLite a quota check is a writer
/// from the start: see DECISIONS.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_quota_check_waits_for_its_tenants_writers_only_when_it_writes() {
    let Some(url) = postgres_url() else { return };
    // One call of each kind per tenant at a time: the blocked write holds the tenant's one writing place.
    let config = account_host::RuntimeConfig { max_calls_per_tenant: 1, ..suite::test_config() };
    let h = Arc::new(Harness::postgres_with(&url, config).await);
    assert_eq!(h.backend, Backend::Postgres);
    // The tenant's owner: their calls count against the tenant's share (the system's do not).
    let (t, owner) = h.owned_tenant("Acme", "ann").await;
    // Only this test of the binary makes calls that seldom write (the counter is the process's).
    let run_as_writers = || account_host::runtime::RUN_AS_WRITERS.load(std::sync::atomic::Ordering::Relaxed);
    let before = run_as_writers();
    // The first check of a tenant writes its first reset time.
    assert!(h.runtime.tenants().check_run_quota(&owner).await.unwrap().allowed);
    let reset_at =
        format!("SELECT CAST(EXTRACT(EPOCH FROM last_run_reset_at) * 1000000 AS BIGINT) FROM tenants WHERE id = '{t}'");
    assert_eq!(h.count(&reset_at).await, T0);

    // A write of the tenant holds its writer turn, blocked on a lock another session holds.
    let pool = h.db.postgres_pool().expect("PostgreSQL").clone();
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE memory_pins IN SHARE ROW EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    let writer = {
        let (h, owner) = (h.clone(), owner.clone());
        tokio::spawn(async move { h.runtime.memory_pins().upsert_pin(&owner, "k", r#"{"v":1}"#, None, None).await })
    };
    let waiting = format!(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '{}' AND wait_event_type = 'Lock'",
        h.schema().unwrap()
    );
    for _ in 0..500 {
        if h.count(&waiting).await > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(h.count(&waiting).await, 1, "the upsert waits for the lock, holding its tenant's writer turn");

    // Checks with nothing to persist answer meanwhile (the writer stays blocked until the lock goes).
    let tenants = h.runtime.tenants();
    let five_seconds = std::time::Duration::from_secs(5);
    let answered = tokio::time::timeout(five_seconds, tenants.check_run_quota(&owner)).await;
    assert!(answered.expect("a check that writes nothing does not queue behind a writer").unwrap().allowed);
    let answered = tokio::time::timeout(five_seconds, tenants.check_token_quota(&owner, 10)).await;
    assert!(answered.expect("nor does a token check").unwrap().allowed);
    assert!(!writer.is_finished());

    // The next UTC day: the check has a reset to persist, so it is a writer and takes its turn.
    h.clock.set(T0 + DAY);
    let rolling = {
        let (h, owner) = (h.clone(), owner.clone());
        tokio::spawn(async move { h.runtime.tenants().check_run_quota(&owner).await })
    };
    // Its read-only attempt was refused the write (counted), and it waits for its turn as a writer.
    for _ in 0..500 {
        if run_as_writers() - before == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    if rolling.is_finished() {
        panic!("a check that writes queues behind its tenant's writer: {:?}", rolling.await);
    }
    lock.commit().await.unwrap();
    writer.await.unwrap().unwrap();
    assert!(rolling.await.unwrap().unwrap().allowed);
    assert_eq!(h.count(&reset_at).await, T0 + DAY, "the reset was persisted");
    assert_eq!(run_as_writers() - before, 2, "the first and the last check ran again as writers");
    finish(h).await;
}
