//! The security review's findings (issue 10), each as the attack that worked, now refused and changing
//! nothing: through the real component and host, on SQLite and PostgreSQL.

use std::sync::Arc;

use account_host::bindings::accounts_facade_driver::Host as Facade;
use account_host::bindings::tenant_driver::Host as Tenants;
use account_host::bindings::tenant_lifecycle_driver::Host as Lifecycle;
use account_host::bindings::tenants::{NewApiKey, NewRun, NewUsage};
use account_host::bindings::{DriverErrorCode, ErrorCode, Plan, PlanQuotas, Role, TenantStatus, UsageUnit};
use account_host::call::CallState;
use account_host::clock::Clock;
use account_host::{Caller, RuntimeConfig, Settings};
use suite::{Harness, each_backend, expect_code, key_caller, operator, test_config};

fn key(name: &str, scopes: &[&str]) -> NewApiKey {
    NewApiKey {
        name: name.into(),
        permissions: Some(scopes.iter().map(|s| s.to_string()).collect()),
        allowed_workers: None,
        expires_in_days: None,
        rate_limit_rpm: None,
        max_concurrent_runs: None,
    }
}

fn run(worker: &str) -> NewRun {
    NewRun { worker_id: worker.into(), task: "t".into(), input_json: None }
}

/// A successful completion of a run that used `tokens`.
fn completion(tokens: i64) -> account_host::bindings::tenants::RunCompletion {
    account_host::bindings::tenants::RunCompletion {
        success: true,
        output_json: None,
        replay_token_json: None,
        total_tokens: tokens,
        total_latency_ms: 1,
        stages_completed: 1,
        recoveries: 0,
        policy_violations: 0,
        cost_cents: 0,
        error: None,
    }
}

