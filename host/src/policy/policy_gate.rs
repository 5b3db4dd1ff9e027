//! `policy-gate`: the engine's way to its tenant's policy. The host, not the engine, decides whose policy
//! runs (a tenant in the call's scope, checked like every driver's tenant) and which version (the one the
//! call's lifecycle check read, in the call's transaction). A deny or a failure also dooms the call on
//! the host side: whatever the engine answers next, the call rolls back (fail closed).

use std::sync::Arc;

use crate::bindings::aos::accounts::policy_types::{PolicyActor, PolicyContext, Trigger};
use crate::bindings::policy_gate::{DryRunOutcome, Host, Inspection, PolicyEvent, Ruling, Verdict};
use crate::bindings::{DriverError, EngineError, ErrorCode};
use crate::call::CallState;
use crate::catalogue::policy_gate as statements;
use crate::db::codec::{Id, Json};
use crate::policy::stats::{Ran, Run};
use crate::policy::{HookError, Loaded, Policies, Refusal, Unready, flag_of, trigger_name, trigger_of};
use crate::runtime::engine_error;
use crate::sql;

/// The version of a tenant's policy a call saw: (version, content hash).
pub type ActiveVersion = Option<(u32, String)>;

impl Host for CallState {
    async fn consult(
        &mut self,
        tenant_id: String,
        actor: PolicyActor,
        event: PolicyEvent,
    ) -> Result<Ruling, EngineError> {
        // Whatever goes wrong here, the call goes no further: every error also dooms it on the host.
        let ruling = self.consult_policy(tenant_id, actor, event).await;
        if let Err(error) = &ruling {
            self.doom(error.clone());
        }
        ruling
    }

    async fn inspect(&mut self, component: Vec<u8>) -> Result<Inspection, EngineError> {
        if let Some(refusal) = self.upload_refusal() {
            return Err(refusal);
        }
        let policies = self.policies()?;
        let uploader = self.scope_tenant();
        // Inside the call nothing waits for a compiler: the host compiled the upload before the call
        // (see `engine::policies`), or the answer is "still compiling" and the compilation goes on.
        let inspected =
            policies.inspect(uploader.as_ref(), &component, std::time::Duration::ZERO).await.map_err(refusal_error)?;
        Ok(Inspection {
            content_hash: inspected.content_hash,
            size_bytes: inspected.size_bytes,
            handles: inspected.handles,
        })
    }

    async fn dry_run(
        &mut self,
        tenant_id: String,
        version: u32,
        actor: PolicyActor,
        event: PolicyEvent,
    ) -> Result<DryRunOutcome, EngineError> {
        let tenant = self.policy_tenant(&tenant_id)?;
        let trigger = trigger_of(&event);
        let hash = self.stored_hash(&tenant, version).await.map_err(driver_failure)?;
        let hash = hash
            .ok_or_else(|| engine_error(ErrorCode::NotFound, format!("the tenant has no policy version {version}")))?;
        let policies = self.policies()?;
        let loaded = match self.load_policy(&policies, &tenant, version, hash.trim()).await.map_err(driver_failure)? {
            Ok(loaded) => loaded,
            Err(Unready::Broken(message)) => return Err(policy_failed(version, trigger, &message)),
            Err(Unready::Compiling(message)) => return Err(not_ready(message)),
        };
        if !loaded.handles.contains(flag_of(trigger)) {
            return Ok(DryRunOutcome { handled: false, verdict: Verdict::Allow, fuel_used: 0 });
        }
        let ctx =
            PolicyContext { tenant_id: tenant.to_string(), actor, now: self.now.0, config: loaded.config.clone() };
        let (verdict, fuel_used) = match policies.run(&loaded, ctx, &event).await {
            Ok(answer) => answer,
            Err(HookError::Policy(failure)) => return Err(policy_failed(version, trigger, &failure.0)),
            Err(HookError::Busy) => return Err(host_busy()),
        };
        Ok(DryRunOutcome { handled: true, verdict, fuel_used })
    }
}

impl CallState {
    async fn consult_policy(
        &mut self,
        tenant_id: String,
        actor: PolicyActor,
        event: PolicyEvent,
    ) -> Result<Ruling, EngineError> {
        let tenant = self.policy_tenant(&tenant_id)?;
        let trigger = trigger_of(&event);
        let active = match self.active_policy_seen(&tenant) {
            Some(active) => active,
            None => self.read_active_policy(&tenant).await?,
        };
        let Some((version, hash)) = active else {
            return Ok(Ruling { version: 0, verdict: Verdict::Allow });
        };
        let policies = self.policies()?;
        let run = |ran: Ran, failure: Option<String>| Run { tenant: tenant.clone(), version, trigger, ran, failure };
        let loaded = match self.load_policy(&policies, &tenant, version, &hash).await.map_err(driver_failure)? {
            Ok(loaded) => loaded,
            Err(Unready::Broken(message)) => {
                self.ran_policy(run(Ran::Failed, Some(message.clone())));
                return Err(policy_failed(version, trigger, &message));
            }
            Err(Unready::Compiling(message)) => return Err(not_ready(message)),
        };
        if !loaded.handles.contains(flag_of(trigger)) {
            return Ok(Ruling { version, verdict: Verdict::Allow });
        }
        let ctx =
            PolicyContext { tenant_id: tenant.to_string(), actor, now: self.now.0, config: loaded.config.clone() };
        match policies.run(&loaded, ctx, &event).await {
            Ok((Verdict::Deny(reason), _)) => {
                self.ran_policy(run(Ran::Denied, None));
                self.doom(engine_error(ErrorCode::PolicyDenied, denial_message(version, trigger, &reason)));
                Ok(Ruling { version, verdict: Verdict::Deny(reason) })
            }
            Ok((verdict, _)) => {
                self.ran_policy(run(Ran::Allowed, None));
                Ok(Ruling { version, verdict })
            }
            Err(HookError::Busy) => Err(host_busy()),
            Err(HookError::Policy(failure)) => {
                tracing::warn!(tenant = %tenant, version, trigger = trigger_name(trigger), failure = %failure.0, "tenant policy failed");
                self.ran_policy(run(Ran::Failed, Some(failure.0.clone())));
                Err(policy_failed(version, trigger, &failure.0))
            }
        }
    }

