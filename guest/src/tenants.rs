//! `tenants`: the tenant row and its plan, API keys, runs, usage and quotas, and the audit log.
//!
//! Counters: `runs_today` resets at the UTC day boundary and the month's counters at the UTC month
//! boundary, lazily, whenever a quota is checked or usage counted. The host runs each call in one
//! serialisable transaction, so a check and the write that follows it cannot interleave with another call's.

use crate::Engine;
use crate::access::{self, Access, Scope, call_tenant, may_grant, status_name};
use crate::aos::accounts::policy_types::{ApiKeyEvent, KeyChange, Trigger};
use crate::aos::accounts::types::{
    Actor, ApiKeyPrincipal, ApiKeySnapshot, AuditFilter, AuditPage, CallContext, EngineError, ErrorCode,
    OnboardingState, PageRequest, Plan, Role, RunSnapshot, RunStatus, TenantRow, TenantStatus, UsageCounters,
    UsageRecordSnapshot, UsageUnit,
};
use crate::error::{Result, conflict, err, is_conflict, not_found};
use crate::exports::aos::accounts::tenants::{
    ApiKey, ApiKeyCreated, ApiKeyList, Guest, Membership, MeterTotal, NewApiKey, NewRun, NewTenant, NewUsage,
    QuotaDecision, Run, RunCompletion, RunList, Tenant, UsageRecord, UsageSummary,
};
use crate::operations::tenants as op;
use crate::policy_gate::{self, Change, PolicyEvent};
use crate::secrets::{self, API_KEY_DISPLAY_PREFIX_LEN, API_KEY_PREFIX};
use crate::tenant_driver::{self as driver, Audit, audit, audit_tenant};
use crate::{lifecycle, onboarding, plans, time, validate};

/// Scopes of a key created without any: running workers, reading, and reporting the SDK handshake.
pub const DEFAULT_SCOPES: [&str; 3] = ["run:*", "read:*", "onboarding:write"];

/// The largest usage record metadata, in its canonical form.
pub const MAX_METADATA_BYTES: usize = 64 << 10;

/// The largest amount one usage record, one increment or one completed run may count (a trillion): sums
/// of them stay far inside 64 bits, and counters cannot be driven to overflow.
pub const MAX_USAGE_AMOUNT: i64 = 1_000_000_000_000;

