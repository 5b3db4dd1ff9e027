//! Typed calls of the `tenants` interface (one sandboxed instance and one transaction each).

use crate::bindings::tenants;
use crate::bindings::{AuditFilter, AuditPage, EngineError, PageRequest, Plan, Role, RunStatus, UsageCounters};
use crate::call::CallState;
use crate::contract::operations::tenants as op;
use crate::drivers::DriverView;
use crate::runtime::{Caller, Runtime};

/// The `tenants` interface of a runtime's engine.
pub struct Tenants<'a, T: 'static = CallState>(pub(crate) &'a Runtime<T>);

impl<T: DriverView> Tenants<'_, T> {
    /// Operators and the system: a new active tenant with the plan's quotas.
    /// (`tenants.create-tenant`)
    pub async fn create_tenant(
        &self,
        caller: &Caller,
        tenant: &tenants::NewTenant,
    ) -> Result<tenants::Tenant, EngineError> {
        self.0
            .run(caller, &op::CREATE_TENANT, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_create_tenant, (a.ctx, tenant)).await })
            })
            .await
    }

    /// The call's tenant.
    /// (`tenants.get-tenant`)
    pub async fn get_tenant(&self, caller: &Caller) -> Result<tenants::Tenant, EngineError> {
        self.0
            .run(caller, &op::GET_TENANT, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_get_tenant, (a.ctx,)).await })
            })
            .await
    }

    /// Operators and the system (anyone else sees only their own tenant); none if no tenant has the slug.
    /// (`tenants.get-tenant-by-slug`)
    pub async fn get_tenant_by_slug(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<Option<tenants::Tenant>, EngineError> {
        self.0
            .run(caller, &op::GET_TENANT_BY_SLUG, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_get_tenant_by_slug, (a.ctx, slug)).await })
            })
            .await
    }

    /// Operators and the system: sets the plan and its quotas; counters are untouched.
    /// (`tenants.update-plan`)
    pub async fn update_plan(&self, caller: &Caller, plan: Plan) -> Result<tenants::Tenant, EngineError> {
        self.0
            .run(caller, &op::UPDATE_PLAN, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_update_plan, (a.ctx, plan)).await })
            })
            .await
    }

    /// Operators and the system: suspends the tenant through the lifecycle state machine (audited).
    /// (`tenants.suspend`)
    pub async fn suspend(&self, caller: &Caller, reason: &str) -> Result<tenants::Tenant, EngineError> {
        self.0
            .run(caller, &op::SUSPEND, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_suspend, (a.ctx, reason)).await })
            })
            .await
    }

    /// Operators and the system: adds a member, optionally making the tenant the user's default.
    /// (`tenants.create-membership-with-default`)
    pub async fn create_membership_with_default(
        &self,
        caller: &Caller,
        user_id: &str,
        role: Role,
        set_as_default: bool,
    ) -> Result<tenants::Membership, EngineError> {
        self.0
            .run(caller, &op::CREATE_MEMBERSHIP_WITH_DEFAULT, |mut a| {
                Box::pin(async move {
                    let params = (a.ctx, &user_id.to_string(), role, set_as_default);
                    a.call(tenants::Guest::func_create_membership_with_default, params).await
                })
            })
            .await
    }

    /// Owners, admins, keys with `keys:create` or `admin:*`, operators. Refused when the lifecycle forbids
    /// new keys or the plan's key quota is used up. Audited; advances onboarding to api-key-created.
    /// (`tenants.create-api-key`)
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        key: &tenants::NewApiKey,
    ) -> Result<tenants::ApiKeyCreated, EngineError> {
        self.0
            .run(caller, &op::CREATE_API_KEY, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_create_api_key, (a.ctx, key)).await })
            })
            .await
    }

    /// Calls `tenants.list-api-keys`.
    pub async fn list_api_keys(
        &self,
        caller: &Caller,
        include_revoked: bool,
        page: &PageRequest,
    ) -> Result<tenants::ApiKeyList, EngineError> {
        self.0
            .run(caller, &op::LIST_API_KEYS, |mut a| {
                Box::pin(
                    async move { a.call(tenants::Guest::func_list_api_keys, (a.ctx, include_revoked, page)).await },
                )
            })
            .await
    }

    /// Revokes one of the tenant's keys (another tenant's key is `not-found`). Audited.
    /// (`tenants.revoke-api-key`)
    pub async fn revoke_api_key(
        &self,
        caller: &Caller,
        key_id: &str,
        reason: Option<&str>,
    ) -> Result<tenants::ApiKey, EngineError> {
        self.0
            .run(caller, &op::REVOKE_API_KEY, |mut a| {
                Box::pin(async move {
                    a.call(tenants::Guest::func_revoke_api_key, (a.ctx, &key_id.to_string(), reason)).await
                })
            })
            .await
    }

    /// Whether a run may start now (lifecycle, daily and concurrent limits). Persists counter resets.
    /// (`tenants.check-run-quota`)
    pub async fn check_run_quota(&self, caller: &Caller) -> Result<tenants::QuotaDecision, EngineError> {
        self.0
            .run(caller, &op::CHECK_RUN_QUOTA, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_check_run_quota, (a.ctx,)).await })
            })
            .await
    }

    /// Whether `tokens` more tokens fit in this month's quota.
    /// (`tenants.check-token-quota`)
    pub async fn check_token_quota(&self, caller: &Caller, tokens: i64) -> Result<tenants::QuotaDecision, EngineError> {
        self.0
            .run(caller, &op::CHECK_TOKEN_QUOTA, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_check_token_quota, (a.ctx, tokens)).await })
            })
            .await
    }

    /// Counts one run and `tokens` tokens, after the day's and month's resets.
    /// (`tenants.increment-usage`)
    pub async fn increment_usage(&self, caller: &Caller, tokens: i64) -> Result<UsageCounters, EngineError> {
        self.0
            .run(caller, &op::INCREMENT_USAGE, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_increment_usage, (a.ctx, tokens)).await })
            })
            .await
    }

    /// Records usage in the current hour bucket (the API key of the context, if any, is noted).
    /// (`tenants.record-usage`)
    pub async fn record_usage(
        &self,
        caller: &Caller,
        usage: &tenants::NewUsage,
    ) -> Result<tenants::UsageRecord, EngineError> {
        self.0
            .run(caller, &op::RECORD_USAGE, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_record_usage, (a.ctx, usage)).await })
            })
            .await
    }

    /// Totals per meter of the buckets overlapping [start, end); defaults: the current UTC month to now,
    /// the current hour included.
    /// (`tenants.get-usage-summary`)
    pub async fn get_usage_summary(
        &self,
        caller: &Caller,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<tenants::UsageSummary, EngineError> {
        self.0
            .run(caller, &op::GET_USAGE_SUMMARY, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_get_usage_summary, (a.ctx, start, end)).await })
            })
            .await
    }

    /// Checks the run quota and, if allowed, queues the run and counts it, atomically: N concurrent
    /// creations never exceed the quotas. `quota-exceeded` carries the reason.
    /// (`tenants.create-run`)
    pub async fn create_run(&self, caller: &Caller, run: &tenants::NewRun) -> Result<tenants::Run, EngineError> {
        self.0
            .run(caller, &op::CREATE_RUN, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_create_run, (a.ctx, run)).await })
            })
            .await
    }

    /// Ends a queued or running run of the tenant; counts its tokens and records usage.
    /// (`tenants.complete-run`)
    pub async fn complete_run(
        &self,
        caller: &Caller,
        run_id: &str,
        completion: &tenants::RunCompletion,
    ) -> Result<tenants::Run, EngineError> {
        self.0
            .run(caller, &op::COMPLETE_RUN, |mut a| {
                Box::pin(async move {
                    a.call(tenants::Guest::func_complete_run, (a.ctx, &run_id.to_string(), completion)).await
                })
            })
            .await
    }

    /// Calls `tenants.list-runs`.
    pub async fn list_runs(
        &self,
        caller: &Caller,
        status: Option<RunStatus>,
        worker_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<tenants::RunList, EngineError> {
        self.0
            .run(caller, &op::LIST_RUNS, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_list_runs, (a.ctx, status, worker_id, page)).await })
            })
            .await
    }

    /// The tenant's audit log, newest first (owners, admins, keys with `audit:read`, operators).
    pub async fn list_audit_log(
        &self,
        caller: &Caller,
        filter: Option<&AuditFilter>,
        page: &PageRequest,
    ) -> Result<AuditPage, EngineError> {
        self.0
            .run(caller, &op::LIST_AUDIT_LOG, |mut a| {
                Box::pin(async move { a.call(tenants::Guest::func_list_audit_log, (a.ctx, filter, page)).await })
            })
            .await
    }
}
