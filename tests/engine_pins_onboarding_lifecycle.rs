//! Memory pins, onboarding and the tenant lifecycle through the real component.

use account_host::bindings::{ErrorCode, OnboardingState, PageRequest, Role, TenantStatus};
use account_host::{Runtime, Settings};
use suite::{Harness, SECOND, T0, api_key, each_backend, expect_code, key_caller, operator, page, test_config};

/// A pin list's total costs the same on a tenant of any size: counted up to 1,000, then "more than
/// 1,000"; a prefix that matches fewer is counted exactly, and the pages still walk every pin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_totals_stop_at_a_thousand() {
    each_backend(async |h| {
        let pins = h.runtime.memory_pins();
        let (t, owner) = h.owned_tenant("Big", "ann").await;
        h.seed_pins(&t, 1001).await;
        // The plan's storage counters follow a statement that writes many pins (PostgreSQL keeps them by
        // statement, SQLite by row).
        let stored = format!("SELECT pins FROM tenant_pin_storage WHERE tenant_id = '{t}'");
        assert_eq!(h.count(&stored).await, 1001);
        for include_expired in [false, true] {
            let first = pins.list_pins(&owner, None, include_expired, &page(1000)).await.unwrap();
            assert_eq!((first.total, first.total_exact, first.items.len()), (1000, false, 1000));
            let rest = pins
                .list_pins(&owner, None, include_expired, &PageRequest { limit: 1000, after: first.next })
                .await
                .unwrap();
            assert_eq!((rest.total, rest.total_exact, rest.items.len(), rest.next), (1000, false, 1, None));
        }
        let some = pins.list_pins(&owner, Some("bulk-100"), false, &page(10)).await.unwrap();
        assert_eq!((some.total, some.total_exact), (3, true), "bulk-100, bulk-1000 and bulk-1001");
        assert!(pins.delete_pin(&owner, "bulk-1").await.unwrap());
        assert_eq!(h.count(&stored).await, 1000);
        let all = pins.list_pins(&owner, None, false, &page(1)).await.unwrap();
        assert_eq!((all.total, all.total_exact), (1000, true));
    })
    .await;
}

