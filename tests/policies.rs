//! Tenant policies through the real component and host, on SQLite and PostgreSQL: the five example
//! policies allow and deny what they should; a denial or a failure leaves nothing written (and is
//! counted in the policy's status); a modification is validated again by the engine; management is the
//! owner's (operators may switch a policy off); and a battery of hostile policies is contained: refused
//! at install, or failing closed at run time while the host and other tenants carry on.

use std::time::Duration;

use account_host::bindings::accounts::NewTicket;
use account_host::bindings::aos::accounts::policy_types::{InviteEvent, Trigger};
use account_host::bindings::policies::{NewPolicy, PolicyStatus};
use account_host::bindings::policy_gate::{PolicyEvent, Verdict};
use account_host::bindings::tenants::NewApiKey;
use account_host::bindings::{ErrorCode, Role, TicketCategory, TicketPriority};
use account_host::{Caller, PolicyLimits, RuntimeConfig};
use suite::*;

fn component(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(account_host::runtime::TEST_POLICIES_DIR).join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn new_policy(name: &str, config: &str) -> NewPolicy {
    NewPolicy { component: component(name), config: config.into(), note: Some(format!("{name} for the tests")) }
}

/// Installs `name` with `config` as the owner and activates it; returns its version.
async fn activate(h: &Harness, owner: &Caller, name: &str, config: &str) -> u32 {
    let installed = h.runtime.policies().install(owner, &new_policy(name, config)).await.expect("install");
    assert!(!installed.active, "a version is not active until it is activated");
    let status = h.runtime.policies().activate(owner, installed.version).await.expect("activate");
    assert_eq!(status.active_version, Some(installed.version));
    installed.version
}

async fn status(h: &Harness, owner: &Caller) -> PolicyStatus {
    h.runtime.policies().status(owner).await.expect("status")
}

fn key(name: &str, scopes: &[&str], days: Option<u32>) -> NewApiKey {
    NewApiKey {
        name: name.into(),
        permissions: Some(scopes.iter().map(|s| s.to_string()).collect()),
        allowed_workers: None,
        expires_in_days: days,
        rate_limit_rpm: None,
        max_concurrent_runs: None,
    }
}

fn ticket() -> NewTicket {
    NewTicket {
        subject: "Help".into(),
        description: "Please".into(),
        category: TicketCategory::General,
        priority: TicketPriority::Low,
    }
}

#[tokio::test]
async fn email_domain_allows_the_domain_and_denies_the_rest_writing_nothing() {
    each_backend(async |h| {
        let (tenant, owner) = h.owned_tenant("Acme", "owner-ed").await;
        let version = activate(h, &owner, "email-domain", r#"{"domains": ["acme.com"]}"#).await;
        let invitations = "SELECT COUNT(*) FROM invitations";
        let audit = "SELECT COUNT(*) FROM audit_log WHERE action = 'invite_user'";
        let before = (h.count(invitations).await, h.count(audit).await);

        let denied = h.runtime.accounts().invite_user(&owner, "eve@evil.example", Role::Member).await;
        let message = expect_code(denied, ErrorCode::PolicyDenied);
        assert!(message.contains("@acme.com") && message.contains(&format!("version {version}")) && message.contains("invite-user"), "{message}");
        assert_eq!((h.count(invitations).await, h.count(audit).await), before, "a denial writes nothing");

        let invited = h.runtime.accounts().invite_user(&owner, "bob@ACME.com", Role::Member).await.expect("the domain is allowed");
        // Accepting is a decision point too: the invitation's tenant's policy runs for the invitee.
        let invitee = h.human("bob-ed", "bob@acme.com", None).await;
        let accepted = h.runtime.accounts().accept_invitation(&invitee, &invited.invitation.id, &invited.token).await.expect("accept");
        assert!(accepted.accepted, "{}", accepted.message);

        let s = status(h, &owner).await;
        assert_eq!((s.calls, s.denials, s.failures), (3, 1, 0), "two invitations and one acceptance ran the policy");
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action IN ('install_policy', 'activate_policy') AND tenant_id = '{tenant}'")).await, 2);
    })
    .await;
}

#[tokio::test]
async fn key_rules_narrow_keys_and_the_engine_checks_the_narrowing() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Keys", "owner-kr").await;
        activate(h, &owner, "key-rules", r#"{"max_days": 30, "forbidden_scopes": ["admin:*"]}"#).await;
        let created = h
            .runtime
            .tenants()
            .create_api_key(&owner, &key("ci", &["admin:*", "run:*"], None))
            .await
            .expect("narrowed, not refused");
        assert_eq!(created.api_key.permissions, vec!["run:*".to_string()]);
        assert_eq!(created.api_key.expires_at, Some(T0 + 30 * DAY), "no expiry asked: the policy's 30 days");
        let sooner = h
            .runtime
            .tenants()
            .create_api_key(&owner, &key("short", &["run:*"], Some(7)))
            .await
            .expect("allowed as asked");
        assert_eq!(sooner.api_key.expires_at, Some(T0 + 7 * DAY));

        let keys = "SELECT COUNT(*) FROM api_keys";
        let before = h.count(keys).await;
        let denied = h.runtime.tenants().create_api_key(&owner, &key("root", &["admin:*"], None)).await;
        assert!(expect_code(denied, ErrorCode::PolicyDenied).contains("admin:*"));
        assert_eq!(h.count(keys).await, before);
    })
    .await;
}

