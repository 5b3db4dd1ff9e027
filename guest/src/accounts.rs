//! `accounts`: projects, members and roles, profile, billing, support tickets and invitations.
//!
//! Roles: changing a role, removing an owner and inviting an owner (or revoking that invitation) are for
//! owners, operators and the system; nobody changes their own role or removes themselves; a tenant always
//! keeps at least one owner.

use crate::Engine;
use crate::access::{self, Access, rank, role_name};
use crate::accounts_facade_driver::{self as driver};
use crate::aos::accounts::policy_types::{
    AcceptEvent, InviteEvent, RemovalEvent, RoleChangeEvent, TicketEvent, Trigger,
};
use crate::aos::accounts::types::{
    Actor, CallContext, EngineError, ErrorCode, IdentityPrincipal, InvitationSnapshot, InvitationStatus, PageRequest,
    Role, TenantDetailSnapshot, TenantStatus, TicketSnapshot, UserRow, UserStatus,
};
use crate::error::{Result, conflict, err, forbidden, invalid, is_conflict, not_found};
use crate::exports::aos::accounts::accounts::{
    Acceptance, BillingSummary, Guest, Invitation, InvitationCreated, InvitationList, InvoiceList, NewTicket, Profile,
    ProfileUpdate, ProfileUpdateResult, ProjectDetail, ProjectList, ProjectSummary, SupportContact, TenantUser,
    TenantUserList, Ticket, TicketList, UserDetail, UserList, UserSummary,
};
use crate::operations::{Gate, accounts as op};
use crate::policy_gate::{self, PolicyEvent};
use crate::tenant_driver::{Audit, audit, audit_tenant};
use crate::{secrets, tenant_driver, tenants, time, user_write_driver, validate};

/// Invitations expire this long after they are made.
pub const INVITATION_TTL: i64 = 7 * time::DAY;
/// What every failed acceptance says, so that an outsider learns nothing about the invitation.
pub const INVALID_INVITATION: &str = "Invalid or expired invitation";

impl Guest for Engine {
    fn list_projects(
        ctx: CallContext,
        status: Option<TenantStatus>,
        limit: u32,
        offset: u32,
    ) -> Result<ProjectList, EngineError> {
        let access = access::check(&ctx, &op::LIST_PROJECTS)?;
        validate::range("limit", limit, 1, 100)?;
        let items = driver::fetch_tenants(&access.tenant_id, status, limit, offset)?;
        let total = driver::count_tenants(&access.tenant_id, status)?;
        let has_more = u64::from(offset) + (items.len() as u64) < total;
        let items = items
            .into_iter()
            .map(|t| ProjectSummary {
                project_id: t.id,
                name: t.name,
                slug: t.slug,
                description: None,
                status: t.status,
                plan: t.plan,
                created_at: t.created_at,
                updated_at: t.updated_at,
            })
            .collect();
        Ok(ProjectList { items, total, has_more })
    }

    fn get_project_detail(ctx: CallContext, project_id: String) -> Result<ProjectDetail, EngineError> {
        let access = access::check(&ctx, &op::GET_PROJECT_DETAIL)?;
        if project_id != access.tenant_id {
            return Err(forbidden("Cannot access other projects."));
        }
        let detail = driver::fetch_tenant_detail(&access.tenant_id)?.ok_or_else(|| not_found("Project not found"))?;
        Ok(project_detail(detail))
    }