impl Guest for Engine {
    fn create_tenant(ctx: CallContext, tenant: NewTenant) -> Result<Tenant, EngineError> {
        access::check_platform(&ctx, &op::CREATE_TENANT)?;
        let name = validate::text("name", &tenant.name, 1, 200)?;
        let slug = validate::slug(&tenant.slug)?;
        let external_org_id = validate::optional_text("external_org_id", tenant.external_org_id.as_deref(), 100)?;
        let billing_email = tenant.billing_email.as_deref().map(validate::email).transpose()?;
        if driver::fetch_tenant_by_slug(&slug)?.is_some() {
            return Err(conflict(format!("Tenant with slug '{slug}' already exists")));
        }
        let row = driver::insert_tenant(&driver::NewTenant {
            name,
            slug: slug.clone(),
            plan: tenant.plan,
            quotas: plans::quotas(tenant.plan),
            external_org_id,
            billing_email,
        })
        .map_err(|e| {
            if is_conflict(&e) { conflict(format!("Tenant with slug '{slug}' already exists")) } else { e.into() }
        })?;
        audit_tenant(
            &ctx,
            Some(&row.id),
            None,
            None,
            Audit {
                action: "create_tenant",
                resource_type: "tenant",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "name": row.name, "slug": row.slug, "plan": plan_name(row.plan) })),
            },
        )?;
        Ok(tenant_of(row))
    }

    fn get_tenant(ctx: CallContext) -> Result<Tenant, EngineError> {
        let access = access::check(&ctx, &op::GET_TENANT)?;
        Ok(tenant_of(fetch_tenant(&access.tenant_id)?))
    }

    fn get_tenant_by_slug(ctx: CallContext, slug: String) -> Result<Option<Tenant>, EngineError> {
        // Naming a tenant, a customer sees only their own tenant (the host hides every other one); naming
        // none, the search is platform-wide.
        access::check_platform_or_tenant(&ctx, &op::GET_TENANT_BY_SLUG)?;
        Ok(driver::fetch_tenant_by_slug(&slug)?.map(tenant_of))
    }

    fn update_plan(ctx: CallContext, plan: Plan) -> Result<Tenant, EngineError> {
        let access = access::check(&ctx, &op::UPDATE_PLAN)?;
        let before = fetch_tenant(&access.tenant_id)?;
        let row = driver::update_tenant_plan(&access.tenant_id, plan, plans::quotas(plan))?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "update_plan",
                resource_type: "tenant",
                resource_id: Some(&access.tenant_id),
                old_value: Some(serde_json::json!({ "plan": plan_name(before.plan) })),
                new_value: Some(serde_json::json!({ "plan": plan_name(plan) })),
            },
        )?;
        Ok(tenant_of(row))
    }

    fn suspend(ctx: CallContext, reason: String) -> Result<Tenant, EngineError> {
        lifecycle::transition(&ctx, &op::SUSPEND, TenantStatus::Suspended, &reason)?;
        Ok(tenant_of(fetch_tenant(&call_tenant(&ctx)?)?))
    }

    fn create_membership_with_default(
        ctx: CallContext,
        user_id: String,
        role: Role,
        set_as_default: bool,
    ) -> Result<Membership, EngineError> {
        let access = access::check(&ctx, &op::CREATE_MEMBERSHIP_WITH_DEFAULT)?;
        let row = driver::insert_membership(&access.tenant_id, &user_id, role, set_as_default).map_err(|e| {
            if is_conflict(&e) { conflict("the user is already a member of this tenant") } else { e.into() }
        })?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "create_membership",
                resource_type: "membership",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "user_id": user_id, "role": crate::access::role_name(role) })),
            },
        )?;
        Ok(Membership {
            id: row.id,
            tenant_id: row.tenant_id,
            user_id: row.user_id,
            role: row.role,
            created_at: row.created_at,
        })
    }

    fn create_api_key(ctx: CallContext, key: NewApiKey) -> Result<ApiKeyCreated, EngineError> {
        let access = access::check(&ctx, &op::CREATE_API_KEY)?;
        if access.status != TenantStatus::Active {
            return Err(err(
                ErrorCode::LifecycleBlocked,
                format!("the tenant is {}: new API keys are not allowed", status_name(access.status)),
            ));
        }
        let name = validate::text("name", &key.name, 1, 100)?;
        let mut permissions = match key.permissions.as_deref() {
            None | Some([]) => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            Some(scopes) => validate::labels("permissions", scopes, 50)?,
        };
        grantable_scopes(&ctx, &access, &permissions)?;
        let allowed_workers = match key.allowed_workers.as_deref() {
            None | Some([]) => None,
            Some(workers) => Some(validate::labels("allowed_workers", workers, 100)?),
        };
        let expires_at = key
            .expires_in_days
            .map(|d| validate::range("expires_in_days", d, 1, 365).map(|d| ctx.now + i64::from(d) * time::DAY))
            .transpose()?;
        let rate_limit_rpm = key.rate_limit_rpm.map(|v| validate::range("rate_limit_rpm", v, 1, 1000)).transpose()?;
        let max_concurrent_runs =
            key.max_concurrent_runs.map(|v| validate::range("max_concurrent_runs", v, 1, 100)).transpose()?;
        // A key made by a key is never less restricted than its parent.
        let (allowed_workers, mut expires_at, rate_limit_rpm, max_concurrent_runs) = match &ctx.actor {
            Actor::ApiKey(parent) => {
                inherit_restrictions(parent, allowed_workers, expires_at, rate_limit_rpm, max_concurrent_runs)?
            }
            _ => (allowed_workers, expires_at, rate_limit_rpm, max_concurrent_runs),
        };
        let event = || {
            Ok(PolicyEvent::CreateApiKey(ApiKeyEvent { name: name.clone(), scopes: permissions.clone(), expires_at }))
        };
        let actor = policy_gate::actor(&ctx, &access);
        if let Change::Key(narrower) =
            policy_gate::consult(access.policy, Trigger::CreateApiKey, &access.tenant_id, actor, event)?
        {
            narrower_key(&ctx, &access, &narrower, &permissions, expires_at)?;
            permissions = narrower.scopes;
            expires_at = narrower.expires_at;
        }

        let tenant = fetch_tenant(&access.tenant_id)?;
        let active = driver::count_active_api_keys(&access.tenant_id)?;
        let limit = tenant.quotas.max_api_keys;
        if active >= limit.max(0) as u64 {
            return Err(err(ErrorCode::QuotaExceeded, format!("api_keys quota exceeded: {active}/{limit}")));
        }

        let full_key = format!("{API_KEY_PREFIX}{}", secrets::random_secret());
        let prefix: String = full_key.chars().take(API_KEY_DISPLAY_PREFIX_LEN).collect();
        let row = driver::insert_api_key(
            &access.tenant_id,
            &driver::NewApiKey {
                // A key made by a key belongs to the same person: it stays bounded by their role.
                user_id: access.user_id().map(str::to_string).or_else(|| match &ctx.actor {
                    Actor::ApiKey(key) => key.created_by.clone(),
                    _ => None,
                }),
                name: name.clone(),
                key_prefix: prefix.clone(),
                key_hash: secrets::sha256_hex(&full_key),
                permissions,
                allowed_workers,
                expires_at,
                rate_limit_rpm: rate_limit_rpm.map(|v| v as i32),
                max_concurrent_runs: max_concurrent_runs.map(|v| v as i32),
                parent_key_id: access.api_key_id().map(str::to_string),
            },
        )?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "create_api_key",
                resource_type: "api_key",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "name": name, "prefix": prefix })),
            },
        )?;
        // A usable key is the evidence of this onboarding step; it moves in the same transaction.
        onboarding::progress(&ctx, &access, OnboardingState::ApiKeyCreated, "first_api_key_created", false)?;
        Ok(ApiKeyCreated { key: full_key, api_key: api_key_of(row) })
    }

    fn list_api_keys(ctx: CallContext, include_revoked: bool, page: PageRequest) -> Result<ApiKeyList, EngineError> {
        let access = access::check(&ctx, &op::LIST_API_KEYS)?;
        let page = driver::fetch_api_keys(&access.tenant_id, include_revoked, &validate::page(&page)?)?;
        Ok(ApiKeyList { items: page.items.into_iter().map(api_key_of).collect(), next: page.next })
    }

    fn revoke_api_key(ctx: CallContext, key_id: String, reason: Option<String>) -> Result<ApiKey, EngineError> {
        // Revoking is allowed in any lifecycle status that allows reads: it only ever reduces access.
        let access = access::check(&ctx, &op::REVOKE_API_KEY)?;
        let reason = validate::optional_text("reason", reason.as_deref(), 1000)?
            .unwrap_or_else(|| "Manual revocation".into())
            .chars()
            .take(255)
            .collect::<String>();
        let key =
            driver::fetch_api_key_by_id(&access.tenant_id, &key_id)?.ok_or_else(|| not_found("API key not found"))?;
        if key.revoked_at.is_some() {
            return Ok(api_key_of(key));
        }
        let row = driver::update_api_key_revoked(&access.tenant_id, &key_id, &reason)?;
        // The row names who acted (a person or a key) and, as its resource, the key revoked.
        audit(
            &ctx,
            &access,
            Audit {
                action: "revoke_api_key",
                resource_type: "api_key",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "reason": reason })),
            },
        )?;
        Ok(api_key_of(row))
    }

    fn check_run_quota(ctx: CallContext) -> Result<QuotaDecision, EngineError> {
        let access = access::check(&ctx, &op::CHECK_RUN_QUOTA)?;
        let tenant = fetch_tenant(&access.tenant_id)?;
        let usage = roll_periods(&ctx, &tenant)?;
        Ok(run_quota(&tenant, &usage)?.map_or(allowed(), denied))
    }

    fn check_token_quota(ctx: CallContext, tokens: i64) -> Result<QuotaDecision, EngineError> {
        let access = access::check(&ctx, &op::CHECK_TOKEN_QUOTA)?;
        validate::range("tokens", tokens, 0, MAX_USAGE_AMOUNT)?;
        let tenant = fetch_tenant(&access.tenant_id)?;
        let usage = roll_periods(&ctx, &tenant)?;
        Ok(token_quota(&tenant, &usage, tokens).map_or(allowed(), denied))
    }

    fn increment_usage(ctx: CallContext, tokens: i64) -> Result<UsageCounters, EngineError> {
        let access = access::check(&ctx, &op::INCREMENT_USAGE)?;
        validate::range("tokens", tokens, 0, MAX_USAGE_AMOUNT)?;
        let tenant = fetch_tenant(&access.tenant_id)?;
        let usage = roll_periods(&ctx, &tenant)?;
        counters_fit(&usage, 1, tokens)?;
        let row = driver::increment_tenant_usage(&access.tenant_id, 1, tokens)?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "increment_usage",
                resource_type: "tenant",
                resource_id: Some(&access.tenant_id),
                old_value: None,
                new_value: Some(serde_json::json!({ "runs": 1, "tokens": tokens })),
            },
        )?;
        Ok(row.usage)
    }

    fn record_usage(ctx: CallContext, usage: NewUsage) -> Result<UsageRecord, EngineError> {
        let access = access::check(&ctx, &op::RECORD_USAGE)?;
        let meter_name = meter(&usage.meter_name)?;
        validate::range("amount", usage.amount, 0, MAX_USAGE_AMOUNT)?;
        let worker_id = validate::optional_text("worker_id", usage.worker_id.as_deref(), 100)?;
        let metadata = match usage.metadata.as_deref() {
            None => None,
            Some(m) => Some(validate::canonical_object("metadata", m, MAX_METADATA_BYTES)?),
        };
        let row = insert_usage(&access, &meter_name, usage.amount, usage.unit, worker_id, metadata)?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "record_usage",
                resource_type: "usage_record",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "meter": meter_name, "amount": usage.amount })),
            },
        )?;
        Ok(usage_record_of(row))
    }

    fn get_usage_summary(ctx: CallContext, start: Option<i64>, end: Option<i64>) -> Result<UsageSummary, EngineError> {
        let access = access::check(&ctx, &op::GET_USAGE_SUMMARY)?;
        let start = start.unwrap_or_else(|| time::month_start(ctx.now));
        // The in-progress hour counts: the default end is the end of the current hour bucket.
        let end = end.unwrap_or(ctx.now + 1);
        // An empty or inverted window holds no usage (a range the caller chose, not a malformed one).
        let totals = if start < end { driver::fetch_usage_totals(&access.tenant_id, start, end)? } else { Vec::new() };
        Ok(UsageSummary {
            tenant_id: access.tenant_id,
            period_start: start,
            period_end: end,
            total_records: totals.iter().map(|t| t.records).sum(),
            meters: totals
                .into_iter()
                .map(|t| MeterTotal { meter_name: t.meter_name, total: t.total, unit: t.unit })
                .collect(),
        })
    }

    fn create_run(ctx: CallContext, run: NewRun) -> Result<Run, EngineError> {
        let access = access::check(&ctx, &op::CREATE_RUN)?;
        let worker_id = validate::text("worker_id", &run.worker_id, 1, 100)?;
        let task = validate::text("task", &run.task, 1, 10_000)?;
        let input_json = validate::json_text("input_json", run.input_json.as_deref(), 1_048_576)?;
        if let Actor::ApiKey(key) = &ctx.actor {
            key_may_run(&access, key, &worker_id)?;
        }
        let tenant = fetch_tenant(&access.tenant_id)?;
        let usage = roll_periods(&ctx, &tenant)?;
        if let Some(reason) = run_quota(&tenant, &usage)? {
            return Err(err(ErrorCode::QuotaExceeded, reason));
        }
        let row = driver::insert_run(
            &access.tenant_id,
            &driver::NewRun {
                worker_id,
                task,
                api_key_id: access.api_key_id().map(str::to_string),
                user_id: access.user_id().map(str::to_string),
                input_json,
            },
        )?;
        driver::increment_tenant_usage(&access.tenant_id, 1, 0)?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "create_run",
                resource_type: "run",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(serde_json::json!({ "worker_id": row.worker_id })),
            },
        )?;
        Ok(run_of(row))
    }

    fn complete_run(ctx: CallContext, run_id: String, completion: RunCompletion) -> Result<Run, EngineError> {
        let access = access::check(&ctx, &op::COMPLETE_RUN)?;
        for (field, value) in [
            ("total_tokens", completion.total_tokens),
            ("total_latency_ms", completion.total_latency_ms),
            ("cost_cents", completion.cost_cents),
        ] {
            validate::range(field, value, 0, MAX_USAGE_AMOUNT)?;
        }
        for (field, value) in [
            ("stages_completed", completion.stages_completed),
            ("recoveries", completion.recoveries),
            ("policy_violations", completion.policy_violations),
        ] {
            validate::range(field, value, 0, i32::MAX)?;
        }
        let output_json = validate::json_text("output_json", completion.output_json.as_deref(), 1_048_576)?;
        let replay_token_json =
            validate::json_text("replay_token_json", completion.replay_token_json.as_deref(), 1_048_576)?;
        let error = validate::optional_text("error", completion.error.as_deref(), 10_000)?;
        let run = driver::fetch_run_by_id(&access.tenant_id, &run_id)?.ok_or_else(|| not_found("Run not found"))?;
        if let Actor::ApiKey(key) = &ctx.actor
            && let Some(workers) = &key.allowed_workers
            && !workers.contains(&run.worker_id)
        {
            return Err(crate::error::forbidden(format!(
                "this API key may not act on runs of the worker '{}'",
                run.worker_id
            )));
        }
        if !matches!(run.status, RunStatus::Queued | RunStatus::Running) {
            return Err(conflict("Run already ended: ended runs are immutable"));
        }
        let row = driver::update_run_completed(
            &access.tenant_id,
            &run_id,
            &driver::RunOutcome {
                success: completion.success,
                output_json,
                replay_token_json,
                total_tokens: completion.total_tokens,
                total_latency_ms: completion.total_latency_ms,
                stages_completed: completion.stages_completed,
                recoveries: completion.recoveries,
                policy_violations: completion.policy_violations,
                cost_cents: completion.cost_cents,
                error,
            },
        )?;
        if completion.total_tokens > 0 {
            let tenant = fetch_tenant(&access.tenant_id)?;
            let usage = roll_periods(&ctx, &tenant)?;
            counters_fit(&usage, 0, completion.total_tokens)?;
            driver::increment_tenant_usage(&access.tenant_id, 0, completion.total_tokens)?;
            insert_usage(
                &access,
                "tokens_used",
                completion.total_tokens,
                UsageUnit::Tokens,
                Some(row.worker_id.clone()),
                None,
            )?;
        }
        let metadata =
            serde_json::json!({ "success": completion.success, "cost_cents": completion.cost_cents }).to_string();
        insert_usage(&access, "worker_runs", 1, UsageUnit::Count, Some(row.worker_id.clone()), Some(metadata))?;
        audit(
            &ctx,
            &access,
            Audit {
                action: "complete_run",
                resource_type: "run",
                resource_id: Some(&row.id),
                old_value: None,
                new_value: Some(
                    serde_json::json!({ "success": completion.success, "total_tokens": completion.total_tokens }),
                ),
            },
        )?;
        Ok(run_of(row))
    }

    fn list_runs(
        ctx: CallContext,
        status: Option<RunStatus>,
        worker_id: Option<String>,
        page: PageRequest,
    ) -> Result<RunList, EngineError> {
        let access = access::check(&ctx, &op::LIST_RUNS)?;
        let worker_id = validate::optional_text("worker_id", worker_id.as_deref(), 100)?;
        let page = driver::fetch_runs(&access.tenant_id, status, worker_id.as_deref(), &validate::page(&page)?)?;
        Ok(RunList { items: page.items.into_iter().map(run_of).collect(), next: page.next })
    }

    fn list_audit_log(
        ctx: CallContext,
        filter: Option<AuditFilter>,
        page: PageRequest,
    ) -> Result<AuditPage, EngineError> {
        let access = access::check(&ctx, &op::LIST_AUDIT_LOG)?;
        let filter = match filter {
            Some(filter) => audit_filter(filter)?,
            None => AuditFilter {
                user_id: None,
                api_key_id: None,
                actor: None,
                action: None,
                resource_type: None,
                resource_id: None,
                since: None,
                until: None,
            },
        };
        Ok(driver::fetch_audit_log(&access.tenant_id, &filter, &validate::page(&page)?)?)
    }
}

