//! `onboarding`: the forward-only onboarding state machine (created, identity verified, API key created,
//! SDK connected, complete). Progress is driven by evidence: a human's own request proves identity, a
//! usable API key proves key creation, an SDK's request (made with a key) proves the handshake, and
//! completion needs the activation predicate (a usable key, an enabled integration, an attested SDK)
//! unless an operator forces it.

use crate::Engine;
use crate::access::{self, Access, Principal};
use crate::aos::accounts::types::{CallContext, EngineError, ErrorCode, OnboardingState};
use crate::error::{Result, err, forbidden, missing, not_found};
use crate::exports::aos::accounts::onboarding::{Capability, Guest, NextAction, OnboardingStatus, Transition};
use crate::onboarding_driver as driver;
use crate::operations::onboarding as op;
use crate::tenant_driver::{Audit, audit};
use crate::validate;

/// The trigger prefix with which an operator forces completion.
pub const FORCE_COMPLETE_PREFIX: &str = "founder_force_complete:";

impl Guest for Engine {
    fn get_state(ctx: CallContext) -> Result<OnboardingStatus, EngineError> {
        let access = access::check(&ctx, &op::GET_STATE)?;
        let state = driver::fetch_onboarding_state(&access.tenant_id).map_err(missing("Tenant not found"))?;
        Ok(status_of(access.tenant_id, state))
    }

    fn advance(ctx: CallContext, target: OnboardingState, trigger: String) -> Result<Transition, EngineError> {
        let access = access::check(&ctx, &op::ADVANCE)?;
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
    let forced = may_claim(&access.principal, target, trigger)?;
    progress(ctx, access, target, trigger, forced)
}

/// Whether `principal` may ask for `target` with `trigger`, and if so whether it forces completion. A
/// person may claim their own identity step, a key the SDK handshake it makes; further progress follows
/// evidence, and only an operator forces completion.
fn may_claim(principal: &Principal, target: OnboardingState, trigger: &str) -> Result<bool> {
    let forced = target == OnboardingState::Complete
        && trigger.starts_with(FORCE_COMPLETE_PREFIX)
        && matches!(principal, Principal::Operator);
    if trigger.starts_with(FORCE_COMPLETE_PREFIX) && !forced {
        return Err(forbidden("only an operator may force completion"));
    }
    match principal {
        Principal::User { .. } if step(target) > step(OnboardingState::IdentityVerified) => {
            Err(forbidden("onboarding past IDENTITY_VERIFIED follows evidence, not a request"))
        }
        Principal::ApiKey { .. } if step(target) > step(OnboardingState::SdkConnected) => {
            Err(forbidden("an API key may report the SDK handshake, not complete onboarding"))
        }
        _ => Ok(forced),
    }
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

#[cfg(test)]
mod tests {
    // The engine's results do not implement `Debug`, which `unwrap_err` needs.
    #![allow(clippy::err_expect, clippy::ok_expect)]

    use super::*;
    use crate::aos::accounts::types::Role;
    use crate::test_support::member;
    use OnboardingState::*;

    fn a_key() -> Principal {
        Principal::ApiKey { key_id: "key-1".into() }
    }

    #[test]
    fn a_person_claims_only_their_identity_step() {
        assert_eq!(may_claim(&member(Role::Viewer), IdentityVerified, "console_login").ok(), Some(false));
        let refused = may_claim(&member(Role::Owner), ApiKeyCreated, "console").err().expect("refused");
        assert_eq!(refused.message, "onboarding past IDENTITY_VERIFIED follows evidence, not a request");
    }

    #[test]
    fn a_key_reports_the_sdk_handshake_but_never_completes() {
        assert_eq!(may_claim(&a_key(), SdkConnected, "sdk_handshake").ok(), Some(false));
        let refused = may_claim(&a_key(), Complete, "sdk_done").err().expect("refused");
        assert_eq!(refused.code, ErrorCode::Forbidden);
    }

    #[test]
    fn only_an_operator_forces_completion_and_only_to_complete() {
        let force = "founder_force_complete:demo";
        assert_eq!(may_claim(&Principal::Operator, Complete, force).ok(), Some(true));
        assert_eq!(may_claim(&Principal::Operator, Complete, "ordinary").ok(), Some(false));
        for (principal, target) in
            [(Principal::Operator, SdkConnected), (Principal::System, Complete), (member(Role::Owner), Complete)]
        {
            let refused = may_claim(&principal, target, force).err().expect("refused");
            assert_eq!(refused.message, "only an operator may force completion");
        }
    }

    #[test]
    fn each_step_unlocks_more_capabilities_and_names_the_next_action() {
        let states = [Created, IdentityVerified, ApiKeyCreated, SdkConnected, Complete];
        let unlocked: Vec<_> = states.into_iter().map(|s| status_of("t-1".into(), s).allowed.len()).collect();
        assert_eq!(unlocked, [0, 1, 2, 6, 8]);
        let sdk = status_of("t-1".into(), SdkConnected);
        assert_eq!((sdk.step_index, sdk.blocked.len()), (3, 2));
        assert_eq!(sdk.next_action.map(|a| a.action_id).as_deref(), Some("complete_setup"));
        let done = status_of("t-1".into(), Complete);
        assert!(done.is_complete && done.next_action.is_none() && done.blocked.is_empty());
    }
}
