//! `accounts-facade-driver` over sqlx: projects, members, profiles, billing, support tickets and
//! invitations.

use sqlx::FromRow;

use crate::bindings::accounts_facade_driver::Host;
use crate::bindings::{
    DriverError, InvitationPage, InvitationSnapshot, InvitationStatus, MembershipPage, MembershipRow,
    MembershipSnapshot, MembershipWithUser, PageRequest, ProfileSnapshot, Role, SubscriptionSnapshot,
    TenantDetailSnapshot, TenantSnapshot, TenantStatus, TicketCategory, TicketPage, TicketPriority, TicketSnapshot,
    TicketStatus, UserDetailSnapshot, UserPage, UserRow, UserStatus,
};
use crate::call::CallState;
use crate::catalogue::accounts_facade_driver as statements;
use crate::db::codec::{Id, Ts};
use crate::db::cursor;
use crate::db::errors::{conflict, invalid, not_found};
use crate::db::rows::{
    InvitationRecord, MemberRecord, MembershipRecord, SubscriptionRecord, TenantRecord, TicketRecord, UserRecord,
};
use crate::drivers::user_write_driver::{fetch_user, visible_user};
use crate::sql;

impl Host for CallState {
    async fn fetch_tenants(
        &mut self,
        tenant_id: String,
        status: Option<TenantStatus>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<TenantSnapshot>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let limit = i64::from(limit.clamp(1, 1000));
        let rows: Vec<TenantRecord> = sql!(self, |c| sqlx::query_as(statements::FETCH_TENANTS)
            .bind(&t)
            .bind(status)
            .bind(limit)
            .bind(i64::from(offset))
            .fetch_all(c))?;
        Ok(rows.into_iter().map(TenantRecord::into_snapshot).collect())
    }