/// An audit filter within the log's own column bounds (text trimmed; empty text matches any row, as if
/// left out). An empty or inverted time range matches no row.
fn audit_filter(filter: AuditFilter) -> Result<AuditFilter> {
    let text = |field: &str, value: Option<String>, max: usize| validate::optional_text(field, value.as_deref(), max);
    Ok(AuditFilter {
        // Ids are the host's to parse (a malformed one is refused there).
        user_id: filter.user_id,
        api_key_id: filter.api_key_id,
        actor: text("actor", filter.actor, 200)?,
        action: text("action", filter.action, 100)?,
        resource_type: text("resource_type", filter.resource_type, 50)?,
        resource_id: text("resource_id", filter.resource_id, 100)?,
        since: filter.since,
        until: filter.until,
    })
}

/// Checks that every scope asked for is a known one and that the caller holds everything it grants: a
/// caller grants only what it holds itself (wildcards expanded), so no key can mint a stronger key.
fn grantable_scopes(ctx: &CallContext, access: &Access, scopes: &[String]) -> Result<()> {
    for text in scopes {
        let scope = Scope::parse(text).ok_or_else(|| {
            crate::error::invalid(format!(
                "permissions: unknown scope '{text}' (a permission such as 'memory_pin:write', a family such as 'keys:*', 'read:*' or 'admin:*')"
            ))
        })?;
        if scope.permissions().next().is_none() {
            return Err(crate::error::invalid(format!("permissions: '{text}' is never an API key's")));
        }
        if let Some(missing) = scope.permissions().find(|p| !may_grant(ctx, access, *p)) {
            return Err(crate::error::forbidden(format!(
                "a key may only be given what its creator holds: '{text}' includes {}, which you do not hold",
                missing.name()
            )));
        }
    }
    Ok(())
}