    fn policies(&self) -> Result<Arc<Policies>, EngineError> {
        self.policies.clone().ok_or_else(|| engine_error(ErrorCode::Unavailable, "this host runs no tenant policies"))
    }

    /// The tenant whose policy the engine asks for: one of the call's scope, or the call is refused.
    fn policy_tenant(&mut self, tenant_id: &str) -> Result<Id, EngineError> {
        self.tenant(tenant_id).map_err(|e| engine_error(ErrorCode::Forbidden, e.message))
    }

    /// The tenant's active version as this call's lifecycle check read it, if it read it.
    fn active_policy_seen(&self, tenant: &Id) -> Option<ActiveVersion> {
        self.policy_seen.iter().find(|(t, _)| t == tenant).map(|(_, active)| active.clone())
    }

    /// Notes what the lifecycle check read (see `tenant-lifecycle-driver`).
    pub(crate) fn saw_policy(&mut self, tenant: &Id, active: ActiveVersion) {
        self.policy_seen.retain(|(t, _)| t != tenant);
        self.policy_seen.push((tenant.clone(), active));
    }

    async fn stored_hash(&mut self, tenant: &Id, version: u32) -> Result<Option<String>, DriverError> {
        sql!(self, |c| sqlx::query_scalar(statements::STORED_HASH).bind(tenant).bind(version as i32).fetch_optional(c))
    }

    async fn active_row(&mut self, tenant: &Id) -> Result<Option<(i32, String)>, DriverError> {
        sql!(self, |c| sqlx::query_as(statements::ACTIVE_VERSION).bind(tenant).fetch_optional(c))
    }

    async fn stored_version(&mut self, tenant: &Id, version: u32) -> Result<Option<(Vec<u8>, Json, i32)>, DriverError> {
        sql!(self, |c| sqlx::query_as(statements::STORED_VERSION).bind(tenant).bind(version as i32).fetch_optional(c))
    }

    async fn read_active_policy(&mut self, tenant: &Id) -> Result<ActiveVersion, EngineError> {
        let row = self.active_row(tenant).await.map_err(driver_failure)?;
        let active = row.map(|(v, h)| (v as u32, h.trim().to_string()));
        self.saw_policy(tenant, active.clone());
        Ok(active)
    }

    /// A version ready to run: from the cache, or read from the call's transaction and compiled. The
    /// outer error is the database's; the inner one says why the stored version cannot run.
    async fn load_policy(
        &mut self,
        policies: &Policies,
        tenant: &Id,
        version: u32,
        hash: &str,
    ) -> Result<Result<Arc<Loaded>, Unready>, DriverError> {
        if let Some(loaded) = policies.cached(tenant, version, hash) {
            return Ok(Ok(loaded));
        }
        let Some((component, config, handles)) = self.stored_version(tenant, version).await? else {
            return Ok(Err(Unready::Broken(format!("version {version} is not stored"))));
        };
        let handles = crate::policy::set_of_bits(handles);
        Ok(policies.prepare(tenant, version, hash, &component, config.0, handles, crate::policy::PREPARE_WAIT).await)
    }
}

/// What a caller is told when an upload is not accepted.
pub fn refusal_error(refusal: Refusal) -> EngineError {
    match refusal {
        Refusal::Invalid(message) => engine_error(ErrorCode::InvalidArgument, message),
        Refusal::TooLarge(message) => engine_error(ErrorCode::QuotaExceeded, message),
        Refusal::Busy(message) => engine_error(ErrorCode::Unavailable, message),
        Refusal::TooSlow(message) => engine_error(ErrorCode::InvalidArgument, message),
        Refusal::Compiling => engine_error(ErrorCode::Unavailable, crate::policy::STILL_COMPILING),
    }
}

fn policy_failed(version: u32, trigger: Trigger, what: &str) -> EngineError {
    engine_error(
        ErrorCode::PolicyFailed,
        format!(
            "the tenant's policy (version {version}) failed at {}: {what}; nothing was written",
            trigger_name(trigger)
        ),
    )
}

/// No place to run the hook in time (every pooled instance in use): the host's limit, not the policy's.
fn host_busy() -> EngineError {
    engine_error(ErrorCode::Unavailable, "the host is running too many tenant policies; nothing was written, try again")
}

/// The tenant's policy is being compiled (not its fault, nothing is counted): the caller tries again.
fn not_ready(why: String) -> EngineError {
    engine_error(
        ErrorCode::Unavailable,
        format!("the tenant's policy is being prepared ({why}); nothing was written, try again"),
    )
}

fn denial_message(version: u32, trigger: Trigger, reason: &str) -> String {
    format!("denied by the tenant's policy (version {version}) at {}: {reason}", trigger_name(trigger))
}

fn driver_failure(e: crate::bindings::DriverError) -> EngineError {
    engine_error(ErrorCode::Unavailable, format!("the policy could not be read: {}", e.message))
}
