//! Typed calls of the `onboarding` interface (one sandboxed instance and one transaction each).

use crate::bindings::onboarding;
use crate::bindings::{EngineError, OnboardingState};
use crate::call::CallState;
use crate::contract::operations::onboarding as op;
use crate::drivers::DriverView;
use crate::runtime::{Caller, Runtime};

/// The `onboarding` interface of a runtime's engine.
pub struct Onboarding<'a, T: 'static = CallState>(pub(crate) &'a Runtime<T>);

impl<T: DriverView> Onboarding<'_, T> {
    /// The tenant's state with what it allows and what to do next.
    /// (`onboarding.get-state`)
    pub async fn get_state(&self, caller: &Caller) -> Result<onboarding::OnboardingStatus, EngineError> {
        self.0
            .run(caller, &op::GET_STATE, |mut a| {
                Box::pin(async move { a.call(onboarding::Guest::func_get_state, (a.ctx,)).await })
            })
            .await
    }

    /// Moves forward to `target` (a target at or below the current state is a successful no-op). Reaching
    /// complete needs usable API keys, an enabled integration and an SDK attestation, unless an operator
    /// forces it with a trigger `founder_force_complete:<who>` (audited). Advancing to api-key-created
    /// needs a usable key: progress is evidence-driven. Humans of the tenant may only reach
    /// identity-verified by themselves; the rest is for operators, the system and the engine itself.
    /// (`onboarding.advance`)
    pub async fn advance(
        &self,
        caller: &Caller,
        target: OnboardingState,
        trigger: &str,
    ) -> Result<onboarding::Transition, EngineError> {
        self.0
            .run(caller, &op::ADVANCE, |mut a| {
                Box::pin(async move { a.call(onboarding::Guest::func_advance, (a.ctx, target, trigger)).await })
            })
            .await
    }
}
