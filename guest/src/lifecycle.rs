//! `lifecycle`: the tenant lifecycle state machine. A tenant is active, suspended (reads only, and it
//! can be resumed), terminated (irreversible) or archived (terminal, reached only from terminated). Every
//! status change of a tenant, including `tenants.suspend`, goes through [`transition`]; each writes an
//! audit row with the actor.

use crate::Engine;
use crate::access::{self, call_tenant, status_name};
use crate::aos::accounts::types::{CallContext, DriverErrorCode, EngineError, TenantStatus};
use crate::error::{Result, conflict, is_conflict, not_found};
use crate::exports::aos::accounts::lifecycle::{Guest, LifecycleAction, LifecycleState, LifecycleTransition};
use crate::operations::{Operation, lifecycle as op};
use crate::tenant_driver::{Audit, audit_tenant};
use crate::tenant_lifecycle_driver as driver;
use crate::validate;

impl Guest for Engine {
    fn get_state(ctx: CallContext) -> Result<LifecycleState, EngineError> {
        let access = access::check(&ctx, &op::GET_STATE)?;
        Ok(state_of(access.tenant_id, access.status))
    }

    fn transition(
        ctx: CallContext,
        to_status: TenantStatus,
        reason: String,
    ) -> Result<LifecycleTransition, EngineError> {
        transition(&ctx, &op::TRANSITION, to_status, &reason)
    }

    fn suspend(ctx: CallContext, reason: String) -> Result<LifecycleTransition, EngineError> {
        transition(&ctx, &op::SUSPEND, TenantStatus::Suspended, &reason)
    }

    fn resume(ctx: CallContext, reason: String) -> Result<LifecycleTransition, EngineError> {
        transition(&ctx, &op::RESUME, TenantStatus::Active, &reason)
    }

    fn terminate(ctx: CallContext, reason: String) -> Result<LifecycleTransition, EngineError> {
        transition(&ctx, &op::TERMINATE, TenantStatus::Terminated, &reason)
    }

    fn archive(ctx: CallContext, reason: String) -> Result<LifecycleTransition, EngineError> {
        transition(&ctx, &op::ARCHIVE, TenantStatus::Archived, &reason)
    }
}

/// What a status permits (the lifecycle gate of [`crate::access::gate`]) and where it may go next.
pub fn state_of(tenant_id: String, status: TenantStatus) -> LifecycleState {
    use TenantStatus::*;
    let mut valid_transitions: Vec<TenantStatus> =
        [Active, Suspended, Terminated, Archived].into_iter().filter(|to| edge_error(status, *to).is_none()).collect();
    valid_transitions.sort_by_key(|s| status_name(*s));
    LifecycleState {
        tenant_id,
        status,
        allows_sdk: status == Active,
        allows_writes: status == Active,
        allows_reads: matches!(status, Active | Suspended),
        allows_api_keys: status == Active,
        allows_token_refresh: matches!(status, Active | Suspended),
        is_terminal: matches!(status, Terminated | Archived),
        is_reversible: status == Suspended,
        valid_transitions,
    }
}

/// Why `from → to` is not an edge of the state machine, or none if it is.
fn edge_error(from: TenantStatus, to: TenantStatus) -> Option<String> {
    use TenantStatus::*;
    if from == to {
        return Some(format!("Tenant already in {} status", status_name(to)));
    }
    match (from, to) {
        (Active, Suspended)
        | (Active, Terminated)
        | (Suspended, Active)
        | (Suspended, Terminated)
        | (Terminated, Archived) => None,
        (Terminated, _) => Some("OFFBOARD-002: TERMINATED is irreversible".into()),
        (Archived, _) => Some("ARCHIVED is terminal: it has no exits".into()),
        (Active, Archived) => Some("OFFBOARD-003: ARCHIVED is unreachable from ACTIVE".into()),
        _ => Some(format!("Invalid transition: {} -> {}", status_name(from), status_name(to))),
    }
}

fn action_of(to: TenantStatus) -> LifecycleAction {
    match to {
        TenantStatus::Active => LifecycleAction::ResumeTenant,
        TenantStatus::Suspended => LifecycleAction::SuspendTenant,
        TenantStatus::Terminated => LifecycleAction::TerminateTenant,
        TenantStatus::Archived => LifecycleAction::ArchiveTenant,
    }
}

