//! Typed calls of the `policies` interface: a tenant's own policy components (one sandboxed instance and
//! one transaction each, like every engine call).

use crate::bindings::EngineError;
use crate::bindings::policies;
use crate::bindings::policy_gate::{DryRunOutcome, PolicyEvent};
use crate::call::CallState;
use crate::contract::operations::policies as op;
use crate::db::codec::Id;
use crate::drivers::DriverView;
use crate::policy::policy_gate::refusal_error;
use crate::runtime::{Caller, Runtime};

/// The `policies` interface of a runtime's engine.
pub struct Policies<'a, T: 'static = CallState>(pub(crate) &'a Runtime<T>);

impl<T: DriverView> Policies<'_, T> {
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
        let refused = &refused;
        self.0
            .run(caller, &op::INSTALL, |mut a| {
                Box::pin(async move {
                    a.store.data_mut().drivers().refuse_upload(refused.clone());
                    a.call(policies::Guest::func_install, (a.ctx, policy)).await
                })
            })
            .await
    }

    /// Makes `version` the one the tenant's calls run, atomically for concurrent calls.
    /// (`policies.activate`)
    pub async fn activate(&self, caller: &Caller, version: u32) -> Result<policies::PolicyStatus, EngineError> {
        self.0
            .run(caller, &op::ACTIVATE, |mut a| {
                Box::pin(async move { a.call(policies::Guest::func_activate, (a.ctx, version)).await })
            })
            .await
    }

    /// No policy runs any more (owners, and operators for any tenant).
    /// (`policies.deactivate`)
    pub async fn deactivate(
        &self,
        caller: &Caller,
        reason: Option<&str>,
    ) -> Result<policies::PolicyStatus, EngineError> {
        self.0
            .run(caller, &op::DEACTIVATE, |mut a| {
                Box::pin(async move { a.call(policies::Guest::func_deactivate, (a.ctx, reason)).await })
            })
            .await
    }

    /// Activates the version that was active before the current one. One step back: after a rollback
    /// there is no previous version until the next activation or deactivation.
    /// (`policies.rollback`)
    pub async fn rollback(&self, caller: &Caller) -> Result<policies::PolicyStatus, EngineError> {
        self.0
            .run(caller, &op::ROLLBACK, |mut a| {
                Box::pin(async move { a.call(policies::Guest::func_rollback, (a.ctx,)).await })
            })
            .await
    }

    /// Every stored version, newest first (at most 20 are kept: delete old ones to install more).
    /// (`policies.list-versions`)
    pub async fn list_versions(&self, caller: &Caller) -> Result<Vec<policies::PolicyVersion>, EngineError> {
        self.0
            .run(caller, &op::LIST_VERSIONS, |mut a| {
                Box::pin(async move { a.call(policies::Guest::func_list_versions, (a.ctx,)).await })
            })
            .await
    }

    /// Deletes a version that is not active.
    /// (`policies.delete-version`)
    pub async fn delete_version(&self, caller: &Caller, version: u32) -> Result<bool, EngineError> {
        self.0
            .run(caller, &op::DELETE_VERSION, |mut a| {
                Box::pin(async move { a.call(policies::Guest::func_delete_version, (a.ctx, version)).await })
            })
            .await
    }

    /// Runs `version` on a sample event, as the caller, without activating it or recording anything.
    /// (`policies.dry-run`)
    pub async fn dry_run(
        &self,
        caller: &Caller,
        version: u32,
        event: &PolicyEvent,
    ) -> Result<DryRunOutcome, EngineError> {
        self.0
            .run(caller, &op::DRY_RUN, |mut a| {
                Box::pin(async move { a.call(policies::Guest::func_dry_run, (a.ctx, version, event)).await })
            })
            .await
    }

    /// Calls `policies.status`.
    pub async fn status(&self, caller: &Caller) -> Result<policies::PolicyStatus, EngineError> {
        self.0
            .run(caller, &op::STATUS, |mut a| {
                Box::pin(async move { a.call(policies::Guest::func_status, (a.ctx,)).await })
            })
            .await
    }
}
