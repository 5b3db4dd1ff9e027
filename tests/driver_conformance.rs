//! The driver conformance suite: every function of the six driver interfaces, called on the host's
//! implementation exactly as the component calls it, with the same test bodies on SQLite and PostgreSQL.
//! Each test asserts the rows written and returned and the refusals (missing row, conflict, cross-tenant
//! access, bad value).

use account_host::bindings::accounts_facade_driver::Host as Facade;
use account_host::bindings::memory_pins_driver::{Host as Pins, MemoryAuditEntry};
use account_host::bindings::onboarding_driver::Host as Onboarding;
use account_host::bindings::tenant_driver::{
    AuditEntry, Host as Tenants, NewApiKey, NewRun, NewTenant, NewUsageRecord, RunOutcome, UsageUpdate,
};
use account_host::bindings::tenant_lifecycle_driver::Host as Lifecycle;
use account_host::bindings::user_write_driver::Host as Users;
use account_host::bindings::{
    Actor, DriverErrorCode, IdentityPrincipal, InvitationStatus, MemoryAuditOperation, OnboardingState, PageRequest,
    Plan, PlanQuotas, Role, RunStatus, TenantStatus, TicketCategory, TicketPriority, TicketStatus, UsageUnit,
    UserStatus,
};
use account_host::call::CallState;
use suite::{DAY, Harness, SECOND, T0, each_backend};

fn quotas() -> PlanQuotas {
    PlanQuotas {
        max_workers: 3,
        max_runs_per_day: 100,
        max_concurrent_runs: 5,
        max_tokens_per_month: 1_000_000,
        max_api_keys: 5,
    }
}

/// A driver session as the system (any tenant).
fn system(h: &Harness) -> CallState {
    state(h, Actor::System, None)
}

fn state(h: &Harness, actor: Actor, tenant: Option<&str>) -> CallState {
    CallState::new(h.db.clone(), &actor, tenant, h.clock_now(), wasmtime::StoreLimits::default())
}

fn identity(external_id: &str, user_id: Option<&str>) -> Actor {
    Actor::Identity(IdentityPrincipal {
        external_id: external_id.into(),
        email: format!("{external_id}@example.com"),
        user_id: user_id.map(str::to_string),
        name: None,
        email_verified: true,
    })
}

/// Commits what a session wrote.
async fn commit(mut s: CallState) {
    let outcome = s.take_outcome();
    assert!(outcome.violation.is_none(), "unexpected scope violation: {:?}", outcome.violation);
    assert!(!outcome.failed, "a statement failed");
    if let Some(tx) = outcome.tx {
        tx.commit().await.expect("commit");
    }
}

trait Now {
    fn clock_now(&self) -> i64;
}
impl Now for Harness {
    fn clock_now(&self) -> i64 {
        use account_host::clock::Clock;
        self.clock.now_micros()
    }
}

async fn new_tenant(s: &mut CallState, slug: &str) -> String {
    Tenants::insert_tenant(
        s,
        NewTenant {
            name: format!("T {slug}"),
            slug: slug.into(),
            plan: Plan::Free,
            quotas: quotas(),
            external_org_id: None,
            billing_email: None,
        },
    )
    .await
    .expect("insert tenant")
    .id
}

async fn new_user(s: &mut CallState, name: &str) -> String {
    Users::create_user(
        s,
        format!("{name}@example.com"),
        format!("ext-{name}"),
        Some(name.into()),
        None,
        UserStatus::Active,
    )
    .await
    .expect("create user")
    .id
}

