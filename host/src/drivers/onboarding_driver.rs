//! `onboarding-driver` over sqlx: the onboarding state on the tenant row, raised but never lowered, and
//! the evidence of the activation predicate.

use sqlx::FromRow;

use crate::bindings::onboarding_driver::Host;
use crate::bindings::{ActivationEvidence, DriverError, OnboardingState};
use crate::call::CallState;
use crate::catalogue::onboarding_driver as statements;
use crate::db::codec::{onboarding_state, onboarding_step};
use crate::db::errors::not_found;
use crate::sql;

impl Host for CallState {
    async fn fetch_onboarding_state(&mut self, tenant_id: String) -> Result<OnboardingState, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let step: Option<i32> =
            sql!(self, |c| sqlx::query_scalar(statements::FETCH_ONBOARDING_STATE).bind(&t).fetch_optional(c))?;
        onboarding_state(step.ok_or_else(|| not_found("tenant"))?)
    }

    async fn write_onboarding_state(
        &mut self,
        tenant_id: String,
        new_state: OnboardingState,
    ) -> Result<OnboardingState, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let previous: Option<i32> =
            sql!(self, |c| sqlx::query_scalar(statements::WRITE_ONBOARDING_STATE_READ).bind(&t).fetch_optional(c))?;
        let previous = previous.ok_or_else(|| not_found("tenant"))?;
        let now = self.now;
        sql!(
            self,
            rows | c
                | sqlx::query(statements::WRITE_ONBOARDING_STATE_RAISE)
                    .bind(&t)
                    .bind(onboarding_step(new_state))
                    .bind(now)
                    .execute(c)
        )?;
        onboarding_state(previous)
    }

    async fn fetch_activation_evidence(
        &mut self,
        tenant_id: String,
    ) -> Result<Option<ActivationEvidence>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let now = self.now;
        let row: Option<EvidenceRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_ACTIVATION_EVIDENCE).bind(&t).bind(now).fetch_optional(c))?;
        Ok(row.map(|r| ActivationEvidence {
            usable_api_keys: r.keys as u64,
            enabled_integrations: r.integrations as u64,
            sdk_attested: r.attestations > 0,
        }))
    }
}

#[derive(FromRow)]
struct EvidenceRecord {
    keys: i64,
    integrations: i64,
    attestations: i64,
}
