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
    pub async fn get_state(&self, caller: &Caller) -> Result<onboarding::OnboardingStatus, EngineError> {
        self.0
            .run(caller, &op::GET_STATE, |mut a| {
                Box::pin(async move { a.onboarding()?.call_get_state(a.store, a.ctx).await })
            })
            .await
    }

    pub async fn advance(
        &self,
        caller: &Caller,
        target: OnboardingState,
        trigger: &str,
    ) -> Result<onboarding::Transition, EngineError> {
        self.0
            .run(caller, &op::ADVANCE, |mut a| {
                Box::pin(async move { a.onboarding()?.call_advance(a.store, a.ctx, target, trigger).await })
            })
            .await
    }
}