/// A key's restrictions: (allowed workers, expiry, requests per minute, concurrent runs).
type KeyRestrictions = (Option<Vec<String>>, Option<i64>, Option<u32>, Option<u32>);

/// The restrictions of a key made by `parent`: what is asked, never looser than the parent's — its
/// workers a subset of the parent's, its expiry no later, its limits no higher. Left out, each is the
/// parent's.
fn inherit_restrictions(
    parent: &ApiKeyPrincipal,
    workers: Option<Vec<String>>,
    expires_at: Option<i64>,
    rpm: Option<u32>,
    concurrent: Option<u32>,
) -> Result<KeyRestrictions> {
    let looser =
        |what: &str| crate::error::forbidden(format!("a key may not make a key with a looser {what} than its own"));
    let workers = match (&parent.allowed_workers, workers) {
        (Some(mine), Some(asked)) if asked.iter().all(|w| mine.contains(w)) => Some(asked),
        (Some(_), Some(_)) => return Err(looser("worker list")),
        (Some(mine), None) => Some(mine.clone()),
        (None, asked) => asked,
    };
    let expires_at = match (parent.expires_at, expires_at) {
        (Some(mine), Some(asked)) if asked > mine => return Err(looser("expiry")),
        (Some(mine), None) => Some(mine),
        (_, asked) => asked,
    };
    let capped = |mine: Option<i32>, asked: Option<u32>, what: &str| match (mine.map(|m| m.max(0) as u32), asked) {
        (Some(mine), Some(asked)) if asked > mine => Err(looser(what)),
        (Some(mine), None) => Ok(Some(mine)),
        (_, asked) => Ok(asked),
    };
    let rpm = capped(parent.rate_limit_rpm, rpm, "rate limit")?;
    let concurrent = capped(parent.max_concurrent_runs, concurrent, "limit of concurrent runs")?;
    Ok((workers, expires_at, rpm, concurrent))
}