fn page(limit: u32, after: Option<String>) -> PageRequest {
    PageRequest { limit, after }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_projects_and_plans() {
    each_backend(async |h| {
        let mut s = system(h);
        let t = new_tenant(&mut s, "acme").await;
        let dup = Tenants::insert_tenant(
            &mut s,
            NewTenant {
                name: "x".into(),
                slug: "acme".into(),
                plan: Plan::Pro,
                quotas: quotas(),
                external_org_id: None,
                billing_email: None,
            },
        )
        .await;
        assert_eq!(dup.unwrap_err().code, DriverErrorCode::Conflict);

        // Facade reads.
        let snap = Tenants::fetch_tenant_by_id(&mut s, t.clone()).await.unwrap().unwrap();
        assert_eq!((snap.slug.as_str(), snap.status, snap.plan), ("acme", TenantStatus::Active, Plan::Free));
        assert_eq!(snap.created_at, T0);
        assert_eq!(Facade::fetch_tenants(&mut s, t.clone(), None, 50, 0).await.unwrap().len(), 1);
        assert!(
            Facade::fetch_tenants(&mut s, t.clone(), Some(TenantStatus::Suspended), 50, 0).await.unwrap().is_empty()
        );
        assert_eq!(Facade::count_tenants(&mut s, t.clone(), None).await.unwrap(), 1);
        assert_eq!(Facade::count_tenants(&mut s, t.clone(), Some(TenantStatus::Archived)).await.unwrap(), 0);
        let detail = Facade::fetch_tenant_detail(&mut s, t.clone()).await.unwrap().unwrap();
        assert_eq!(detail.quotas.max_runs_per_day, 100);
        assert!(!detail.onboarding_complete);
        let missing = uuid::Uuid::new_v4().to_string();
        assert!(Tenants::fetch_tenant_by_id(&mut s, missing.clone()).await.unwrap().is_none());
        assert_eq!(
            Tenants::fetch_tenant_by_id(&mut s, "not-an-id".into()).await.unwrap_err().code,
            DriverErrorCode::Invalid
        );

        // Projects: free-plan defaults, unique slugs.
        let p =
            Facade::insert_project(&mut s, "Side project".into(), "side".into(), Some("notes".into())).await.unwrap();
        assert_eq!((p.plan, p.quotas.max_api_keys, p.description.as_deref()), (Plan::Free, 5, Some("notes")));
        let clash = Facade::insert_project(&mut s, "Other".into(), "side".into(), None).await;
        assert_eq!(clash.unwrap_err().code, DriverErrorCode::Conflict);

        // Tenant driver reads and writes.
        assert_eq!(Tenants::fetch_tenant_by_id(&mut s, t.clone()).await.unwrap().unwrap().slug, "acme");
        assert_eq!(Tenants::fetch_tenant_by_slug(&mut s, "acme".into()).await.unwrap().unwrap().id, t);
        assert!(Tenants::fetch_tenant_by_slug(&mut s, "nope".into()).await.unwrap().is_none());
        let pro = PlanQuotas {
            max_workers: 10,
            max_runs_per_day: 1000,
            max_concurrent_runs: 20,
            max_tokens_per_month: 10_000_000,
            max_api_keys: 20,
        };
        let row = Tenants::update_tenant_plan(&mut s, t.clone(), Plan::Pro, pro).await.unwrap();
        assert_eq!((row.plan, row.quotas.max_api_keys), (Plan::Pro, 20));
        let row = Tenants::increment_tenant_usage(&mut s, t.clone(), 1, 500).await.unwrap();
        assert_eq!((row.usage.runs_today, row.usage.runs_this_month, row.usage.tokens_this_month), (1, 1, 500));
        assert_eq!(
            Tenants::increment_tenant_usage(&mut s, t.clone(), -1, 0).await.unwrap_err().code,
            DriverErrorCode::Invalid
        );
        let row = Tenants::update_tenant_usage(
            &mut s,
            t.clone(),
            UsageUpdate {
                runs_today: Some(0),
                runs_this_month: None,
                tokens_this_month: None,
                last_run_reset_at: Some(T0),
            },
        )
        .await
        .unwrap();
        assert_eq!((row.usage.runs_today, row.usage.runs_this_month, row.usage.last_run_reset_at), (0, 1, Some(T0)));
        assert_eq!(
            Tenants::update_tenant_plan(&mut s, missing, Plan::Free, quotas()).await.unwrap_err().code,
            DriverErrorCode::NotFound
        );
        commit(s).await;
        assert_eq!(h.count("SELECT COUNT(*) FROM tenants").await, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_memberships_and_profiles() {
    each_backend(async |h| {
        let mut s = system(h);
        let t = new_tenant(&mut s, "acme").await;
        let other = new_tenant(&mut s, "other").await;
        let ann = new_user(&mut s, "ann").await;
        let bob = new_user(&mut s, "bob").await;
        let cid = new_user(&mut s, "cid").await;
        // E-mails and subjects are unique (e-mails case-insensitively).
        let dup =
            Users::create_user(&mut s, "ANN@example.com".into(), "ext-other".into(), None, None, UserStatus::Active)
                .await;
        assert_eq!(dup.unwrap_err().code, DriverErrorCode::Conflict);
        let dup =
            Users::create_user(&mut s, "new@example.com".into(), "ext-ann".into(), None, None, UserStatus::Active)
                .await;
        assert_eq!(dup.unwrap_err().code, DriverErrorCode::Conflict);
        let dan = Users::create_user(
            &mut s,
            "dan@example.com".into(),
            "ext-dan".into(),
            Some("Dan".into()),
            None,
            UserStatus::Active,
        )
        .await
        .unwrap();
        assert_eq!((dan.external_id.as_str(), dan.status), ("ext-dan", UserStatus::Active));

        let m_ann = Tenants::insert_membership(&mut s, t.clone(), ann.clone(), Role::Owner, true).await.unwrap();
        assert_eq!(m_ann.role, Role::Owner);
        assert_eq!(
            Facade::fetch_user_by_id(&mut s, ann.clone()).await.unwrap().unwrap().default_tenant_id,
            Some(t.clone())
        );
        commit(s).await;
        h.clock.advance_secs(1);
        let mut s2 = system(h);
        let m_bob =
            Facade::insert_membership(&mut s2, t.clone(), bob.clone(), Role::Member, Some(ann.clone())).await.unwrap();
        assert_eq!(m_bob.invited_by, Some(ann.clone()));
        Facade::insert_membership(&mut s2, t.clone(), cid.clone(), Role::Viewer, None).await.unwrap();
        let again = Facade::insert_membership(&mut s2, t.clone(), bob.clone(), Role::Admin, None).await;
        assert_eq!(again.unwrap_err().code, DriverErrorCode::Conflict);
        let ghost =
            Facade::insert_membership(&mut s2, t.clone(), uuid::Uuid::new_v4().to_string(), Role::Admin, None).await;
        assert_eq!(ghost.unwrap_err().code, DriverErrorCode::NotFound);
        commit(s2).await;
        let mut s = system(h);

        // Members by e-mail, keyset-paginated.
        let first = Facade::fetch_users(&mut s, t.clone(), None, None, page(2, None)).await.unwrap();
        let emails: Vec<_> = first.items.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["ann@example.com", "bob@example.com"]);
        let second = Facade::fetch_users(&mut s, t.clone(), None, None, page(2, first.next.clone())).await.unwrap();
        assert_eq!(second.items.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["cid@example.com"]);
        assert!(second.next.is_none());
        let owners = Facade::fetch_users(&mut s, t.clone(), Some(Role::Owner), None, page(10, None)).await.unwrap();
        assert_eq!(owners.items.len(), 1);
        assert_eq!(Facade::count_users(&mut s, t.clone(), None, None, u64::MAX).await.unwrap(), 3);
        assert_eq!(
            Facade::count_users(&mut s, t.clone(), Some(Role::Viewer), Some(UserStatus::Active), u64::MAX)
                .await
                .unwrap(),
            1
        );
        // A count stops at the bound asked for, with and without the users' status.
        assert_eq!(Facade::count_users(&mut s, t.clone(), None, None, 2).await.unwrap(), 2);
        assert_eq!(Facade::count_users(&mut s, t.clone(), None, Some(UserStatus::Active), 2).await.unwrap(), 2);
        assert_eq!(Facade::count_users(&mut s, t.clone(), None, None, 0).await.unwrap(), 0);
        let bad = Facade::fetch_users(&mut s, t.clone(), None, None, page(2, Some("%%%".into()))).await;
        assert_eq!(bad.unwrap_err().code, DriverErrorCode::Invalid);
        let too_big = Facade::fetch_users(&mut s, t.clone(), None, None, page(5000, None)).await;
        assert_eq!(too_big.unwrap_err().code, DriverErrorCode::Invalid);
        commit(s).await;

        // The order is the membership's copy of the e-mail (an index serves every page); should an
        // e-mail ever change, the copy follows it.
        h.execute(&format!("UPDATE users SET email = 'yan@example.com' WHERE id = '{ann}'")).await;
        let mut s = system(h);
        let all = Facade::fetch_users(&mut s, t.clone(), None, None, page(10, None)).await.unwrap();
        let emails: Vec<_> = all.items.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["bob@example.com", "cid@example.com", "yan@example.com"]);
        let after_bob = Facade::fetch_users(&mut s, t.clone(), None, None, page(1, None)).await.unwrap();
        let rest = Facade::fetch_users(&mut s, t.clone(), None, None, page(5, after_bob.next)).await.unwrap();
        assert_eq!(
            rest.items.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
            ["cid@example.com", "yan@example.com"]
        );

        let detail = Facade::fetch_user_detail(&mut s, t.clone(), bob.clone()).await.unwrap().unwrap();
        assert_eq!((detail.role, detail.invited_by.as_deref()), (Role::Member, Some(ann.as_str())));
        assert!(Facade::fetch_user_detail(&mut s, other.clone(), bob.clone()).await.unwrap().is_none());

        // Memberships in joining order.
        let joined = Facade::fetch_tenant_memberships(&mut s, t.clone(), page(2, None)).await.unwrap();
        assert_eq!(joined.items[0].user_id, ann);
        let rest = Facade::fetch_tenant_memberships(&mut s, t.clone(), page(2, joined.next)).await.unwrap();
        assert_eq!(rest.items.len(), 1);
        let mb = Facade::fetch_membership(&mut s, t.clone(), bob.clone()).await.unwrap().unwrap();
        assert_eq!(mb.id, m_bob.id);
        assert!(Facade::fetch_membership(&mut s, other.clone(), bob.clone()).await.unwrap().is_none());
        let with_user = Facade::fetch_membership_with_user(&mut s, t.clone(), bob.clone()).await.unwrap().unwrap();
        assert_eq!(with_user.user.email, "bob@example.com");
        let updated = Facade::update_membership_role(&mut s, t.clone(), m_bob.id.clone(), Role::Admin).await.unwrap();
        assert_eq!((updated.role, updated.email.as_str()), (Role::Admin, "bob@example.com"));
        // A membership of another tenant is not found through this tenant.
        let wrong = Facade::update_membership_role(&mut s, other.clone(), m_bob.id.clone(), Role::Owner).await;
        assert_eq!(wrong.unwrap_err().code, DriverErrorCode::NotFound);
        assert!(!Facade::delete_membership(&mut s, other.clone(), m_bob.id.clone()).await.unwrap());
        assert!(Facade::delete_membership(&mut s, t.clone(), m_bob.id.clone()).await.unwrap());
        assert!(!Facade::delete_membership(&mut s, t.clone(), m_bob.id.clone()).await.unwrap());

        // Profiles: preferences persist; writes are the user's own.
        let p = Facade::fetch_profile(&mut s, t.clone(), ann.clone()).await.unwrap().unwrap();
        assert_eq!((p.role, p.tenant_name.as_deref(), p.preferences), (Some(Role::Owner), Some("T acme"), None));
        let u = Facade::update_user_profile(
            &mut s,
            ann.clone(),
            Some("Ann A.".into()),
            Some(r#"{"timezone":"UTC"}"#.into()),
        )
        .await
        .unwrap();
        assert_eq!((u.name.as_deref(), u.preferences.as_deref()), (Some("Ann A."), Some(r#"{"timezone":"UTC"}"#)));
        let bad = Facade::update_user_profile(&mut s, ann.clone(), None, Some("[1]".into())).await;
        assert_eq!(bad.unwrap_err().code, DriverErrorCode::Invalid);
        assert_eq!(Facade::fetch_user_by_email(&mut s, "BOB@EXAMPLE.COM".into()).await.unwrap().unwrap().id, bob);
        assert!(Facade::fetch_user_by_email(&mut s, "zed@example.com".into()).await.unwrap().is_none());
        let ann_row = Facade::fetch_user_by_id(&mut s, ann.clone()).await.unwrap().unwrap();
        assert_eq!((ann_row.name.as_deref(), ann_row.default_tenant_id.as_deref()), (Some("Ann A."), Some(t.as_str())));
        h.clock.advance_secs(60);
        commit(s).await;

        // A human may write only their own user row, and create only their own.
        let mut as_bob = state(h, identity("ext-bob", Some(&bob)), Some(&t));
        let own = Facade::update_user_profile(&mut as_bob, bob.clone(), Some("Bob B.".into()), None).await.unwrap();
        assert_eq!(own.name.as_deref(), Some("Bob B."));
        let refused = Facade::update_user_profile(&mut as_bob, ann.clone(), Some("Not Ann".into()), None).await;
        assert_eq!(refused.unwrap_err().code, DriverErrorCode::ScopeViolation);
        let refused =
            Users::create_user(&mut as_bob, "eve@example.com".into(), "ext-eve".into(), None, None, UserStatus::Active)
                .await;
        assert_eq!(refused.unwrap_err().code, DriverErrorCode::ScopeViolation);
        assert!(as_bob.take_outcome().violation.is_some());
        let mut s = system(h);
        let nobody =
            Facade::update_user_profile(&mut s, uuid::Uuid::new_v4().to_string(), Some("x".into()), None).await;
        assert_eq!(nobody.unwrap_err().code, DriverErrorCode::NotFound);
        drop(s);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_tickets_and_billing() {
    each_backend(async |h| {
        let mut s = system(h);
        let t = new_tenant(&mut s, "acme").await;
        let other = new_tenant(&mut s, "other").await;
        let ann = new_user(&mut s, "ann").await;
        let expires = T0 + 7 * DAY;
        let inv = Facade::insert_invitation(
            &mut s,
            t.clone(),
            "zoe@example.com".into(),
            Role::Member,
            "a".repeat(64),
            Some(ann.clone()),
            expires,
        )
        .await
        .unwrap();
        assert_eq!(
            (inv.status, inv.expires_at, inv.invited_by.as_deref()),
            (InvitationStatus::Pending, expires, Some(ann.as_str()))
        );
        // One pending invitation per e-mail, whatever its case; token hashes are unique.
        let dup = Facade::insert_invitation(
            &mut s,
            t.clone(),
            "ZOE@example.com".into(),
            Role::Admin,
            "b".repeat(64),
            None,
            expires,
        )
        .await;
        assert_eq!(dup.unwrap_err().code, DriverErrorCode::Conflict);
        let dup = Facade::insert_invitation(
            &mut s,
            other.clone(),
            "amy@example.com".into(),
            Role::Admin,
            "a".repeat(64),
            None,
            expires,
        )
        .await;
        assert_eq!(dup.unwrap_err().code, DriverErrorCode::Conflict);
        let found =
            Facade::fetch_invitation_by_email(&mut s, t.clone(), "Zoe@Example.com".into(), InvitationStatus::Pending)
                .await
                .unwrap();
        assert_eq!(found.unwrap().id, inv.id);
        assert!(
            Facade::fetch_invitation_by_email(&mut s, t.clone(), "zoe@example.com".into(), InvitationStatus::Accepted)
                .await
                .unwrap()
                .is_none()
        );
        h.clock.advance_secs(1);
        let inv2 = Facade::insert_invitation(
            &mut s,
            t.clone(),
            "yan@example.com".into(),
            Role::Viewer,
            "c".repeat(64),
            None,
            expires,
        )
        .await
        .unwrap();
        // Both were written at the session's one `now`: the tie is broken by id, descending.
        let list = Facade::fetch_invitations(&mut s, t.clone(), None, page(1, None)).await.unwrap();
        assert_eq!(list.items[0].id, std::cmp::max(inv.id.clone(), inv2.id.clone()));
        let second = Facade::fetch_invitations(&mut s, t.clone(), None, page(1, list.next.clone())).await.unwrap();
        assert_eq!(second.items[0].id, std::cmp::min(inv.id.clone(), inv2.id.clone()));
        let all = Facade::fetch_invitations(&mut s, t.clone(), Some(InvitationStatus::Pending), page(10, None))
            .await
            .unwrap();
        assert_eq!(all.items.len(), 2);
        commit(s).await;

        // The token is the capability: a call without a tenant gains the invitation's tenant, and no other.
        let mut anon = state(h, identity("ext-zoe", None), None);
        assert!(
            Facade::fetch_invitation_by_id_and_token(&mut anon, inv.id.clone(), "f".repeat(64))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            Tenants::fetch_tenant_by_id(&mut anon, t.clone()).await.unwrap_err().code,
            DriverErrorCode::ScopeViolation
        );
        drop(anon);
        let mut anon = state(h, identity("ext-zoe", None), None);
        let by_token =
            Facade::fetch_invitation_by_id_and_token(&mut anon, inv.id.clone(), "a".repeat(64)).await.unwrap().unwrap();
        assert_eq!(by_token.tenant_id, t);
        assert!(Tenants::fetch_tenant_by_id(&mut anon, t.clone()).await.unwrap().is_some());
        assert_eq!(
            Tenants::fetch_tenant_by_id(&mut anon, other.clone()).await.unwrap_err().code,
            DriverErrorCode::ScopeViolation
        );
        drop(anon);

        let mut s = system(h);
        let accepted = Facade::update_invitation_accepted(&mut s, t.clone(), inv.id.clone()).await.unwrap();
        assert_eq!((accepted.status, accepted.accepted_at), (InvitationStatus::Accepted, Some(T0 + SECOND)));
        let twice = Facade::update_invitation_accepted(&mut s, t.clone(), inv.id.clone()).await;
        assert_eq!(twice.unwrap_err().code, DriverErrorCode::Conflict);
        assert_eq!(
            Facade::update_invitation_expired(&mut s, t.clone(), inv.id.clone()).await.unwrap_err().code,
            DriverErrorCode::Conflict
        );
        let revoked = Facade::update_invitation_revoked(&mut s, t.clone(), inv2.id.clone()).await.unwrap();
        assert_eq!(revoked.status, InvitationStatus::Revoked);
        let inv3 = Facade::insert_invitation(
            &mut s,
            t.clone(),
            "old@example.com".into(),
            Role::Viewer,
            "d".repeat(64),
            None,
            expires,
        )
        .await
        .unwrap();
        assert_eq!(
            Facade::update_invitation_expired(&mut s, t.clone(), inv3.id.clone()).await.unwrap().status,
            InvitationStatus::Expired
        );
        assert_eq!(
            Facade::update_invitation_revoked(&mut s, other.clone(), inv3.id.clone()).await.unwrap_err().code,
            DriverErrorCode::NotFound
        );

        // Tickets, newest first.
        let t1 = Facade::insert_support_ticket(
            &mut s,
            t.clone(),
            ann.clone(),
            "Help".into(),
            "It broke".into(),
            TicketCategory::Technical,
            TicketPriority::High,
        )
        .await
        .unwrap();
        assert_eq!(
            (t1.status, t1.category, t1.priority),
            (TicketStatus::Open, TicketCategory::Technical, TicketPriority::High)
        );
        commit(s).await;
        let mut s = system(h);
        let long = Facade::insert_support_ticket(
            &mut s,
            t.clone(),
            ann.clone(),
            "x".repeat(201),
            "d".into(),
            TicketCategory::General,
            TicketPriority::Low,
        )
        .await;
        assert_eq!(long.unwrap_err().code, DriverErrorCode::Invalid);
        assert!(s.take_outcome().failed);
        let mut s = system(h);
        h.clock.advance_secs(5);
        let mut s2 = system(h);
        let t2 = Facade::insert_support_ticket(
            &mut s2,
            t.clone(),
            ann.clone(),
            "Bill".into(),
            "?".into(),
            TicketCategory::Billing,
            TicketPriority::Low,
        )
        .await
        .unwrap();
        commit(s2).await;
        let tickets = Facade::fetch_support_tickets(&mut s, t.clone(), None, page(1, None)).await.unwrap();
        assert_eq!(tickets.items[0].id, t2.id);
        let older = Facade::fetch_support_tickets(&mut s, t.clone(), None, page(1, tickets.next)).await.unwrap();
        assert_eq!(older.items[0].id, t1.id);
        assert!(
            Facade::fetch_support_tickets(&mut s, t.clone(), Some(TicketStatus::Closed), page(5, None))
                .await
                .unwrap()
                .items
                .is_empty()
        );

        // The latest subscription, whatever its status.
        assert!(Facade::fetch_subscription(&mut s, t.clone()).await.unwrap().is_none());
        drop(s);
        let (old_at, new_at) = (T0 - 10 * DAY, T0 - DAY);
        for (id, status, at) in [(uuid::Uuid::new_v4(), "active", old_at), (uuid::Uuid::new_v4(), "canceled", new_at)] {
            h.execute(&subscription_sql(h, &id.to_string(), &t, status, at)).await;
        }
        let mut s = system(h);
        let sub = Facade::fetch_subscription(&mut s, t.clone()).await.unwrap().unwrap();
        assert_eq!(sub.status, account_host::bindings::SubscriptionStatus::Canceled);
        drop(s);
    })
    .await;
}

fn subscription_sql(h: &Harness, id: &str, tenant: &str, status: &str, at: i64) -> String {
    let ts = match h.backend {
        suite::Backend::Sqlite => at.to_string(),
        suite::Backend::Postgres => format!("to_timestamp({}::double precision / 1000000)", at),
    };
    format!(
        "INSERT INTO subscriptions (id, tenant_id, plan, status, billing_period, created_at, updated_at) \
         VALUES ('{id}', '{tenant}', 'pro', '{status}', 'monthly', {ts}, {ts})"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_runs_usage_and_audit() {
    each_backend(async |h| {
        let mut s = system(h);
        let t = new_tenant(&mut s, "acme").await;
        let other = new_tenant(&mut s, "other").await;
        let key = |hash: char, expires_at: Option<i64>| NewApiKey {
            user_id: None,
            name: "ci".into(),
            key_prefix: "aos_abcdefgh".into(),
            key_hash: hash.to_string().repeat(64),
            permissions: vec!["run:*".into()],
            allowed_workers: Some(vec![]),
            expires_at,
            rate_limit_rpm: Some(60),
            max_concurrent_runs: None,
            parent_key_id: None,
        };
        let k1 = Tenants::insert_api_key(&mut s, t.clone(), key('1', None)).await.unwrap();
        assert_eq!(
            (k1.permissions.clone(), k1.allowed_workers.clone(), k1.rate_limit_rpm),
            (vec!["run:*".to_string()], None, Some(60))
        );
        assert_eq!(
            Tenants::insert_api_key(&mut s, other.clone(), key('1', None)).await.unwrap_err().code,
            DriverErrorCode::Conflict
        );
        let _k2 = Tenants::insert_api_key(&mut s, t.clone(), key('2', Some(T0 + 10 * SECOND))).await.unwrap();
        commit(s).await;
        // A value the schema refuses is `invalid`, and dooms the call: later statements are refused and
        // nothing it wrote may commit.
        let mut doomed = system(h);
        Tenants::insert_api_key(&mut doomed, t.clone(), key('4', None)).await.unwrap();
        let bad = NewApiKey { rate_limit_rpm: Some(5000), ..key('3', None) };
        assert_eq!(
            Tenants::insert_api_key(&mut doomed, t.clone(), bad).await.unwrap_err().code,
            DriverErrorCode::Invalid
        );
        assert_eq!(
            Tenants::count_active_api_keys(&mut doomed, t.clone()).await.unwrap_err().code,
            DriverErrorCode::Backend
        );
        let outcome = doomed.take_outcome();
        assert!(outcome.failed);
        outcome.tx.unwrap().rollback().await.unwrap();
        assert_eq!(h.count("SELECT COUNT(*) FROM api_keys").await, 2);

        h.clock.advance_secs(11);
        let mut s = system(h);
        // The key that expired no longer counts, nor lists without asking.
        assert_eq!(Tenants::count_active_api_keys(&mut s, t.clone()).await.unwrap(), 1);
        assert_eq!(Tenants::fetch_api_keys(&mut s, t.clone(), false, page(10, None)).await.unwrap().items.len(), 1);
        assert_eq!(Tenants::fetch_api_keys(&mut s, t.clone(), true, page(10, None)).await.unwrap().items.len(), 2);
        let paged = Tenants::fetch_api_keys(&mut s, t.clone(), true, page(1, None)).await.unwrap();
        assert!(paged.next.is_some());
        assert!(Tenants::fetch_api_key_by_id(&mut s, other.clone(), k1.id.clone()).await.unwrap().is_none());
        assert_eq!(Tenants::fetch_api_key_by_id(&mut s, t.clone(), k1.id.clone()).await.unwrap().unwrap().name, "ci");
        assert_eq!(
            Tenants::update_api_key_revoked(&mut s, t.clone(), k1.id.clone(), "x".repeat(256)).await.unwrap_err().code,
            DriverErrorCode::Invalid
        );
        assert_eq!(
            Tenants::update_api_key_revoked(&mut s, other.clone(), k1.id.clone(), "nope".into())
                .await
                .unwrap_err()
                .code,
            DriverErrorCode::NotFound
        );
        let revoked = Tenants::update_api_key_revoked(&mut s, t.clone(), k1.id.clone(), "leaked".into()).await.unwrap();
        assert_eq!((revoked.revoked_reason.as_deref(), revoked.revoked_at), (Some("leaked"), Some(T0 + 11 * SECOND)));
        assert_eq!(
            Tenants::update_api_key_revoked(&mut s, t.clone(), k1.id.clone(), "again".into()).await.unwrap_err().code,
            DriverErrorCode::Conflict
        );
        assert_eq!(Tenants::count_active_api_keys(&mut s, t.clone()).await.unwrap(), 0);

        // Runs.
        let run = |worker: &str| NewRun {
            worker_id: worker.into(),
            task: "do it".into(),
            api_key_id: Some(k1.id.clone()),
            user_id: None,
            input_json: None,
        };
        assert_eq!(
            Tenants::insert_run(&mut s, t.clone(), run("no-such-worker")).await.unwrap_err().code,
            DriverErrorCode::NotFound
        );
        let r1 = Tenants::insert_run(&mut s, t.clone(), run("business-builder")).await.unwrap();
        let r2 = Tenants::insert_run(&mut s, t.clone(), run("code-debugger")).await.unwrap();
        assert_eq!(r1.status, RunStatus::Queued);
        assert_eq!(Tenants::count_running_runs(&mut s, t.clone()).await.unwrap(), 2);
        assert!(Tenants::fetch_run_by_id(&mut s, other.clone(), r1.id.clone()).await.unwrap().is_none());
        let outcome = RunOutcome {
            success: true,
            output_json: Some("{}".into()),
            replay_token_json: None,
            total_tokens: 1200,
            total_latency_ms: 80,
            stages_completed: 3,
            recoveries: 0,
            policy_violations: 0,
            cost_cents: 7,
            error: None,
        };
        let done = Tenants::update_run_completed(&mut s, t.clone(), r1.id.clone(), outcome.clone()).await.unwrap();
        assert_eq!(
            (done.status, done.total_tokens, done.completed_at),
            (RunStatus::Completed, Some(1200), Some(T0 + 11 * SECOND))
        );
        assert_eq!(
            Tenants::update_run_completed(&mut s, t.clone(), r1.id.clone(), outcome.clone()).await.unwrap_err().code,
            DriverErrorCode::Conflict
        );
        assert_eq!(Tenants::count_running_runs(&mut s, t.clone()).await.unwrap(), 1);
        let by_worker =
            Tenants::fetch_runs(&mut s, t.clone(), None, Some("code-debugger".into()), page(10, None)).await.unwrap();
        assert_eq!(by_worker.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&r2.id));
        let done_runs =
            Tenants::fetch_runs(&mut s, t.clone(), Some(RunStatus::Completed), None, page(10, None)).await.unwrap();
        assert_eq!(done_runs.items.len(), 1);

        // Usage in hour buckets; totals per meter over overlapping buckets.
        let usage = |meter: &str, amount: i64| NewUsageRecord {
            meter_name: meter.into(),
            amount,
            unit: UsageUnit::Tokens,
            worker_id: None,
            api_key_id: None,
            metadata: None,
        };
        let u = Tenants::insert_usage_record(&mut s, t.clone(), usage("tokens_used", 100)).await.unwrap();
        let hour = 3_600 * SECOND;
        assert_eq!((u.period_start % hour, u.period_end - u.period_start), (0, hour));
        Tenants::insert_usage_record(&mut s, t.clone(), usage("tokens_used", 50)).await.unwrap();
        Tenants::insert_usage_record(&mut s, other.clone(), usage("tokens_used", 999)).await.unwrap();
        let totals = Tenants::fetch_usage_totals(&mut s, t.clone(), T0 - DAY, T0 + DAY).await.unwrap();
        assert_eq!(totals.len(), 1);
        assert_eq!((totals[0].total, totals[0].records, totals[0].unit), (150, 2, UsageUnit::Tokens));
        assert!(Tenants::fetch_usage_totals(&mut s, t.clone(), T0 + DAY, T0 + 2 * DAY).await.unwrap().is_empty());

        // The audit log.
        let entry = |action: String| AuditEntry {
            tenant_id: Some(t.clone()),
            user_id: None,
            api_key_id: None,
            action,
            resource_type: "api_key".into(),
            resource_id: Some(k1.id.clone()),
            actor: Some("system".into()),
            old_value: None,
            new_value: Some(r#"{"reason":"leaked"}"#.into()),
            request_id: Some("req-1".into()),
        };
        Tenants::insert_audit_log(&mut s, entry("revoke_api_key".into())).await.unwrap();
        commit(s).await;
        assert_eq!(
            h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'revoke_api_key' AND request_id = 'req-1'").await,
            1
        );
        assert_eq!(h.count("SELECT COUNT(*) FROM worker_runs").await, 2);
        assert_eq!(h.count("SELECT COUNT(*) FROM usage_records").await, 3);
        // A failed audit write is `invalid` and dooms the call, whatever the engine does with the error:
        // later statements are refused, and the runtime does not commit the mutation it was to audit.
        let (mut store, _) = h.runtime.store(&account_host::Caller::system(Some(&t)));
        store.data_mut().set_read_only(false);
        let doomed = store.data_mut();
        Tenants::insert_usage_record(doomed, t.clone(), usage("tokens_used", 7)).await.unwrap();
        let failed = Tenants::insert_audit_log(doomed, entry("x".repeat(500))).await;
        assert_eq!(failed.unwrap_err().code, DriverErrorCode::Invalid);
        assert_eq!(
            Tenants::insert_audit_log(doomed, entry("revoke_api_key".into())).await.unwrap_err().code,
            DriverErrorCode::Backend
        );
        // The engine answers ok regardless.
        match h.runtime.settle(&mut store, Ok(Ok(())), 1).await {
            account_host::runtime::Settled::Failed(e) => {
                assert_eq!(e.code, account_host::bindings::ErrorCode::Internal, "{e:?}")
            }
            _ => panic!("a call whose audit write failed was not refused"),
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM usage_records").await, 3, "the mutation was not committed");
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log").await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_pins_with_ttl_and_audit() {
    each_backend(async |h| {
        let mut s = system(h);
        let t = new_tenant(&mut s, "acme").await;
        let other = new_tenant(&mut s, "other").await;
        let pin = Pins::upsert_pin(&mut s, t.clone(), "a%b_c".into(), r#"{"v":1}"#.into(), "api".into(), Some(60))
            .await
            .unwrap();
        assert_eq!((pin.created_at, pin.expires_at, pin.ttl_seconds), (T0, Some(T0 + 60 * SECOND), Some(60)));
        assert_eq!(
            Pins::upsert_pin(&mut s, t.clone(), "k".into(), "[1]".into(), "api".into(), None).await.unwrap_err().code,
            DriverErrorCode::Invalid
        );
        Pins::upsert_pin(&mut s, t.clone(), "axbyc".into(), r#"{"v":2}"#.into(), "seed".into(), None).await.unwrap();
        Pins::upsert_pin(&mut s, other.clone(), "a%b_c".into(), r#"{"v":3}"#.into(), "api".into(), None).await.unwrap();
        commit(s).await;

        // The TTL counts from the write that set it; created_at is kept.
        h.clock.advance_secs(50);
        let mut s = system(h);
        let again = Pins::upsert_pin(&mut s, t.clone(), "a%b_c".into(), r#"{"v":4}"#.into(), "api".into(), Some(30))
            .await
            .unwrap();
        assert_eq!((again.id, again.created_at, again.expires_at), (pin.id, T0, Some(T0 + 80 * SECOND)));
        assert_eq!(again.updated_at, T0 + 50 * SECOND);
        commit(s).await;

        // `%` and `_` in a prefix are literal.
        let mut s = system(h);
        let listed =
            Pins::list_pins(&mut s, t.clone(), Some("a%".into()), false, page(10, None), u64::MAX).await.unwrap();
        assert_eq!((listed.total, listed.items.len()), (1, 1));
        // Values come back in one canonical form on every backend.
        assert_eq!(listed.items[0].value, r#"{"v":4}"#);
        let all = Pins::list_pins(&mut s, t.clone(), None, false, page(1, None), u64::MAX).await.unwrap();
        assert_eq!(all.total, 2);
        let bounded = Pins::list_pins(&mut s, t.clone(), None, false, page(1, None), 1).await.unwrap();
        assert_eq!((bounded.total, bounded.items.len()), (1, 1), "the count stops at the bound asked for");
        let rest = Pins::list_pins(&mut s, t.clone(), None, false, page(1, all.next.clone()), u64::MAX).await.unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_ne!(rest.items[0].key, all.items[0].key);
        drop(s);

        // Expired pins are invisible unless asked for, and cleaned up per tenant.
        h.clock.advance_secs(31);
        let mut s = system(h);
        assert!(Pins::get_pin(&mut s, t.clone(), "a%b_c".into()).await.unwrap().is_none());
        assert!(Pins::get_pin(&mut s, other.clone(), "a%b_c".into()).await.unwrap().is_some());
        assert_eq!(Pins::list_pins(&mut s, t.clone(), None, false, page(10, None), u64::MAX).await.unwrap().total, 1);
        assert_eq!(Pins::list_pins(&mut s, t.clone(), None, true, page(10, None), u64::MAX).await.unwrap().total, 2);
        assert_eq!(Pins::cleanup_expired(&mut s, Some(t.clone())).await.unwrap(), 1);
        assert_eq!(Pins::cleanup_expired(&mut s, None).await.unwrap(), 0);
        assert!(Pins::delete_pin(&mut s, t.clone(), "axbyc".into()).await.unwrap());
        assert!(!Pins::delete_pin(&mut s, t.clone(), "axbyc".into()).await.unwrap());

        // The access log is best-effort: a row that cannot be written is reported, and the pin work of the
        // call still commits.
        let audit = |extra: &str| MemoryAuditEntry {
            operation: MemoryAuditOperation::Upsert,
            tenant_id: t.clone(),
            key: "k2".into(),
            success: true,
            agent_id: None,
            source: Some("api".into()),
            cache_hit: false,
            error_message: None,
            old_value_hash: None,
            new_value_hash: Some("0123456789abcdef".into()),
            extra: Some(extra.into()),
        };
        Pins::upsert_pin(&mut s, t.clone(), "k2".into(), r#"{"z":true}"#.into(), "api".into(), None).await.unwrap();
        // Refused before any statement: `extra` that is not JSON, and NUL in text (PostgreSQL refuses it when
        // the statement is bound, where nothing could catch it).
        assert_eq!(Pins::write_audit(&mut s, audit("not json")).await.unwrap_err().code, DriverErrorCode::Invalid);
        let with_nul = MemoryAuditEntry { error_message: Some("a\0b".into()), ..audit("{}") };
        assert_eq!(Pins::write_audit(&mut s, with_nul).await.unwrap_err().code, DriverErrorCode::Invalid);
        // Refused by the database: on PostgreSQL, `jsonb` takes no `\u0000`, and the statement's own
        // subtransaction catches the failure (SQLite keeps such JSON text).
        let nul_in_json = Pins::write_audit(&mut s, audit(r#"{"a":"\u0000"}"#)).await;
        let kept = match h.backend {
            suite::Backend::Postgres => {
                assert_eq!(nul_in_json.unwrap_err().code, DriverErrorCode::Backend);
                1
            }
            suite::Backend::Sqlite => {
                nul_in_json.unwrap();
                2
            }
        };
        Pins::write_audit(&mut s, audit("{}")).await.unwrap();
        commit(s).await;
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins WHERE key = 'k2'").await, 1);
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_audit WHERE key = 'k2'").await, kept);

        // What the host runs a call again for is not caught: a serialisation failure in the access log's
        // statement is a lost race, and the call is run again.
        if h.backend == suite::Backend::Postgres {
            h.execute(
                "CREATE FUNCTION lose_race() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 RAISE EXCEPTION 'lost' USING ERRCODE = 'serialization_failure'; END $$",
            )
            .await;
            h.execute(
                "CREATE TRIGGER lose_race BEFORE INSERT ON memory_audit FOR EACH ROW \
                 WHEN (NEW.key = 'race') EXECUTE FUNCTION lose_race()",
            )
            .await;
            let mut racing = system(h);
            Pins::upsert_pin(&mut racing, t.clone(), "race".into(), "{}".into(), "api".into(), None).await.unwrap();
            let raced = MemoryAuditEntry { key: "race".into(), ..audit("{}") };
            assert_eq!(Pins::write_audit(&mut racing, raced).await.unwrap_err().code, DriverErrorCode::Unavailable);
            let outcome = racing.take_outcome();
            assert!(outcome.lost_race && outcome.failed, "a lost race in the access log runs the call again");
            outcome.tx.unwrap().rollback().await.unwrap();
        }

        // A customer's call cannot clean up every tenant, nor touch another tenant's pins.
        let mut customer = state(h, identity("ext-x", None), Some(&t));
        assert_eq!(Pins::cleanup_expired(&mut customer, None).await.unwrap_err().code, DriverErrorCode::ScopeViolation);
        assert_eq!(
            Pins::get_pin(&mut customer, other.clone(), "a%b_c".into()).await.unwrap_err().code,
            DriverErrorCode::ScopeViolation
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_and_lifecycle_state() {
    each_backend(async |h| {
        let mut s = system(h);
        let t = new_tenant(&mut s, "acme").await;
        let missing = uuid::Uuid::new_v4().to_string();
        assert_eq!(Onboarding::fetch_onboarding_state(&mut s, t.clone()).await.unwrap(), OnboardingState::Created);
        assert_eq!(Onboarding::fetch_onboarding_state(&mut s, missing.clone()).await.unwrap_err().code, DriverErrorCode::NotFound);
        let before = Onboarding::write_onboarding_state(&mut s, t.clone(), OnboardingState::SdkConnected).await.unwrap();
        assert_eq!(before, OnboardingState::Created);
        // Never lowered.
        let before = Onboarding::write_onboarding_state(&mut s, t.clone(), OnboardingState::IdentityVerified).await.unwrap();
        assert_eq!(before, OnboardingState::SdkConnected);
        assert_eq!(Onboarding::fetch_onboarding_state(&mut s, t.clone()).await.unwrap(), OnboardingState::SdkConnected);
        let missing_tenant = Onboarding::write_onboarding_state(&mut s, missing.clone(), OnboardingState::Complete).await;
        assert_eq!(missing_tenant.unwrap_err().code, DriverErrorCode::NotFound);
        let e = Onboarding::fetch_activation_evidence(&mut s, t.clone()).await.unwrap().unwrap();
        assert_eq!((e.usable_api_keys, e.enabled_integrations, e.sdk_attested), (0, 0, false));
        assert!(Onboarding::fetch_activation_evidence(&mut s, missing.clone()).await.unwrap().is_none());

        let gate = Lifecycle::fetch_tenant_status(&mut s, t.clone()).await.unwrap().expect("the tenant's gate");
        assert_eq!(gate.status, TenantStatus::Active);
        assert!(gate.policy_handles == account_host::bindings::aos::accounts::policy_types::TriggerSet::empty(), "no policy");
        assert!(Lifecycle::fetch_tenant_status(&mut s, missing.clone()).await.unwrap().is_none());
        let prev = Lifecycle::update_lifecycle_status(&mut s, t.clone(), TenantStatus::Active, TenantStatus::Suspended, Some("unpaid".into()))
            .await
            .unwrap();
        assert_eq!(prev, TenantStatus::Active);
        // A transition from a status the tenant is no longer in lost a race.
        let stale = Lifecycle::update_lifecycle_status(&mut s, t.clone(), TenantStatus::Active, TenantStatus::Terminated, None).await;
        assert_eq!(stale.unwrap_err().code, DriverErrorCode::Conflict);
        assert_eq!(
            Lifecycle::update_lifecycle_status(&mut s, missing, TenantStatus::Active, TenantStatus::Suspended, None).await.unwrap_err().code,
            DriverErrorCode::NotFound
        );
        commit(s).await;
        assert_eq!(h.count("SELECT COUNT(*) FROM tenants WHERE status = 'suspended' AND suspended_reason = 'unpaid'").await, 1);

        // Evidence from the tables of other domains.
        let (ts, k) = (match h.backend { suite::Backend::Sqlite => T0.to_string(), suite::Backend::Postgres => "now()".into() }, uuid::Uuid::new_v4());
        h.execute(&format!("INSERT INTO cus_integrations (id, tenant_id, name, status, created_at) VALUES ('{k}', '{t}', 'crm', 'enabled', {ts})")).await;
        h.execute(&format!("INSERT INTO sdk_attestations (id, tenant_id, sdk_version, attested_at) VALUES ('{}', '{t}', '1.0', {ts})", uuid::Uuid::new_v4())).await;
        let mut s = system(h);
        let e = Onboarding::fetch_activation_evidence(&mut s, t.clone()).await.unwrap().unwrap();
        assert_eq!((e.enabled_integrations, e.sdk_attested), (1, true));
        drop(s);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_tenant_calls_are_refused_and_write_nothing() {
    each_backend(async |h| {
        let mut s = system(h);
        let mine = new_tenant(&mut s, "mine").await;
        let theirs = new_tenant(&mut s, "theirs").await;
        commit(s).await;

        let mut s = state(h, identity("ext-a", None), Some(&mine));
        Pins::upsert_pin(&mut s, mine.clone(), "ok".into(), "{}".into(), "api".into(), None).await.unwrap();
        let refused = Pins::upsert_pin(&mut s, theirs.clone(), "steal".into(), "{}".into(), "api".into(), None).await;
        assert_eq!(refused.unwrap_err().code, DriverErrorCode::ScopeViolation);
        assert_eq!(
            Tenants::fetch_tenant_by_id(&mut s, theirs.clone()).await.unwrap_err().code,
            DriverErrorCode::ScopeViolation
        );
        // Lookups that name no tenant do not reveal another tenant's rows.
        assert!(Tenants::fetch_tenant_by_slug(&mut s, "theirs".into()).await.unwrap().is_none());
        assert!(s.take_outcome().violation.unwrap().contains(&theirs));
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 0);
    })
    .await;
}

/// The tenant row read with the tenant's status is served to a read of that row that follows at once,
/// without a statement; a statement in between (which may have changed the row) or another tenant's
/// row is read from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_row_read_with_the_gate_serves_only_the_read_that_follows_it() {
    each_backend(async |h| {
        let mut s = system(h);
        let t = new_tenant(&mut s, "acme").await;
        let other = new_tenant(&mut s, "other").await;
        commit(s).await;
        // The statements counter is the process's: other tests only add to it, so "none" is checked as
        // the fewest of three tries.
        let mut fewest = u64::MAX;
        let mut s = system(h);
        for _ in 0..3 {
            assert_eq!(
                Lifecycle::fetch_tenant_status(&mut s, t.clone()).await.unwrap().unwrap().status,
                TenantStatus::Active
            );
            let before = account_host::call::statements_run();
            let row = Tenants::fetch_tenant_by_id(&mut s, t.clone()).await.unwrap().expect("tenant");
            fewest = fewest.min(account_host::call::statements_run() - before);
            assert_eq!((row.id.as_str(), row.usage.runs_today), (t.as_str(), 0));
        }
        assert_eq!(fewest, 0, "the row came with the status");
        // A write between the two: the read sees it.
        Lifecycle::fetch_tenant_status(&mut s, t.clone()).await.unwrap().unwrap();
        Tenants::increment_tenant_usage(&mut s, t.clone(), 2, 5).await.unwrap();
        let row = Tenants::fetch_tenant_by_id(&mut s, t.clone()).await.unwrap().expect("tenant");
        assert_eq!((row.usage.runs_today, row.usage.tokens_this_month), (2, 5));
        // Another tenant's row is its own.
        Lifecycle::fetch_tenant_status(&mut s, t.clone()).await.unwrap().unwrap();
        assert_eq!(Tenants::fetch_tenant_by_id(&mut s, other.clone()).await.unwrap().expect("tenant").id, other);
        commit(s).await;
        // A tenant's caller is refused another tenant's row after its own gate, as ever.
        let mut s = state(h, identity("ext-a", None), Some(&t));
        Lifecycle::fetch_tenant_status(&mut s, t.clone()).await.unwrap().unwrap();
        let refused = Tenants::fetch_tenant_by_id(&mut s, other.clone()).await.unwrap_err();
        assert_eq!(refused.code, DriverErrorCode::ScopeViolation);
    })
    .await;
}

/// A call run read-only until it writes (on PostgreSQL, the first attempt of an operation that seldom
/// writes): the write the server refuses makes the runtime run the call again as a writer, whatever the
/// engine does with the error, and rolls the attempt back (the server wrote nothing: the transaction is
/// read-only). In the read-only call of an operation that only reads, the same write fails the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_of_a_read_first_attempt_runs_the_call_again_as_a_writer() {
    use account_host::runtime::Settled;
    let Some(url) = suite::postgres_url() else { return };
    let h = Harness::postgres(&url).await;
    let mut s = system(&h);
    let t = new_tenant(&mut s, "acme").await;
    commit(s).await;
    for until_it_writes in [true, false] {
        let (mut store, _) = h.runtime.store(&account_host::Caller::system(Some(&t)));
        if until_it_writes {
            store.data_mut().set_read_only_until_it_writes();
        } else {
            store.data_mut().set_read_only(true);
        }
        let s = store.data_mut();
        Tenants::fetch_tenant_by_id(s, t.clone()).await.unwrap().expect("tenant");
        let refused = Tenants::increment_tenant_usage(s, t.clone(), 1, 10).await;
        assert_eq!(refused.unwrap_err().code, DriverErrorCode::Backend);
        // The engine answers ok regardless.
        let settled = h.runtime.settle(&mut store, Ok(Ok(())), 1).await;
        match (until_it_writes, settled) {
            (true, Settled::RunAsWriter) => {}
            (false, Settled::Failed(e)) => assert_eq!(e.code, account_host::bindings::ErrorCode::Internal, "{e:?}"),
            (_, Settled::Answered(..)) => panic!("a refused write answered ok (until it writes: {until_it_writes})"),
            (_, _) => panic!("the wrong second attempt (until it writes: {until_it_writes})"),
        }
    }
    // Neither attempt changed the tenant's counters.
    assert_eq!(h.count(&format!("SELECT CAST(runs_today AS BIGINT) FROM tenants WHERE id = '{t}'")).await, 0);
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_unavailable() {
    each_backend(async |h| {
        let mut s = system(h);
        h.db.close().await;
        let e = Tenants::fetch_tenant_by_id(&mut s, uuid::Uuid::new_v4().to_string()).await.unwrap_err();
        assert_eq!(e.code, DriverErrorCode::Unavailable);
        assert!(!e.message.to_lowercase().contains("select"), "no SQL in messages: {}", e.message);
    })
    .await;
}

/// Migrations 0008 and 0017 were rewritten to run on SQLite older than 3.42 (Python's, for one). A
/// database that applied their old text still opens, and records the new text's checksum; a migration
/// edited in any other way is still refused.
#[tokio::test]
async fn sqlite_databases_migrated_before_the_rewrite_still_open() {
    let h = Harness::sqlite().await;
    let old_0008 = "47dea51c2fff9ddc6931e976b9bd633a2f894ba8ee39a050ff6369d38015e60cd3567b817c5cefd6e5ccbf71dcefcb3a";
    h.execute(&format!("UPDATE _sqlx_migrations SET checksum = X'{old_0008}' WHERE version = 8")).await;
    h.db.migrate().await.expect("a database with the old text of 0008 opens");
    assert_eq!(h.count(&format!("SELECT COUNT(*) FROM _sqlx_migrations WHERE checksum = X'{old_0008}'")).await, 0);
    h.execute("UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 8").await;
    let edited = h.db.migrate().await.expect_err("an edited migration is refused");
    assert!(format!("{edited:#}").contains('8'), "{edited:#}");
    h.close().await;
}
