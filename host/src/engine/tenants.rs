//! Typed calls of the `tenants` interface (one sandboxed instance and one transaction each).

use crate::bindings::tenants;
use crate::bindings::{AuditFilter, AuditPage, EngineError, PageRequest, Plan, Role, RunStatus, UsageCounters};
use crate::engine_call;
use crate::runtime::{Caller, Runtime};

pub struct Tenants<'a>(pub(crate) &'a Runtime);

impl Tenants<'_> {
    pub async fn create_tenant(
        &self,
        caller: &Caller,
        tenant: &tenants::NewTenant,
    ) -> Result<tenants::Tenant, EngineError> {
        engine_call!(self.0, caller, tenants, "create-tenant", |guest, store, ctx| guest
            .call_create_tenant(store, &ctx, tenant))
    }

    pub async fn get_tenant(&self, caller: &Caller) -> Result<tenants::Tenant, EngineError> {
        engine_call!(self.0, caller, tenants, "get-tenant", |guest, store, ctx| guest.call_get_tenant(store, &ctx))
    }

    pub async fn get_tenant_by_slug(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<Option<tenants::Tenant>, EngineError> {
        engine_call!(self.0, caller, tenants, "get-tenant-by-slug", |guest, store, ctx| guest
            .call_get_tenant_by_slug(store, &ctx, slug))
    }

    pub async fn update_plan(&self, caller: &Caller, plan: Plan) -> Result<tenants::Tenant, EngineError> {
        engine_call!(self.0, caller, tenants, "update-plan", |guest, store, ctx| guest
            .call_update_plan(store, &ctx, plan))
    }

    pub async fn suspend(&self, caller: &Caller, reason: &str) -> Result<tenants::Tenant, EngineError> {
        engine_call!(self.0, caller, tenants, "suspend", |guest, store, ctx| guest.call_suspend(store, &ctx, reason))
    }

    pub async fn create_membership_with_default(
        &self,
        caller: &Caller,
        user_id: &str,
        role: Role,
        set_as_default: bool,
    ) -> Result<tenants::Membership, EngineError> {
        engine_call!(self.0, caller, tenants, "create-membership-with-default", |guest, store, ctx| guest
            .call_create_membership_with_default(store, &ctx, &user_id.to_string(), role, set_as_default))
    }

    pub async fn create_api_key(
        &self,
        caller: &Caller,
        key: &tenants::NewApiKey,
    ) -> Result<tenants::ApiKeyCreated, EngineError> {
        engine_call!(self.0, caller, tenants, "create-api-key", |guest, store, ctx| guest
            .call_create_api_key(store, &ctx, key))
    }

    pub async fn list_api_keys(
        &self,
        caller: &Caller,
        include_revoked: bool,
        page: &PageRequest,
    ) -> Result<tenants::ApiKeyList, EngineError> {
        engine_call!(self.0, caller, tenants, "list-api-keys", |guest, store, ctx| guest.call_list_api_keys(
            store,
            &ctx,
            include_revoked,
            page
        ))
    }

    pub async fn revoke_api_key(
        &self,
        caller: &Caller,
        key_id: &str,
        reason: Option<&str>,
    ) -> Result<tenants::ApiKey, EngineError> {
        engine_call!(self.0, caller, tenants, "revoke-api-key", |guest, store, ctx| guest.call_revoke_api_key(
            store,
            &ctx,
            &key_id.to_string(),
            reason
        ))
    }

    pub async fn check_run_quota(&self, caller: &Caller) -> Result<tenants::QuotaDecision, EngineError> {
        engine_call!(self.0, caller, tenants, "check-run-quota", |guest, store, ctx| guest
            .call_check_run_quota(store, &ctx))
    }

    pub async fn check_token_quota(&self, caller: &Caller, tokens: i64) -> Result<tenants::QuotaDecision, EngineError> {
        engine_call!(self.0, caller, tenants, "check-token-quota", |guest, store, ctx| guest
            .call_check_token_quota(store, &ctx, tokens))
    }

    pub async fn increment_usage(&self, caller: &Caller, tokens: i64) -> Result<UsageCounters, EngineError> {
        engine_call!(self.0, caller, tenants, "increment-usage", |guest, store, ctx| guest
            .call_increment_usage(store, &ctx, tokens))
    }

    pub async fn record_usage(
        &self,
        caller: &Caller,
        usage: &tenants::NewUsage,
    ) -> Result<tenants::UsageRecord, EngineError> {
        engine_call!(self.0, caller, tenants, "record-usage", |guest, store, ctx| guest
            .call_record_usage(store, &ctx, usage))
    }

    pub async fn get_usage_summary(
        &self,
        caller: &Caller,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<tenants::UsageSummary, EngineError> {
        engine_call!(self.0, caller, tenants, "get-usage-summary", |guest, store, ctx| guest
            .call_get_usage_summary(store, &ctx, start, end))
    }

    pub async fn create_run(&self, caller: &Caller, run: &tenants::NewRun) -> Result<tenants::Run, EngineError> {
        engine_call!(self.0, caller, tenants, "create-run", |guest, store, ctx| guest.call_create_run(store, &ctx, run))
    }

    pub async fn complete_run(
        &self,
        caller: &Caller,
        run_id: &str,
        completion: &tenants::RunCompletion,
    ) -> Result<tenants::Run, EngineError> {
        engine_call!(self.0, caller, tenants, "complete-run", |guest, store, ctx| guest.call_complete_run(
            store,
            &ctx,
            &run_id.to_string(),
            completion
        ))
    }

    pub async fn list_runs(
        &self,
        caller: &Caller,
        status: Option<RunStatus>,
        worker_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<tenants::RunList, EngineError> {
        engine_call!(self.0, caller, tenants, "list-runs", |guest, store, ctx| guest
            .call_list_runs(store, &ctx, status, worker_id, page))
    }

    /// The tenant's audit log, newest first (owners, admins, keys with `audit:read`, operators).
    pub async fn list_audit_log(
        &self,
        caller: &Caller,
        filter: Option<&AuditFilter>,
        page: &PageRequest,
    ) -> Result<AuditPage, EngineError> {
        engine_call!(self.0, caller, tenants, "list-audit-log", |guest, store, ctx| guest
            .call_list_audit_log(store, &ctx, filter, page))
    }
}
