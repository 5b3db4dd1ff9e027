//! `onboarding`: the forward-only onboarding state machine (domain.md §3.6). Progress is driven by
//! evidence: a human's own request proves identity, a usable API key proves key creation, an SDK's
//! request (made with a key) proves the handshake, and completion needs the activation predicate unless
//! an operator forces it.

use crate::Engine;
use crate::access::{Access, Mode, Permission, Principal, tenant_access};
use crate::aos::accounts::types::{CallContext, EngineError, ErrorCode, OnboardingState};
use crate::error::{Result, err, forbidden, missing, not_found};
use crate::exports::aos::accounts::onboarding::{Capability, Guest, NextAction, OnboardingStatus, Transition};
use crate::onboarding_driver as driver;
use crate::tenant_driver::{Audit, audit};
use crate::validate;

/// The trigger prefix with which an operator forces completion.
pub const FORCE_COMPLETE_PREFIX: &str = "founder_force_complete:";

impl Guest for Engine {
    fn get_state(ctx: CallContext) -> Result<OnboardingStatus, EngineError> {
        let access = tenant_access(&ctx, Permission::OnboardingRead, Mode::Read)?;
        let state = driver::fetch_onboarding_state(&access.tenant_id).map_err(missing("Tenant not found"))?;
        Ok(status_of(access.tenant_id, state))
    }

    fn advance(ctx: CallContext, target: OnboardingState, trigger: String) -> Result<Transition, EngineError> {
        let access = tenant_access(&ctx, Permission::OnboardingWrite, Mode::Write)?;
        let trigger = validate::text("trigger", &trigger, 1, 200)?;
        advance(&ctx, &access, target, &trigger)
    }
}

pub fn step(state: OnboardingState) -> u8 {
    match state {
        OnboardingState::Created => 0,
        OnboardingState::IdentityVerified => 1,
        OnboardingState::ApiKeyCreated => 2,
        OnboardingState::SdkConnected => 3,
        OnboardingState::Complete => 4,
    }
}

pub fn state_name(state: OnboardingState) -> &'static str {
    match state {
        OnboardingState::Created => "CREATED",
        OnboardingState::IdentityVerified => "IDENTITY_VERIFIED",
        OnboardingState::ApiKeyCreated => "API_KEY_CREATED",
        OnboardingState::SdkConnected => "SDK_CONNECTED",
        OnboardingState::Complete => "COMPLETE",
    }
}

const ALL_CAPABILITIES: [Capability; 8] = [
    Capability::ApiKeyManagement,
    Capability::SdkConnection,
    Capability::PolicyManagement,
    Capability::AgentExecution,
    Capability::RunManagement,
    Capability::GuardAccess,
    Capability::Billing,
    Capability::Limits,
];

/// How many of `ALL_CAPABILITIES` (in order) a state unlocks.
fn unlocked(state: OnboardingState) -> usize {
    match state {
        OnboardingState::Created => 0,
        OnboardingState::IdentityVerified => 1,
        OnboardingState::ApiKeyCreated => 2,
        OnboardingState::SdkConnected => 6,
        OnboardingState::Complete => 8,
    }
}

pub fn status_of(tenant_id: String, state: OnboardingState) -> OnboardingStatus {
    let (allowed, blocked) = ALL_CAPABILITIES.split_at(unlocked(state));
    let next_action = match state {
        OnboardingState::Created => Some(("enter_console", "tenant_bootstrap")),
        OnboardingState::IdentityVerified => Some(("create_api_key", "credential_setup")),
        OnboardingState::ApiKeyCreated => Some(("connect_sdk", "integration")),
        OnboardingState::SdkConnected => Some(("complete_setup", "finalization")),
        OnboardingState::Complete => None,
    };
    OnboardingStatus {
        tenant_id,
        state,
        step_index: step(state),
        total_steps: 5,
        is_complete: state == OnboardingState::Complete,
        allowed: allowed.to_vec(),
        blocked: blocked.to_vec(),
        next_action: next_action.map(|(id, kind)| NextAction { action_id: id.into(), action_type: kind.into() }),
    }
}

/// Moves the tenant forward to `target` if the caller may claim that progress and the evidence is there.
pub fn advance(ctx: &CallContext, access: &Access, target: OnboardingState, trigger: &str) -> Result<Transition> {
    let forced = target == OnboardingState::Complete
        && trigger.starts_with(FORCE_COMPLETE_PREFIX)
        && matches!(access.principal, Principal::Operator);
    if trigger.starts_with(FORCE_COMPLETE_PREFIX) && !forced {
        return Err(forbidden("only an operator may force completion"));
    }
    match access.principal {
        Principal::User { .. } if step(target) > step(OnboardingState::IdentityVerified) => {
            return Err(forbidden("onboarding past IDENTITY_VERIFIED follows evidence, not a request"));
        }
        Principal::ApiKey { .. } if step(target) > step(OnboardingState::SdkConnected) => {
            return Err(forbidden("an API key may report the SDK handshake, not complete onboarding"));
        }
        _ => {}
    }
    progress(ctx, access, target, trigger, forced)
}

/// Moves the tenant forward to `target` when the evidence is there (or an operator forces completion).
/// Used by `advance` and by operations that produce evidence themselves (creating an API key).
pub fn progress(
    ctx: &CallContext,
    access: &Access,
    target: OnboardingState,
    trigger: &str,
    forced: bool,
) -> Result<Transition> {
    let tenant_id = access.tenant_id.clone();
    let current = driver::fetch_onboarding_state(&tenant_id).map_err(missing("Tenant not found"))?;
    if step(target) <= step(current) {
        return Ok(Transition {
            tenant_id,
            from_state: current,
            to_state: current,
            trigger: trigger.to_string(),
            message: format!("Already at {}", state_name(current)),
            was_no_op: true,
        });
    }
    if !forced && step(target) >= step(OnboardingState::ApiKeyCreated) {
        let evidence = driver::fetch_activation_evidence(&tenant_id)?.ok_or_else(|| not_found("Tenant not found"))?;
        let mut missing = Vec::new();
        if evidence.usable_api_keys == 0 {
            missing.push("key_ready");
        }
        if target == OnboardingState::Complete {
            if evidence.enabled_integrations == 0 {
                missing.push("connector_validated");
            }
            if !evidence.sdk_attested {
                missing.push("sdk_attested");
            }
        }
        if !missing.is_empty() {
            return Err(err(
                ErrorCode::ActivationIncomplete,
                format!("Activation predicate failed: missing [{}]", missing.join(", ")),
            ));
        }
    }
    let previous = driver::write_onboarding_state(&tenant_id, target).map_err(missing("Tenant not found"))?;
    audit(
        ctx,
        access,
        Audit {
            action: if forced { "force_complete_onboarding" } else { "advance_onboarding" },
            resource_type: "tenant",
            resource_id: Some(&tenant_id),
            old_value: Some(serde_json::json!({ "onboarding_state": state_name(previous) })),
            new_value: Some(serde_json::json!({ "onboarding_state": state_name(target), "trigger": trigger })),
        },
    )?;
    Ok(Transition {
        tenant_id,
        from_state: previous,
        to_state: target,
        trigger: trigger.to_string(),
        message: format!("Advanced from {} to {}", state_name(previous), state_name(target)),
        was_no_op: false,
    })
}