    async fn count_tenants(&mut self, tenant_id: String, status: Option<TenantStatus>) -> Result<u64, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let n: i64 = sql!(self, |c| sqlx::query_scalar(statements::COUNT_TENANTS).bind(&t).bind(status).fetch_one(c))?;
        Ok(n as u64)
    }

    async fn fetch_tenant_detail(&mut self, tenant_id: String) -> Result<Option<TenantDetailSnapshot>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        crate::drivers::tenant_driver::fetch_tenant(self, &t).await?.map(TenantRecord::into_detail).transpose()
    }

    async fn insert_project(
        &mut self,
        name: String,
        slug: String,
        description: Option<String>,
    ) -> Result<TenantDetailSnapshot, DriverError> {
        let id = Id::new();
        let now = self.now;
        // Quotas, counters, status and onboarding state take the schema's defaults: the free plan.
        let row: Option<TenantRecord> = sql!(self, |c| sqlx::query_as(statements::INSERT_PROJECT)
            .bind(&id)
            .bind(&name)
            .bind(&slug)
            .bind(&description)
            .bind(now)
            .fetch_optional(c))?;
        let row = row.ok_or_else(|| conflict(format!("the slug '{slug}' is taken")))?;
        self.created_tenant(&id);
        row.into_detail()
    }

    async fn fetch_users(
        &mut self,
        tenant_id: String,
        role: Option<Role>,
        status: Option<UserStatus>,
        page: PageRequest,
    ) -> Result<UserPage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let limit = cursor::fetch_limit(&page)?;
        // Ordered by e-mail: the position is (e-mail, user id). A role is sought in an index by statements
        // of its own (the catalogue says why).
        let (first, next) = match role {
            None => (statements::FETCH_USERS_FIRST_PAGE, statements::FETCH_USERS_NEXT_PAGE),
            Some(_) => (statements::FETCH_USERS_WITH_ROLE_FIRST_PAGE, statements::FETCH_USERS_WITH_ROLE_NEXT_PAGE),
        };
        let (statement, after) = cursor::twin(&page, first, next, |a| Ok((a.key.clone(), Id::parse(&a.id)?)))?;
        let mut rows: Vec<MemberRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement).bind(&t).bind(role).bind(status).bind(limit);
            match &after {
                Some((email, id)) => query.bind(email).bind(id),
                None => query,
            }
            .fetch_all(c)
        })?;
        let next = cursor::finish(&mut rows, &page, |m| (m.email.clone(), m.id.to_string()));
        Ok(UserPage { items: rows.into_iter().map(Into::into).collect(), next })
    }

    async fn count_users(
        &mut self,
        tenant_id: String,
        role: Option<Role>,
        status: Option<UserStatus>,
        up_to: u64,
    ) -> Result<u64, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let up_to = cursor::count_limit(up_to);
        // Every membership has its user (a foreign key): without a status filter the memberships alone
        // are counted, from an index.
        let (any_status, with_status) = match role {
            None => (statements::COUNT_USERS_ANY_STATUS, statements::COUNT_USERS_WITH_STATUS),
            Some(_) => (statements::COUNT_USERS_WITH_ROLE_ANY_STATUS, statements::COUNT_USERS_WITH_ROLE_WITH_STATUS),
        };
        let n: i64 = match status {
            None => sql!(self, |c| sqlx::query_scalar(any_status).bind(&t).bind(role).bind(up_to).fetch_one(c))?,
            Some(status) => sql!(self, |c| sqlx::query_scalar(with_status)
                .bind(&t)
                .bind(role)
                .bind(status)
                .bind(up_to)
                .fetch_one(c))?,
        };
        Ok(n as u64)
    }

    async fn fetch_user_detail(
        &mut self,
        tenant_id: String,
        user_id: String,
    ) -> Result<Option<UserDetailSnapshot>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let u = Id::parse(&user_id)?;
        let row: Option<MemberRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_USER_DETAIL).bind(&t).bind(&u).fetch_optional(c))?;
        Ok(row.map(Into::into))
    }

    async fn fetch_tenant_memberships(
        &mut self,
        tenant_id: String,
        page: PageRequest,
    ) -> Result<MembershipPage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let limit = cursor::fetch_limit(&page)?;
        let (statement, after) = cursor::twin(
            &page,
            statements::FETCH_TENANT_MEMBERSHIPS_FIRST_PAGE,
            statements::FETCH_TENANT_MEMBERSHIPS_NEXT_PAGE,
            cursor::time_and_id,
        )?;
        let mut rows: Vec<MemberRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement).bind(&t).bind(limit);
            match &after {
                Some((at, id)) => query.bind(*at).bind(id),
                None => query,
            }
            .fetch_all(c)
        })?;
        let next =
            cursor::finish(&mut rows, &page, |m| (m.membership_created_at.0.to_string(), m.membership_id.to_string()));
        Ok(MembershipPage { items: rows.into_iter().map(Into::into).collect(), next })
    }

    async fn fetch_membership(
        &mut self,
        tenant_id: String,
        user_id: String,
    ) -> Result<Option<MembershipRow>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        Ok(fetch_membership_record(self, &t, &Id::parse(&user_id)?).await?.map(Into::into))
    }

    async fn fetch_membership_with_user(
        &mut self,
        tenant_id: String,
        user_id: String,
    ) -> Result<Option<MembershipWithUser>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let u = Id::parse(&user_id)?;
        // One statement: every engine call of a person starts here (their role and their account status).
        let row: Option<MemberWithUserRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_MEMBERSHIP_WITH_USER).bind(&t).bind(&u).fetch_optional(c))?;
        Ok(row.map(MemberWithUserRecord::into_snapshot))
    }

    async fn update_membership_role(
        &mut self,
        tenant_id: String,
        membership_id: String,
        new_role: Role,
    ) -> Result<MembershipSnapshot, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let m = Id::parse(&membership_id)?;
        let updated = sql!(
            self,
            rows | c
                | sqlx::query(statements::UPDATE_MEMBERSHIP_ROLE_WRITE).bind(&t).bind(&m).bind(new_role).execute(c)
        )?;
        if updated == 0 {
            return Err(not_found("membership"));
        }
        let row: MemberRecord =
            sql!(self, |c| sqlx::query_as(statements::UPDATE_MEMBERSHIP_ROLE_READ).bind(&m).fetch_one(c))?;
        Ok(row.into())
    }

    async fn delete_membership(&mut self, tenant_id: String, membership_id: String) -> Result<bool, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let m = Id::parse(&membership_id)?;
        let deleted = sql!(self, rows | c | sqlx::query(statements::DELETE_MEMBERSHIP).bind(&t).bind(&m).execute(c))?;
        Ok(deleted > 0)
    }

    async fn fetch_profile(
        &mut self,
        tenant_id: String,
        user_id: String,
    ) -> Result<Option<ProfileSnapshot>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let u = Id::parse(&user_id)?;
        let row: Option<ProfileRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_PROFILE).bind(&t).bind(&u).fetch_optional(c))?;
        // Someone else's profile is visible only when they are a member of the tenant.
        let own = self.is_caller_user(&u);
        let row = row.filter(|p| p.role.is_some() || own || self.is_platform());
        Ok(row.map(|p| ProfileSnapshot {
            user_id: p.id.into(),
            email: p.email,
            name: p.name,
            avatar_url: p.avatar_url,
            tenant_id: t.to_string(),
            tenant_name: p.tenant_name,
            role: p.role,
            created_at: p.created_at.0,
            updated_at: p.updated_at.0,
            preferences: p.preferences_json,
        }))
    }

    async fn fetch_user_by_id(&mut self, user_id: String) -> Result<Option<UserRow>, DriverError> {
        let user = fetch_user(self, &Id::parse(&user_id)?).await?;
        Ok(visible_user(self, user).await?.map(Into::into))
    }

    async fn count_owned_tenants(&mut self, user_id: String) -> Result<u64, DriverError> {
        let u = Id::parse(&user_id)?;
        self.may_read_user(&u)?;
        let n: i64 = sql!(self, |c| sqlx::query_scalar(statements::COUNT_OWNED_TENANTS).bind(&u).fetch_one(c))?;
        Ok(n as u64)
    }

    async fn update_user_profile(
        &mut self,
        user_id: String,
        name: Option<String>,
        preferences: Option<String>,
    ) -> Result<UserRow, DriverError> {
        let u = Id::parse(&user_id)?;
        self.may_write_user(&u)?;
        if let Some(p) = &preferences
            && !matches!(serde_json::from_str::<serde_json::Value>(p), Ok(serde_json::Value::Object(_)))
        {
            return Err(invalid("preferences must be a JSON object"));
        }
        let now = self.now;
        let updated = sql!(
            self,
            rows | c
                | sqlx::query(statements::UPDATE_USER_PROFILE)
                    .bind(&u)
                    .bind(&name)
                    .bind(&preferences)
                    .bind(now)
                    .execute(c)
        )?;
        if updated == 0 {
            return Err(not_found("user"));
        }
        Ok(fetch_user(self, &u).await?.ok_or_else(|| not_found("user"))?.into())
    }

    async fn fetch_subscription(&mut self, tenant_id: String) -> Result<Option<SubscriptionSnapshot>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let row: Option<SubscriptionRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_SUBSCRIPTION).bind(&t).fetch_optional(c))?;
        Ok(row.map(Into::into))
    }

    async fn insert_support_ticket(
        &mut self,
        tenant_id: String,
        user_id: String,
        subject: String,
        description: String,
        category: TicketCategory,
        priority: TicketPriority,
    ) -> Result<TicketSnapshot, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let u = Id::parse(&user_id)?;
        let now = self.now;
        let row: TicketRecord = sql!(self, |c| sqlx::query_as(statements::INSERT_SUPPORT_TICKET)
            .bind(Id::new())
            .bind(&t)
            .bind(&u)
            .bind(&subject)
            .bind(&description)
            .bind(category)
            .bind(priority)
            .bind(now)
            .fetch_one(c))?;
        Ok(row.into())
    }

    async fn fetch_support_tickets(
        &mut self,
        tenant_id: String,
        status: Option<TicketStatus>,
        page: PageRequest,
    ) -> Result<TicketPage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let limit = cursor::fetch_limit(&page)?;
        let (statement, after) = cursor::twin(
            &page,
            statements::FETCH_SUPPORT_TICKETS_FIRST_PAGE,
            statements::FETCH_SUPPORT_TICKETS_NEXT_PAGE,
            cursor::time_and_id,
        )?;
        let mut rows: Vec<TicketRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement).bind(&t).bind(status).bind(limit);
            match &after {
                Some((at, id)) => query.bind(*at).bind(id),
                None => query,
            }
            .fetch_all(c)
        })?;
        let next = cursor::finish(&mut rows, &page, |r| (r.created_at.0.to_string(), r.id.to_string()));
        Ok(TicketPage { items: rows.into_iter().map(Into::into).collect(), next })
    }

    async fn fetch_invitation_by_email(
        &mut self,
        tenant_id: String,
        email: String,
        status: InvitationStatus,
    ) -> Result<Option<InvitationSnapshot>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let row: Option<InvitationRecord> = sql!(self, |c| sqlx::query_as(statements::FETCH_INVITATION_BY_EMAIL)
            .bind(&t)
            .bind(&email)
            .bind(status)
            .fetch_optional(c))?;
        Ok(row.map(Into::into))
    }

    async fn insert_invitation(
        &mut self,
        tenant_id: String,
        email: String,
        role: Role,
        token_hash: String,
        invited_by: Option<String>,
        expires_at: i64,
    ) -> Result<InvitationSnapshot, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let invited_by = invited_by.as_deref().map(Id::parse).transpose()?;
        let now = self.now;
        let row: Option<InvitationRecord> = sql!(self, |c| sqlx::query_as(statements::INSERT_INVITATION)
            .bind(Id::new())
            .bind(&t)
            .bind(&email)
            .bind(role)
            .bind(&token_hash)
            .bind(&invited_by)
            .bind(now)
            .bind(Ts(expires_at))
            .fetch_optional(c))?;
        row.map(Into::into).ok_or_else(|| conflict("an invitation is already pending for this e-mail"))
    }

    async fn count_pending_invitations(&mut self, tenant_id: String) -> Result<u64, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let now = self.now;
        let n: i64 =
            sql!(self, |c| sqlx::query_scalar(statements::COUNT_PENDING_INVITATIONS).bind(&t).bind(now).fetch_one(c))?;
        Ok(n as u64)
    }

    async fn fetch_invitations(
        &mut self,
        tenant_id: String,
        status: Option<InvitationStatus>,
        page: PageRequest,
    ) -> Result<InvitationPage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let limit = cursor::fetch_limit(&page)?;
        let (statement, after) = cursor::twin(
            &page,
            statements::FETCH_INVITATIONS_FIRST_PAGE,
            statements::FETCH_INVITATIONS_NEXT_PAGE,
            cursor::time_and_id,
        )?;
        let mut rows: Vec<InvitationRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement).bind(&t).bind(status).bind(limit);
            match &after {
                Some((at, id)) => query.bind(*at).bind(id),
                None => query,
            }
            .fetch_all(c)
        })?;
        let next = cursor::finish(&mut rows, &page, |r| (r.created_at.0.to_string(), r.id.to_string()));
        Ok(InvitationPage { items: rows.into_iter().map(Into::into).collect(), next })
    }

    async fn fetch_invitation_by_id_and_token(
        &mut self,
        invitation_id: String,
        token_hash: String,
    ) -> Result<Option<InvitationSnapshot>, DriverError> {
        let Ok(id) = Id::parse(&invitation_id) else { return Ok(None) };
        let row: Option<InvitationRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_INVITATION_BY_ID_AND_TOKEN)
                .bind(&id)
                .bind(&token_hash)
                .fetch_optional(c))?;
        let Some(row) = row else { return Ok(None) };
        // The token is the capability: a call without a tenant gains the invitation's.
        self.admit_tenant_by_token(&row.tenant_id);
        if !self.in_scope(&row.tenant_id) {
            return Ok(None);
        }
        Ok(Some(row.into()))
    }

    async fn fetch_user_by_email(&mut self, email: String) -> Result<Option<UserRow>, DriverError> {
        let row: Option<UserRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_USER_BY_EMAIL).bind(&email).fetch_optional(c))?;
        Ok(visible_user(self, row).await?.map(Into::into))
    }

    async fn insert_membership(
        &mut self,
        tenant_id: String,
        user_id: String,
        role: Role,
        invited_by: Option<String>,
    ) -> Result<MembershipRow, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let u = Id::parse(&user_id)?;
        self.may_write_user(&u)?;
        let invited_by = invited_by.as_deref().map(Id::parse).transpose()?;
        let row = insert_membership_row(self, &t, &u, role, invited_by.as_ref()).await?;
        // A person's first tenant becomes their default, so that a credential naming no tenant finds it.
        let now = self.now;
        sql!(
            self,
            rows | c
                | sqlx::query(statements::INSERT_MEMBERSHIP_SET_DEFAULT_TENANT).bind(&u).bind(&t).bind(now).execute(c)
        )?;
        Ok(row.into())
    }

    async fn update_invitation_accepted(
        &mut self,
        tenant_id: String,
        invitation_id: String,
    ) -> Result<InvitationSnapshot, DriverError> {
        end_invitation(self, &tenant_id, &invitation_id, InvitationStatus::Accepted).await
    }

    async fn update_invitation_expired(
        &mut self,
        tenant_id: String,
        invitation_id: String,
    ) -> Result<InvitationSnapshot, DriverError> {
        end_invitation(self, &tenant_id, &invitation_id, InvitationStatus::Expired).await
    }

    async fn update_invitation_revoked(
        &mut self,
        tenant_id: String,
        invitation_id: String,
    ) -> Result<InvitationSnapshot, DriverError> {
        end_invitation(self, &tenant_id, &invitation_id, InvitationStatus::Revoked).await
    }
}

