//! The `accounts` operations through the real component: projects, members and roles, profiles,
//! billing, support and invitations — each happy path, each refusal with its code, and the audit rows.

use account_host::bindings::accounts::{NewTicket, ProfileUpdate};
use account_host::bindings::{
    ErrorCode, InvitationStatus, Plan, Role, TicketCategory, TicketPriority, TicketStatus, UserStatus,
};
use suite::{DAY, each_backend, expect_code, operator, page};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects() {
    each_backend(async |h| {
        let acc = h.runtime.accounts();
        let (tenant, owner) = h.owned_tenant("Acme Corp", "ann").await;
        let detail = acc.get_project_detail(&owner, &tenant).await.unwrap();
        assert_eq!((detail.slug.as_str(), detail.plan, detail.onboarding_complete), ("acme-corp", Plan::Free, false));
        // The same name again gets a unique slug.
        let (second, _) = h.owned_tenant("Acme Corp", "bob").await;
        let other = acc.get_project_detail(&h.human("ext-none", "x@example.com", Some(&second)).await, &second).await;
        expect_code(other, ErrorCode::Forbidden);
        let owner_b = h.human("bob", "bob@example.com", Some(&second)).await;
        let slug_b = acc.get_project_detail(&owner_b, &second).await.unwrap().slug;
        assert!(slug_b.starts_with("acme-corp-") && slug_b.len() == "acme-corp-".len() + 6, "{slug_b}");
        // Another project's id is forbidden, even to an owner of both.
        expect_code(acc.get_project_detail(&owner, &second).await, ErrorCode::Forbidden);

        let list = acc.list_projects(&owner, None, 50, 0).await.unwrap();
        assert_eq!((list.total, list.items.len(), list.has_more), (1, 1, false));
        expect_code(acc.list_projects(&owner, None, 0, 0).await, ErrorCode::InvalidArgument);
        expect_code(acc.create_project(&owner, "  ", None).await, ErrorCode::InvalidArgument);
        expect_code(acc.create_project(&operator(None), "Ops", None).await, ErrorCode::Forbidden);
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'create_project'").await, 2);
        assert_eq!(h.count("SELECT COUNT(*) FROM tenants").await, 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_roles() {
    each_backend(async |h| {
        let acc = h.runtime.accounts();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        h.clock.advance_secs(1);
        let admin = h.member(&owner, &t, "bob", Role::Admin).await;
        let viewer = h.member(&owner, &t, "cid", Role::Viewer).await;
        let ann_id = h.user_id("ann").await.unwrap();
        let bob_id = h.user_id("bob").await.unwrap();
        let cid_id = h.user_id("cid").await.unwrap();

        let users = acc.list_users(&viewer, None, None, &page(2)).await.unwrap();
        assert_eq!(users.total, 3);
        assert_eq!(
            users.items.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
            ["ann@example.com", "bob@example.com"]
        );
        let rest = acc
            .list_users(
                &viewer,
                None,
                None,
                &account_host::bindings::PageRequest { limit: 2, after: users.next.clone() },
            )
            .await
            .unwrap();
        assert_eq!(rest.items[0].email, "cid@example.com");
        let admins = acc.list_users(&viewer, Some(Role::Admin), None, &page(10)).await.unwrap();
        assert_eq!(admins.total, 1);
        let detail = acc.get_user_detail(&viewer, &bob_id).await.unwrap();
        assert_eq!(
            (detail.role, detail.can_manage_keys, detail.invited_by.as_deref()),
            (Role::Admin, true, Some(ann_id.as_str()))
        );
        expect_code(acc.get_user_detail(&viewer, &uuid::Uuid::new_v4().to_string()).await, ErrorCode::NotFound);
        let joined = acc.list_tenant_users(&viewer, &page(10)).await.unwrap();
        assert_eq!(joined.items[0].user_id, ann_id, "joining order: the creator first");

        // Only owners change roles; nobody their own; the target must be a member.
        expect_code(acc.update_user_role(&admin, &cid_id, Role::Member).await, ErrorCode::Forbidden);
        expect_code(acc.update_user_role(&owner, &ann_id, Role::Admin).await, ErrorCode::InvalidArgument);
        expect_code(
            acc.update_user_role(&owner, &uuid::Uuid::new_v4().to_string(), Role::Admin).await,
            ErrorCode::NotFound,
        );
        let promoted = acc.update_user_role(&owner, &cid_id, Role::Member).await.unwrap();
        assert_eq!(promoted.role, Role::Member);
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'update_user_role'").await, 1);

        // Owners and admins remove; not themselves; only owners remove owners; an owner always remains.
        expect_code(acc.remove_user(&viewer, &bob_id).await, ErrorCode::Forbidden);
        expect_code(acc.remove_user(&admin, &bob_id).await, ErrorCode::InvalidArgument);
        expect_code(acc.remove_user(&admin, &ann_id).await, ErrorCode::Forbidden);
        let promoted = acc.update_user_role(&owner, &bob_id, Role::Owner).await.unwrap();
        assert_eq!(promoted.role, Role::Owner);
        let bob_owner = h.human("bob", "bob@example.com", Some(&t)).await;
        assert_eq!(acc.update_user_role(&bob_owner, &ann_id, Role::Viewer).await.unwrap().role, Role::Viewer);
        // Bob is now the only owner: an operator cannot demote or remove him either.
        expect_code(acc.update_user_role(&operator(Some(&t)), &bob_id, Role::Admin).await, ErrorCode::Conflict);
        expect_code(acc.remove_user(&operator(Some(&t)), &bob_id).await, ErrorCode::Conflict);
        assert_eq!(acc.remove_user(&bob_owner, &cid_id).await.unwrap(), cid_id);
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM tenant_memberships WHERE tenant_id = '{t}'")).await, 2);
        // A removed member is no longer let in.
        expect_code(acc.list_users(&viewer, None, None, &page(10)).await, ErrorCode::Forbidden);
    })
    .await;
}

/// A member list's total costs the same on a tenant of any size: it is counted up to 1,000 and then says
/// "more than 1,000"; a filter that matches fewer is counted exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_totals_stop_at_a_thousand() {
    each_backend(async |h| {
        let acc = h.runtime.accounts();
        let (tenant, owner) = h.owned_tenant("Big", "ann").await;
        h.seed_members(&tenant, 1, 999).await;
        // 1,000 members with the owner: exact.
        let all = acc.list_users(&owner, None, None, &page(10)).await.unwrap();
        assert_eq!((all.total, all.total_exact, all.items.len()), (1000, true, 10));
        h.seed_members(&tenant, 1000, 1).await;
        for status in [None, Some(UserStatus::Active)] {
            let all = acc.list_users(&owner, None, status, &page(10)).await.unwrap();
            assert_eq!((all.total, all.total_exact, all.items.len()), (1000, false, 10), "{status:?}");
        }
        let owners = acc.list_users(&owner, Some(Role::Owner), None, &page(10)).await.unwrap();
        assert_eq!((owners.total, owners.total_exact), (1, true));
        let suspended = acc.list_users(&owner, None, Some(UserStatus::Suspended), &page(10)).await.unwrap();
        assert_eq!((suspended.total, suspended.total_exact), (0, true));
        // The last owner is still kept (the owners are counted up to two), and one of two may go.
        let platform = operator(Some(&tenant));
        let ann = h.user_id("ann").await.unwrap();
        expect_code(acc.update_user_role(&platform, &ann, Role::Admin).await, ErrorCode::Conflict);
        let bulk = h.user_id("bulk|1").await.unwrap();
        acc.update_user_role(&platform, &bulk, Role::Owner).await.unwrap();
        assert_eq!(acc.update_user_role(&platform, &ann, Role::Admin).await.unwrap().role, Role::Admin);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_billing_and_support() {
    each_backend(async |h| {
        let acc = h.runtime.accounts();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let viewer = h.member(&owner, &t, "cid", Role::Viewer).await;

        let profile = acc.get_profile(&owner).await.unwrap();
        assert_eq!(
            (profile.role, profile.preferences.as_str(), profile.tenant_name.as_deref()),
            (Some(Role::Owner), "{}", Some("Acme"))
        );
        let update = ProfileUpdate {
            display_name: Some("Ann A.".into()),
            timezone: Some("Europe/Paris".into()),
            preferences: Some(r#"{"theme":"dark","timezone":"UTC"}"#.into()),
        };
        let updated = acc.update_profile(&owner, &update).await.unwrap();
        // A timezone inside `preferences` wins over the field.
        assert_eq!((updated.display_name.as_deref(), updated.timezone.as_deref()), (Some("Ann A."), Some("UTC")));
        let again = acc.get_profile(&owner).await.unwrap();
        assert_eq!(
            (again.name.as_deref(), again.preferences.as_str()),
            (Some("Ann A."), r#"{"theme":"dark","timezone":"UTC"}"#)
        );
        let bad = ProfileUpdate { display_name: None, timezone: None, preferences: Some("[1]".into()) };
        expect_code(acc.update_profile(&owner, &bad).await, ErrorCode::InvalidArgument);
        let long = ProfileUpdate { display_name: Some("x".repeat(101)), timezone: None, preferences: None };
        expect_code(acc.update_profile(&owner, &long).await, ErrorCode::InvalidArgument);
        assert_eq!(acc.get_profile(&owner).await.unwrap().name.as_deref(), Some("Ann A."));

        let billing = acc.get_billing_summary(&owner).await.unwrap();
        assert_eq!(
            (billing.plan, billing.subscription_status, billing.quotas.max_runs_per_day),
            (Plan::Free, None, 100)
        );
        expect_code(acc.get_billing_summary(&viewer).await, ErrorCode::Forbidden);
        let invoices = acc.get_billing_invoices(&owner).await.unwrap();
        assert_eq!((invoices.total, invoices.invoices.len()), (0, 0));

        let contact = acc.get_support_contact(&viewer).await.unwrap();
        assert_eq!(contact.hours, "24/7");
        let ticket = NewTicket {
            subject: "Help".into(),
            description: "It broke".into(),
            category: TicketCategory::Technical,
            priority: TicketPriority::High,
        };
        let filed = acc.create_support_ticket(&viewer, &ticket).await.unwrap();
        assert_eq!((filed.status, filed.priority), (TicketStatus::Open, TicketPriority::High));
        let empty = NewTicket { subject: "".into(), ..ticket.clone() };
        expect_code(acc.create_support_ticket(&viewer, &empty).await, ErrorCode::InvalidArgument);
        let listed = acc.list_support_tickets(&owner, Some(TicketStatus::Open), &page(10)).await.unwrap();
        assert_eq!(listed.items.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), [filed.id]);
        assert_eq!(
            h.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('update_profile', 'create_support_ticket')").await,
            2
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations() {
    each_backend(async |h| {
        let acc = h.runtime.accounts();
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let admin = h.member(&owner, &t, "bob", Role::Admin).await;
        let viewer = h.member(&owner, &t, "cid", Role::Viewer).await;

        // Who may invite whom.
        expect_code(acc.invite_user(&viewer, "dan@example.com", Role::Member).await, ErrorCode::Forbidden);
        expect_code(acc.invite_user(&admin, "dan@example.com", Role::Owner).await, ErrorCode::Forbidden);
        expect_code(acc.invite_user(&admin, "not-an-email", Role::Member).await, ErrorCode::InvalidArgument);
        expect_code(acc.invite_user(&admin, "CID@example.com", Role::Member).await, ErrorCode::Conflict);
        let invited = acc.invite_user(&admin, "Dan@Example.com", Role::Member).await.unwrap();
        assert_eq!((invited.invitation.email.as_str(), invited.token.len()), ("dan@example.com", 43));
        assert_eq!(invited.invitation.expires_at - invited.invitation.created_at, 7 * DAY);
        expect_code(acc.invite_user(&owner, "dan@example.com", Role::Admin).await, ErrorCode::Conflict);
        // Only the token's hash is stored.
        let raw = h.count(&format!("SELECT COUNT(*) FROM invitations WHERE token_hash = '{}'", invited.token)).await;
        assert_eq!(raw, 0);
        expect_code(acc.list_invitations(&viewer, None, &page(10)).await, ErrorCode::Forbidden);
        assert_eq!(
            acc.list_invitations(&admin, Some(InvitationStatus::Pending), &page(10)).await.unwrap().items.len(),
            1
        );

        // Acceptance binds to the identity whose e-mail was invited; every failure looks the same.
        let eve = h.human("eve", "eve@example.com", None).await;
        let wrong = acc.accept_invitation(&eve, &invited.invitation.id, &invited.token).await.unwrap();
        assert!(!wrong.accepted);
        let dan = h.human("dan", "dan@example.com", None).await;
        let bad_token = acc.accept_invitation(&dan, &invited.invitation.id, &"x".repeat(43)).await.unwrap();
        assert_eq!((bad_token.accepted, bad_token.message.as_str()), (false, wrong.message.as_str()));
        expect_code(
            acc.accept_invitation(&suite::operator(None), &invited.invitation.id, &invited.token).await,
            ErrorCode::Unauthenticated,
        );
        let ok = acc.accept_invitation(&dan, &invited.invitation.id, &invited.token).await.unwrap();
        assert!(ok.accepted, "{}", ok.message);
        assert_eq!((ok.tenant_id.as_deref(), ok.role), (Some(t.as_str()), Some(Role::Member)));
        let replay = acc
            .accept_invitation(&h.human("dan", "dan@example.com", None).await, &invited.invitation.id, &invited.token)
            .await
            .unwrap();
        assert!(!replay.accepted);
        let dan_id = h.user_id("dan").await.unwrap();
        assert_eq!(h.count(&format!("SELECT COUNT(*) FROM tenant_memberships WHERE user_id = '{dan_id}'")).await, 1);
        assert_eq!(
            h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'accept_invitation'").await,
            3,
            "bob, cid, dan"
        );

        // Expiry is detected on acceptance, marked, and still answers like any other failure.
        let late = acc.invite_user(&owner, "fay@example.com", Role::Viewer).await.unwrap();
        h.clock.advance_secs(8 * 86_400);
        let fay = h.human("fay", "fay@example.com", None).await;
        let expired = acc.accept_invitation(&fay, &late.invitation.id, &late.token).await.unwrap();
        assert_eq!((expired.accepted, expired.message.as_str()), (false, wrong.message.as_str()));
        assert_eq!(
            h.count(&format!(
                "SELECT COUNT(*) FROM invitations WHERE id = '{}' AND status = 'expired'",
                late.invitation.id
            ))
            .await,
            1
        );

        // Revoking: pending only; admins not an owner invitation.
        let to_owner = acc.invite_user(&owner, "gus@example.com", Role::Owner).await.unwrap();
        expect_code(acc.revoke_invitation(&admin, &to_owner.invitation.id).await, ErrorCode::Forbidden);
        let revoked = acc.revoke_invitation(&owner, &to_owner.invitation.id).await.unwrap();
        assert_eq!(revoked.status, InvitationStatus::Revoked);
        expect_code(acc.revoke_invitation(&owner, &to_owner.invitation.id).await, ErrorCode::Conflict);
        let gus = h.human("gus", "gus@example.com", None).await;
        assert!(!acc.accept_invitation(&gus, &to_owner.invitation.id, &to_owner.token).await.unwrap().accepted);
    })
    .await;
}