/// The restrictions stored on the calling key: the workers it may run and how many of its runs may be
/// under way at once.
fn key_may_run(access: &Access, key: &ApiKeyPrincipal, worker_id: &str) -> Result<()> {
    if let Some(workers) = &key.allowed_workers
        && !workers.iter().any(|w| w == worker_id)
    {
        return Err(crate::error::forbidden(format!("this API key may not run the worker '{worker_id}'")));
    }
    if let Some(max) = key.max_concurrent_runs {
        let running = driver::count_running_runs_for_key(&access.tenant_id, &key.key_id)?;
        if running >= max.max(0) as u64 {
            return Err(err(
                ErrorCode::QuotaExceeded,
                format!("Concurrent run limit of this API key ({max}) exceeded"),
            ));
        }
    }
    Ok(())
}

/// Refuses an increment that would carry a counter past what it can hold.
fn counters_fit(usage: &UsageCounters, runs: i32, tokens: i64) -> Result<()> {
    let fits = usage.runs_today.checked_add(runs).is_some()
        && usage.runs_this_month.checked_add(runs).is_some()
        && usage.tokens_this_month.checked_add(tokens).is_some_and(|t| t <= i64::MAX / 2);
    if fits { Ok(()) } else { Err(err(ErrorCode::QuotaExceeded, "usage counters are full for this period")) }
}