    fn create_project(
        ctx: CallContext,
        name: String,
        description: Option<String>,
    ) -> Result<ProjectDetail, EngineError> {
        let identity = access::check_person(&ctx, &op::CREATE_PROJECT, || {
            forbidden("projects are created by a signed-in person")
        })?;
        let name = validate::text("name", &name, 1, 200)?;
        let description = validate::optional_text("description", description.as_deref(), 1000)?;
        let user = identity_user(identity)?;
        let owned = driver::count_owned_tenants(&user.id)?;
        let cap = ctx.settings.max_owned_tenants_per_user;
        if owned >= u64::from(cap) {
            return Err(err(ErrorCode::QuotaExceeded, format!("one person may own at most {cap} tenants")));
        }
        let base = validate::slugify(&name);
        // A clash on the slug gets a random suffix; a few attempts make a second clash vanishingly rare.
        let mut project = None;
        for attempt in 0..4 {
            let slug = if attempt == 0 { base.clone() } else { format!("{base}-{}", secrets::random_hex(6)) };
            match driver::insert_project(&name, &slug, description.as_deref()) {
                Ok(p) => {
                    project = Some(p);
                    break;
                }
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let project = project.ok_or_else(|| conflict("could not find a free slug for this name"))?;
        tenant_driver::insert_membership(&project.id, &user.id, Role::Owner, user.default_tenant_id.is_none())?;
        audit_tenant(
            &ctx,
            Some(&project.id),
            Some(&user.id),
            None,
            Audit {
                action: "create_project",
                resource_type: "tenant",
                resource_id: Some(&project.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "name": project.name, "slug": project.slug })),
            },
        )?;
        Ok(project_detail(project))
    }

    fn list_users(
        ctx: CallContext,
        role: Option<Role>,
        status: Option<UserStatus>,
        page: PageRequest,
    ) -> Result<UserList, EngineError> {
        let access = access::check(&ctx, &op::LIST_USERS)?;
        let request = validate::page(&page)?;
        let page = driver::fetch_users(&access.tenant_id, role, status, &request)?;
        let counted = match validate::whole_list(&request, page.next.is_some(), page.items.len()) {
            Some(all) => all,
            None => driver::count_users(&access.tenant_id, role, status, validate::TOTAL_COUNT_UP_TO)?,
        };
        let (total, total_exact) = validate::total(counted);
        let items = page
            .items
            .into_iter()
            .map(|u| UserSummary {
                user_id: u.id,
                email: u.email,
                name: u.name,
                role: u.role,
                status: u.status,
                created_at: u.created_at,
                last_login_at: u.last_login_at,
            })
            .collect();
        Ok(UserList { items, total, total_exact, next: page.next })
    }

    fn get_user_detail(ctx: CallContext, user_id: String) -> Result<UserDetail, EngineError> {
        let access = access::check(&ctx, &op::GET_USER_DETAIL)?;
        let u = driver::fetch_user_detail(&access.tenant_id, &user_id)?
            .ok_or_else(|| not_found("User not found in this tenant"))?;
        Ok(UserDetail {
            user_id: u.id,
            email: u.email,
            name: u.name,
            avatar_url: u.avatar_url,
            status: u.status,
            role: u.role,
            email_verified: u.email_verified,
            oauth_provider: u.oauth_provider,
            membership_created_at: u.membership_created_at,
            invited_by: u.invited_by,
            can_manage_keys: rank(u.role) >= rank(Role::Admin),
            can_run_workers: rank(u.role) >= rank(Role::Member),
            can_view_runs: true,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
        })
    }

    fn list_tenant_users(ctx: CallContext, page: PageRequest) -> Result<TenantUserList, EngineError> {
        let access = access::check(&ctx, &op::LIST_TENANT_USERS)?;
        let page = driver::fetch_tenant_memberships(&access.tenant_id, &validate::page(&page)?)?;
        let items = page
            .items
            .into_iter()
            .map(|m| TenantUser {
                user_id: m.user_id,
                email: m.email,
                name: m.name,
                role: m.role,
                joined_at: m.created_at,
            })
            .collect();
        Ok(TenantUserList { items, next: page.next })
    }

