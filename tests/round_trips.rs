//! How many exchanges with the database an engine call makes (issue 14), counted by the host for the
//! operations the benchmark measures, on both backends. A round trip costs more than the work it carries
//! on a loopback PostgreSQL, and a tenant's writes take turns, so a write's round trips bound the
//! tenant's write throughput: a change that adds one must change this test on purpose.
//!
//! The counter is the process's (`round_trips_run`), so this binary holds one test, and each operation
//! is counted as the fewest of three calls: the runtime's background work (the policy cache's warm-up,
//! the counters' flush) can only add to a count.

use account_host::bindings::{ErrorCode, Role};
use account_host::call::round_trips_run;
use account_host::db::Backend;
use account_host::{Caller, Runtime, Settings};
use suite::{Harness, each_backend, expect_code, key, page, test_config};

/// The fewest round trips `call` made in three tries (`call(i)` for i = 0, 1, 2).
async fn fewest(mut call: impl AsyncFnMut(usize)) -> u64 {
    let mut fewest = u64::MAX;
    for i in 0..3 {
        let before = round_trips_run();
        call(i).await;
        fewest = fewest.min(round_trips_run() - before);
    }
    fewest
}

/// Each operation's round trips: (name, counted).
async fn count_round_trips(h: &Harness) -> Vec<(&'static str, u64)> {
    // The system acts on the tenant, as in the benchmark: a person's call also reads their membership.
    let (tenant, owner) = h.owned_tenant("Acme", "ann").await;
    let system = Caller::system(Some(&tenant));
    let pins = h.runtime.memory_pins();
    let tenants = h.runtime.tenants();
    let accounts = h.runtime.accounts();
    pins.upsert_pin(&system, "read", r#"{"v":1}"#, None, None).await.unwrap();
    pins.get_pin(&system, "read").await.unwrap().expect("pin");
    // Invitees who are already users (of projects of their own).
    let mut invitees: Vec<(Caller, String, String)> = Vec::new();
    for i in 0..3 {
        let (external_id, email) = (format!("invitee{i}"), format!("invitee{i}@example.com"));
        h.owned_tenant(&format!("Own {i}"), &external_id).await;
        let invited = accounts.invite_user(&owner, &email, Role::Member).await.unwrap();
        let invitee = h.human(&external_id, &email, None).await;
        invitees.push((invitee, invited.invitation.id, invited.token));
    }
    // Creating a tenant's first API key also moves its onboarding on: count the keys after it.
    tenants.create_api_key(&system, &key("first")).await.unwrap();

    let mut counts = Vec::new();
    let upsert = fewest(async |i| {
        pins.upsert_pin(&system, &format!("w{i}"), r#"{"v":1}"#, None, Some(60)).await.unwrap();
    })
    .await;
    counts.push(("upsert pin", upsert));
    // Counted is not enough: each upsert's access log row was written.
    assert_eq!(h.count("SELECT COUNT(*) FROM memory_audit WHERE key IN ('w0', 'w1', 'w2')").await, 3);
    // A pin read again within the hour: its access log row is not written again.
    let get = fewest(async |_| {
        pins.get_pin(&system, "read").await.unwrap().expect("pin");
    })
    .await;
    counts.push(("get pin", get));
    let quota = fewest(async |_| {
        assert!(tenants.check_run_quota(&system).await.unwrap().allowed);
    })
    .await;
    counts.push(("check run quota", quota));
    // The tenant has one member and four pins: each first page holds them all.
    let list = fewest(async |_| {
        let members = accounts.list_users(&system, None, None, &page(50)).await.unwrap();
        assert_eq!((members.items.len(), members.total, members.total_exact), (1, 1, true));
    })
    .await;
    counts.push(("list members page", list));
    let list_pins = fewest(async |_| {
        let listed = pins.list_pins(&system, None, false, &page(50)).await.unwrap();
        assert_eq!((listed.items.len(), listed.total, listed.total_exact), (4, 4, true));
    })
    .await;
    counts.push(("list pins page", list_pins));
    let more_pins = fewest(async |_| {
        let listed = pins.list_pins(&system, None, false, &page(3)).await.unwrap();
        assert_eq!((listed.items.len(), listed.total, listed.next.is_some()), (3, 4, true));
    })
    .await;
    counts.push(("list pins, more than a page", more_pins));
    let create_key = fewest(async |i| {
        tenants.create_api_key(&system, &key(&format!("k{i}"))).await.unwrap();
    })
    .await;
    counts.push(("create API key", create_key));
    let accept = fewest(async |i| {
        let (invitee, id, token) = &invitees[i];
        let accepted = accounts.accept_invitation(invitee, id, token).await.unwrap();
        assert!(accepted.accepted, "{}", accepted.message);
    })
    .await;
    counts.push(("accept invitation", accept));
    // Now four members: a page of three says there are more, and how many.
    let more_members = fewest(async |_| {
        let members = accounts.list_users(&system, None, None, &page(3)).await.unwrap();
        assert_eq!((members.items.len(), members.total, members.next.is_some()), (3, 4, true));
    })
    .await;
    counts.push(("list members, more than a page", more_members));
    // Answered from the runtime's settings: no BEGIN is sent beside its instance.
    let contact = fewest(async |_| {
        accounts.get_support_contact(&system).await.unwrap();
    })
    .await;
    counts.push(("support contact", contact));
    // Refused before its first statement (the pins switched off): its BEGIN was sent while its instance
    // was made, before the guest ran.
    let mut config = test_config();
    config.settings = Settings { memory_pins_enabled: false, ..Settings::default() };
    let switched_off = Runtime::with(h.db.clone(), std::sync::Arc::new(h.clock.clone()), config).unwrap();
    let refused_read = fewest(async |_| {
        expect_code(switched_off.memory_pins().get_pin(&system, "read").await, ErrorCode::FeatureDisabled);
    })
    .await;
    counts.push(("get pin, pins switched off", refused_read));
    let refused_write = fewest(async |_| {
        let upsert = switched_off.memory_pins().upsert_pin(&system, "off", "{}", None, None).await;
        expect_code(upsert, ErrorCode::FeatureDisabled);
    })
    .await;
    counts.push(("upsert pin, pins switched off", refused_write));
    assert!(!tenant.is_empty());
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_makes_the_round_trips_of_its_statements_and_no_more() {
    each_backend(async |h| {
        let counted = count_round_trips(h).await;
        // BEGIN and COMMIT, plus one per statement. A write's best-effort access log is one statement on
        // PostgreSQL (a subtransaction of its own on the server) and three on SQLite (SAVEPOINT, INSERT,
        // RELEASE, in process); the audit log has no savepoint. A read-only transaction has no COMMIT the
        // caller waits for: it ends with the check sqlx makes of the connection as it goes back to the
        // pool (an exchange after every call, not counted).
        let (log, quota) = match h.db.backend() {
            // Check run quota runs read-only until it writes (it writes once a period has rolled over).
            Backend::Postgres => (0, 3),
            // A writer from the start: with its COMMIT.
            Backend::Sqlite => (2, 4),
        };
        let expected = vec![
            // BEGIN, status, storage (the plan's bound), upsert, access log, COMMIT.
            ("upsert pin", 6 + log),
            // BEGIN, status, pin (read-only; the access log was written by the first read).
            ("get pin", 3),
            // BEGIN, status with the tenant's row (counters), running runs.
            ("check run quota", quota),
            // BEGIN, status, page (read-only). A first page that holds every match is its own count.
            ("list members page", 3),
            // BEGIN, status, page.
            ("list pins page", 3),
            // BEGIN, status, page, bounded count.
            ("list pins, more than a page", 4),
            // BEGIN, status with the tenant's row, key count, insert key, audit, onboarding, COMMIT.
            ("create API key", 7),
            // BEGIN, invitation, status, the inviter's membership, user, membership, insert membership
            // (two statements: the row with the user's e-mail, the user's default tenant), mark accepted,
            // audit, COMMIT.
            ("accept invitation", 11),
            // BEGIN, status, page, bounded count.
            ("list members, more than a page", 4),
            // None: the one operation anyone may call answers from the settings.
            ("support contact", 0),
            // The BEGIN sent beside the instance (the price of sending it before the guest runs); the
            // write's ROLLBACK too.
            ("get pin, pins switched off", 1),
            ("upsert pin, pins switched off", 2),
        ];
        assert_eq!(counted, expected, "round trips per operation on {:?}", h.db.backend());
    })
    .await;
}
