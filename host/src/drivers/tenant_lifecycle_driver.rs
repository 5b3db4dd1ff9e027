//! `tenant-lifecycle-driver` over sqlx: the tenant's status, changed only from the status the engine
//! read (a concurrent transition makes the second one a `conflict`).

use crate::bindings::tenant_lifecycle_driver::Host;
use crate::bindings::{DriverError, TenantStatus};
use crate::call::CallState;
use crate::db::errors::conflict;
use crate::sql;

impl Host for CallState {
    async fn fetch_tenant_status(&mut self, tenant_id: String) -> Result<Option<TenantStatus>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        sql!(self, |c| sqlx::query_scalar("SELECT status FROM tenants WHERE id = $1").bind(&t).fetch_optional(c))
    }

    async fn update_lifecycle_status(
        &mut self,
        tenant_id: String,
        from_status: TenantStatus,
        to_status: TenantStatus,
        reason: Option<String>,
    ) -> Result<Option<TenantStatus>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        self.platform_only("a tenant's lifecycle status")?;
        let now = self.now;
        let updated = sql!(self, rows |c| sqlx::query(
            "UPDATE tenants SET status = $3, suspended_reason = $4, updated_at = $5 WHERE id = $1 AND status = $2"
        )
        .bind(&t)
        .bind(from_status)
        .bind(to_status)
        .bind(&reason)
        .bind(now)
        .execute(c))?;
        if updated > 0 {
            return Ok(Some(from_status));
        }
        let current: Option<TenantStatus> =
            sql!(self, |c| sqlx::query_scalar("SELECT status FROM tenants WHERE id = $1").bind(&t).fetch_optional(c))?;
        match current {
            None => Ok(None),
            Some(_) => Err(conflict("the tenant's status changed concurrently")),
        }
    }
}