/// A pin is read in a read-only snapshot and its access log row written after it commits, before the
/// call answers. Concurrent first reads of one pin all answer: on SQLite (one writer at a time) the log
/// keeps one row; on PostgreSQL each read's row is its own statement, so it keeps one to eight. Later
/// reads within the hour add none; a read that fails logs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_of_a_pin_are_logged_once_an_hour() {
    each_backend(async |h| {
        let pins = h.runtime.memory_pins();
        let (_, owner) = h.owned_tenant("Acme", "ann").await;
        pins.upsert_pin(&owner, "k", "{}", None, None).await.unwrap();
        let reads = futures_util::future::join_all((0..8).map(|_| pins.get_pin(&owner, "k"))).await;
        assert!(reads.into_iter().all(|read| read.unwrap().is_some()));
        let gets = "SELECT COUNT(*) FROM memory_audit WHERE operation = 'get'";
        let logged = h.count(gets).await;
        if h.schema().is_some() {
            assert!((1..=8).contains(&logged), "{logged}");
        } else {
            assert_eq!(logged, 1);
        }
        pins.get_pin(&owner, "k").await.unwrap();
        assert_eq!(h.count(gets).await, logged, "read again within the hour");
        h.clock.advance_secs(3_600);
        expect_code(pins.get_pin(&owner, "a/b").await, ErrorCode::InvalidArgument);
        assert_eq!(h.count(gets).await, logged, "a refused read");
        pins.get_pin(&owner, "k").await.unwrap();
        assert_eq!(h.count(gets).await, logged + 1, "an hour later");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_pins() {
    each_backend(async |h| {
        let pins = h.runtime.memory_pins();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let viewer = h.member(&owner, &t, "cid", Role::Viewer).await;
        let (_, stranger) = h.owned_tenant("Other", "zed").await;

        let pin = pins.upsert_pin(&owner, "agent/../x", "{}", None, None).await;
        assert!(expect_code(pin, ErrorCode::InvalidArgument).contains("'..'"));
        for bad_key in ["a/b", "a\\b", "", &"k".repeat(513)] {
            expect_code(pins.upsert_pin(&owner, bad_key, "{}", None, None).await, ErrorCode::InvalidArgument);
        }
        expect_code(pins.upsert_pin(&owner, "k", "[1,2]", None, None).await, ErrorCode::InvalidArgument);
        expect_code(pins.upsert_pin(&owner, "k", "{nope", None, None).await, ErrorCode::InvalidArgument);
        expect_code(pins.upsert_pin(&owner, "k", "{}", None, Some(0)).await, ErrorCode::InvalidArgument);
        expect_code(pins.upsert_pin(&owner, "k", "{}", None, Some(31_536_001)).await, ErrorCode::InvalidArgument);
        let big = format!(r#"{{"v":"{}"}}"#, "x".repeat(1_048_576));
        expect_code(pins.upsert_pin(&owner, "k", &big, None, None).await, ErrorCode::InvalidArgument);
        expect_code(pins.upsert_pin(&viewer, "k", "{}", None, None).await, ErrorCode::Forbidden);
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 0);

        let p = pins.upsert_pin(&owner, "prefs:ui", r#"{ "b": 2, "a": 1 }"#, Some("seed"), Some(60)).await.unwrap();
        assert_eq!(
            (p.value.as_str(), p.source.as_str(), p.expires_at),
            (r#"{"a":1,"b":2}"#, "seed", Some(T0 + 60 * SECOND))
        );
        pins.upsert_pin(&owner, "prefs_x", r#"{"c":3}"#, None, None).await.unwrap();
        assert_eq!(pins.get_pin(&viewer, "prefs:ui").await.unwrap().unwrap().value, r#"{"a":1,"b":2}"#);
        // Upsert and get are audited in the memory audit, with the value's hash.
        assert_eq!(
            h.count("SELECT COUNT(*) FROM memory_audit WHERE operation = 'upsert' AND new_value_hash IS NOT NULL")
                .await,
            2
        );
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_audit WHERE operation = 'get'").await, 1);
        // `_` in a prefix is literal.
        let listed = pins.list_pins(&viewer, Some("prefs_"), false, &page(10)).await.unwrap();
        assert_eq!((listed.total, listed.items[0].key.as_str()), (1, "prefs_x"));
        expect_code(pins.list_pins(&viewer, None, false, &page(0)).await, ErrorCode::InvalidArgument);
        // Another tenant sees none of it.
        assert!(pins.get_pin(&stranger, "prefs:ui").await.unwrap().is_none());
        assert_eq!(pins.list_pins(&stranger, None, true, &page(10)).await.unwrap().total, 0);
        assert!(!pins.delete_pin(&stranger, "prefs:ui").await.unwrap());

        // Expiry.
        h.clock.advance_secs(61);
        assert!(pins.get_pin(&owner, "prefs:ui").await.unwrap().is_none());
        assert_eq!(pins.list_pins(&owner, None, true, &page(10)).await.unwrap().total, 2);
        expect_code(pins.cleanup_expired(&viewer).await, ErrorCode::Forbidden);
        assert_eq!(pins.cleanup_expired(&owner).await.unwrap().deleted_count, 1);
        assert!(pins.delete_pin(&owner, "prefs_x").await.unwrap());
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_audit WHERE operation = 'delete'").await, 1);
        expect_code(pins.cleanup_expired(&h.human("ann", "ann@example.com", None).await).await, ErrorCode::Forbidden);
        assert_eq!(pins.cleanup_expired(&operator(None)).await.unwrap().deleted_count, 0);

        // Cursor pagination walks every pin exactly once.
        for i in 0..7 {
            h.clock.advance_secs(1);
            pins.upsert_pin(&owner, &format!("p{i}"), "{}", None, None).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = pins.list_pins(&owner, None, false, &PageRequest { limit: 3, after }).await.unwrap();
            seen.extend(page.items.iter().map(|p| p.key.clone()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ["p6", "p5", "p4", "p3", "p2", "p1", "p0"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_pins_can_be_switched_off() {
    let h = Harness::sqlite().await;
    let mut config = test_config();
    config.settings = Settings { memory_pins_enabled: false, ..Settings::default() };
    let runtime = Runtime::with(h.db.clone(), std::sync::Arc::new(h.clock.clone()), config).unwrap();
    let t = h.tenant("acme").await;
    let result = runtime.memory_pins().upsert_pin(&operator(Some(&t.id)), "k", "{}", None, None).await;
    assert_eq!(expect_code(result, ErrorCode::FeatureDisabled), "Memory pins feature is disabled");
    assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 0);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding() {
    each_backend(async |h| {
        let ob = h.runtime.onboarding();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let op = operator(Some(&t));
        let status = ob.get_state(&owner).await.unwrap();
        assert_eq!(
            (status.state, status.step_index, status.allowed.len(), status.blocked.len()),
            (OnboardingState::Created, 0, 0, 8)
        );
        assert_eq!(status.next_action.unwrap().action_id, "enter_console");

        let verified = ob.advance(&owner, OnboardingState::IdentityVerified, "first_human_auth").await.unwrap();
        assert_eq!(
            (verified.from_state, verified.to_state, verified.was_no_op),
            (OnboardingState::Created, OnboardingState::IdentityVerified, false)
        );
        // Idempotent, monotonic.
        let again = ob.advance(&owner, OnboardingState::Created, "x").await.unwrap();
        assert!(again.was_no_op);
        // Progress past identity follows evidence, not a request.
        expect_code(
            ob.advance(&owner, OnboardingState::ApiKeyCreated, "first_api_key_created").await,
            ErrorCode::Forbidden,
        );
        expect_code(ob.advance(&op, OnboardingState::ApiKeyCreated, "manual").await, ErrorCode::ActivationIncomplete);
        let key = h
            .runtime
            .tenants()
            .create_api_key(
                &owner,
                &account_host::bindings::tenants::NewApiKey {
                    name: "sdk".into(),
                    permissions: None,
                    allowed_workers: None,
                    expires_in_days: None,
                    rate_limit_rpm: None,
                    max_concurrent_runs: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(ob.get_state(&owner).await.unwrap().state, OnboardingState::ApiKeyCreated);
        // The SDK's handshake, made with the key (its default scopes hold `onboarding:write`); `read:*` alone
        // never grants a write.
        let reader = api_key(&t, &key.api_key.id, &["run:*", "read:*"]);
        expect_code(
            ob.advance(&reader, OnboardingState::SdkConnected, "first_sdk_handshake").await,
            ErrorCode::Forbidden,
        );
        let sdk = key_caller(h, &key.key).await.expect("the key resolves");
        ob.advance(&sdk, OnboardingState::SdkConnected, "first_sdk_handshake").await.unwrap();
        expect_code(ob.advance(&sdk, OnboardingState::Complete, "done").await, ErrorCode::Forbidden);
        let missing =
            expect_code(ob.advance(&op, OnboardingState::Complete, "finalize").await, ErrorCode::ActivationIncomplete);
        assert_eq!(missing, "Activation predicate failed: missing [connector_validated, sdk_attested]");
        expect_code(
            ob.advance(&owner, OnboardingState::Complete, "founder_force_complete:ann@example.com").await,
            ErrorCode::Forbidden,
        );
        let forced =
            ob.advance(&op, OnboardingState::Complete, "founder_force_complete:founder@example.com").await.unwrap();
        assert_eq!(forced.to_state, OnboardingState::Complete);
        let done = ob.get_state(&owner).await.unwrap();
        assert_eq!((done.is_complete, done.allowed.len(), done.next_action.is_none()), (true, 8, true));
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'force_complete_onboarding'").await, 1);
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'advance_onboarding'").await, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle() {
    each_backend(async |h| {
        let lc = h.runtime.lifecycle();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let op = operator(Some(&t));
        let state = lc.get_state(&owner).await.unwrap();
        assert_eq!((state.status, state.allows_writes), (TenantStatus::Active, true));
        assert_eq!(state.valid_transitions, [TenantStatus::Suspended, TenantStatus::Terminated]);

        // Customers never transition; same-status and forbidden edges are conflicts naming the rule.
        expect_code(lc.suspend(&owner, "self").await, ErrorCode::Forbidden);
        assert!(expect_code(lc.resume(&op, "x").await, ErrorCode::Conflict).contains("already in active"));
        assert!(expect_code(lc.archive(&op, "x").await, ErrorCode::Conflict).contains("OFFBOARD-003"));

        let s = lc.suspend(&op, "unpaid").await.unwrap();
        assert_eq!((s.from_status, s.to_status), (TenantStatus::Active, TenantStatus::Suspended));
        // Suspended: reads allowed, writes refused with the lifecycle code.
        assert!(h.runtime.accounts().list_users(&owner, None, None, &page(10)).await.is_ok());
        let refused = h.runtime.memory_pins().upsert_pin(&owner, "k", "{}", None, None).await;
        assert!(expect_code(refused, ErrorCode::LifecycleBlocked).contains("suspended"));
        assert!(expect_code(lc.archive(&op, "x").await, ErrorCode::Conflict).contains("Invalid transition"));
        lc.resume(&op, "paid").await.unwrap();
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM tenants WHERE id = '{t}' AND suspended_reason IS NULL")).await, 1);
        lc.terminate(&op, "closed").await.unwrap();
        assert!(expect_code(lc.resume(&op, "x").await, ErrorCode::Conflict).contains("OFFBOARD-002"));
        // Terminated: reads refused too.
        expect_code(h.runtime.accounts().list_users(&owner, None, None, &page(10)).await, ErrorCode::LifecycleBlocked);
        lc.archive(&op, "retention").await.unwrap();
        let archived = lc.get_state(&op).await.unwrap();
        assert!(archived.is_terminal && archived.valid_transitions.is_empty());
        expect_code(lc.transition(&op, TenantStatus::Active, "x").await, ErrorCode::Conflict);
        // Every transition is audited with the actor and the reason.
        let audited = h.count("SELECT COUNT(*) FROM audit_log WHERE resource_type = 'tenant' AND actor = 'operator:founder@example.com' AND action IN ('suspend_tenant', 'resume_tenant', 'terminate_tenant', 'archive_tenant')").await;
        assert_eq!(audited, 4);
    })
    .await;
}