#[derive(FromRow)]
struct MemberWithUserRecord {
    membership_id: Id,
    tenant_id: Id,
    user_id: Id,
    role: Role,
    invited_by: Option<Id>,
    membership_created_at: Ts,
    #[sqlx(flatten)]
    user: UserRecord,
}

impl MemberWithUserRecord {
    fn into_snapshot(self) -> MembershipWithUser {
        MembershipWithUser {
            membership: MembershipRow {
                id: self.membership_id.into(),
                tenant_id: self.tenant_id.into(),
                user_id: self.user_id.into(),
                role: self.role,
                invited_by: self.invited_by.map(Into::into),
                created_at: self.membership_created_at.0,
            },
            user: self.user.into(),
        }
    }
}

#[derive(FromRow)]
struct ProfileRecord {
    id: Id,
    email: String,
    name: Option<String>,
    avatar_url: Option<String>,
    created_at: Ts,
    updated_at: Ts,
    preferences_json: Option<String>,
    tenant_name: Option<String>,
    role: Option<Role>,
}

async fn fetch_membership_record(
    state: &mut CallState,
    tenant: &Id,
    user: &Id,
) -> Result<Option<MembershipRecord>, DriverError> {
    sql!(state, |c| sqlx::query_as(statements::FETCH_MEMBERSHIP).bind(tenant).bind(user).fetch_optional(c))
}

