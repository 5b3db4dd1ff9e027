//! The engine's side of `policy-gate`: consulting the tenant's own policy at a decision point.
//!
//! A decision point asks [`consult`] with the trigger set its lifecycle check read: when the tenant's
//! policy does not handle the trigger (or there is none), nothing is built and nothing is called. The
//! event is built only from data of the call's tenant. A deny is the `policy-denied` error; a
//! modification comes back for the operation to validate again like any input.

pub use crate::aos::accounts::policy_gate::*;
use crate::aos::accounts::policy_types::{ActorKind, PolicyActor, Trigger, TriggerSet};
use crate::aos::accounts::types::{Actor, CallContext, ErrorCode};

use crate::access::{Access, Principal};
use crate::error::{Result, err};

/// What a policy asked for beside allowing.
pub enum Change {
    None,
    Key(KeyChange),
    Pin(PinChange),
}

/// Consults the policy of `tenant_id` on the event `build` makes, if its active policy (as `handles`
/// says) handles `trigger`.
pub fn consult(
    handles: TriggerSet,
    trigger: Trigger,
    tenant_id: &str,
    actor: PolicyActor,
    build: impl FnOnce() -> Result<PolicyEvent>,
) -> Result<Change> {
    if !handles.contains(crate::policies::flag(trigger)) {
        return Ok(Change::None);
    }
    let ruling = crate::aos::accounts::policy_gate::consult(tenant_id, &actor, &build()?)?;
    match (ruling.verdict, trigger) {
        (Verdict::Allow, _) => Ok(Change::None),
        // The host has already doomed the call; this says why to whoever reads the engine's answer.
        (Verdict::Deny(reason), _) => Err(err(ErrorCode::PolicyDenied, reason)),
        (Verdict::NarrowKey(change), Trigger::CreateApiKey) => Ok(Change::Key(change)),
        (Verdict::RewritePin(change), Trigger::WritePin) => Ok(Change::Pin(change)),
        _ => {
            Err(err(ErrorCode::PolicyFailed, "the tenant's policy answered with a change this operation does not take"))
        }
    }
}

/// Who acts in a call, as a policy sees it.
pub fn actor(ctx: &CallContext, access: &Access) -> PolicyActor {
    match &access.principal {
        Principal::User { user_id, role } => {
            PolicyActor { kind: ActorKind::User, user_id: Some(user_id.clone()), api_key_id: None, role: Some(*role) }
        }
        Principal::ApiKey { key_id } => PolicyActor {
            kind: ActorKind::ApiKey,
            user_id: match &ctx.actor {
                Actor::ApiKey(key) => key.created_by.clone(),
                _ => None,
            },
            api_key_id: Some(key_id.clone()),
            role: None,
        },
        Principal::Operator => PolicyActor { kind: ActorKind::Operator, user_id: None, api_key_id: None, role: None },
        Principal::System => PolicyActor { kind: ActorKind::System, user_id: None, api_key_id: None, role: None },
    }
}

/// A person acting without a membership yet (accepting an invitation).
pub fn person(user_id: &str) -> PolicyActor {
    PolicyActor { kind: ActorKind::User, user_id: Some(user_id.to_string()), api_key_id: None, role: None }
}