pub fn fetch_tenant(tenant_id: &str) -> Result<TenantRow> {
    driver::fetch_tenant_by_id(tenant_id)?.ok_or_else(|| not_found("Tenant not found"))
}

/// The counters in force at `now`: a counter of an elapsed UTC day or month reads 0. Returns whether
/// anything changed.
pub fn effective_usage(usage: &UsageCounters, now: i64) -> (UsageCounters, bool) {
    let mut next = *usage;
    match usage.last_run_reset_at {
        None => next.last_run_reset_at = Some(now),
        Some(last) if time::utc_date(last) < time::utc_date(now) => {
            next.runs_today = 0;
            if time::utc_month(last) < time::utc_month(now) {
                next.runs_this_month = 0;
                next.tokens_this_month = 0;
            }
            next.last_run_reset_at = Some(now);
        }
        Some(_) => return (next, false),
    }
    (next, true)
}

/// Applies the day's and month's resets to the tenant's counters and persists them when they changed.
fn roll_periods(ctx: &CallContext, tenant: &TenantRow) -> Result<UsageCounters> {
    let (usage, changed) = effective_usage(&tenant.usage, ctx.now);
    if changed {
        driver::update_tenant_usage(
            &tenant.id,
            driver::UsageUpdate {
                runs_today: Some(usage.runs_today),
                runs_this_month: Some(usage.runs_this_month),
                tokens_this_month: Some(usage.tokens_this_month),
                last_run_reset_at: usage.last_run_reset_at,
            },
        )?;
    }
    Ok(usage)
}

/// Why a run may not start now, or none.
fn run_quota(tenant: &TenantRow, usage: &UsageCounters) -> Result<Option<String>> {
    if tenant.status != TenantStatus::Active {
        return Ok(Some(format!("Tenant is {}", status_name(tenant.status))));
    }
    if usage.runs_today >= tenant.quotas.max_runs_per_day {
        return Ok(Some(format!("Daily run limit ({}) exceeded", tenant.quotas.max_runs_per_day)));
    }
    let running = driver::count_running_runs(&tenant.id)?;
    if running >= tenant.quotas.max_concurrent_runs.max(0) as u64 {
        return Ok(Some(format!("Concurrent run limit ({}) exceeded", tenant.quotas.max_concurrent_runs)));
    }
    Ok(None)
}

fn token_quota(tenant: &TenantRow, usage: &UsageCounters, tokens: i64) -> Option<String> {
    let max = tenant.quotas.max_tokens_per_month;
    (usage.tokens_this_month.saturating_add(tokens) > max)
        .then(|| format!("Monthly token limit ({}) would be exceeded", thousands(max)))
}

fn allowed() -> QuotaDecision {
    QuotaDecision { allowed: true, reason: String::new() }
}

fn denied(reason: String) -> QuotaDecision {
    QuotaDecision { allowed: false, reason }
}

/// 1000000 → "1,000,000".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A meter name: 1..=100 of `a-z`, `0-9`, `_`, `.`, `:`, `-`.
fn meter(name: &str) -> Result<String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(&b));
    if ok {
        Ok(name.to_string())
    } else {
        Err(crate::error::invalid("meter_name must be 1 to 100 of a-z, 0-9, '_', '.', ':', '-'"))
    }
}

fn insert_usage(
    access: &Access,
    meter_name: &str,
    amount: i64,
    unit: UsageUnit,
    worker_id: Option<String>,
    metadata: Option<String>,
) -> Result<UsageRecordSnapshot> {
    Ok(driver::insert_usage_record(
        &access.tenant_id,
        &driver::NewUsageRecord {
            meter_name: meter_name.to_string(),
            amount,
            unit,
            worker_id,
            api_key_id: access.api_key_id().map(str::to_string),
            metadata,
        },
    )?)
}

pub fn plan_name(plan: Plan) -> &'static str {
    match plan {
        Plan::Free => "free",
        Plan::Pro => "pro",
        Plan::Enterprise => "enterprise",
    }
}

