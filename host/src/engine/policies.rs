//! Typed calls of the `policies` interface: a tenant's own policy components (one sandboxed instance and
//! one transaction each, like every engine call).

use crate::bindings::policies;
use crate::bindings::policy_gate::{DryRunOutcome, PolicyEvent};
use std::time::Duration;

use crate::bindings::{EngineError, ErrorCode};
use crate::policy::STILL_COMPILING;
use crate::engine_call;
use crate::runtime::{Caller, Runtime};

pub struct Policies<'a>(pub(crate) &'a Runtime);

impl Policies<'_> {
    /// Installs a version. A large component compiles longer than a call may hold its transaction: the
    /// engine answers `unavailable` while it compiles in the background, and this tries again (with the
    /// same bytes, found compiled) until the host's compile bound has passed.
    pub async fn install(&self, caller: &Caller, policy: &policies::NewPolicy) -> Result<policies::PolicyVersion, EngineError> {
        let until = tokio::time::Instant::now() + self.0.config().policies.compile_timeout + Duration::from_secs(1);
        loop {
            let result = engine_call!(self.0, caller, policies, "install", |guest, store, ctx| guest.call_install(store, &ctx, policy));
            match result {
                Err(e) if e.code == ErrorCode::Unavailable && e.message == STILL_COMPILING && tokio::time::Instant::now() < until => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                other => return other,
            }
        }
    }

    pub async fn activate(&self, caller: &Caller, version: u32) -> Result<policies::PolicyStatus, EngineError> {
        engine_call!(self.0, caller, policies, "activate", |guest, store, ctx| guest.call_activate(store, &ctx, version))
    }

    pub async fn deactivate(&self, caller: &Caller, reason: Option<&str>) -> Result<policies::PolicyStatus, EngineError> {
        engine_call!(self.0, caller, policies, "deactivate", |guest, store, ctx| guest.call_deactivate(store, &ctx, reason))
    }

    pub async fn rollback(&self, caller: &Caller) -> Result<policies::PolicyStatus, EngineError> {
        engine_call!(self.0, caller, policies, "rollback", |guest, store, ctx| guest.call_rollback(store, &ctx))
    }

    pub async fn list_versions(&self, caller: &Caller) -> Result<Vec<policies::PolicyVersion>, EngineError> {
        engine_call!(self.0, caller, policies, "list-versions", |guest, store, ctx| guest.call_list_versions(store, &ctx))
    }

    pub async fn delete_version(&self, caller: &Caller, version: u32) -> Result<bool, EngineError> {
        engine_call!(self.0, caller, policies, "delete-version", |guest, store, ctx| guest.call_delete_version(store, &ctx, version))
    }

    pub async fn dry_run(&self, caller: &Caller, version: u32, event: &PolicyEvent) -> Result<DryRunOutcome, EngineError> {
        engine_call!(self.0, caller, policies, "dry-run", |guest, store, ctx| guest.call_dry_run(store, &ctx, version, event))
    }

    pub async fn status(&self, caller: &Caller) -> Result<policies::PolicyStatus, EngineError> {
        engine_call!(self.0, caller, policies, "status", |guest, store, ctx| guest.call_status(store, &ctx))
    }
}