/// A policy built for an earlier contract (`tests/policies/fixtures/key-rules-0.4.0.wasm`:
/// `key-rules` as it was built for 0.4.0) installs and runs on this host: 0.5.0 changed the engine's
/// list results, not the policy contract, so tenants do not rebuild their policies (the host keeps the
/// 0.4 hooks' bindings, `host/wit-policy-0.4`).
#[tokio::test]
async fn a_policy_built_for_an_earlier_patch_of_the_contract_still_runs() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Old", "owner-old").await;
        let fixture =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/fixtures/key-rules-0.4.0.wasm");
        let component = std::fs::read(&fixture).expect("the 0.4.0 fixture");
        let config = r#"{"max_days": 30, "forbidden_scopes": ["admin:*"]}"#;
        let installed = h
            .runtime
            .policies()
            .install(&owner, &NewPolicy { component, config: config.into(), note: None })
            .await
            .expect("a 0.4.0 policy installs");
        h.runtime.policies().activate(&owner, installed.version).await.expect("activate");
        let created = h
            .runtime
            .tenants()
            .create_api_key(&owner, &key("ci", &["admin:*", "run:*"], None))
            .await
            .expect("narrowed");
        assert_eq!(created.api_key.permissions, vec!["run:*".to_string()]);
        assert_eq!(created.api_key.expires_at, Some(T0 + 30 * DAY));
    })
    .await;
}

#[tokio::test]
async fn pin_schema_denies_pins_without_the_field_and_its_rewrite_is_validated() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Pins", "owner-ps").await;
        activate(
            h,
            &owner,
            "pin-schema",
            r#"{"prefix": "agent:", "required": ["version"], "default_ttl_seconds": 3600}"#,
        )
        .await;
        let pins = "SELECT COUNT(*) FROM memory_pins";
        let denied = h.runtime.memory_pins().upsert_pin(&owner, "agent:planner", r#"{"goal": "x"}"#, None, None).await;
        assert!(expect_code(denied, ErrorCode::PolicyDenied).contains("`version`"));
        assert_eq!(h.count(pins).await, 0);
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_audit").await, 0, "nothing of the denied write is logged");

        let pin = h
            .runtime
            .memory_pins()
            .upsert_pin(&owner, "agent:planner", r#"{"version": 2}"#, None, None)
            .await
            .expect("valid");
        assert_eq!(pin.ttl_seconds, Some(3600), "rewritten with the default TTL");
        let other = h
            .runtime
            .memory_pins()
            .upsert_pin(&owner, "notes", r#"{"a": 1}"#, None, None)
            .await
            .expect("outside the prefix");
        assert_eq!(other.ttl_seconds, None);
    })
    .await;
}