/// Inserts a membership of a tenant already checked to be in scope; `not-found` for an unknown user,
/// `conflict` for an existing member.
pub(crate) async fn insert_membership_row(
    state: &mut CallState,
    tenant: &Id,
    user: &Id,
    role: Role,
    invited_by: Option<&Id>,
) -> Result<MembershipRecord, DriverError> {
    let now = state.now;
    // The statement copies the member's e-mail onto the membership (it is the list order, see
    // fetch_users), reading the user in the same round trip.
    let row: Option<MembershipRecord> = sql!(state, |c| sqlx::query_as(statements::INSERT_MEMBERSHIP_ROW)
        .bind(Id::new())
        .bind(tenant)
        .bind(user)
        .bind(role)
        .bind(now)
        .bind(invited_by)
        .fetch_optional(c))?;
    match row {
        Some(row) => Ok(row),
        // No row: an unknown user or an existing member, told apart only on this path.
        None if fetch_user(state, user).await?.is_none() => Err(not_found("user")),
        None => Err(conflict("the user is already a member of this tenant")),
    }
}

/// Moves a pending invitation to a final status; `conflict` if it is no longer pending.
async fn end_invitation(
    state: &mut CallState,
    tenant_id: &str,
    invitation_id: &str,
    status: InvitationStatus,
) -> Result<InvitationSnapshot, DriverError> {
    let t = state.tenant(tenant_id)?;
    let id = Id::parse(invitation_id)?;
    let accepted_at = (status == InvitationStatus::Accepted).then_some(state.now);
    let row: Option<InvitationRecord> = sql!(state, |c| sqlx::query_as(statements::END_INVITATION_WRITE)
        .bind(&t)
        .bind(&id)
        .bind(status)
        .bind(accepted_at)
        .fetch_optional(c))?;
    if let Some(row) = row {
        return Ok(row.into());
    }
    let exists: i64 =
        sql!(state, |c| sqlx::query_scalar(statements::END_INVITATION_EXISTS).bind(&t).bind(&id).fetch_one(c))?;
    Err(if exists > 0 { conflict("the invitation is no longer pending") } else { not_found("invitation") })
}