    fn update_user_role(ctx: CallContext, user_id: String, new_role: Role) -> Result<TenantUser, EngineError> {
        let access = access::check(&ctx, &op::UPDATE_USER_ROLE).map_err(|e| {
            if e.code == ErrorCode::Forbidden { forbidden("Only owners can change user roles") } else { e }
        })?;
        if access.user_id() == Some(user_id.as_str()) {
            return Err(invalid("Cannot change your own role"));
        }
        let target = driver::fetch_membership(&access.tenant_id, &user_id)?
            .ok_or_else(|| not_found("User not found in tenant"))?;
        if target.role == Role::Owner && new_role != Role::Owner {
            keep_an_owner(&access.tenant_id)?;
        }
        let event = || {
            Ok(PolicyEvent::ChangeRole(RoleChangeEvent {
                user_id: user_id.clone(),
                email: member_email(&access.tenant_id, &user_id)?,
                from_role: target.role,
                to_role: new_role,
            }))
        };
        policy_gate::consult(
            access.policy,
            Trigger::ChangeRole,
            &access.tenant_id,
            policy_gate::actor(&ctx, &access),
            event,
        )?;
        let updated = driver::update_membership_role(&access.tenant_id, &target.id, new_role)?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "update_user_role",
                resource_type: "membership",
                resource_id: Some(&target.id),
                old_value: Some(serde_json::json!({ "user_id": user_id, "role": role_name(target.role) })),
                new_value: Some(serde_json::json!({ "user_id": user_id, "role": role_name(new_role) })),
            },
        )?;
        Ok(TenantUser {
            user_id: updated.user_id,
            email: updated.email,
            name: updated.name,
            role: updated.role,
            joined_at: updated.created_at,
        })
    }

    fn remove_user(ctx: CallContext, user_id: String) -> Result<String, EngineError> {
        let access = access::check(&ctx, &op::REMOVE_USER).map_err(|e| {
            if e.code == ErrorCode::Forbidden { forbidden("Only owners and admins can remove users") } else { e }
        })?;
        if access.user_id() == Some(user_id.as_str()) {
            return Err(invalid("Cannot remove yourself from tenant"));
        }
        let target = driver::fetch_membership(&access.tenant_id, &user_id)?
            .ok_or_else(|| not_found("User not found in tenant"))?;
        if target.role == Role::Owner {
            if !owner_or_platform(&access) {
                return Err(forbidden("Only owners can remove other owners"));
            }
            keep_an_owner(&access.tenant_id)?;
        }
        let event = || {
            Ok(PolicyEvent::RemoveMember(RemovalEvent {
                user_id: user_id.clone(),
                email: member_email(&access.tenant_id, &user_id)?,
                role: target.role,
            }))
        };
        policy_gate::consult(
            access.policy,
            Trigger::RemoveMember,
            &access.tenant_id,
            policy_gate::actor(&ctx, &access),
            event,
        )?;
        driver::delete_membership(&access.tenant_id, &target.id)?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "remove_user",
                resource_type: "membership",
                resource_id: Some(&target.id),
                old_value: Some(serde_json::json!({ "user_id": user_id, "role": role_name(target.role) })),
                new_value: None,
            },
        )?;
        Ok(user_id)
    }

    fn get_profile(ctx: CallContext) -> Result<Profile, EngineError> {
        let access = access::check(&ctx, &op::GET_PROFILE)?;
        let user_id = access.user_id().ok_or_else(|| forbidden("a profile belongs to a signed-in person"))?;
        let p = driver::fetch_profile(&access.tenant_id, user_id)?.ok_or_else(|| not_found("User not found"))?;
        Ok(Profile {
            user_id: p.user_id,
            email: p.email,
            name: p.name,
            avatar_url: p.avatar_url,
            tenant_id: p.tenant_id,
            tenant_name: p.tenant_name,
            role: p.role,
            created_at: p.created_at,
            preferences: p.preferences.unwrap_or_else(|| "{}".into()),
        })
    }

    fn update_profile(ctx: CallContext, update: ProfileUpdate) -> Result<ProfileUpdateResult, EngineError> {
        // A person's own profile: allowed while the tenant can be read, whatever its write gate says.
        let access = access::check(&ctx, &op::UPDATE_PROFILE)?;
        let user_id = access.user_id().ok_or_else(|| forbidden("a profile belongs to a signed-in person"))?.to_string();
        let display_name = validate::optional_text("display_name", update.display_name.as_deref(), 100)?;
        let timezone = validate::optional_text("timezone", update.timezone.as_deref(), 50)?;
        let given = update.preferences.as_deref().map(|p| validate::json_object("preferences", p)).transpose()?;
        let user = driver::fetch_user_by_id(&user_id)?.ok_or_else(|| not_found("User not found"))?;
        let mut preferences = user
            .preferences
            .as_deref()
            .and_then(|p| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(p).ok())
            .unwrap_or_default();
        let changes_preferences = timezone.is_some() || given.is_some();
        if let Some(tz) = &timezone {
            preferences.insert("timezone".into(), serde_json::Value::String(tz.clone()));
        }
        // Given both, a `timezone` inside `preferences` wins over the `timezone` field (it is applied last).
        if let Some(given) = given {
            preferences.extend(given);
        }
        let serialized = serde_json::Value::Object(preferences.clone()).to_string();
        if serialized.len() > 65_536 {
            return Err(invalid("preferences must be at most 65536 bytes serialised"));
        }
        let row = driver::update_user_profile(
            &user_id,
            display_name.as_deref(),
            changes_preferences.then_some(serialized.as_str()),
        )?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "update_profile",
                resource_type: "user",
                resource_id: Some(&user_id),
                old_value: Some(serde_json::json!({ "name": user.name })),
                new_value: Some(serde_json::json!({ "name": row.name, "preferences_changed": changes_preferences })),
            },
        )?;
        Ok(ProfileUpdateResult {
            user_id: row.id,
            email: row.email,
            display_name: row.name,
            timezone: preferences.get("timezone").and_then(|v| v.as_str()).map(str::to_string),
            preferences: serialized,
            updated_at: row.updated_at,
        })
    }

    fn get_billing_summary(ctx: CallContext) -> Result<BillingSummary, EngineError> {
        let access = access::check(&ctx, &op::GET_BILLING_SUMMARY)?;
        let tenant = tenants::fetch_tenant(&access.tenant_id)?;
        let subscription = driver::fetch_subscription(&access.tenant_id)?;
        let (usage, _) = tenants::effective_usage(&tenant.usage, ctx.now);
        Ok(match subscription {
            Some(s) => BillingSummary {
                plan: s.plan,
                subscription_status: Some(s.status),
                billing_period: Some(s.billing_period),
                current_period_start: s.current_period_start,
                current_period_end: s.current_period_end,
                next_invoice_date: s.current_period_end,
                quotas: tenant.quotas,
                usage,
            },
            None => BillingSummary {
                plan: tenant.plan,
                subscription_status: None,
                billing_period: None,
                current_period_start: Some(tenant.created_at),
                current_period_end: None,
                next_invoice_date: None,
                quotas: tenant.quotas,
                usage,
            },
        })
    }

    fn get_billing_invoices(ctx: CallContext) -> Result<InvoiceList, EngineError> {
        access::check(&ctx, &op::GET_BILLING_INVOICES)?;
        Ok(InvoiceList {
            invoices: Vec::new(),
            total: 0,
            message: Some("Invoices are issued by the billing provider; none are kept here".into()),
        })
    }

    fn get_support_contact(ctx: CallContext) -> Result<SupportContact, EngineError> {
        access::check_public(&op::GET_SUPPORT_CONTACT)?;
        let s = ctx.settings;
        Ok(SupportContact { email: s.support_email, hours: s.support_hours, response_time: s.support_response_time })
    }

    fn create_support_ticket(ctx: CallContext, ticket: NewTicket) -> Result<Ticket, EngineError> {
        // Asking for help stays possible while a tenant is suspended.
        let access = access::check(&ctx, &op::CREATE_SUPPORT_TICKET)?;
        let user_id = access.user_id().ok_or_else(|| forbidden("tickets are filed by a signed-in person"))?.to_string();
        let subject = validate::text("subject", &ticket.subject, 1, 200)?;
        let description = validate::text("description", &ticket.description, 1, 4000)?;
        let event = || {
            Ok(PolicyEvent::FileTicket(TicketEvent {
                subject: subject.clone(),
                description: description.clone(),
                category: ticket.category,
                priority: ticket.priority,
            }))
        };
        policy_gate::consult(
            access.policy,
            Trigger::FileTicket,
            &access.tenant_id,
            policy_gate::actor(&ctx, &access),
            event,
        )?;
        let row = driver::insert_support_ticket(
            &access.tenant_id,
            &user_id,
            &subject,
            &description,
            ticket.category,
            ticket.priority,
        )?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "create_support_ticket",
                resource_type: "support_ticket",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "subject": row.subject })),
            },
        )?;
        Ok(ticket_of(row))
    }

    fn list_support_tickets(
        ctx: CallContext,
        status: Option<crate::aos::accounts::types::TicketStatus>,
        page: PageRequest,
    ) -> Result<TicketList, EngineError> {
        let access = access::check(&ctx, &op::LIST_SUPPORT_TICKETS)?;
        let page = driver::fetch_support_tickets(&access.tenant_id, status, &validate::page(&page)?)?;
        Ok(TicketList { items: page.items.into_iter().map(ticket_of).collect(), next: page.next })
    }

    fn invite_user(ctx: CallContext, email: String, role: Role) -> Result<InvitationCreated, EngineError> {
        let access = access::check(&ctx, &op::INVITE_USER).map_err(|e| {
            if e.code == ErrorCode::Forbidden { forbidden("Only owners and admins can invite users") } else { e }
        })?;
        if role == Role::Owner && !owner_or_platform(&access) {
            return Err(forbidden("Only owners can invite owners"));
        }
        let email = validate::email(&email)?;
        if let Some(user) = driver::fetch_user_by_email(&email)?
            && driver::fetch_membership(&access.tenant_id, &user.id)?.is_some()
        {
            return Err(conflict("This person is already a member of the tenant"));
        }
        if driver::fetch_invitation_by_email(&access.tenant_id, &email, InvitationStatus::Pending)?.is_some() {
            return Err(conflict("Invitation already pending for this email"));
        }
        let event = || {
            Ok(PolicyEvent::InviteUser(InviteEvent {
                email: email.clone(),
                role,
                members: count(driver::count_users(&access.tenant_id, None, None, u64::from(u32::MAX))?),
                pending_invitations: count(driver::count_pending_invitations(&access.tenant_id)?),
            }))
        };
        policy_gate::consult(
            access.policy,
            Trigger::InviteUser,
            &access.tenant_id,
            policy_gate::actor(&ctx, &access),
            event,
        )?;
        let token = secrets::random_secret();
        // A key invites on behalf of the person who made it: that person answers for the invitation.
        let inviter = access.user_id().map(str::to_string).or_else(|| match &ctx.actor {
            Actor::ApiKey(key) => key.created_by.clone(),
            _ => None,
        });
        let row = driver::insert_invitation(
            &access.tenant_id,
            &email,
            role,
            &secrets::sha256_hex(&token),
            inviter.as_deref(),
            ctx.now + INVITATION_TTL,
        )
        .map_err(|e| if is_conflict(&e) { conflict("Invitation already pending for this email") } else { e.into() })?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "invite_user",
                resource_type: "invitation",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "email": email, "role": role_name(role) })),
            },
        )?;
        Ok(InvitationCreated { invitation: invitation_of(row), token })
    }

    fn list_invitations(
        ctx: CallContext,
        status: Option<InvitationStatus>,
        page: PageRequest,
    ) -> Result<InvitationList, EngineError> {
        let access = access::check(&ctx, &op::LIST_INVITATIONS).map_err(|e| {
            if e.code == ErrorCode::Forbidden { forbidden("Only owners and admins can view invitations") } else { e }
        })?;
        let page = driver::fetch_invitations(&access.tenant_id, status, &validate::page(&page)?)?;
        Ok(InvitationList { items: page.items.into_iter().map(invitation_of).collect(), next: page.next })
    }

    fn accept_invitation(ctx: CallContext, invitation_id: String, token: String) -> Result<Acceptance, EngineError> {
        let identity = access::check_person(&ctx, &op::ACCEPT_INVITATION, || {
            err(ErrorCode::Unauthenticated, "sign in to accept an invitation")
        })?;
        let refused =
            || Acceptance { accepted: false, message: INVALID_INVITATION.into(), tenant_id: None, role: None };
        if !secrets::looks_like_secret(&token) || invitation_id.len() != 36 {
            return Ok(refused());
        }
        let Some(invitation) = driver::fetch_invitation_by_id_and_token(&invitation_id, &secrets::sha256_hex(&token))?
        else {
            return Ok(refused());
        };
        if invitation.expires_at <= ctx.now {
            // Marking it is a write the caller's "no" must not roll back: the operation answers ok.
            driver::update_invitation_expired(&invitation.tenant_id, &invitation.id)?;
            return Ok(refused());
        }
        // The e-mail is what the invitation grants to: only an identity provider's word that this person
        // controls it counts.
        if !identity.email_verified || !identity.email.eq_ignore_ascii_case(&invitation.email) {
            return Ok(refused());
        }
        let gate = crate::tenant_lifecycle_driver::fetch_tenant_status(&invitation.tenant_id)?
            .ok_or_else(|| not_found("Tenant not found"))?;
        // Joining is a write to the tenant: only an active tenant takes new members.
        access::gate(gate.status, Gate::Write)?;
        if !inviter_still_may(&invitation)? {
            return Ok(refused());
        }
        let user = identity_user(identity)?;
        let (message, role) = match driver::fetch_membership(&invitation.tenant_id, &user.id)? {
            Some(existing) => ("Already a member of this tenant", existing.role),
            None => {
                let event = || {
                    Ok(PolicyEvent::AcceptInvitation(AcceptEvent {
                        invitation_id: invitation.id.clone(),
                        email: invitation.email.clone(),
                        role: invitation.role,
                        members: count(driver::count_users(&invitation.tenant_id, None, None, u64::from(u32::MAX))?),
                    }))
                };
                let actor = policy_gate::person(&user.id);
                policy_gate::consult(
                    gate.policy_handles,
                    Trigger::AcceptInvitation,
                    &invitation.tenant_id,
                    actor,
                    event,
                )?;
                driver::insert_membership(
                    &invitation.tenant_id,
                    &user.id,
                    invitation.role,
                    invitation.invited_by.as_deref(),
                )?;
                ("Invitation accepted", invitation.role)
            }
        };
        // Conditional on the invitation still being pending: of two concurrent acceptances one wins.
        driver::update_invitation_accepted(&invitation.tenant_id, &invitation.id)
            .map_err(|e| if is_conflict(&e) { conflict(INVALID_INVITATION) } else { e.into() })?;
        audit_tenant(
            &ctx,
            Some(&invitation.tenant_id),
            Some(&user.id),
            None,
            Audit {
                action: "accept_invitation",
                resource_type: "invitation",
                resource_id: Some(&invitation.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "user_id": user.id, "role": role_name(role) })),
            },
        )?;
        Ok(Acceptance {
            accepted: true,
            message: message.into(),
            tenant_id: Some(invitation.tenant_id),
            role: Some(role),
        })
    }

    fn revoke_invitation(ctx: CallContext, invitation_id: String) -> Result<Invitation, EngineError> {
        let access = access::check(&ctx, &op::REVOKE_INVITATION)?;
        let row = driver::update_invitation_revoked(&access.tenant_id, &invitation_id).map_err(|e| {
            if is_conflict(&e) { conflict("Only a pending invitation can be revoked") } else { e.into() }
        })?;
        if row.role == Role::Owner && !owner_or_platform(&access) {
            return Err(forbidden("Only owners can revoke an owner invitation"));
        }
        audit(
            &ctx,
            &access,
            Audit {
                action: "revoke_invitation",
                resource_type: "invitation",
                resource_id: Some(&row.id),
                old_value: Some(serde_json::json!({ "status": "pending" })),
                new_value: Some(serde_json::json!({ "status": "revoked" })),
            },
        )?;
        Ok(invitation_of(row))
    }
}