#[tokio::test]
async fn office_hours_use_the_calls_time() {
    each_backend(async |h| {
        let (tenant, owner) = h.owned_tenant("Hours", "owner-oh").await;
        let member = h.member(&owner, &tenant, "member-oh", Role::Member).await;
        let member_id = h.user_id("member-oh").await.unwrap();
        activate(h, &owner, "office-hours", r#"{"from_hour": 9, "to_hour": 17, "weekdays_only": true}"#).await;
        // T0 is Sunday 2026-03-15, 12:00 UTC.
        let sunday = h.runtime.accounts().update_user_role(&owner, &member_id, Role::Owner).await;
        assert!(expect_code(sunday, ErrorCode::PolicyDenied).contains("weekdays"));
        h.runtime.accounts().update_user_role(&owner, &member_id, Role::Admin).await.expect("only owners are guarded");
        h.clock.set(T0 + DAY + 8 * 3600 * SECOND); // Monday 20:00
        let evening = h.runtime.accounts().update_user_role(&owner, &member_id, Role::Owner).await;
        assert!(expect_code(evening, ErrorCode::PolicyDenied).contains("9:00 and 17:00"));
        h.clock.set(T0 + DAY); // Monday 12:00
        h.runtime.accounts().update_user_role(&owner, &member_id, Role::Owner).await.expect("in office hours");
        drop(member);
    })
    .await;
}

#[tokio::test]
async fn member_cap_counts_members_and_pending_invitations() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Cap", "owner-mc").await;
        activate(h, &owner, "member-cap", r#"{"max_members": 2}"#).await;
        h.runtime.accounts().invite_user(&owner, "a@example.com", Role::Member).await.expect("1 member + 1 pending");
        let over = h.runtime.accounts().invite_user(&owner, "b@example.com", Role::Member).await;
        assert!(expect_code(over, ErrorCode::PolicyDenied).contains("at most 2 members"));
        assert_eq!(h.count("SELECT COUNT(*) FROM invitations").await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_policy_cannot_widen_a_key_or_write_an_invalid_pin() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Widen", "owner-wk").await;
        let version = activate(h, &owner, "hostile", r#"{"mode": "widen-key"}"#).await;
        let keys = h.count("SELECT COUNT(*) FROM api_keys").await;
        let widened = h.runtime.tenants().create_api_key(&owner, &key("k", &["run:*"], Some(7))).await;
        assert!(expect_code(widened, ErrorCode::PolicyFailed).contains("widen"));
        assert_eq!(h.count("SELECT COUNT(*) FROM api_keys").await, keys);

        h.runtime.policies().deactivate(&owner, None).await.expect("deactivate");
        let bad_pin =
            h.runtime.policies().install(&owner, &new_policy("hostile", r#"{"mode": "bad-pin"}"#)).await.unwrap();
        h.runtime.policies().activate(&owner, bad_pin.version).await.unwrap();
        assert!(bad_pin.version > version);
        let written = h.runtime.memory_pins().upsert_pin(&owner, "k", r#"{"a": 1}"#, None, None).await;
        assert!(expect_code(written, ErrorCode::PolicyFailed).contains("invalid"));
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 0);
    })
    .await;
}

#[tokio::test]
async fn management_is_the_owners_and_operators_may_only_switch_it_off() {
    each_backend(async |h| {
        let (tenant, owner) = h.owned_tenant("Mgmt", "owner-mg").await;
        let admin = h.member(&owner, &tenant, "admin-mg", Role::Admin).await;
        let policy = new_policy("hostile", r#"{"mode": "deny"}"#);
        expect_code(h.runtime.policies().install(&admin, &policy).await, ErrorCode::Forbidden);
        expect_code(h.runtime.policies().status(&admin).await, ErrorCode::Forbidden);
        let op = operator(Some(&tenant));
        expect_code(h.runtime.policies().install(&op, &policy).await, ErrorCode::Forbidden);
        let created = h.runtime.tenants().create_api_key(&owner, &key("all", &["admin:*"], None)).await.unwrap();
        let key_caller = key_caller(h, &created.key).await.unwrap();
        expect_code(h.runtime.policies().install(&key_caller, &policy).await, ErrorCode::Forbidden);
        expect_code(h.runtime.policies().list_versions(&key_caller).await, ErrorCode::Forbidden);
        assert_eq!(h.count("SELECT COUNT(*) FROM policy_versions").await, 0);

        // A policy that denies everything never locks its owner out of managing it.
        let deny_all = activate(h, &owner, "hostile", r#"{"mode": "deny"}"#).await;
        expect_code(
            h.runtime.accounts().invite_user(&owner, "x@example.com", Role::Member).await,
            ErrorCode::PolicyDenied,
        );
        expect_code(h.runtime.accounts().create_support_ticket(&owner, &ticket()).await, ErrorCode::PolicyDenied);
        let off = h.runtime.policies().deactivate(&owner, Some("too strict")).await.expect("the owner removes it");
        assert_eq!((off.active_version, off.previous_version), (None, Some(deny_all)));
        h.runtime.accounts().invite_user(&owner, "x@example.com", Role::Member).await.expect("no policy any more");

        // Rollback goes back to the version before; an operator switches any tenant's policy off.
        let allow = activate(h, &owner, "hostile", r#"{"mode": "allow"}"#).await;
        let back = h.runtime.policies().rollback(&owner).await.expect("rollback");
        assert_eq!((back.active_version, back.previous_version), (Some(deny_all), None), "one step back, not a toggle");
        expect_code(h.runtime.policies().rollback(&owner).await, ErrorCode::NotFound);
        expect_code(h.runtime.policies().delete_version(&owner, deny_all).await, ErrorCode::Conflict);
        assert!(h.runtime.policies().delete_version(&owner, allow).await.expect("delete an inactive version"));
        let disabled =
            h.runtime.policies().deactivate(&op, Some("abuse report 42")).await.expect("operator disables it");
        assert_eq!(disabled.changed_by.as_deref(), Some("operator:founder@example.com"));
        assert_eq!(disabled.reason.as_deref(), Some("abuse report 42"));
        h.runtime.accounts().create_support_ticket(&owner, &ticket()).await.expect("disabled");
        let versions = h.runtime.policies().list_versions(&op).await.expect("operators read versions");
        assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![deny_all]);
        assert_eq!(
            h.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE resource_type = 'policy' AND tenant_id = '{tenant}'"
            ))
            .await,
            // install ×2, activate ×2, deactivate ×2, rollback, delete
            8
        );
    })
    .await;
}

#[tokio::test]
async fn dry_run_answers_without_activating_or_counting() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Dry", "owner-dr").await;
        let installed = h
            .runtime
            .policies()
            .install(&owner, &new_policy("email-domain", r#"{"domains": ["acme.com"]}"#))
            .await
            .unwrap();
        let event = |email: &str| {
            PolicyEvent::InviteUser(InviteEvent {
                email: email.into(),
                role: Role::Member,
                members: 1,
                pending_invitations: 0,
            })
        };
        let out =
            h.runtime.policies().dry_run(&owner, installed.version, &event("eve@evil.example")).await.expect("dry run");
        assert!(matches!(&out.verdict, Verdict::Deny(r) if r.contains("@acme.com")), "{:?}", out.verdict);
        assert!(out.handled && out.fuel_used > 0);
        let ticket = PolicyEvent::FileTicket(account_host::bindings::aos::accounts::policy_types::TicketEvent {
            subject: "s".into(),
            description: "d".into(),
            category: TicketCategory::General,
            priority: TicketPriority::Low,
        });
        let unhandled = h.runtime.policies().dry_run(&owner, installed.version, &ticket).await.unwrap();
        assert!(!unhandled.handled && matches!(unhandled.verdict, Verdict::Allow) && unhandled.fuel_used == 0);
        let ok = h.runtime.policies().dry_run(&owner, installed.version, &event("bob@acme.com")).await.unwrap();
        assert!(matches!(ok.verdict, Verdict::Allow));
        expect_code(
            h.runtime.policies().dry_run(&owner, installed.version + 7, &event("x@acme.com")).await,
            ErrorCode::NotFound,
        );
        let s = status(h, &owner).await;
        assert_eq!((s.active_version, s.calls), (None, 0), "a dry run activates and counts nothing");
        h.runtime.accounts().invite_user(&owner, "eve@evil.example", Role::Member).await.expect("not active");
    })
    .await;
}

/// Hostile uploads are refused at install with a clear error, and nothing is stored.
#[tokio::test]
async fn hostile_uploads_are_refused_at_install() {
    const CAP: usize = 8 << 20;
    let limits = PolicyLimits { max_component_bytes: CAP, ..PolicyLimits::default() };
    let config = RuntimeConfig { policies: limits, ..test_config() };
    let h = Harness::sqlite_with(config).await;
    let (_, owner) = h.owned_tenant("Uploads", "owner-up").await;
    let install = |bytes: Vec<u8>| {
        let owner = owner.clone();
        let h = &h;
        async move {
            h.runtime.policies().install(&owner, &NewPolicy { component: bytes, config: "{}".into(), note: None }).await
        }
    };
    let imports = expect_code(install(component("imports-wasi")).await, ErrorCode::InvalidArgument);
    assert!(
        imports.contains("import nothing") && imports.contains("wasi:random") && !imports.contains("types@"),
        "{imports}"
    );
    let core = expect_code(install(component("hostile-core")).await, ErrorCode::InvalidArgument);
    assert!(core.contains("core WebAssembly module"), "{core}");
    let corrupt = expect_code(install(b"\0asm\x0d\0\x01\0garbage".to_vec()).await, ErrorCode::InvalidArgument);
    assert!(corrupt.contains("not a valid WebAssembly component"), "{corrupt}");
    let text = expect_code(install(b"function hooks() {}".to_vec()).await, ErrorCode::InvalidArgument);
    assert!(text.contains("not WebAssembly"), "{text}");
    // Components of other worlds: the engine itself and the rogue guest (both import drivers).
    for other in [account_host::runtime::ACCOUNT_ENGINE_COMPONENT, account_host::runtime::ROGUE_GUEST_COMPONENT] {
        let world = expect_code(install(other.to_vec()).await, ErrorCode::InvalidArgument);
        assert!(world.contains("import nothing") && world.contains("driver"), "{world}");
    }
    let mut oversized = component("hostile");
    oversized.resize(CAP + 1, 0);
    let size = expect_code(install(oversized).await, ErrorCode::QuotaExceeded);
    assert!(size.contains(&format!("at most {CAP} bytes")), "{size}");
    expect_code(
        h.runtime
            .policies()
            .install(&owner, &NewPolicy { component: component("hostile"), config: "[1]".into(), note: None })
            .await,
        ErrorCode::InvalidArgument,
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM policy_versions").await, 0);
    h.runtime.policies().install(&owner, &new_policy("hostile", "{}")).await.expect("a real policy still installs");

    // The engine's own rules come before the verdict on the bytes, as on every host: who may install,
    // the tenant's lifecycle, the config.
    let junk =
        |config: &str| NewPolicy { component: b"function hooks() {}".to_vec(), config: config.into(), note: None };
    let config = expect_code(h.runtime.policies().install(&owner, &junk("[1]")).await, ErrorCode::InvalidArgument);
    assert!(config.contains("config"), "the config is refused first: {config}");
    let tenant = owner.tenant_id.clone().expect("the owner's tenant");
    expect_code(h.runtime.policies().install(&operator(Some(&tenant)), &junk("{}")).await, ErrorCode::Forbidden);
    h.runtime.lifecycle().suspend(&operator(Some(&tenant)), "unpaid").await.expect("suspend");
    expect_code(h.runtime.policies().install(&owner, &junk("{}")).await, ErrorCode::LifecycleBlocked);
    assert_eq!(h.count("SELECT COUNT(*) FROM policy_versions").await, 1);
    h.close().await;
}

/// A compilation that takes longer than the bound refuses the upload, and the host carries on.
#[tokio::test]
async fn a_compilation_past_its_bound_is_refused() {
    let limits = PolicyLimits { compile_timeout: Duration::from_micros(1), ..PolicyLimits::default() };
    let h = Harness::sqlite_with(RuntimeConfig { policies: limits, ..test_config() }).await;
    let (_, owner) = h.owned_tenant("Bomb", "owner-cb").await;
    let refused = expect_code(
        h.runtime.policies().install(&owner, &new_policy("hostile", "{}")).await,
        ErrorCode::InvalidArgument,
    );
    assert!(refused.contains("longer than 0 ms"), "{refused}");
    // Refused again when tried again (the finished compilation is not kept for a too-slow upload).
    tokio::time::sleep(Duration::from_millis(300)).await;
    expect_code(h.runtime.policies().install(&owner, &new_policy("hostile", "{}")).await, ErrorCode::InvalidArgument);
    assert_eq!(h.count("SELECT COUNT(*) FROM policy_versions").await, 0);
    h.runtime.accounts().invite_user(&owner, "x@example.com", Role::Member).await.expect("the host carries on");
    h.close().await;
}

/// Every run-time misbehaviour refuses the operation (fail closed), writes nothing, is counted with its
/// cause, and leaves the host and other tenants — even while it runs — unaffected.
#[tokio::test]
async fn hostile_policies_fail_closed_while_other_tenants_carry_on() {
    // A deadline far beyond the instruction budget: the loop is stopped by fuel, deterministically.
    let limits = PolicyLimits { deadline: Duration::from_secs(5), ..PolicyLimits::default() };
    each_backend_with(RuntimeConfig { policies: limits, ..test_config() }, async |h| {
        let (_, victim_owner) = h.owned_tenant("Victim", "owner-victim").await;
        let (_, other_owner) = h.owned_tenant("Neighbour", "owner-neighbour").await;
        // The neighbour runs the same bytes with its own config: compiled code is shared by content hash,
        // but the configuration (and so the answer) is the tenant's.
        activate(h, &other_owner, "hostile", r#"{"mode": "allow"}"#).await;
        for (mode, cause) in [
            ("loop", "instruction budget"),
            ("hoard", "memory"),
            ("recurse", "stack"),
            ("huge-reason", "deny reason"),
            ("trap", "trapped"),
        ] {
            let version = activate(h, &victim_owner, "hostile", &format!(r#"{{"mode": "{mode}"}}"#)).await;
            let before = h.count("SELECT COUNT(*) FROM invitations").await;
            let hostile = {
                let runtime = &h.runtime;
                let victim_owner = victim_owner.clone();
                async move {
                    runtime.accounts().invite_user(&victim_owner, &format!("{mode}@example.com"), Role::Member).await
                }
            };
            let neighbour = async {
                let mut served = 0;
                for i in 0..5 {
                    h.runtime
                        .accounts()
                        .invite_user(&other_owner, &format!("n{mode}{i}@example.com"), Role::Viewer)
                        .await
                        .expect("the neighbour is served");
                    served += 1;
                }
                served
            };
            let (hostile, served) = tokio::join!(hostile, neighbour);
            let message = expect_code(hostile, ErrorCode::PolicyFailed);
            assert!(
                message.contains(cause)
                    && message.contains(&format!("version {version}"))
                    && message.contains("invite-user"),
                "{mode}: {message}"
            );
            assert_eq!(served, 5);
            assert_eq!(
                h.count("SELECT COUNT(*) FROM invitations").await,
                before + 5,
                "{mode}: only the neighbour's invitations"
            );
            let s = status(h, &victim_owner).await;
            assert_eq!(s.failures, 1, "{mode}");
            let last = s.last_failure.expect("the failure is reported");
            assert_eq!((last.version, last.trigger), (version, Trigger::InviteUser));
            assert!(last.message.contains(cause), "{mode}: {}", last.message);
        }
        let neighbour = status(h, &other_owner).await;
        assert_eq!((neighbour.calls, neighbour.failures), (25, 0), "the neighbour's policy ran for its own calls only");
    })
    .await;
}

/// Tenant A's policy never runs for tenant B, under concurrent calls of both.
#[tokio::test]
async fn a_tenants_policy_never_runs_for_another() {
    each_backend(async |h| {
        let (_, a) = h.owned_tenant("A", "owner-a").await;
        let (_, b) = h.owned_tenant("B", "owner-b").await;
        activate(h, &a, "hostile", r#"{"mode": "deny"}"#).await;
        let calls = (0..8).map(|i| {
            let (a, b, runtime) = (a.clone(), b.clone(), &h.runtime);
            async move {
                let denied = runtime.memory_pins().upsert_pin(&a, &format!("k{i}"), r#"{"a": 1}"#, None, None).await;
                let allowed = runtime.memory_pins().upsert_pin(&b, &format!("k{i}"), r#"{"a": 1}"#, None, None).await;
                (denied.map(|_| ()), allowed.map(|_| ()))
            }
        });
        for (denied, allowed) in futures_util::future::join_all(calls).await {
            expect_code(denied, ErrorCode::PolicyDenied);
            allowed.expect("B has no policy");
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 8);
        let s = status(h, &a).await;
        assert_eq!((s.calls, s.denials), (8, 8));
        assert_eq!(status(h, &b).await.calls, 0);
    })
    .await;
}

/// A policy's counters survive the process: they are written outside the calls' transactions.
#[tokio::test]
async fn counters_are_written_to_the_database() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Counters", "owner-ct").await;
        activate(h, &owner, "hostile", r#"{"mode": "deny"}"#).await;
        expect_code(h.runtime.accounts().create_support_ticket(&owner, &ticket()).await, ErrorCode::PolicyDenied);
        h.runtime.policy_runtime().stats.flush(&h.db).await.expect("flush");
        assert_eq!(h.count("SELECT MAX(denials) FROM policy_versions").await, 1);
    })
    .await;
}

/// Wall-clock time is the second limit: a hook that is given fuel without end is stopped by its deadline.
#[tokio::test]
async fn a_policy_past_its_deadline_is_stopped() {
    let limits = PolicyLimits { fuel: u64::MAX / 4, deadline: Duration::from_millis(50), ..PolicyLimits::default() };
    let h = Harness::sqlite_with(RuntimeConfig { policies: limits, ..test_config() }).await;
    let (_, owner) = h.owned_tenant("Slow", "owner-sl").await;
    activate(&h, &owner, "hostile", r#"{"mode": "loop"}"#).await;
    let message =
        expect_code(h.runtime.accounts().create_support_ticket(&owner, &ticket()).await, ErrorCode::PolicyFailed);
    assert!(message.contains("deadline (50 ms)") && message.contains("file-ticket"), "{message}");
    assert_eq!(h.count("SELECT COUNT(*) FROM support_tickets").await, 0);
    h.close().await;
}
