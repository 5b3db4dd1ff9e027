//! Typed calls of the `accounts` interface (one sandboxed instance and one transaction each).

use crate::bindings::accounts;
use crate::bindings::{EngineError, InvitationStatus, PageRequest, Role, TenantStatus, TicketStatus, UserStatus};
use crate::engine_call;
use crate::runtime::{Caller, Runtime};

pub struct Accounts<'a>(pub(crate) &'a Runtime);

impl Accounts<'_> {
    pub async fn list_projects(
        &self,
        caller: &Caller,
        status: Option<TenantStatus>,
        limit: u32,
        offset: u32,
    ) -> Result<accounts::ProjectList, EngineError> {
        engine_call!(self.0, caller, accounts, "list-projects", |guest, store, ctx| guest
            .call_list_projects(store, &ctx, status, limit, offset))
    }

    pub async fn get_project_detail(
        &self,
        caller: &Caller,
        project_id: &str,
    ) -> Result<accounts::ProjectDetail, EngineError> {
        engine_call!(self.0, caller, accounts, "get-project-detail", |guest, store, ctx| guest.call_get_project_detail(
            store,
            &ctx,
            &project_id.to_string()
        ))
    }

    pub async fn create_project(
        &self,
        caller: &Caller,
        name: &str,
        description: Option<&str>,
    ) -> Result<accounts::ProjectDetail, EngineError> {
        engine_call!(self.0, caller, accounts, "create-project", |guest, store, ctx| guest.call_create_project(
            store,
            &ctx,
            name,
            description
        ))
    }

    pub async fn list_users(
        &self,
        caller: &Caller,
        role: Option<Role>,
        status: Option<UserStatus>,
        page: &PageRequest,
    ) -> Result<accounts::UserList, EngineError> {
        engine_call!(self.0, caller, accounts, "list-users", |guest, store, ctx| guest
            .call_list_users(store, &ctx, role, status, page))
    }

    pub async fn get_user_detail(&self, caller: &Caller, user_id: &str) -> Result<accounts::UserDetail, EngineError> {
        engine_call!(self.0, caller, accounts, "get-user-detail", |guest, store, ctx| guest.call_get_user_detail(
            store,
            &ctx,
            &user_id.to_string()
        ))
    }

    pub async fn list_tenant_users(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<accounts::TenantUserList, EngineError> {
        engine_call!(self.0, caller, accounts, "list-tenant-users", |guest, store, ctx| guest
            .call_list_tenant_users(store, &ctx, page))
    }

    pub async fn update_user_role(
        &self,
        caller: &Caller,
        user_id: &str,
        new_role: Role,
    ) -> Result<accounts::TenantUser, EngineError> {
        engine_call!(self.0, caller, accounts, "update-user-role", |guest, store, ctx| guest.call_update_user_role(
            store,
            &ctx,
            &user_id.to_string(),
            new_role
        ))
    }

    pub async fn remove_user(&self, caller: &Caller, user_id: &str) -> Result<String, EngineError> {
        engine_call!(self.0, caller, accounts, "remove-user", |guest, store, ctx| guest.call_remove_user(
            store,
            &ctx,
            &user_id.to_string()
        ))
    }

    pub async fn get_profile(&self, caller: &Caller) -> Result<accounts::Profile, EngineError> {
        engine_call!(self.0, caller, accounts, "get-profile", |guest, store, ctx| guest.call_get_profile(store, &ctx))
    }

    pub async fn update_profile(
        &self,
        caller: &Caller,
        update: &accounts::ProfileUpdate,
    ) -> Result<accounts::ProfileUpdateResult, EngineError> {
        engine_call!(self.0, caller, accounts, "update-profile", |guest, store, ctx| guest
            .call_update_profile(store, &ctx, update))
    }

    pub async fn get_billing_summary(&self, caller: &Caller) -> Result<accounts::BillingSummary, EngineError> {
        engine_call!(self.0, caller, accounts, "get-billing-summary", |guest, store, ctx| guest
            .call_get_billing_summary(store, &ctx))
    }

    pub async fn get_billing_invoices(&self, caller: &Caller) -> Result<accounts::InvoiceList, EngineError> {
        engine_call!(self.0, caller, accounts, "get-billing-invoices", |guest, store, ctx| guest
            .call_get_billing_invoices(store, &ctx))
    }

    pub async fn get_support_contact(&self, caller: &Caller) -> Result<accounts::SupportContact, EngineError> {
        engine_call!(self.0, caller, accounts, "get-support-contact", |guest, store, ctx| guest
            .call_get_support_contact(store, &ctx))
    }

    pub async fn create_support_ticket(
        &self,
        caller: &Caller,
        ticket: &accounts::NewTicket,
    ) -> Result<accounts::Ticket, EngineError> {
        engine_call!(self.0, caller, accounts, "create-support-ticket", |guest, store, ctx| guest
            .call_create_support_ticket(store, &ctx, ticket))
    }

    pub async fn list_support_tickets(
        &self,
        caller: &Caller,
        status: Option<TicketStatus>,
        page: &PageRequest,
    ) -> Result<accounts::TicketList, EngineError> {
        engine_call!(self.0, caller, accounts, "list-support-tickets", |guest, store, ctx| guest
            .call_list_support_tickets(store, &ctx, status, page))
    }

    pub async fn invite_user(
        &self,
        caller: &Caller,
        email: &str,
        role: Role,
    ) -> Result<accounts::InvitationCreated, EngineError> {
        engine_call!(self.0, caller, accounts, "invite-user", |guest, store, ctx| guest
            .call_invite_user(store, &ctx, email, role))
    }

    pub async fn list_invitations(
        &self,
        caller: &Caller,
        status: Option<InvitationStatus>,
        page: &PageRequest,
    ) -> Result<accounts::InvitationList, EngineError> {
        engine_call!(self.0, caller, accounts, "list-invitations", |guest, store, ctx| guest
            .call_list_invitations(store, &ctx, status, page))
    }

    pub async fn accept_invitation(
        &self,
        caller: &Caller,
        invitation_id: &str,
        token: &str,
    ) -> Result<accounts::Acceptance, EngineError> {
        engine_call!(self.0, caller, accounts, "accept-invitation", |guest, store, ctx| guest.call_accept_invitation(
            store,
            &ctx,
            &invitation_id.to_string(),
            token
        ))
    }

    pub async fn revoke_invitation(
        &self,
        caller: &Caller,
        invitation_id: &str,
    ) -> Result<accounts::Invitation, EngineError> {
        engine_call!(self.0, caller, accounts, "revoke-invitation", |guest, store, ctx| guest.call_revoke_invitation(
            store,
            &ctx,
            &invitation_id.to_string()
        ))
    }
}