/// An invitation is only as good as its inviter: the person who made it (directly or through their key)
/// must still be an active member who may invite to that role. Operators' invitations name no person.
fn inviter_still_may(invitation: &InvitationSnapshot) -> Result<bool> {
    let Some(inviter) = &invitation.invited_by else { return Ok(true) };
    let Some(member) = driver::fetch_membership_with_user(&invitation.tenant_id, inviter)? else { return Ok(false) };
    let role = member.membership.role;
    let may_invite = access::Permission::InvitationsManage.held_by(role);
    let may_give = invitation.role != Role::Owner || role == Role::Owner;
    Ok(member.user.status == UserStatus::Active && may_invite && may_give)
}

/// Owners of the tenant, operators and the system.
fn owner_or_platform(access: &Access) -> bool {
    access.is_platform() || access.role() == Some(Role::Owner)
}

/// Refuses a change that would leave the tenant without an owner (the change removes one owner).
fn keep_an_owner(tenant_id: &str) -> Result<()> {
    // Counting a second owner is enough.
    let owners = driver::count_users(tenant_id, Some(Role::Owner), None, 2)?;
    if owners <= 1 {
        return Err(conflict("A tenant must keep at least one owner"));
    }
    Ok(())
}

/// The user of a signed-in identity, created on first use. A user owns its e-mail (one account per
/// e-mail), so only an identity whose e-mail is verified may create one: otherwise anyone could claim an
/// address first and lock its owner out. Being told that a verified e-mail already belongs to another
/// sign-in reveals nothing to someone who does not control that address.
fn identity_user(identity: &IdentityPrincipal) -> Result<UserRow> {
    if let Some(user_id) = &identity.user_id {
        let user = driver::fetch_user_by_id(user_id)?.ok_or_else(|| not_found("User not found"))?;
        if user.status != UserStatus::Active {
            return Err(forbidden("your account is not active"));
        }
        return Ok(user);
    }
    if !identity.email_verified {
        return Err(forbidden("verify your e-mail address with your identity provider first"));
    }
    let email = validate::email(&identity.email)?;
    let name = match identity.name.as_deref() {
        Some(n) => validate::optional_text("name", Some(n), 255)?,
        None => email.split('@').next().map(str::to_string),
    };
    user_write_driver::create_user(&email, &identity.external_id, name.as_deref(), None, UserStatus::Active).map_err(
        |e| {
            if is_conflict(&e) {
                conflict("this e-mail address already belongs to another sign-in identity")
            } else {
                e.into()
            }
        },
    )
}

