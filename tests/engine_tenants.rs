//! The `tenants` operations through the real component: plans, memberships, API keys, quotas with their
//! UTC day and month resets, runs and usage.

use account_host::bindings::tenants::{NewApiKey, NewRun, NewUsage, RunCompletion};
use account_host::bindings::{
    ApiKeyStatus, ErrorCode, OnboardingState, Plan, Role, RunStatus, TenantStatus, UsageUnit,
};
use suite::{DAY, SECOND, T0, api_key, each_backend, expect_code, key, operator, page};

fn run() -> NewRun {
    NewRun { worker_id: "business-builder".into(), task: "grow".into(), input_json: Some(r#"{"goal":"x"}"#.into()) }
}

fn completion(success: bool, tokens: i64) -> RunCompletion {
    RunCompletion {
        success,
        output_json: None,
        replay_token_json: None,
        total_tokens: tokens,
        total_latency_ms: 5,
        stages_completed: 1,
        recoveries: 0,
        policy_violations: 0,
        cost_cents: 3,
        error: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_plans_and_memberships() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let t = h.tenant("acme").await;
        let (_, owner) = h.owned_tenant("Other", "ann").await;
        let op = operator(Some(&t.id));

        expect_code(
            ten.create_tenant(
                &owner,
                &account_host::bindings::tenants::NewTenant {
                    name: "x".into(),
                    slug: "x".into(),
                    plan: Plan::Free,
                    external_org_id: None,
                    billing_email: None,
                },
            )
            .await,
            ErrorCode::Forbidden,
        );
        expect_code(
            ten.create_tenant(
                &operator(None),
                &account_host::bindings::tenants::NewTenant {
                    name: "x".into(),
                    slug: "Bad Slug".into(),
                    plan: Plan::Free,
                    external_org_id: None,
                    billing_email: None,
                },
            )
            .await,
            ErrorCode::InvalidArgument,
        );
        assert_eq!(ten.get_tenant_by_slug(&operator(None), "acme").await.unwrap().unwrap().id, t.id);
        // A customer sees only their own tenant by slug.
        assert!(ten.get_tenant_by_slug(&owner, "acme").await.unwrap().is_none());

        let pro = ten.update_plan(&op, Plan::Pro).await.unwrap();
        assert_eq!((pro.plan, pro.quotas.max_api_keys, pro.quotas.max_tokens_per_month), (Plan::Pro, 20, 10_000_000));
        expect_code(ten.update_plan(&owner, Plan::Enterprise).await, ErrorCode::Forbidden);
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'update_plan'").await, 1);

        let ann = h.user_id("ann").await.unwrap();
        let m = ten.create_membership_with_default(&op, &ann, Role::Admin, false).await.unwrap();
        assert_eq!((m.role, m.tenant_id.as_str()), (Role::Admin, t.id.as_str()));
        expect_code(ten.create_membership_with_default(&op, &ann, Role::Admin, false).await, ErrorCode::Conflict);
        expect_code(
            ten.create_membership_with_default(&op, &uuid::Uuid::new_v4().to_string(), Role::Admin, true).await,
            ErrorCode::NotFound,
        );

        // Suspension goes through the lifecycle state machine.
        let suspended = ten.suspend(&op, "unpaid invoice").await.unwrap();
        assert_eq!(
            (suspended.status, suspended.suspended_reason.as_deref()),
            (TenantStatus::Suspended, Some("unpaid invoice"))
        );
        expect_code(ten.suspend(&op, "again").await, ErrorCode::Conflict);
        h.runtime.lifecycle().terminate(&op, "gone").await.unwrap();
        expect_code(ten.suspend(&op, "after termination").await, ErrorCode::Conflict);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let member = h.member(&owner, &t, "bob", Role::Member).await;

        let created = ten.create_api_key(&owner, &NewApiKey { expires_in_days: Some(30), ..key("ci") }).await.unwrap();
        assert!(created.key.starts_with("aos_") && created.key.len() == 47, "{}", created.key);
        assert_eq!(created.api_key.key_prefix, created.key[..12]);
        assert_eq!(created.api_key.permissions, ["run:*", "read:*", "onboarding:write"]);
        assert_eq!(created.api_key.expires_at, Some(T0 + 30 * DAY));
        // Only the hash is kept, and the creation is audited and counts as onboarding evidence.
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM api_keys WHERE key_hash = '{}'", created.key)).await, 0);
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'create_api_key'").await, 1);
        let state = h.runtime.onboarding().get_state(&owner).await.unwrap();
        assert_eq!(state.state, OnboardingState::ApiKeyCreated);

        expect_code(ten.create_api_key(&member, &key("mine")).await, ErrorCode::Forbidden);
        expect_code(ten.create_api_key(&owner, &key("")).await, ErrorCode::InvalidArgument);
        expect_code(
            ten.create_api_key(&owner, &NewApiKey { expires_in_days: Some(0), ..key("x") }).await,
            ErrorCode::InvalidArgument,
        );
        expect_code(
            ten.create_api_key(&owner, &NewApiKey { rate_limit_rpm: Some(1001), ..key("x") }).await,
            ErrorCode::InvalidArgument,
        );
        // A key with `keys:create` may mint keys, but only with what it holds itself; the default scopes
        // may not mint at all.
        let minting = api_key(&t, &created.api_key.id, &["keys:create"]);
        ten.create_api_key(&minting, &NewApiKey { permissions: Some(vec!["keys:create".into()]), ..key("from a key") })
            .await
            .unwrap();
        expect_code(ten.create_api_key(&minting, &key("defaults are more than it holds")).await, ErrorCode::Forbidden);
        expect_code(
            ten.create_api_key(&api_key(&t, &created.api_key.id, &["run:*", "read:*"]), &key("no")).await,
            ErrorCode::Forbidden,
        );

        // The plan's quota: 5 active keys on free.
        for i in 0..3 {
            ten.create_api_key(&owner, &key(&format!("k{i}"))).await.unwrap();
        }
        let over = ten.create_api_key(&owner, &key("sixth")).await;
        assert!(expect_code(over, ErrorCode::QuotaExceeded).contains("5/5"));
        assert_eq!(h.count("SELECT COUNT(*) FROM api_keys").await, 5);

        let listed = ten.list_api_keys(&owner, false, &page(2)).await.unwrap();
        assert_eq!(listed.items.len(), 2);
        assert!(listed.next.is_some());
        let revoked = ten.revoke_api_key(&owner, &created.api_key.id, Some("leaked")).await.unwrap();
        assert_eq!((revoked.status, revoked.revoked_reason.as_deref()), (ApiKeyStatus::Revoked, Some("leaked")));
        // Revoking again changes nothing and writes no second audit row.
        ten.revoke_api_key(&owner, &created.api_key.id, None).await.unwrap();
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'revoke_api_key'").await, 1);
        assert_eq!(ten.list_api_keys(&owner, true, &page(10)).await.unwrap().items.len(), 5);
        // The key it made went with it.
        assert_eq!(ten.list_api_keys(&owner, false, &page(10)).await.unwrap().items.len(), 3);

        // Another tenant's key is not found, and stays active.
        let (_, other_owner) = h.owned_tenant("Other", "zed").await;
        let foreign = ten.create_api_key(&other_owner, &key("theirs")).await.unwrap();
        expect_code(ten.revoke_api_key(&owner, &foreign.api_key.id, None).await, ErrorCode::NotFound);
        assert_eq!(
            h.count(&format!(
                "SELECT COUNT(*) FROM api_keys WHERE id = '{}' AND status = 'active'",
                foreign.api_key.id
            ))
            .await,
            1
        );

        // A suspended tenant mints no keys.
        h.runtime.lifecycle().suspend(&operator(Some(&t)), "review").await.unwrap();
        expect_code(ten.create_api_key(&owner, &key("late")).await, ErrorCode::LifecycleBlocked);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_runs_and_usage() {
    each_backend(async |h| {
        let ten = h.runtime.tenants();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let viewer = h.member(&owner, &t, "cid", Role::Viewer).await;
        let op = operator(Some(&t));

        assert!(ten.check_run_quota(&owner).await.unwrap().allowed);
        expect_code(ten.check_run_quota(&viewer).await, ErrorCode::Forbidden);
        let first = ten.create_run(&owner, &run()).await.unwrap();
        assert_eq!(first.status, RunStatus::Queued);
        expect_code(ten.create_run(&owner, &NewRun { worker_id: "nope".into(), ..run() }).await, ErrorCode::NotFound);
        for _ in 0..4 {
            ten.create_run(&owner, &run()).await.unwrap();
        }
        // Five queued runs: the free plan's concurrency limit.
        let decision = ten.check_run_quota(&owner).await.unwrap();
        assert_eq!((decision.allowed, decision.reason.as_str()), (false, "Concurrent run limit (5) exceeded"));
        let refused = expect_code(ten.create_run(&owner, &run()).await, ErrorCode::QuotaExceeded);
        assert_eq!(refused, "Concurrent run limit (5) exceeded");

        let done = ten.complete_run(&owner, &first.id, &completion(true, 1_500)).await.unwrap();
        assert_eq!((done.status, done.total_tokens), (RunStatus::Completed, Some(1_500)));
        expect_code(ten.complete_run(&owner, &first.id, &completion(false, 0)).await, ErrorCode::Conflict);
        expect_code(
            ten.complete_run(&owner, &uuid::Uuid::new_v4().to_string(), &completion(true, 0)).await,
            ErrorCode::NotFound,
        );
        let tenant = ten.get_tenant(&op).await.unwrap();
        assert_eq!(
            (tenant.usage.runs_today, tenant.usage.runs_this_month, tenant.usage.tokens_this_month),
            (5, 5, 1_500)
        );
        assert_eq!(ten.list_runs(&viewer, Some(RunStatus::Queued), None, &page(10)).await.unwrap().items.len(), 4);

        // Usage: completion recorded `tokens_used` and `worker_runs`; the current hour counts.
        ten.record_usage(
            &owner,
            &NewUsage {
                meter_name: "api_calls".into(),
                amount: 7,
                unit: UsageUnit::Count,
                worker_id: None,
                metadata: Some(r#"{"route":"/x"}"#.into()),
            },
        )
        .await
        .unwrap();
        expect_code(
            ten.record_usage(
                &owner,
                &NewUsage {
                    meter_name: "Bad Meter".into(),
                    amount: 1,
                    unit: UsageUnit::Count,
                    worker_id: None,
                    metadata: None,
                },
            )
            .await,
            ErrorCode::InvalidArgument,
        );
        let summary = ten.get_usage_summary(&viewer, None, None).await.unwrap();
        let total = |m: &str| summary.meters.iter().find(|x| x.meter_name == m).map(|x| x.total);
        assert_eq!((total("tokens_used"), total("worker_runs"), total("api_calls")), (Some(1_500), Some(1), Some(7)));
        assert_eq!(summary.total_records, 3);

        // Tokens: strictly greater than the quota is refused, with the limit written out.
        assert!(ten.check_token_quota(&owner, 998_500).await.unwrap().allowed);
        let no = ten.check_token_quota(&owner, 998_501).await.unwrap();
        assert_eq!((no.allowed, no.reason.as_str()), (false, "Monthly token limit (1,000,000) would be exceeded"));

        // The next UTC day resets the daily counter; the next UTC month the monthly ones.
        let counters = ten.increment_usage(&owner, 100).await.unwrap();
        assert_eq!((counters.runs_today, counters.tokens_this_month), (6, 1_600));
        h.clock.set(T0 + DAY);
        let counters = ten.increment_usage(&owner, 0).await.unwrap();
        assert_eq!((counters.runs_today, counters.runs_this_month, counters.tokens_this_month), (1, 7, 1_600));
        h.clock.set(T0 + 20 * DAY); // 2026-04-04
        let counters = ten.increment_usage(&owner, 10).await.unwrap();
        assert_eq!((counters.runs_today, counters.runs_this_month, counters.tokens_this_month), (1, 1, 10));
        let billing = h.runtime.accounts().get_billing_summary(&owner).await.unwrap();
        assert_eq!(billing.usage.runs_this_month, 1);
        h.clock.set(T0 + 20 * DAY + 30 * DAY + SECOND);
        // Read-only views show the counters in force without writing.
        let billing = h.runtime.accounts().get_billing_summary(&owner).await.unwrap();
        assert_eq!((billing.usage.runs_today, billing.usage.tokens_this_month), (0, 0));
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'create_run'").await, 5);
    })
    .await;
}

/// The bounds this engine added for what callers store: usage metadata (64 KiB canonical), an e-mail of
/// at most 255 characters as sent, JSON without NUL, one spelling of an id. Each refusal writes nothing.
#[tokio::test]
async fn stored_values_are_bounded_and_refusals_write_nothing() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Bounds", "owner-bounds").await;
        let ten = h.runtime.tenants();
        let acc = h.runtime.accounts();
        let counts = || async {
            (
                h.count("SELECT COUNT(*) FROM usage_records").await,
                h.count("SELECT COUNT(*) FROM invitations").await,
                h.count("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL").await,
                h.count("SELECT COUNT(*) FROM audit_log").await,
            )
        };
        let usage = |metadata: String| NewUsage {
            meter_name: "api_calls".into(),
            amount: 1,
            unit: UsageUnit::Count,
            worker_id: None,
            metadata: Some(metadata),
        };
        // 64 KiB in canonical form is taken; a byte more is not.
        let fits = format!(r#"{{"x":"{}"}}"#, "a".repeat((64 << 10) - 8));
        ten.record_usage(&owner, &usage(fits)).await.expect("64 KiB of metadata");
        let created = ten.create_api_key(&owner, &key("spelt")).await.unwrap();
        let before = counts().await;

        let too_large = format!(r#"{{"x":"{}"}}"#, "a".repeat((64 << 10) - 7));
        expect_code(ten.record_usage(&owner, &usage(too_large)).await, ErrorCode::InvalidArgument);
        expect_code(ten.record_usage(&owner, &usage(r#"{"x":"a\u0000b"}"#.into())).await, ErrorCode::InvalidArgument);
        // 250 characters of address are an e-mail; with 10 spaces around them, 260 characters are not one.
        let address = format!("{}@example.com", "a".repeat(238));
        assert_eq!(address.len(), 250);
        expect_code(
            acc.invite_user(&owner, &format!("     {address}     "), Role::Member).await,
            ErrorCode::InvalidArgument,
        );
        // The key's id upper-cased, or without hyphens, names no key: nothing is revoked.
        let id = created.api_key.id.clone();
        expect_code(ten.revoke_api_key(&owner, &id.to_uppercase(), None).await, ErrorCode::NotFound);
        expect_code(ten.revoke_api_key(&owner, &id.replace('-', ""), None).await, ErrorCode::NotFound);
        assert_eq!(counts().await, before, "no refusal wrote anything");

        acc.invite_user(&owner, &address, Role::Member).await.expect("the same address, unpadded");
    })
    .await;
}
