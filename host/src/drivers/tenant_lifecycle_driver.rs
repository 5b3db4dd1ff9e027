//! `tenant-lifecycle-driver` over sqlx: the tenant's status (with what its active policy handles, read
//! in the same statement so that calls of tenants without a policy pay nothing more), changed only from
//! the status the engine read (a concurrent transition makes the second one a `conflict`).
//!
//! The status is read with the whole tenant row, which the call keeps for a read of that row that
//! follows at once (`CallState::keep_tenant_row`): most operations on a tenant read it right after
//! their gate, and are spared that round trip.

use crate::bindings::aos::accounts::policy_types::TriggerSet;
use crate::bindings::tenant_lifecycle_driver::{Host, TenantGate};
use crate::bindings::{DriverError, TenantStatus};
use crate::call::CallState;
use crate::catalogue::tenant_lifecycle_driver as statements;
use crate::db::errors::{conflict, not_found};
use crate::db::rows::TenantWithGateRecord;
use crate::sql;

impl Host for CallState {
    async fn fetch_tenant_status(&mut self, tenant_id: String) -> Result<Option<TenantGate>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let row: Option<TenantWithGateRecord> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_TENANT_WITH_STATUS).bind(&t).fetch_optional(c))?;
        let Some(TenantWithGateRecord { tenant, policy_version, policy_handles, policy_content_hash }) = row else {
            return Ok(None);
        };
        let active = policy_version.zip(policy_content_hash).map(|(v, h)| (v as u32, h.trim().to_string()));
        // The call runs the version it saw here (see `policy_gate`).
        self.saw_policy(&t, active);
        let policy_handles = policy_handles.map(crate::policy::set_of_bits).unwrap_or(TriggerSet::empty());
        let status = tenant.status;
        self.keep_tenant_row(tenant);
        Ok(Some(TenantGate { status, policy_handles }))
    }

    async fn update_lifecycle_status(
        &mut self,
        tenant_id: String,
        from_status: TenantStatus,
        to_status: TenantStatus,
        reason: Option<String>,
    ) -> Result<TenantStatus, DriverError> {
        let t = self.tenant(&tenant_id)?;
        self.platform_only("a tenant's lifecycle status")?;
        let now = self.now;
        let updated = sql!(
            self,
            rows | c
                | sqlx::query(statements::UPDATE_LIFECYCLE_STATUS_WRITE)
                    .bind(&t)
                    .bind(from_status)
                    .bind(to_status)
                    .bind(&reason)
                    .bind(now)
                    .execute(c)
        )?;
        if updated > 0 {
            return Ok(from_status);
        }
        let current: Option<TenantStatus> =
            sql!(self, |c| sqlx::query_scalar(statements::UPDATE_LIFECYCLE_STATUS_READ).bind(&t).fetch_optional(c))?;
        match current {
            None => Err(not_found("tenant")),
            Some(_) => Err(conflict("the tenant's status changed concurrently")),
        }
    }
}
