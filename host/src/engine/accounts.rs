//! Typed calls of the `accounts` interface (one sandboxed instance and one transaction each).

use crate::bindings::accounts;
use crate::bindings::{EngineError, InvitationStatus, PageRequest, Role, TenantStatus, TicketStatus, UserStatus};
use crate::call::CallState;
use crate::contract::operations::accounts as op;
use crate::drivers::DriverView;
use crate::runtime::{Caller, Runtime};

/// The `accounts` interface of a runtime's engine.
pub struct Accounts<'a, T: 'static = CallState>(pub(crate) &'a Runtime<T>);

impl<T: DriverView> Accounts<'_, T> {
    /// The projects (tenants) the caller sees: the call's own tenant (0 or 1 item).
    /// (`accounts.list-projects`)
    pub async fn list_projects(
        &self,
        caller: &Caller,
        status: Option<TenantStatus>,
        limit: u32,
        offset: u32,
    ) -> Result<accounts::ProjectList, EngineError> {
        self.0
            .run(caller, &op::LIST_PROJECTS, |mut a| {
                Box::pin(
                    async move { a.call(accounts::Guest::func_list_projects, (a.ctx, status, limit, offset)).await },
                )
            })
            .await
    }

    /// The call's own project; `forbidden` for any other id.
    /// (`accounts.get-project-detail`)
    pub async fn get_project_detail(
        &self,
        caller: &Caller,
        project_id: &str,
    ) -> Result<accounts::ProjectDetail, EngineError> {
        self.0
            .run(caller, &op::GET_PROJECT_DETAIL, |mut a| {
                Box::pin(async move {
                    a.call(accounts::Guest::func_get_project_detail, (a.ctx, &project_id.to_string())).await
                })
            })
            .await
    }

    /// Creates a new tenant with the calling human as its owner (and default tenant). The slug is derived
    /// from the name and made unique. Name 1..=200 characters, description at most 1000.
    /// (`accounts.create-project`)
    pub async fn create_project(
        &self,
        caller: &Caller,
        name: &str,
        description: Option<&str>,
    ) -> Result<accounts::ProjectDetail, EngineError> {
        self.0
            .run(caller, &op::CREATE_PROJECT, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_create_project, (a.ctx, name, description)).await })
            })
            .await
    }

    /// Members of the tenant by e-mail, with optional filters.
    /// (`accounts.list-users`)
    pub async fn list_users(
        &self,
        caller: &Caller,
        role: Option<Role>,
        status: Option<UserStatus>,
        page: &PageRequest,
    ) -> Result<accounts::UserList, EngineError> {
        self.0
            .run(caller, &op::LIST_USERS, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_list_users, (a.ctx, role, status, page)).await })
            })
            .await
    }

    /// One member; `not-found` if the user is not a member of the tenant.
    /// (`accounts.get-user-detail`)
    pub async fn get_user_detail(&self, caller: &Caller, user_id: &str) -> Result<accounts::UserDetail, EngineError> {
        self.0
            .run(caller, &op::GET_USER_DETAIL, |mut a| {
                Box::pin(
                    async move { a.call(accounts::Guest::func_get_user_detail, (a.ctx, &user_id.to_string())).await },
                )
            })
            .await
    }

    /// Members in joining order.
    /// (`accounts.list-tenant-users`)
    pub async fn list_tenant_users(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<accounts::TenantUserList, EngineError> {
        self.0
            .run(caller, &op::LIST_TENANT_USERS, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_list_tenant_users, (a.ctx, page)).await })
            })
            .await
    }

    /// Owners only; not on oneself; the last owner cannot be demoted.
    /// (`accounts.update-user-role`)
    pub async fn update_user_role(
        &self,
        caller: &Caller,
        user_id: &str,
        new_role: Role,
    ) -> Result<accounts::TenantUser, EngineError> {
        self.0
            .run(caller, &op::UPDATE_USER_ROLE, |mut a| {
                Box::pin(async move {
                    a.call(accounts::Guest::func_update_user_role, (a.ctx, &user_id.to_string(), new_role)).await
                })
            })
            .await
    }

    /// Owners and admins; not oneself; only owners remove owners; the last owner cannot be removed.
    /// (`accounts.remove-user`)
    pub async fn remove_user(&self, caller: &Caller, user_id: &str) -> Result<String, EngineError> {
        self.0
            .run(caller, &op::REMOVE_USER, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_remove_user, (a.ctx, &user_id.to_string())).await })
            })
            .await
    }

    /// The calling human's profile in the tenant.
    /// (`accounts.get-profile`)
    pub async fn get_profile(&self, caller: &Caller) -> Result<accounts::Profile, EngineError> {
        self.0
            .run(caller, &op::GET_PROFILE, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_get_profile, (a.ctx,)).await })
            })
            .await
    }

    /// Updates the calling human's name and preferences; they persist.
    /// (`accounts.update-profile`)
    pub async fn update_profile(
        &self,
        caller: &Caller,
        update: &accounts::ProfileUpdate,
    ) -> Result<accounts::ProfileUpdateResult, EngineError> {
        self.0
            .run(caller, &op::UPDATE_PROFILE, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_update_profile, (a.ctx, update)).await })
            })
            .await
    }

    /// Calls `accounts.get-billing-summary`.
    pub async fn get_billing_summary(&self, caller: &Caller) -> Result<accounts::BillingSummary, EngineError> {
        self.0
            .run(caller, &op::GET_BILLING_SUMMARY, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_get_billing_summary, (a.ctx,)).await })
            })
            .await
    }

    /// Invoices are issued by the billing provider, not kept here: the list is empty, with a message.
    /// (`accounts.get-billing-invoices`)
    pub async fn get_billing_invoices(&self, caller: &Caller) -> Result<accounts::InvoiceList, EngineError> {
        self.0
            .run(caller, &op::GET_BILLING_INVOICES, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_get_billing_invoices, (a.ctx,)).await })
            })
            .await
    }

    /// The support contact from the host's configuration. Needs no tenant.
    /// (`accounts.get-support-contact`)
    pub async fn get_support_contact(&self, caller: &Caller) -> Result<accounts::SupportContact, EngineError> {
        self.0
            .run(caller, &op::GET_SUPPORT_CONTACT, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_get_support_contact, (a.ctx,)).await })
            })
            .await
    }

    /// Files a ticket as the calling human.
    /// (`accounts.create-support-ticket`)
    pub async fn create_support_ticket(
        &self,
        caller: &Caller,
        ticket: &accounts::NewTicket,
    ) -> Result<accounts::Ticket, EngineError> {
        self.0
            .run(caller, &op::CREATE_SUPPORT_TICKET, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_create_support_ticket, (a.ctx, ticket)).await })
            })
            .await
    }

    /// Calls `accounts.list-support-tickets`.
    pub async fn list_support_tickets(
        &self,
        caller: &Caller,
        status: Option<TicketStatus>,
        page: &PageRequest,
    ) -> Result<accounts::TicketList, EngineError> {
        self.0
            .run(caller, &op::LIST_SUPPORT_TICKETS, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_list_support_tickets, (a.ctx, status, page)).await })
            })
            .await
    }

    /// Owners and admins invite; only owners invite owners. One pending invitation per e-mail (compared
    /// case-insensitively); not for someone who is already a member. Expires in 7 days.
    /// (`accounts.invite-user`)
    pub async fn invite_user(
        &self,
        caller: &Caller,
        email: &str,
        role: Role,
    ) -> Result<accounts::InvitationCreated, EngineError> {
        self.0
            .run(caller, &op::INVITE_USER, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_invite_user, (a.ctx, email, role)).await })
            })
            .await
    }

    /// Calls `accounts.list-invitations`.
    pub async fn list_invitations(
        &self,
        caller: &Caller,
        status: Option<InvitationStatus>,
        page: &PageRequest,
    ) -> Result<accounts::InvitationList, EngineError> {
        self.0
            .run(caller, &op::LIST_INVITATIONS, |mut a| {
                Box::pin(async move { a.call(accounts::Guest::func_list_invitations, (a.ctx, status, page)).await })
            })
            .await
    }

    /// Accepts as the calling identity, whose e-mail must be the invited one. Needs no tenant in the
    /// context. Unknown, used, revoked, expired and someone else's invitations all answer
    /// `accepted: false` with the same message, so an outsider learns nothing; an expired one is marked.
    /// (`accounts.accept-invitation`)
    pub async fn accept_invitation(
        &self,
        caller: &Caller,
        invitation_id: &str,
        token: &str,
    ) -> Result<accounts::Acceptance, EngineError> {
        self.0
            .run(caller, &op::ACCEPT_INVITATION, |mut a| {
                Box::pin(async move {
                    a.call(accounts::Guest::func_accept_invitation, (a.ctx, &invitation_id.to_string(), token)).await
                })
            })
            .await
    }

    /// Owners and admins withdraw a pending invitation (admins not an owner invitation).
    /// (`accounts.revoke-invitation`)
    pub async fn revoke_invitation(
        &self,
        caller: &Caller,
        invitation_id: &str,
    ) -> Result<accounts::Invitation, EngineError> {
        self.0
            .run(caller, &op::REVOKE_INVITATION, |mut a| {
                Box::pin(async move {
                    a.call(accounts::Guest::func_revoke_invitation, (a.ctx, &invitation_id.to_string())).await
                })
            })
            .await
    }
}