/// A real key created by `creator`, and its caller as the server would resolve it.
async fn real_key(h: &Harness, creator: &Caller, scopes: &[&str]) -> (String, Caller) {
    let created = h.runtime.tenants().create_api_key(creator, &key("k", scopes)).await.expect("create key");
    let caller = key_caller(h, &created.key).await.expect("the key resolves");
    (created.api_key.id, caller)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_grants_only_what_its_creator_holds() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        // The review's escalation: a key holding only `keys:create` minted an `admin:*` key.
        let (_, minting) = real_key(h, &owner, &["keys:create"]).await;
        let keys_before = h.count("SELECT COUNT(*) FROM api_keys").await;
        for scopes in [&["admin:*"][..], &["keys:*"], &["read:*"], &["memory_pin:write"], &["keys:create", "run:write"]] {
            let message = expect_code(ten.create_api_key(&minting, &key("stronger", scopes)).await, ErrorCode::Forbidden);
            assert!(message.contains("you do not hold"), "{message}");
        }
        expect_code(ten.create_api_key(&minting, &key("defaults", &[])).await, ErrorCode::Forbidden);
        assert_eq!(h.count("SELECT COUNT(*) FROM api_keys").await, keys_before, "nothing was created");
        // What it holds, it may pass on; the new key belongs to the same person.
        let (minted_id, minted) = {
            let created = ten.create_api_key(&minting, &key("same", &["keys:create"])).await.unwrap();
            (created.api_key.id, key_caller(h, &created.key).await.unwrap())
        };
        let ann = h.user_id("ann").await.unwrap();
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM api_keys WHERE id = '{minted_id}' AND user_id = '{ann}'")).await, 1);
        assert!(matches!(&minted.actor, account_host::bindings::Actor::ApiKey(k) if k.created_by.as_deref() == Some(ann.as_str())));

        // Unknown scopes are refused, not stored to fail open later; role changes are never a key's.
        expect_code(ten.create_api_key(&owner, &key("x", &["bogus:read"])).await, ErrorCode::InvalidArgument);
        expect_code(ten.create_api_key(&owner, &key("x", &["roles:manage"])).await, ErrorCode::InvalidArgument);
        // A stored scope the engine does not know grants nothing.
        let odd = suite::api_key(&t, &minted_id, &["bogus:*", "tenant:reads"]);
        expect_code(ten.get_tenant(&odd).await, ErrorCode::Forbidden);

        // People are bounded by their role: an admin may give `admin:*` (all a key may hold is an
        // admin's), a member may create no key at all.
        let admin = h.member(&owner, &t, "adam", Role::Admin).await;
        let member = h.member(&owner, &t, "mia", Role::Member).await;
        expect_code(ten.create_api_key(&member, &key("m", &["run:*"])).await, ErrorCode::Forbidden);
        let (_, admins_key) = real_key(h, &admin, &["admin:*"]).await;
        h.runtime.memory_pins().upsert_pin(&admins_key, "k", "{}", None, None).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_key_restrictions_are_enforced() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let (_, owner) = h.owned_tenant("Acme", "ann").await;
        // A key limited to one worker created a run for another.
        let created = ten
            .create_api_key(
                &owner,
                &NewApiKey {
                    allowed_workers: Some(vec!["business-builder".into()]),
                    max_concurrent_runs: Some(1),
                    ..key("ci", &["run:*"])
                },
            )
            .await
            .unwrap();
        let ci = key_caller(h, &created.key).await.unwrap();
        let message = expect_code(ten.create_run(&ci, &run("code-debugger")).await, ErrorCode::Forbidden);
        assert!(message.contains("code-debugger"), "{message}");
        assert_eq!(h.count("SELECT COUNT(*) FROM worker_runs").await, 0);
        // Its own limit of concurrent runs, below the plan's.
        let first = ten.create_run(&ci, &run("business-builder")).await.unwrap();
        expect_code(ten.create_run(&ci, &run("business-builder")).await, ErrorCode::QuotaExceeded);
        assert_eq!(h.count("SELECT COUNT(*) FROM worker_runs").await, 1);
        // The owner is not bound by the key's limit.
        ten.create_run(&owner, &run("business-builder")).await.unwrap();
        let done = completion(0);
        ten.complete_run(&ci, &first.id, &done).await.unwrap();
        ten.create_run(&ci, &run("business-builder")).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_people_follow_their_role_and_membership() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let pins = h.runtime.memory_pins();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let admin = h.member(&owner, &t, "adam", Role::Admin).await;
        let created = ten.create_api_key(&admin, &key("adam's", &["admin:*"])).await.unwrap();
        let adam = h.user_id("adam").await.unwrap();
        pins.upsert_pin(&key_caller(h, &created.key).await.unwrap(), "a", "{}", None, None).await.unwrap();

        h.runtime.accounts().update_user_role(&owner, &adam, Role::Viewer).await.unwrap();
        let demoted = key_caller(h, &created.key).await.unwrap();
        ten.get_tenant(&demoted).await.unwrap();
        let message = expect_code(pins.upsert_pin(&demoted, "b", "{}", None, None).await, ErrorCode::Forbidden);
        assert!(message.contains("creator"), "{message}");

        // A suspended person's keys do nothing, and neither do they.
        h.execute(&format!("UPDATE users SET status = 'suspended' WHERE id = '{adam}'")).await;
        let suspended = key_caller(h, &created.key).await.unwrap();
        expect_code(ten.get_tenant(&suspended).await, ErrorCode::Forbidden);
        let person = h.human("adam", "adam@example.com", Some(&t)).await;
        let message = expect_code(ten.get_tenant(&person).await, ErrorCode::Forbidden);
        assert!(message.contains("not active"), "{message}");
        h.execute(&format!("UPDATE users SET status = 'deleted' WHERE id = '{adam}'")).await;
        expect_code(ten.get_tenant(&person).await, ErrorCode::Forbidden);
        expect_code(h.runtime.accounts().create_project(&person, "Mine", None).await, ErrorCode::Forbidden);
        h.execute(&format!("UPDATE users SET status = 'active' WHERE id = '{adam}'")).await;

        h.runtime.accounts().remove_user(&owner, &adam).await.unwrap();
        let orphan = key_caller(h, &created.key).await.unwrap();
        let message = expect_code(ten.get_tenant(&orphan).await, ErrorCode::Forbidden);
        assert!(message.contains("no longer an active member"), "{message}");
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 1, "only the write made while allowed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_verified_e_mail_grants_anything() {
    each_backend(async |h| {
        let accounts = h.runtime.accounts();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let invited = accounts.invite_user(&owner, "bob@example.com", Role::Admin).await.unwrap();
        // A token whose provider does not vouch for the e-mail does not accept the invitation.
        let squatter = h.unverified_human("mallory", "bob@example.com", None).await;
        let refused = accounts.accept_invitation(&squatter, &invited.invitation.id, &invited.token).await.unwrap();
        assert!(!refused.accepted);
        assert_eq!(refused.message, "Invalid or expired invitation");
        // Nor does it claim the e-mail by creating a user first.
        let message = expect_code(accounts.create_project(&squatter, "Squat", None).await, ErrorCode::Forbidden);
        assert!(message.contains("verify"), "{message}");
        assert_eq!(h.count("SELECT COUNT(*) FROM users WHERE email = 'bob@example.com'").await, 0);
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM tenant_memberships WHERE tenant_id = '{t}'")).await, 1);
        // The real person, verified, accepts.
        let bob = h.human("bob", "bob@example.com", None).await;
        assert!(accounts.accept_invitation(&bob, &invited.invitation.id, &invited.token).await.unwrap().accepted);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_sets_a_first_default_tenant_and_works_beside_one() {
    each_backend(async |h| {
        let accounts = h.runtime.accounts();
        let (a, ann) = h.owned_tenant("Acme", "ann").await;
        let (b, bea) = h.owned_tenant("Beta", "bea").await;
        let to_a = accounts.invite_user(&ann, "bob@example.com", Role::Member).await.unwrap();
        let bob = h.human("bob", "bob@example.com", None).await;
        assert!(accounts.accept_invitation(&bob, &to_a.invitation.id, &to_a.token).await.unwrap().accepted);
        let bob_id = h.user_id("bob").await.unwrap();
        let default = account_host::identity::default_tenant(&h.db, &bob_id).await.unwrap();
        assert_eq!(default.as_deref(), Some(a.as_str()), "the first tenant becomes the default");
        // With a default tenant in the call (as the server puts it), another tenant's invitation is accepted.
        let to_b = accounts.invite_user(&bea, "bob@example.com", Role::Viewer).await.unwrap();
        let bob_in_a = h.human("bob", "bob@example.com", Some(&a)).await;
        let accepted = accounts.accept_invitation(&bob_in_a, &to_b.invitation.id, &to_b.token).await.unwrap();
        assert!(accepted.accepted, "{}", accepted.message);
        assert_eq!(accepted.tenant_id.as_deref(), Some(b.as_str()));
        let default = account_host::identity::default_tenant(&h.db, &bob_id).await.unwrap();
        assert_eq!(default.as_deref(), Some(a.as_str()), "an existing default is kept");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_storage_is_bounded_by_the_plan() {
    each_backend(async |h| {
        let pins = h.runtime.memory_pins();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let storage = async |h: &Harness| {
            let kept = h.count(&format!("SELECT pins FROM tenant_pin_storage WHERE tenant_id = '{t}'")).await;
            let bytes = h.count(&format!("SELECT bytes FROM tenant_pin_storage WHERE tenant_id = '{t}'")).await;
            let actual = h.count(&format!("SELECT COUNT(*) FROM memory_pins WHERE tenant_id = '{t}'")).await;
            let actual_bytes = h
                .count(&format!(
                    "SELECT CAST(COALESCE(SUM(value_bytes), 0) AS BIGINT) FROM memory_pins WHERE tenant_id = '{t}'"
                ))
                .await;
            assert_eq!((kept, bytes), (actual, actual_bytes), "the counters are exact");
            (kept, bytes)
        };
        pins.upsert_pin(&owner, "a", r#"{"v":"12345"}"#, None, None).await.unwrap();
        pins.upsert_pin(&owner, "b", r#"{"v":1}"#, None, Some(1)).await.unwrap();
        assert_eq!(storage(h).await, (2, 13 + 7));
        pins.upsert_pin(&owner, "a", r#"{"v":"1"}"#, None, None).await.unwrap();
        assert_eq!(storage(h).await, (2, 9 + 7));
        pins.delete_pin(&owner, "a").await.unwrap();
        assert_eq!(storage(h).await, (1, 7));
        h.clock.advance_secs(5);
        pins.cleanup_expired(&owner).await.unwrap();
        assert_eq!(storage(h).await, (0, 0));

        // The free plan: 1,000 pins. At the limit a new key is refused, an existing one may be rewritten.
        pins.upsert_pin(&owner, "kept", r#"{"v":1}"#, None, None).await.unwrap();
        h.execute(&format!("UPDATE tenant_pin_storage SET pins = 1000 WHERE tenant_id = '{t}'")).await;
        let message = expect_code(pins.upsert_pin(&owner, "new", "{}", None, None).await, ErrorCode::QuotaExceeded);
        assert!(message.contains("pins quota"), "{message}");
        pins.upsert_pin(&owner, "kept", r#"{"v":2}"#, None, None).await.unwrap();
        // And 64 MiB of values: a write that would pass it is refused, one that shrinks is not.
        h.execute(&format!(
            "UPDATE tenant_pin_storage SET pins = 1, bytes = {} WHERE tenant_id = '{t}'",
            (64 << 20) - 10
        ))
        .await;
        let message = expect_code(
            pins.upsert_pin(&owner, "kept", r#"{"v":"a longer value"}"#, None, None).await,
            ErrorCode::QuotaExceeded,
        );
        assert!(message.contains("storage quota"), "{message}");
        pins.upsert_pin(&owner, "kept", "{}", None, None).await.unwrap();
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins WHERE key = 'new'").await, 0);
        // A bigger plan, bigger quotas.
        h.runtime.tenants().update_plan(&operator(Some(&t)), Plan::Pro).await.unwrap();
        pins.upsert_pin(&owner, "new", "{}", None, None).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_large_pins_is_bounded_by_bytes() {
    each_backend(async |h| {
        let pins = h.runtime.memory_pins();
        let (_, owner) = h.owned_tenant("Acme", "ann").await;
        let big = format!(r#"{{"v":"{}"}}"#, "x".repeat(1_000_000));
        for i in 0..12 {
            pins.upsert_pin(&owner, &format!("big{i:02}"), &big, None, None).await.unwrap();
            h.clock.advance_secs(1);
        }
        // One page asked for 1,000 rows holds at most 4 MiB of values (the review saw 1 GiB for such a
        // page); the cursor goes on from there, and every pin is seen exactly once.
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let list = pins
                .list_pins(
                    &owner,
                    None,
                    false,
                    &account_host::bindings::PageRequest { limit: 1000, after: after.clone() },
                )
                .await
                .unwrap();
            let bytes: usize = list.items.iter().map(|p| p.value.len()).sum();
            assert!(bytes <= 4 << 20, "a page of {bytes} bytes");
            assert_eq!(list.total, 12);
            seen.extend(list.items.into_iter().map(|p| p.key));
            pages += 1;
            match list.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert!(pages >= 2, "the byte budget cut the first page");
        let expected: Vec<String> = (0..12).rev().map(|i| format!("big{i:02}")).collect();
        assert_eq!(seen, expected);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_values_cannot_overflow() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let usage = |amount: i64| NewUsage { meter_name: "tokens_used".into(), amount, unit: UsageUnit::Tokens, worker_id: None, metadata: None };
        expect_code(ten.record_usage(&owner, &usage(i64::MAX / 2)).await, ErrorCode::InvalidArgument);
        expect_code(ten.increment_usage(&owner, i64::MAX / 2).await, ErrorCode::InvalidArgument);
        expect_code(ten.check_token_quota(&owner, 1_000_000_000_001).await, ErrorCode::InvalidArgument);
        assert_eq!(h.count("SELECT COUNT(*) FROM usage_records").await, 0);
        for _ in 0..3 {
            ten.record_usage(&owner, &usage(1_000_000_000_000)).await.unwrap();
        }
        let summary = ten.get_usage_summary(&owner, None, None).await.unwrap();
        assert_eq!(summary.meters[0].total, 3_000_000_000_000);
        // Even records written around the engine, near the 64-bit limit, do not break the summary: it
        // saturates instead of failing for good.
        let now = h.clock.now_micros();
        let bucket = now - now.rem_euclid(3_600_000_000);
        for i in 0..3 {
            let (start, end) = match h.backend {
                suite::Backend::Sqlite => (bucket.to_string(), (bucket + 3_600_000_000).to_string()),
                suite::Backend::Postgres => (format!("to_timestamp({bucket} / 1e6)"), format!("to_timestamp({} / 1e6)", bucket + 3_600_000_000)),
            };
            let id = match h.backend {
                suite::Backend::Sqlite => format!("'{}'", uuid::Uuid::new_v4()),
                suite::Backend::Postgres => format!("'{}'::uuid", uuid::Uuid::new_v4()),
            };
            let recorded = start.clone();
            h.execute(&format!(
                "INSERT INTO usage_records (id, tenant_id, meter_name, amount, unit, period_start, period_end, recorded_at) \
                 VALUES ({id}, '{t}', 'huge', {}, 'count', {start}, {end}, {recorded})",
                4_000_000_000_000_000_000i64 + i
            ))
            .await;
        }
        let summary = ten.get_usage_summary(&owner, None, None).await.unwrap();
        let huge = summary.meters.iter().find(|m| m.meter_name == "huge").unwrap();
        assert_eq!(huge.total, i64::MAX);
        // A counter that would pass its range is refused, and left as it was.
        h.execute(&format!("UPDATE tenants SET tokens_this_month = {} WHERE id = '{t}'", i64::MAX / 2 - 5)).await;
        expect_code(ten.increment_usage(&owner, 10).await, ErrorCode::QuotaExceeded);
        assert_eq!(h.count(&format!("SELECT tokens_this_month FROM tenants WHERE id = '{t}'")).await, i64::MAX / 2 - 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_owns_a_bounded_number_of_tenants_and_reads_do_not_grow_storage() {
    let mut config = test_config();
    config.settings = Settings { max_owned_tenants_per_user: 3, ..Settings::default() };
    for h in harnesses(config).await {
        let accounts = h.runtime.accounts();
        for i in 0..3 {
            let ann = h.human("ann", "ann@example.com", None).await;
            accounts.create_project(&ann, &format!("P{i}"), None).await.unwrap();
        }
        let ann = h.human("ann", "ann@example.com", None).await;
        let message = expect_code(accounts.create_project(&ann, "One too many", None).await, ErrorCode::QuotaExceeded);
        assert!(message.contains("at most 3"), "{message}");
        assert_eq!(h.count("SELECT COUNT(*) FROM tenants").await, 3);

        // Reading a pin fifty times writes its access log once per hour, not fifty rows.
        let tenant =
            account_host::identity::default_tenant(&h.db, &h.user_id("ann").await.unwrap()).await.unwrap().unwrap();
        let owner = h.human("ann", "ann@example.com", Some(&tenant)).await;
        h.runtime.memory_pins().upsert_pin(&owner, "k", "{}", None, None).await.unwrap();
        for _ in 0..50 {
            h.runtime.memory_pins().get_pin(&owner, "k").await.unwrap().unwrap();
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_audit WHERE operation = 'get'").await, 1);
        h.clock.advance_secs(3601);
        h.runtime.memory_pins().get_pin(&owner, "k").await.unwrap().unwrap();
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_audit WHERE operation = 'get'").await, 2);
        // The platform's sweep ends the log's retention (30 days).
        h.clock.advance_secs(31 * 86_400);
        h.runtime.memory_pins().cleanup_expired(&operator(None)).await.unwrap();
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_audit").await, 0);
        h.close().await;
    }
}

/// A harness per backend with `config`.
async fn harnesses(config: RuntimeConfig) -> Vec<Harness> {
    let mut all = vec![Harness::sqlite_with(config.clone()).await];
    if let Some(url) = suite::postgres_url() {
        all.push(Harness::postgres_with(&url, config).await);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_scope_covers_user_rows_and_platform_writes() {
    each_backend(async |h| {
        let (a, _) = h.owned_tenant("Acme", "ann").await;
        let (b, _) = h.owned_tenant("Beta", "bea").await;
        let bea = h.user_id("bea").await.unwrap();
        let ann = h.user_id("ann").await.unwrap();
        let now = h.clock.now_micros();
        let customer = |h: &Harness| {
            let caller = suite::api_key(&a, &uuid::Uuid::new_v4().to_string(), &["admin:*"]);
            CallState::new(h.db.clone(), &caller.actor, Some(&a), now, wasmtime::StoreLimits::default())
        };
        // Reads: someone outside the call's tenant is invisible, however they are looked up.
        let mut s = customer(h);
        assert!(Facade::fetch_user_by_id(&mut s, bea.clone()).await.unwrap().is_none());
        assert!(Facade::fetch_user_by_email(&mut s, "bea@example.com".into()).await.unwrap().is_none());
        assert!(Facade::fetch_profile(&mut s, a.clone(), bea.clone()).await.unwrap().is_none());
        // Members of the call's tenant are visible.
        assert!(Facade::fetch_user_by_id(&mut s, ann.clone()).await.unwrap().is_some());
        assert!(Facade::fetch_user_by_email(&mut s, "ann@example.com".into()).await.unwrap().is_some());
        assert!(s.take_outcome().violation.is_none());

        // Writes: another person's membership (and their default tenant) and the platform's columns.
        let attempts: Vec<(&str, DriverErrorCode)> = {
            let mut out = Vec::new();
            let mut s = customer(h);
            out.push((
                "insert-membership (tenant driver)",
                Tenants::insert_membership(&mut s, a.clone(), bea.clone(), Role::Owner, true).await.unwrap_err().code,
            ));
            let mut s = customer(h);
            out.push((
                "insert-membership (facade)",
                Facade::insert_membership(&mut s, a.clone(), bea.clone(), Role::Owner, None).await.unwrap_err().code,
            ));
            let mut s = customer(h);
            let quotas = PlanQuotas {
                max_workers: 1,
                max_runs_per_day: 1,
                max_concurrent_runs: 1,
                max_tokens_per_month: 1,
                max_api_keys: 1,
            };
            out.push((
                "update-tenant-plan",
                Tenants::update_tenant_plan(&mut s, a.clone(), Plan::Enterprise, quotas).await.unwrap_err().code,
            ));
            let mut s = customer(h);
            out.push((
                "update-lifecycle-status",
                Lifecycle::update_lifecycle_status(
                    &mut s,
                    a.clone(),
                    TenantStatus::Active,
                    TenantStatus::Suspended,
                    None,
                )
                .await
                .unwrap_err()
                .code,
            ));
            let mut s = customer(h);
            out.push(("count-owned-tenants", Facade::count_owned_tenants(&mut s, bea.clone()).await.unwrap_err().code));
            out
        };
        for (what, code) in attempts {
            assert_eq!(code, DriverErrorCode::ScopeViolation, "{what}");
        }
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM tenant_memberships WHERE user_id = '{bea}'")).await, 1);
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM tenants WHERE id = '{a}' AND plan = 'free'")).await, 1);
        let _ = b;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenant_cannot_take_every_instance() {
    // A small pool (4 instances), two calls per tenant: tenant B floods, tenant A still gets through.
    let config = RuntimeConfig {
        max_concurrent_calls: 4,
        max_calls_per_tenant: 2,
        admission_wait: std::time::Duration::from_millis(200),
        ..test_config()
    };
    for h in harnesses(config).await {
        let h = Arc::new(h);
        let (_, ann) = h.owned_tenant("Acme", "ann").await;
        let (_, bea) = h.owned_tenant("Beta", "bea").await;
        let big = Arc::new(format!(r#"{{"v":"{}"}}"#, "x".repeat(500_000)));
        let flood: Vec<_> = (0..40)
            .map(|i| {
                let (h, bea, big) = (h.clone(), bea.clone(), big.clone());
                tokio::spawn(async move {
                    h.runtime.memory_pins().upsert_pin(&bea, &format!("k{}", i % 5), &big, None, None).await
                })
            })
            .collect();
        let mut mine = Vec::new();
        for _ in 0..10 {
            mine.push(h.runtime.tenants().get_tenant(&ann).await);
        }
        let mut refused = 0;
        for call in flood {
            match call.await.unwrap() {
                Ok(_) => {}
                // Refused before any instance was taken: a clear "try again", never an internal error.
                Err(e) if e.code == ErrorCode::Unavailable => refused += 1,
                Err(e) => panic!("a flooding call failed with {e:?}"),
            }
        }
        for call in mine {
            call.expect("the other tenant's calls are served while one tenant floods");
        }
        let _ = refused;
        let h = Arc::try_unwrap(h).ok().expect("the harness is free");
        h.close().await;
    }
}

mod component_cache {
    use std::os::unix::fs::PermissionsExt;

    use account_host::runtime::{ACCOUNT_ENGINE_COMPONENT, load_component};
    use account_host::{CacheConfig, RuntimeConfig};

    fn scratch() -> (std::path::PathBuf, CacheConfig) {
        let base = std::env::temp_dir().join(format!("aos-cache-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&base).unwrap();
        let config = CacheConfig { dir: base.join("cache"), key_file: base.join("cache.key") };
        (base, config)
    }

    fn engine() -> wasmtime::Engine {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        wasmtime::Engine::new(&config).unwrap()
    }

    fn cache_file(config: &CacheConfig) -> std::path::PathBuf {
        std::fs::read_dir(&config.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
            .expect("a cache file")
    }

    #[test]
    fn there_is_no_cache_unless_one_is_configured() {
        assert!(RuntimeConfig::default().cache.is_none());
    }

    #[test]
    fn a_cache_file_the_service_did_not_write_is_never_run() {
        let (base, config) = scratch();
        let engine = engine();
        load_component(&engine, ACCOUNT_ENGINE_COMPONENT, Some(&config)).unwrap();
        let file = cache_file(&config);
        let mode = std::fs::metadata(&config.dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the cache directory is the service's alone");
        assert_eq!(std::fs::metadata(&config.key_file).unwrap().permissions().mode() & 0o777, 0o600);

        // The review's attack: a compiled component written by someone else (here: serialised properly,
        // by the same engine, but without the service's key) in place of the cached one.
        let other = wasmtime::component::Component::new(&engine, account_host::runtime::ROGUE_GUEST_COMPONENT)
            .unwrap()
            .serialize()
            .unwrap();
        let mut forged = b"AOSCWAS1".to_vec();
        forged.extend([0u8; 32]);
        forged.extend(&other);
        std::fs::write(&file, &forged).unwrap();
        let loaded = load_component(&engine, ACCOUNT_ENGINE_COMPONENT, Some(&config)).unwrap();
        assert!(
            loaded.component_type().exports(&engine).count() >= 5,
            "the real engine was compiled again, not the forgery run"
        );
        assert_ne!(std::fs::read(&file).unwrap(), forged, "the forgery was replaced");

        // A raw `.cwasm` (the old format), and a symbolic link in its place, are not followed either.
        std::fs::write(&file, &other).unwrap();
        load_component(&engine, ACCOUNT_ENGINE_COMPONENT, Some(&config)).unwrap();
        let elsewhere = base.join("elsewhere.cwasm");
        std::fs::write(&elsewhere, &forged).unwrap();
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
        load_component(&engine, ACCOUNT_ENGINE_COMPONENT, Some(&config)).unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), forged, "the link's target was not written through");
        assert!(!std::fs::symlink_metadata(&file).unwrap().file_type().is_symlink(), "the link was replaced");
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_cache_others_could_write_is_refused() {
        let (base, config) = scratch();
        std::fs::create_dir_all(&config.dir).unwrap();
        std::fs::set_permissions(&config.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let Err(error) = load_component(&engine(), ACCOUNT_ENGINE_COMPONENT, Some(&config)) else { panic!("refused") };
        assert!(error.to_string().contains("must not be writable"), "{error}");
        std::fs::set_permissions(&config.dir, std::fs::Permissions::from_mode(0o700)).unwrap();

        // The key readable by others, or a key inside the cache, is refused too.
        std::fs::write(&config.key_file, [7u8; 32]).unwrap();
        std::fs::set_permissions(&config.key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_component(&engine(), ACCOUNT_ENGINE_COMPONENT, Some(&config)).is_err());
        let inside = CacheConfig { dir: config.dir.clone(), key_file: config.dir.join("key") };
        assert!(load_component(&engine(), ACCOUNT_ENGINE_COMPONENT, Some(&inside)).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_keeps_only_plain_request_ids() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Acme", "ann").await;
        let long = "x".repeat(300);
        for id in ["req-1:ok", long.as_str(), "two words", "line\nbreak"] {
            h.runtime.tenants().increment_usage(&owner.clone().with_request_id(id), 1).await.unwrap();
        }
        assert_eq!(
            h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'increment_usage'").await,
            4,
            "every call is audited"
        );
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE request_id = 'req-1:ok'").await, 1);
        assert_eq!(
            h.count("SELECT COUNT(*) FROM audit_log WHERE length(request_id) > 100 OR request_id LIKE '% %'").await,
            0
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_makes_no_key_looser_than_itself_and_takes_its_keys_along() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let (_, owner) = h.owned_tenant("Acme", "ann").await;
        let parent = ten
            .create_api_key(
                &owner,
                &NewApiKey {
                    allowed_workers: Some(vec!["business-builder".into()]),
                    rate_limit_rpm: Some(10),
                    max_concurrent_runs: Some(2),
                    expires_in_days: Some(10),
                    ..key("parent", &["keys:create", "run:*"])
                },
            )
            .await
            .unwrap();
        let as_parent = key_caller(h, &parent.key).await.unwrap();
        let before = h.count("SELECT COUNT(*) FROM api_keys").await;
        for (why, looser) in [
            (
                "another worker",
                NewApiKey { allowed_workers: Some(vec!["code-debugger".into()]), ..key("c", &["run:*"]) },
            ),
            ("a later expiry", NewApiKey { expires_in_days: Some(30), ..key("c", &["run:*"]) }),
            ("a higher rate", NewApiKey { rate_limit_rpm: Some(11), ..key("c", &["run:*"]) }),
            ("more runs", NewApiKey { max_concurrent_runs: Some(3), ..key("c", &["run:*"]) }),
        ] {
            let message = expect_code(ten.create_api_key(&as_parent, &looser).await, ErrorCode::Forbidden);
            assert!(message.contains("looser"), "{why}: {message}");
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM api_keys").await, before);
        // Left out, a restriction is the parent's.
        let child = ten.create_api_key(&as_parent, &key("child", &["run:*"])).await.unwrap();
        assert_eq!(child.api_key.allowed_workers.as_deref(), Some(&["business-builder".to_string()][..]));
        assert_eq!((child.api_key.rate_limit_rpm, child.api_key.max_concurrent_runs), (Some(10), Some(2)));
        assert_eq!(child.api_key.expires_at, parent.api_key.expires_at);
        let grandchild = ten.create_api_key(&as_parent, &key("second", &["keys:create"])).await.unwrap();
        let as_grandchild = key_caller(h, &grandchild.key).await.unwrap();
        let great = ten.create_api_key(&as_grandchild, &key("third", &["keys:create"])).await.unwrap();
        // Revoking a key revokes what it made, however deep.
        ten.revoke_api_key(&owner, &parent.api_key.id, Some("leaked")).await.unwrap();
        for secret in [&parent.key, &child.key, &grandchild.key, &great.key] {
            assert!(key_caller(h, secret).await.is_none(), "a key made by a revoked key still works");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_is_only_as_good_as_its_inviter() {
    each_backend(async |h| {
        let accounts = h.runtime.accounts();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let admin = h.member(&owner, &t, "adam", Role::Admin).await;
        let adam = h.user_id("adam").await.unwrap();
        // The admin invites an alternate address as admin, directly and through their key; then leaves.
        let direct = accounts.invite_user(&admin, "alt@example.com", Role::Admin).await.unwrap();
        let (_, admins_key) = real_key(h, &admin, &["invitations:manage"]).await;
        let by_key = accounts.invite_user(&admins_key, "alt2@example.com", Role::Admin).await.unwrap();
        assert_eq!(by_key.invitation.invited_by.as_deref(), Some(adam.as_str()), "a key invites for its person");
        let operator_made = accounts.invite_user(&operator(Some(&t)), "op@example.com", Role::Member).await.unwrap();
        accounts.remove_user(&owner, &adam).await.unwrap();
        for (email, invitation) in [("alt@example.com", &direct), ("alt2@example.com", &by_key)] {
            let alt = h.human(email.split('@').next().unwrap(), email, None).await;
            let refused = accounts.accept_invitation(&alt, &invitation.invitation.id, &invitation.token).await.unwrap();
            assert!(!refused.accepted, "{email} joined on the word of someone who left");
        }
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM tenant_memberships WHERE tenant_id = '{t}'")).await, 1);
        // An operator's invitation names no person and stands.
        let op = h.human("op", "op@example.com", None).await;
        assert!(
            accounts.accept_invitation(&op, &operator_made.invitation.id, &operator_made.token).await.unwrap().accepted
        );
        // A demoted inviter's invitations lapse too.
        let mia = h.member(&owner, &t, "mia", Role::Admin).await;
        let pending = accounts.invite_user(&mia, "late@example.com", Role::Member).await.unwrap();
        h.runtime.accounts().update_user_role(&owner, &h.user_id("mia").await.unwrap(), Role::Member).await.unwrap();
        let late = h.human("late", "late@example.com", None).await;
        assert!(!accounts.accept_invitation(&late, &pending.invitation.id, &pending.token).await.unwrap().accepted);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_restricted_key_completes_only_its_workers_runs() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let (_, owner) = h.owned_tenant("Acme", "ann").await;
        h.execute("UPDATE worker_registry SET status = 'available'").await;
        let limited = ten
            .create_api_key(
                &owner,
                &NewApiKey { allowed_workers: Some(vec!["business-builder".into()]), ..key("ci", &["run:*"]) },
            )
            .await
            .unwrap();
        let ci = key_caller(h, &limited.key).await.unwrap();
        let theirs = ten.create_run(&owner, &run("code-debugger")).await.unwrap();
        let done = completion(1_000);
        expect_code(ten.complete_run(&ci, &theirs.id, &done).await, ErrorCode::Forbidden);
        assert_eq!(h.count("SELECT COUNT(*) FROM usage_records").await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_tenant_leaves_operators_their_own_instances() {
    let config = RuntimeConfig {
        max_concurrent_calls: 16,
        max_calls_per_tenant: 16,
        admission_wait: std::time::Duration::from_millis(300),
        ..test_config()
    };
    for h in harnesses(config).await {
        let h = Arc::new(h);
        let (t, bea) = h.owned_tenant("Beta", "bea").await;
        let big = Arc::new(format!(r#"{{"v":"{}"}}"#, "x".repeat(300_000)));
        let flood: Vec<_> = (0..60)
            .map(|i| {
                let (h, bea, big) = (h.clone(), bea.clone(), big.clone());
                tokio::spawn(async move {
                    h.runtime.memory_pins().upsert_pin(&bea, &format!("k{}", i % 7), &big, None, None).await
                })
            })
            .collect();
        // The operator who would stop the flood gets through while it runs.
        for _ in 0..5 {
            h.runtime.tenants().get_tenant(&operator(Some(&t))).await.expect("an operator is served during a flood");
        }
        for call in flood {
            if let Err(e) = call.await.unwrap() {
                assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}");
            }
        }
        let h = Arc::try_unwrap(h).ok().expect("the harness is free");
        h.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_person_revokes_their_keys() {
    each_backend(async |h| {
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let admin = h.member(&owner, &t, "adam", Role::Admin).await;
        let created = h.runtime.tenants().create_api_key(&admin, &key("adam's", &["read:*"])).await.unwrap();
        let adam = h.user_id("adam").await.unwrap();
        h.execute(&format!("DELETE FROM tenant_memberships WHERE user_id = '{adam}'")).await;
        h.execute(&format!("DELETE FROM users WHERE id = '{adam}'")).await;
        assert!(key_caller(h, &created.key).await.is_none(), "a key whose person is gone works again");
    })
    .await;
}
