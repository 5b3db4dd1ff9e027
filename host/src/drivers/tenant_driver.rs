//! `tenant-driver` over sqlx: tenants, plans, memberships, API keys, runs, usage and the audit log.

use sqlx::FromRow;

use crate::bindings::tenant_driver::{
    AuditEntry, Host, NewApiKey, NewRun, NewTenant, NewUsageRecord, RunOutcome, UsageUpdate,
};
use crate::bindings::{
    ApiKeyPage, ApiKeySnapshot, AuditFilter, AuditPage, DriverError, MembershipRow, PageRequest, Plan, PlanQuotas,
    Role, RunPage, RunSnapshot, RunStatus, TenantRow, UsageRecordSnapshot, UsageTotal, UsageUnit,
};
use crate::call::CallState;
use crate::catalogue::tenant_driver as statements;
use crate::db::codec::{Id, Ts};
use crate::db::cursor;
use crate::db::errors::{conflict, invalid, not_found};
use crate::db::rows::{ApiKeyRecord, AuditRecord, RunRecord, TenantRecord, UsageRecordRecord};
use crate::drivers::accounts_facade_driver::insert_membership_row;
use crate::sql;

const HOUR: i64 = 3_600_000_000;

impl Host for CallState {
    async fn fetch_tenant_by_id(&mut self, tenant_id: String) -> Result<Option<TenantRow>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        fetch_tenant(self, &t).await?.map(TenantRecord::into_row).transpose()
    }

    async fn fetch_tenant_by_slug(&mut self, slug: String) -> Result<Option<TenantRow>, DriverError> {
        let row: Option<TenantRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_TENANT_BY_SLUG).bind(&slug).fetch_optional(c))?;
        // Another tenant's row is invisible, not an error: looking up a slug names no tenant.
        row.filter(|r| self.in_scope(&r.id)).map(TenantRecord::into_row).transpose()
    }

    async fn insert_tenant(&mut self, tenant: NewTenant) -> Result<TenantRow, DriverError> {
        let id = Id::new();
        let now = self.now;
        let q = tenant.quotas;
        let row: Option<TenantRecord> = sql!(self, |c| sqlx::query_as(statements::INSERT_TENANT)
            .bind(&id)
            .bind(&tenant.name)
            .bind(&tenant.slug)
            .bind(&tenant.external_org_id)
            .bind(tenant.plan)
            .bind(&tenant.billing_email)
            .bind(q.max_workers)
            .bind(q.max_runs_per_day)
            .bind(q.max_concurrent_runs)
            .bind(q.max_tokens_per_month)
            .bind(q.max_api_keys)
            .bind(now)
            .fetch_optional(c))?;
        let row = row.ok_or_else(|| conflict("a tenant with this slug or external org id exists"))?;
        self.created_tenant(&id);
        row.into_row()
    }

    async fn update_tenant_plan(
        &mut self,
        tenant_id: String,
        plan: Plan,
        quotas: PlanQuotas,
    ) -> Result<TenantRow, DriverError> {
        let t = self.tenant(&tenant_id)?;
        self.platform_only("a tenant's plan")?;
        let now = self.now;
        let row: Option<TenantRecord> = sql!(self, |c| sqlx::query_as(statements::UPDATE_TENANT_PLAN)
            .bind(&t)
            .bind(plan)
            .bind(quotas.max_workers)
            .bind(quotas.max_runs_per_day)
            .bind(quotas.max_concurrent_runs)
            .bind(quotas.max_tokens_per_month)
            .bind(quotas.max_api_keys)
            .bind(now)
            .fetch_optional(c))?;
        row.ok_or_else(|| not_found("tenant"))?.into_row()
    }

    async fn update_tenant_usage(&mut self, tenant_id: String, update: UsageUpdate) -> Result<TenantRow, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let row: Option<TenantRecord> = sql!(self, |c| sqlx::query_as(statements::UPDATE_TENANT_USAGE)
            .bind(&t)
            .bind(update.runs_today)
            .bind(update.runs_this_month)
            .bind(update.tokens_this_month)
            .bind(update.last_run_reset_at.map(Ts))
            .fetch_optional(c))?;
        row.ok_or_else(|| not_found("tenant"))?.into_row()
    }

    async fn increment_tenant_usage(
        &mut self,
        tenant_id: String,
        runs: i32,
        tokens: i64,
    ) -> Result<TenantRow, DriverError> {
        let t = self.tenant(&tenant_id)?;
        if runs < 0 || tokens < 0 {
            return Err(invalid("usage increments must not be negative"));
        }
        let now = self.now;
        let row: Option<TenantRecord> = sql!(self, |c| sqlx::query_as(statements::INCREMENT_TENANT_USAGE)
            .bind(&t)
            .bind(runs)
            .bind(tokens)
            .bind(now)
            .fetch_optional(c))?;
        row.ok_or_else(|| not_found("tenant"))?.into_row()
    }

    async fn insert_membership(
        &mut self,
        tenant_id: String,
        user_id: String,
        role: Role,
        set_as_default: bool,
    ) -> Result<MembershipRow, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let u = Id::parse(&user_id)?;
        // Customers add only themselves (creating a project); anyone else joins through an invitation.
        self.may_write_user(&u)?;
        let row = insert_membership_row(self, &t, &u, role, None).await?;
        if set_as_default {
            let now = self.now;
            sql!(
                self,
                rows | c
                    | sqlx::query(statements::INSERT_MEMBERSHIP_SET_DEFAULT_TENANT)
                        .bind(&u)
                        .bind(&t)
                        .bind(now)
                        .execute(c)
            )?;
        }
        Ok(row.into())
    }

    async fn count_active_api_keys(&mut self, tenant_id: String) -> Result<u64, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let now = self.now;
        let n: i64 =
            sql!(self, |c| sqlx::query_scalar(statements::COUNT_ACTIVE_API_KEYS).bind(&t).bind(now).fetch_one(c))?;
        Ok(n as u64)
    }

    async fn insert_api_key(&mut self, tenant_id: String, key: NewApiKey) -> Result<ApiKeySnapshot, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let user = key.user_id.as_deref().map(Id::parse).transpose()?;
        let parent = key.parent_key_id.as_deref().map(Id::parse).transpose()?;
        let permissions = serde_json::to_string(&key.permissions).map_err(|_| invalid("bad permissions"))?;
        let allowed_workers = key
            .allowed_workers
            .as_ref()
            .filter(|w| !w.is_empty())
            .map(|w| serde_json::to_string(w).map_err(|_| invalid("bad allowed workers")))
            .transpose()?;
        let now = self.now;
        let row: Option<ApiKeyRecord> = sql!(self, |c| sqlx::query_as(statements::INSERT_API_KEY)
            .bind(Id::new())
            .bind(&t)
            .bind(&user)
            .bind(&key.name)
            .bind(&key.key_prefix)
            .bind(&key.key_hash)
            .bind(&permissions)
            .bind(&allowed_workers)
            .bind(key.rate_limit_rpm)
            .bind(key.max_concurrent_runs)
            .bind(key.expires_at.map(Ts))
            .bind(now)
            .bind(&parent)
            .fetch_optional(c))?;
        row.map(Into::into).ok_or_else(|| conflict("the key hash is not unique, or the parent key is not the tenant's"))
    }

    async fn fetch_api_keys(
        &mut self,
        tenant_id: String,
        include_revoked: bool,
        page: PageRequest,
    ) -> Result<ApiKeyPage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let limit = cursor::fetch_limit(&page)?;
        let now = self.now;
        let (statement, after) = cursor::twin(
            &page,
            statements::FETCH_API_KEYS_FIRST_PAGE,
            statements::FETCH_API_KEYS_NEXT_PAGE,
            cursor::time_and_id,
        )?;
        let mut rows: Vec<ApiKeyRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement).bind(&t).bind(include_revoked).bind(now).bind(limit);
            match &after {
                Some((at, id)) => query.bind(*at).bind(id),
                None => query,
            }
            .fetch_all(c)
        })?;
        let next = cursor::finish(&mut rows, &page, |r| (r.created_at.0.to_string(), r.id.to_string()));
        Ok(ApiKeyPage { items: rows.into_iter().map(Into::into).collect(), next })
    }

    async fn fetch_api_key_by_id(
        &mut self,
        tenant_id: String,
        key_id: String,
    ) -> Result<Option<ApiKeySnapshot>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let Ok(k) = Id::parse(&key_id) else { return Ok(None) };
        let row: Option<ApiKeyRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_API_KEY_BY_ID).bind(&t).bind(&k).fetch_optional(c))?;
        Ok(row.map(Into::into))
    }

    async fn update_api_key_revoked(
        &mut self,
        tenant_id: String,
        key_id: String,
        reason: String,
    ) -> Result<ApiKeySnapshot, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let k = Id::parse(&key_id)?;
        if reason.chars().count() > 255 {
            return Err(invalid("the revocation reason must be at most 255 characters"));
        }
        let now = self.now;
        let row: Option<ApiKeyRecord> = sql!(self, |c| sqlx::query_as(statements::UPDATE_API_KEY_REVOKED_WRITE)
            .bind(&t)
            .bind(&k)
            .bind(now)
            .bind(&reason)
            .fetch_optional(c))?;
        if let Some(row) = row {
            // What the key made goes with it, however deep.
            sql!(
                self,
                rows | c
                    | sqlx::query(statements::UPDATE_API_KEY_REVOKED_CASCADE)
                        .bind(&t)
                        .bind(&k)
                        .bind(now)
                        .bind("its parent key was revoked")
                        .execute(c)
            )?;
            return Ok(row.into());
        }
        let exists: i64 = sql!(self, |c| sqlx::query_scalar(statements::UPDATE_API_KEY_REVOKED_EXISTS)
            .bind(&t)
            .bind(&k)
            .fetch_one(c))?;
        Err(if exists > 0 { conflict("the API key is already revoked") } else { not_found("API key") })
    }

    async fn count_running_runs(&mut self, tenant_id: String) -> Result<u64, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let n: i64 = sql!(self, |c| sqlx::query_scalar(statements::COUNT_RUNNING_RUNS).bind(&t).fetch_one(c))?;
        Ok(n as u64)
    }

    async fn count_running_runs_for_key(&mut self, tenant_id: String, api_key_id: String) -> Result<u64, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let k = Id::parse(&api_key_id)?;
        let n: i64 =
            sql!(self, |c| sqlx::query_scalar(statements::COUNT_RUNNING_RUNS_FOR_KEY).bind(&t).bind(&k).fetch_one(c))?;
        Ok(n as u64)
    }

    async fn insert_run(&mut self, tenant_id: String, run: NewRun) -> Result<RunSnapshot, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let api_key = run.api_key_id.as_deref().map(Id::parse).transpose()?;
        let user = run.user_id.as_deref().map(Id::parse).transpose()?;
        let known: i64 =
            sql!(self, |c| sqlx::query_scalar(statements::INSERT_RUN_COUNT_WORKER).bind(&run.worker_id).fetch_one(c))?;
        if known == 0 {
            return Err(not_found(&format!("worker '{}'", run.worker_id)));
        }
        let now = self.now;
        let row: RunRecord = sql!(self, |c| sqlx::query_as(statements::INSERT_RUN_WRITE)
            .bind(Id::new())
            .bind(&t)
            .bind(&run.worker_id)
            .bind(&api_key)
            .bind(&user)
            .bind(&run.task)
            .bind(&run.input_json)
            .bind(now)
            .fetch_one(c))?;
        Ok(row.into())
    }

    async fn fetch_run_by_id(&mut self, tenant_id: String, run_id: String) -> Result<Option<RunSnapshot>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let Ok(r) = Id::parse(&run_id) else { return Ok(None) };
        let row: Option<RunRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_RUN_BY_ID).bind(&t).bind(&r).fetch_optional(c))?;
        Ok(row.map(Into::into))
    }

    async fn update_run_completed(
        &mut self,
        tenant_id: String,
        run_id: String,
        outcome: RunOutcome,
    ) -> Result<RunSnapshot, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let r = Id::parse(&run_id)?;
        let status = if outcome.success { RunStatus::Completed } else { RunStatus::Failed };
        let now = self.now;
        let row: Option<RunRecord> = sql!(self, |c| sqlx::query_as(statements::UPDATE_RUN_COMPLETED_WRITE)
            .bind(&t)
            .bind(&r)
            .bind(status)
            .bind(outcome.success)
            .bind(&outcome.output_json)
            .bind(&outcome.replay_token_json)
            .bind(outcome.total_tokens)
            .bind(outcome.total_latency_ms)
            .bind(outcome.stages_completed)
            .bind(outcome.recoveries)
            .bind(outcome.policy_violations)
            .bind(outcome.cost_cents)
            .bind(&outcome.error)
            .bind(now)
            .fetch_optional(c))?;
        if let Some(row) = row {
            return Ok(row.into());
        }
        let exists: i64 =
            sql!(self, |c| sqlx::query_scalar(statements::UPDATE_RUN_COMPLETED_EXISTS).bind(&t).bind(&r).fetch_one(c))?;
        Err(if exists > 0 { conflict("the run already ended") } else { not_found("run") })
    }

    async fn fetch_runs(
        &mut self,
        tenant_id: String,
        status: Option<RunStatus>,
        worker_id: Option<String>,
        page: PageRequest,
    ) -> Result<RunPage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let limit = cursor::fetch_limit(&page)?;
        let (statement, after) = cursor::twin(
            &page,
            statements::FETCH_RUNS_FIRST_PAGE,
            statements::FETCH_RUNS_NEXT_PAGE,
            cursor::time_and_id,
        )?;
        let mut rows: cursor::Bounded<RunRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement).bind(&t).bind(status).bind(&worker_id).bind(limit);
            let query = match &after {
                Some((at, id)) => query.bind(*at).bind(id),
                None => query,
            };
            cursor::collect_bounded(query.fetch(c), RunRecord::size)
        })?;
        let next = rows.finish(&page, |r| (r.created_at.0.to_string(), r.id.to_string()));
        Ok(RunPage { items: rows.rows.into_iter().map(Into::into).collect(), next })
    }

    async fn insert_usage_record(
        &mut self,
        tenant_id: String,
        usage: NewUsageRecord,
    ) -> Result<UsageRecordSnapshot, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let api_key = usage.api_key_id.as_deref().map(Id::parse).transpose()?;
        let now = self.now;
        let bucket = Ts(now.0 - now.0.rem_euclid(HOUR));
        let row: UsageRecordRecord = sql!(self, |c| sqlx::query_as(statements::INSERT_USAGE_RECORD)
            .bind(Id::new())
            .bind(&t)
            .bind(&usage.meter_name)
            .bind(usage.amount)
            .bind(usage.unit)
            .bind(bucket)
            .bind(Ts(bucket.0 + HOUR))
            .bind(&usage.worker_id)
            .bind(&api_key)
            .bind(&usage.metadata)
            .bind(now)
            .fetch_one(c))?;
        Ok(row.into())
    }

    async fn fetch_usage_totals(
        &mut self,
        tenant_id: String,
        start: i64,
        end: i64,
    ) -> Result<Vec<UsageTotal>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        // The sum is taken in two halves (amounts are at most 10^12 each, so neither half can overflow
        // 64 bits however many records there are) and put together here, saturating: SQLite's SUM fails
        // on overflow, and PostgreSQL's cannot be read back into 64 bits.
        let rows: Vec<UsageTotalRecord> = sql!(self, |c| sqlx::query_as(statements::FETCH_USAGE_TOTALS)
            .bind(&t)
            .bind(Ts::bound(start))
            .bind(Ts::bound(end))
            .fetch_all(c))?;
        Ok(rows
            .into_iter()
            .map(|r| UsageTotal {
                total: r.millions.saturating_mul(1_000_000).saturating_add(r.units),
                meter_name: r.meter_name,
                unit: r.unit,
                records: r.records as u64,
            })
            .collect())
    }

    async fn insert_audit_log(&mut self, entry: AuditEntry) -> Result<(), DriverError> {
        let tenant = entry.tenant_id.as_deref().map(|t| self.tenant(t)).transpose()?;
        let user = entry.user_id.as_deref().map(Id::parse).transpose()?;
        let api_key = entry.api_key_id.as_deref().map(Id::parse).transpose()?;
        let now = self.now;
        // Outside a savepoint: a failed audit write dooms the call, so no mutation commits without its
        // row, whatever the engine does with the error.
        sql!(
            self,
            rows | c
                | sqlx::query(statements::INSERT_AUDIT_LOG)
                    .bind(Id::new())
                    .bind(&tenant)
                    .bind(&user)
                    .bind(&api_key)
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(&entry.resource_type)
                    .bind(&entry.resource_id)
                    .bind(&entry.request_id)
                    .bind(&entry.old_value)
                    .bind(&entry.new_value)
                    .bind(now)
                    .execute(c)
        )?;
        Ok(())
    }

    async fn fetch_audit_log(
        &mut self,
        tenant_id: String,
        filter: AuditFilter,
        page: PageRequest,
    ) -> Result<AuditPage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let user = filter.user_id.as_deref().map(Id::parse).transpose()?;
        let api_key = filter.api_key_id.as_deref().map(Id::parse).transpose()?;
        let (since, until) = (filter.since.map(Ts::bound), filter.until.map(Ts::bound));
        let limit = cursor::fetch_limit(&page)?;
        let (statement, after) = cursor::twin(
            &page,
            statements::FETCH_AUDIT_LOG_FIRST_PAGE,
            statements::FETCH_AUDIT_LOG_NEXT_PAGE,
            cursor::time_and_id,
        )?;
        let mut rows: cursor::Bounded<AuditRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement)
                .bind(&t)
                .bind(&user)
                .bind(&api_key)
                .bind(&filter.actor)
                .bind(&filter.action)
                .bind(&filter.resource_type)
                .bind(&filter.resource_id)
                .bind(since)
                .bind(until)
                .bind(limit);
            // The next page's statement takes the cursor's position as two more parameters.
            let query = match &after {
                Some((at, id)) => query.bind(*at).bind(id),
                None => query,
            };
            cursor::collect_bounded(query.fetch(c), AuditRecord::size)
        })?;
        let next = rows.finish(&page, |r| (r.created_at.0.to_string(), r.id.to_string()));
        Ok(AuditPage { items: rows.rows.into_iter().map(Into::into).collect(), next })
    }
}

#[derive(FromRow)]
struct UsageTotalRecord {
    meter_name: String,
    millions: i64,
    units: i64,
    unit: UsageUnit,
    records: i64,
}

/// Tenant `t`'s row (in the call's scope: checked by the caller): the one the call's gate read just
/// before, when no statement came between, else read.
pub(crate) async fn fetch_tenant(state: &mut CallState, t: &Id) -> Result<Option<TenantRecord>, DriverError> {
    if let Some(kept) = state.take_tenant_row(t) {
        return Ok(Some(kept));
    }
    sql!(state, |c| sqlx::query_as(statements::FETCH_TENANT_BY_ID).bind(t).fetch_optional(c))
}
