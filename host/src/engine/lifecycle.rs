//! Typed calls of the `lifecycle` interface (one sandboxed instance and one transaction each).

use crate::bindings::lifecycle;
use crate::bindings::{EngineError, TenantStatus};
use crate::engine_call;
use crate::runtime::{Caller, Runtime};

pub struct Lifecycle<'a>(pub(crate) &'a Runtime);

impl Lifecycle<'_> {
    pub async fn get_state(&self, caller: &Caller) -> Result<lifecycle::LifecycleState, EngineError> {
        engine_call!(self.0, caller, lifecycle, "get-state", |guest, store, ctx| guest.call_get_state(store, &ctx))
    }

    pub async fn transition(
        &self,
        caller: &Caller,
        to_status: TenantStatus,
        reason: &str,
    ) -> Result<lifecycle::LifecycleTransition, EngineError> {
        engine_call!(self.0, caller, lifecycle, "transition", |guest, store, ctx| guest
            .call_transition(store, &ctx, to_status, reason))
    }

    pub async fn suspend(&self, caller: &Caller, reason: &str) -> Result<lifecycle::LifecycleTransition, EngineError> {
        engine_call!(self.0, caller, lifecycle, "suspend", |guest, store, ctx| guest.call_suspend(store, &ctx, reason))
    }

    pub async fn resume(&self, caller: &Caller, reason: &str) -> Result<lifecycle::LifecycleTransition, EngineError> {
        engine_call!(self.0, caller, lifecycle, "resume", |guest, store, ctx| guest.call_resume(store, &ctx, reason))
    }

    pub async fn terminate(
        &self,
        caller: &Caller,
        reason: &str,
    ) -> Result<lifecycle::LifecycleTransition, EngineError> {
        engine_call!(self.0, caller, lifecycle, "terminate", |guest, store, ctx| guest
            .call_terminate(store, &ctx, reason))
    }

    pub async fn archive(&self, caller: &Caller, reason: &str) -> Result<lifecycle::LifecycleTransition, EngineError> {
        engine_call!(self.0, caller, lifecycle, "archive", |guest, store, ctx| guest.call_archive(store, &ctx, reason))
    }
}