fn action_name(to: TenantStatus) -> &'static str {
    match to {
        TenantStatus::Active => "resume_tenant",
        TenantStatus::Suspended => "suspend_tenant",
        TenantStatus::Terminated => "terminate_tenant",
        TenantStatus::Archived => "archive_tenant",
    }
}

/// Moves the call's tenant to `to` for `op` (operators and the system only), audited with the reason.
pub fn transition(ctx: &CallContext, op: &Operation, to: TenantStatus, reason: &str) -> Result<LifecycleTransition> {
    access::check_platform(ctx, op)?;
    let tenant_id = call_tenant(ctx)?;
    let reason = validate::optional_text("reason", Some(reason), 1000)?;
    let from = driver::fetch_tenant_status(&tenant_id)?
        .ok_or_else(|| not_found(format!("Tenant {tenant_id} not found")))?
        .status;
    if let Some(why) = edge_error(from, to) {
        return Err(conflict(why));
    }
    // The reason is the suspension's; any other status clears it.
    let suspended_reason = if to == TenantStatus::Suspended { reason.clone() } else { None };
    match driver::update_lifecycle_status(&tenant_id, from, to, suspended_reason.as_deref()) {
        Ok(_) => {}
        Err(e) if e.code == DriverErrorCode::NotFound => {
            return Err(not_found(format!("Tenant {tenant_id} not found")));
        }
        Err(e) if is_conflict(&e) => return Err(conflict("the tenant's status changed concurrently; try again")),
        Err(e) => return Err(e.into()),
    }
    audit_tenant(
        ctx,
        Some(&tenant_id),
        None,
        None,
        Audit {
            action: action_name(to),
            resource_type: "tenant",
            resource_id: Some(&tenant_id),
            old_value: Some(serde_json::json!({ "status": status_name(from) })),
            new_value: Some(serde_json::json!({ "status": status_name(to), "reason": reason })),
        },
    )?;
    Ok(LifecycleTransition { tenant_id, from_status: from, to_status: to, action: action_of(to), at: ctx.now })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::gate;
    use crate::operations::Gate;
    use TenantStatus::*;

    const STATUSES: [TenantStatus; 4] = [Active, Suspended, Terminated, Archived];

    #[test]
    fn the_state_machine_has_five_edges() {
        let edges: Vec<_> = STATUSES
            .into_iter()
            .flat_map(|from| STATUSES.into_iter().map(move |to| (from, to)))
            .filter(|(from, to)| edge_error(*from, *to).is_none())
            .map(|(from, to)| (status_name(from), status_name(to)))
            .collect();
        assert_eq!(
            edges,
            [
                ("active", "suspended"),
                ("active", "terminated"),
                ("suspended", "active"),
                ("suspended", "terminated"),
                ("terminated", "archived"),
            ]
        );
    }

    #[test]
    fn a_refused_transition_says_why() {
        assert_eq!(edge_error(Active, Active).as_deref(), Some("Tenant already in active status"));
        assert_eq!(edge_error(Terminated, Active).as_deref(), Some("OFFBOARD-002: TERMINATED is irreversible"));
        assert_eq!(edge_error(Archived, Terminated).as_deref(), Some("ARCHIVED is terminal: it has no exits"));
        assert_eq!(edge_error(Active, Archived).as_deref(), Some("OFFBOARD-003: ARCHIVED is unreachable from ACTIVE"));
        assert_eq!(edge_error(Suspended, Archived).as_deref(), Some("Invalid transition: suspended -> archived"));
    }

    #[test]
    fn a_state_lists_its_exits_by_name() {
        let suspended = state_of("t-1".into(), Suspended);
        assert_eq!(
            suspended.valid_transitions.iter().map(|s| status_name(*s)).collect::<Vec<_>>(),
            ["active", "terminated"]
        );
        assert!(suspended.is_reversible && !suspended.is_terminal);
        let archived = state_of("t-1".into(), Archived);
        assert!(archived.valid_transitions.is_empty() && archived.is_terminal && !archived.is_reversible);
    }

    #[test]
    fn what_a_state_allows_is_what_the_lifecycle_gate_lets_through() {
        for status in STATUSES {
            let state = state_of("t-1".into(), status);
            assert_eq!(state.allows_reads, gate(status, Gate::Read).is_ok(), "{}", status_name(status));
            assert_eq!(state.allows_writes, gate(status, Gate::Write).is_ok(), "{}", status_name(status));
            assert_eq!(state.allows_api_keys, state.allows_writes);
        }
    }
}
