//! Typed calls of the `policies` interface: a tenant's own policy components (one sandboxed instance and
//! one transaction each, like every engine call).

use crate::bindings::EngineError;
use crate::bindings::policies;
use crate::bindings::policy_gate::{DryRunOutcome, PolicyEvent};
use crate::db::codec::Id;
use crate::engine_call;
use crate::policy::policy_gate::refusal_error;
use crate::runtime::{Caller, Runtime};

pub struct Policies<'a>(pub(crate) &'a Runtime);

impl Policies<'_> {
    /// Installs a version. The upload is compiled before the install call, holding no transaction, lock
    /// or instance (a large component takes seconds), and only for a caller the engine lets read the
    /// tenant's policies (its owners; operators, whom the install itself then refuses): nobody else makes
    /// the host compile anything. The call then finds the component compiled.
    pub async fn install(
        &self,
        caller: &Caller,
        policy: &policies::NewPolicy,
    ) -> Result<policies::PolicyVersion, EngineError> {
        self.list_versions(caller).await?;
        let uploader = caller.tenant_id.as_deref().and_then(|t| Id::parse(t).ok());
        let runtime = self.0.policy_runtime();
        let wait = runtime.limits().compile_timeout;
        // A refused upload is told by the engine, when its install asks the gate about the component: after
        // its own rules (who may install, the tenant's lifecycle, the config), in the order every host has.
        let refused = runtime.inspect(uploader.as_ref(), &policy.component, wait).await.err().map(refusal_error);
        engine_call!(self.0, caller, policies, "install", |guest, store, ctx| {
            store.data_mut().refuse_upload(refused.clone());
            guest.call_install(store, &ctx, policy)
        })
    }

    pub async fn activate(&self, caller: &Caller, version: u32) -> Result<policies::PolicyStatus, EngineError> {
        engine_call!(self.0, caller, policies, "activate", |guest, store, ctx| guest
            .call_activate(store, &ctx, version))
    }

    pub async fn deactivate(
        &self,
        caller: &Caller,
        reason: Option<&str>,
    ) -> Result<policies::PolicyStatus, EngineError> {
        engine_call!(self.0, caller, policies, "deactivate", |guest, store, ctx| guest
            .call_deactivate(store, &ctx, reason))
    }

    pub async fn rollback(&self, caller: &Caller) -> Result<policies::PolicyStatus, EngineError> {
        engine_call!(self.0, caller, policies, "rollback", |guest, store, ctx| guest.call_rollback(store, &ctx))
    }

    pub async fn list_versions(&self, caller: &Caller) -> Result<Vec<policies::PolicyVersion>, EngineError> {
        engine_call!(self.0, caller, policies, "list-versions", |guest, store, ctx| guest
            .call_list_versions(store, &ctx))
    }

    pub async fn delete_version(&self, caller: &Caller, version: u32) -> Result<bool, EngineError> {
        engine_call!(self.0, caller, policies, "delete-version", |guest, store, ctx| guest
            .call_delete_version(store, &ctx, version))
    }

    pub async fn dry_run(
        &self,
        caller: &Caller,
        version: u32,
        event: &PolicyEvent,
    ) -> Result<DryRunOutcome, EngineError> {
        engine_call!(self.0, caller, policies, "dry-run", |guest, store, ctx| guest
            .call_dry_run(store, &ctx, version, event))
    }

    pub async fn status(&self, caller: &Caller) -> Result<policies::PolicyStatus, EngineError> {
        engine_call!(self.0, caller, policies, "status", |guest, store, ctx| guest.call_status(store, &ctx))
    }
}