fn project_detail(t: TenantDetailSnapshot) -> ProjectDetail {
    ProjectDetail {
        project_id: t.id,
        name: t.name,
        slug: t.slug,
        description: t.description,
        status: t.status,
        plan: t.plan,
        quotas: t.quotas,
        usage: t.usage,
        onboarding_state: t.onboarding_state,
        onboarding_complete: t.onboarding_complete,
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

fn ticket_of(t: TicketSnapshot) -> Ticket {
    Ticket {
        id: t.id,
        subject: t.subject,
        description: t.description,
        category: t.category,
        priority: t.priority,
        status: t.status,
        resolution: t.resolution,
        created_at: t.created_at,
        updated_at: t.updated_at,
        resolved_at: t.resolved_at,
    }
}

fn invitation_of(i: InvitationSnapshot) -> Invitation {
    Invitation {
        id: i.id,
        email: i.email,
        role: i.role,
        status: i.status,
        invited_by: i.invited_by,
        created_at: i.created_at,
        expires_at: i.expires_at,
        accepted_at: i.accepted_at,
    }
}

/// The e-mail of a member of the tenant (for a policy's event).
fn member_email(tenant_id: &str, user_id: &str) -> Result<String> {
    Ok(driver::fetch_membership_with_user(tenant_id, user_id)?.map(|m| m.user.email).unwrap_or_default())
}

/// A count as a policy sees it (saturating).
fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