pub fn tenant_of(row: TenantRow) -> Tenant {
    Tenant {
        id: row.id,
        name: row.name,
        slug: row.slug,
        external_org_id: row.external_org_id,
        plan: row.plan,
        billing_email: row.billing_email,
        quotas: row.quotas,
        usage: row.usage,
        status: row.status,
        suspended_reason: row.suspended_reason,
        onboarding_state: row.onboarding_state,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn api_key_of(row: ApiKeySnapshot) -> ApiKey {
    ApiKey {
        id: row.id,
        name: row.name,
        key_prefix: row.key_prefix,
        status: row.status,
        permissions: row.permissions,
        allowed_workers: row.allowed_workers,
        rate_limit_rpm: row.rate_limit_rpm,
        max_concurrent_runs: row.max_concurrent_runs,
        created_by: row.user_id,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        revoked_reason: row.revoked_reason,
        last_used_at: row.last_used_at,
        total_requests: row.total_requests,
        created_at: row.created_at,
    }
}

fn run_of(row: RunSnapshot) -> Run {
    Run {
        id: row.id,
        worker_id: row.worker_id,
        api_key_id: row.api_key_id,
        user_id: row.user_id,
        task: row.task,
        input_json: row.input_json,
        status: row.status,
        success: row.success,
        error: row.error,
        output_json: row.output_json,
        total_tokens: row.total_tokens,
        total_latency_ms: row.total_latency_ms,
        stages_completed: row.stages_completed,
        recoveries: row.recoveries,
        policy_violations: row.policy_violations,
        cost_cents: row.cost_cents,
        created_at: row.created_at,
        completed_at: row.completed_at,
    }
}

fn usage_record_of(row: UsageRecordSnapshot) -> UsageRecord {
    UsageRecord {
        id: row.id,
        meter_name: row.meter_name,
        amount: row.amount,
        unit: row.unit,
        period_start: row.period_start,
        period_end: row.period_end,
        worker_id: row.worker_id,
        api_key_id: row.api_key_id,
        metadata: row.metadata,
        recorded_at: row.recorded_at,
    }
}

/// A policy may only narrow a key: scopes from those asked for (at least one), an expiry in the future and
/// no later than the one asked for. Anything else refuses the operation; the scopes are checked again as
/// grantable by the caller.
fn narrower_key(
    ctx: &CallContext,
    access: &Access,
    change: &KeyChange,
    asked: &[String],
    asked_expiry: Option<i64>,
) -> Result<()> {
    let widened =
        |what: &str| err(ErrorCode::PolicyFailed, format!("the tenant's policy tried to widen the key: {what}"));
    if change.scopes.is_empty() {
        return Err(widened("a key needs at least one scope"));
    }
    if change.scopes.len() > asked.len() {
        return Err(widened("more scopes than were asked for"));
    }
    if let Some(extra) = change.scopes.iter().find(|s| !asked.contains(s)) {
        return Err(widened(&format!("the scope {extra} was not asked for")));
    }
    match (change.expires_at, asked_expiry) {
        (None, Some(_)) => return Err(widened("it removed the expiry")),
        (Some(at), _) if at <= ctx.now => return Err(widened("the expiry is not in the future")),
        (Some(at), Some(asked)) if at > asked => return Err(widened("the expiry is later than asked for")),
        _ => {}
    }
    grantable_scopes(ctx, access, &change.scopes)
}

#[cfg(test)]
mod tests {
    // The engine's results do not implement `Debug`, which `unwrap_err` needs.
    #![allow(clippy::err_expect, clippy::ok_expect)]

    use super::*;
    use crate::test_support::{access, at, ctx, key, member};

    fn usage(runs_today: i32, runs_this_month: i32, tokens: i64, last: Option<i64>) -> UsageCounters {
        UsageCounters { runs_today, runs_this_month, tokens_this_month: tokens, last_run_reset_at: last }
    }

    fn counts(u: &UsageCounters) -> (i32, i32, i64, Option<i64>) {
        (u.runs_today, u.runs_this_month, u.tokens_this_month, u.last_run_reset_at)
    }

    #[test]
    fn the_first_count_starts_the_period() {
        let now = at(2024, 5, 17, 9, 0, 0);
        let (next, changed) = effective_usage(&usage(4, 9, 100, None), now);
        assert!(changed);
        assert_eq!(counts(&next), (4, 9, 100, Some(now)));
    }

    #[test]
    fn within_one_utc_day_nothing_resets() {
        let (next, changed) =
            effective_usage(&usage(4, 9, 100, Some(at(2024, 5, 17, 0, 0, 0))), at(2024, 5, 17, 23, 59, 59));
        assert!(!changed);
        assert_eq!(counts(&next), (4, 9, 100, Some(at(2024, 5, 17, 0, 0, 0))));
        // A clock that went back never resets anything.
        assert!(!effective_usage(&usage(4, 9, 100, Some(at(2024, 5, 18, 0, 0, 0))), at(2024, 5, 17, 0, 0, 0)).1);
    }

    #[test]
    fn a_new_utc_day_resets_the_days_runs_only() {
        let now = at(2024, 5, 18, 0, 0, 0);
        let (next, changed) = effective_usage(&usage(4, 9, 100, Some(at(2024, 5, 17, 23, 59, 59))), now);
        assert!(changed);
        assert_eq!(counts(&next), (0, 9, 100, Some(now)));
    }

    #[test]
    fn a_new_utc_month_resets_the_months_counters_too() {
        for (last, now) in [
            (at(2024, 5, 31, 23, 59, 59), at(2024, 6, 1, 0, 0, 0)),
            (at(2024, 12, 31, 12, 0, 0), at(2025, 1, 1, 0, 0, 1)),
            (at(2024, 3, 10, 12, 0, 0), at(2024, 7, 10, 12, 0, 0)),
        ] {
            let (next, changed) = effective_usage(&usage(4, 9, 100, Some(last)), now);
            assert!(changed);
            assert_eq!(counts(&next), (0, 0, 0, Some(now)));
        }
    }

    #[test]
    fn counters_refuse_an_increment_they_cannot_hold() {
        assert!(counters_fit(&usage(1, 1, 1, None), 1, 1_000).is_ok());
        assert!(counters_fit(&usage(i32::MAX, 1, 1, None), 1, 0).is_err());
        let refused = counters_fit(&usage(0, 0, i64::MAX / 2, None), 0, 1).err().expect("refused");
        assert_eq!(refused.code, ErrorCode::QuotaExceeded);
    }

    #[test]
    fn token_limits_are_written_with_thousands_separators() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
    }

    #[test]
    fn meter_names() {
        for good in ["tokens_used", "api.calls:v2-beta", "a"] {
            assert_eq!(meter(good).ok().as_deref(), Some(good));
        }
        for bad in ["", "Tokens", "tokens used", "tökens", &"m".repeat(101)] {
            assert!(meter(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_key_made_by_a_key_is_never_looser_than_its_parent() {
        let mut parent = key(&["run:*"], Some("u-1"), Some(Role::Member));
        parent.allowed_workers = Some(vec!["a".into(), "b".into()]);
        parent.expires_at = Some(1_000);
        parent.rate_limit_rpm = Some(60);
        let inherited = inherit_restrictions(&parent, None, None, None, None).ok();
        assert_eq!(inherited, Some((Some(vec!["a".to_string(), "b".to_string()]), Some(1_000), Some(60), None)));
        let narrower = inherit_restrictions(&parent, Some(vec!["a".into()]), Some(500), Some(10), Some(2)).ok();
        assert_eq!(narrower, Some((Some(vec!["a".to_string()]), Some(500), Some(10), Some(2))));
        for looser in [
            inherit_restrictions(&parent, Some(vec!["c".into()]), None, None, None),
            inherit_restrictions(&parent, None, Some(2_000), None, None),
            inherit_restrictions(&parent, None, None, Some(61), None),
        ] {
            let refused = looser.err().expect("refused");
            assert!(refused.message.starts_with("a key may not make a key with a looser"), "{}", refused.message);
        }
    }

    #[test]
    fn a_caller_may_ask_only_for_known_scopes_it_holds() {
        let call = ctx(Actor::Identity(crate::test_support::person(Some("u-1"))), Some("t-1"));
        let admin = access(member(Role::Admin));
        let asked = |scopes: &[&str]| {
            grantable_scopes(&call, &admin, &scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert!(asked(&DEFAULT_SCOPES).is_ok());
        assert!(asked(&["keys:*", "audit:read"]).is_ok());
        let unknown = asked(&["keys:everything"]).err().expect("refused");
        assert!(unknown.message.starts_with("permissions: unknown scope 'keys:everything'"), "{}", unknown.message);
        assert_eq!(
            asked(&["policies:*"]).err().map(|e| e.message).as_deref(),
            Some("permissions: 'policies:*' is never an API key's")
        );

        let viewer = access(member(Role::Viewer));
        let refused = grantable_scopes(&call, &viewer, &["run:*".to_string()]).err().expect("refused");
        assert_eq!(refused.code, ErrorCode::Forbidden);
        assert!(refused.message.contains("includes run:write"), "{}", refused.message);
    }

    #[test]
    fn a_policy_may_only_narrow_a_key() {
        let call = ctx(Actor::Identity(crate::test_support::person(Some("u-1"))), Some("t-1"));
        let admin = access(member(Role::Admin));
        let asked = ["run:*".to_string(), "read:*".to_string()];
        let change = |scopes: &[&str], expires_at| KeyChange {
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at,
        };
        let later = Some(call.now + time::DAY);
        assert!(narrower_key(&call, &admin, &change(&["read:*"], later), &asked, None).is_ok());
        for (widened, why) in [
            (change(&[], None), "a key needs at least one scope"),
            (change(&["keys:*"], None), "the scope keys:* was not asked for"),
            (change(&["read:*"], None), "it removed the expiry"),
            (change(&["read:*"], Some(call.now)), "the expiry is not in the future"),
        ] {
            let asked_expiry = if why == "it removed the expiry" { later } else { None };
            let refused = narrower_key(&call, &admin, &widened, &asked, asked_expiry).err().expect("refused");
            assert_eq!(refused.code, ErrorCode::PolicyFailed);
            assert!(refused.message.ends_with(why), "{}", refused.message);
        }
    }
}
