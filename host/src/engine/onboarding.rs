//! Typed calls of the `onboarding` interface (one sandboxed instance and one transaction each).

use crate::bindings::onboarding;
use crate::bindings::{EngineError, OnboardingState};
use crate::engine_call;
use crate::runtime::{Caller, Runtime};

pub struct Onboarding<'a>(pub(crate) &'a Runtime);

impl Onboarding<'_> {
    pub async fn get_state(&self, caller: &Caller) -> Result<onboarding::OnboardingStatus, EngineError> {
        engine_call!(self.0, caller, onboarding, "get-state", |guest, store, ctx| guest.call_get_state(store, &ctx))
    }

    pub async fn advance(
        &self,
        caller: &Caller,
        target: OnboardingState,
        trigger: &str,
    ) -> Result<onboarding::Transition, EngineError> {
        engine_call!(self.0, caller, onboarding, "advance", |guest, store, ctx| guest
            .call_advance(store, &ctx, target, trigger))
    }
}
