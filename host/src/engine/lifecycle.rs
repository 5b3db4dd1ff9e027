//! Typed calls of the `lifecycle` interface (one sandboxed instance and one transaction each).

use crate::bindings::lifecycle;
use crate::bindings::{EngineError, TenantStatus};
use crate::call::CallState;
use crate::contract::operations::lifecycle as op;
use crate::drivers::DriverView;
use crate::runtime::{Caller, Runtime};

/// The `lifecycle` interface of a runtime's engine.
pub struct Lifecycle<'a, T: 'static = CallState>(pub(crate) &'a Runtime<T>);

impl<T: DriverView> Lifecycle<'_, T> {
    /// Calls `lifecycle.get-state`.
    pub async fn get_state(&self, caller: &Caller) -> Result<lifecycle::LifecycleState, EngineError> {
        self.0
            .run(caller, &op::GET_STATE, |mut a| {
                Box::pin(async move { a.call(lifecycle::Guest::func_get_state, (a.ctx,)).await })
            })
            .await
    }

    /// Moves to `to-status` along the state machine. `conflict` when the tenant is already there, and
    /// for a forbidden edge with the broken invariant in the message (`OFFBOARD-002: ...`).
    /// (`lifecycle.transition`)
    pub async fn transition(
        &self,
        caller: &Caller,
        to_status: TenantStatus,
        reason: &str,
    ) -> Result<lifecycle::LifecycleTransition, EngineError> {
        self.0
            .run(caller, &op::TRANSITION, |mut a| {
                Box::pin(async move { a.call(lifecycle::Guest::func_transition, (a.ctx, to_status, reason)).await })
            })
            .await
    }

    /// Calls `lifecycle.suspend`.
    pub async fn suspend(&self, caller: &Caller, reason: &str) -> Result<lifecycle::LifecycleTransition, EngineError> {
        self.0
            .run(caller, &op::SUSPEND, |mut a| {
                Box::pin(async move { a.call(lifecycle::Guest::func_suspend, (a.ctx, reason)).await })
            })
            .await
    }

    /// Calls `lifecycle.resume`.
    pub async fn resume(&self, caller: &Caller, reason: &str) -> Result<lifecycle::LifecycleTransition, EngineError> {
        self.0
            .run(caller, &op::RESUME, |mut a| {
                Box::pin(async move { a.call(lifecycle::Guest::func_resume, (a.ctx, reason)).await })
            })
            .await
    }

    /// Calls `lifecycle.terminate`.
    pub async fn terminate(
        &self,
        caller: &Caller,
        reason: &str,
    ) -> Result<lifecycle::LifecycleTransition, EngineError> {
        self.0
            .run(caller, &op::TERMINATE, |mut a| {
                Box::pin(async move { a.call(lifecycle::Guest::func_terminate, (a.ctx, reason)).await })
            })
            .await
    }

    /// Calls `lifecycle.archive`.
    pub async fn archive(&self, caller: &Caller, reason: &str) -> Result<lifecycle::LifecycleTransition, EngineError> {
        self.0
            .run(caller, &op::ARCHIVE, |mut a| {
                Box::pin(async move { a.call(lifecycle::Guest::func_archive, (a.ctx, reason)).await })
            })
            .await
    }
}
