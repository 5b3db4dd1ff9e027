//! `onboarding-driver` over sqlx: the onboarding state on the tenant row, raised but never lowered, and
//! the evidence of the activation predicate.

use sqlx::FromRow;

use crate::bindings::onboarding_driver::Host;
use crate::bindings::{ActivationEvidence, DriverError, OnboardingState};
use crate::call::CallState;
use crate::db::codec::{onboarding_state, onboarding_step};
use crate::sql;

impl Host for CallState {
    async fn fetch_onboarding_state(&mut self, tenant_id: String) -> Result<Option<OnboardingState>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let step: Option<i32> = sql!(self, |c| sqlx::query_scalar("SELECT onboarding_state FROM tenants WHERE id = $1")
            .bind(&t)
            .fetch_optional(c))?;
        step.map(onboarding_state).transpose()
    }

    async fn write_onboarding_state(
        &mut self,
        tenant_id: String,
        new_state: OnboardingState,
    ) -> Result<Option<OnboardingState>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let previous: Option<i32> = sql!(self, |c| sqlx::query_scalar("SELECT onboarding_state FROM tenants WHERE id = $1")
            .bind(&t)
            .fetch_optional(c))?;
        let Some(previous) = previous else { return Ok(None) };
        let now = self.now;
        sql!(self, rows |c| sqlx::query(concat!(
            "UPDATE tenants SET onboarding_state = CASE WHEN onboarding_state < $2 THEN $2 ELSE onboarding_state END, ",
            "updated_at = $3 WHERE id = $1"
        ))
        .bind(&t)
        .bind(onboarding_step(new_state))
        .bind(now)
        .execute(c))?;
        onboarding_state(previous).map(Some)
    }

    async fn fetch_activation_evidence(&mut self, tenant_id: String) -> Result<Option<ActivationEvidence>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let now = self.now;
        let row: Option<EvidenceRecord> = sql!(self, |c| sqlx::query_as(concat!(
            "SELECT (SELECT COUNT(*) FROM api_keys k WHERE k.tenant_id = $1 AND k.status = 'active' ",
            "AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)) AS keys, ",
            "(SELECT COUNT(*) FROM cus_integrations i WHERE i.tenant_id = $1 AND i.status = 'enabled') AS integrations, ",
            "(SELECT COUNT(*) FROM sdk_attestations a WHERE a.tenant_id = $1) AS attestations ",
            "FROM tenants WHERE id = $1"
        ))
        .bind(&t)
        .bind(now)
        .fetch_optional(c))?;
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
