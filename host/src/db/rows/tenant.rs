//! The tenant row (table `tenants`) and its conversions into the contract's tenant row, tenant snapshot and
//! tenant detail snapshot.

use sqlx::FromRow;

use crate::bindings::{
    DriverError, Plan, PlanQuotas, TenantDetailSnapshot, TenantRow, TenantSnapshot, TenantStatus, UsageCounters,
};
use crate::db::codec::{Id, Ts, onboarding_state};

/// A tenant row, read with the catalogue fragment `tenant-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct TenantRecord {
    /// The tenant's id.
    pub id: Id,
    /// The tenant's display name.
    pub name: String,
    /// The tenant's unique URL-safe name.
    pub slug: String,
    /// A free-text description, if one was given.
    pub description: Option<String>,
    /// The identity provider's organisation id, if the tenant is bound to one (the contract's
    /// `external-org-id`).
    pub clerk_org_id: Option<String>,
    /// The plan the tenant is on.
    pub plan: Plan,
    /// Where bills go, if set.
    pub billing_email: Option<String>,
    /// The payment provider's customer id, if the tenant has one.
    pub stripe_customer_id: Option<String>,
    /// Quota: how many workers the tenant may have.
    pub max_workers: i32,
    /// Quota: how many runs the tenant may start in a UTC day.
    pub max_runs_per_day: i32,
    /// Quota: how many runs the tenant may have going at once.
    pub max_concurrent_runs: i32,
    /// Quota: how many tokens the tenant may use in a UTC month.
    pub max_tokens_per_month: i64,
    /// Quota: how many API keys the tenant may hold.
    pub max_api_keys: i32,
    /// Runs started since the daily counter was last reset.
    pub runs_today: i32,
    /// Runs started since the monthly counter was last reset.
    pub runs_this_month: i32,
    /// Tokens used since the monthly counter was last reset.
    pub tokens_this_month: i64,
    /// When `runs_today` was last reset; none before the first run.
    pub last_run_reset_at: Option<Ts>,
    /// Where the tenant is in its lifecycle (active, suspended, terminated, archived).
    pub status: TenantStatus,
    /// Why the tenant was suspended; cleared when it leaves `suspended`.
    pub suspended_reason: Option<String>,
    /// Whether the tenant was made for synthetic (test) traffic.
    pub is_synthetic: bool,
    /// The onboarding step reached, stored as its number 0..=4 (see
    /// [`crate::db::codec::onboarding_state`]).
    pub onboarding_state: i32,
    /// When the tenant was created.
    pub created_at: Ts,
    /// When the tenant was last changed.
    pub updated_at: Ts,
}

/// A tenant row read with its lifecycle gate (`tenant-lifecycle-driver/fetch-tenant-with-status`): the
/// status is the row's, the rest is what the tenant's active policy handles.
#[derive(FromRow)]
pub struct TenantWithGateRecord {
    /// The tenant row.
    #[sqlx(flatten)]
    pub tenant: TenantRecord,
    /// The active policy's version, if the tenant has one.
    pub policy_version: Option<i32>,
    /// The triggers it handles (bits).
    pub policy_handles: Option<i32>,
    /// Its content hash.
    pub policy_content_hash: Option<String>,
}

impl TenantRecord {
    fn quotas(&self) -> PlanQuotas {
        PlanQuotas {
            max_workers: self.max_workers,
            max_runs_per_day: self.max_runs_per_day,
            max_concurrent_runs: self.max_concurrent_runs,
            max_tokens_per_month: self.max_tokens_per_month,
            max_api_keys: self.max_api_keys,
        }
    }

    fn usage(&self) -> UsageCounters {
        UsageCounters {
            runs_today: self.runs_today,
            runs_this_month: self.runs_this_month,
            tokens_this_month: self.tokens_this_month,
            last_run_reset_at: self.last_run_reset_at.map(|t| t.0),
        }
    }

    /// The whole row, as the drivers hand it to the engine; fails when the stored onboarding step is not
    /// one of 0..=4.
    pub fn into_row(self) -> Result<TenantRow, DriverError> {
        Ok(TenantRow {
            quotas: self.quotas(),
            usage: self.usage(),
            onboarding_state: onboarding_state(self.onboarding_state)?,
            id: self.id.into(),
            name: self.name,
            slug: self.slug,
            description: self.description,
            external_org_id: self.clerk_org_id,
            plan: self.plan,
            billing_email: self.billing_email,
            stripe_customer_id: self.stripe_customer_id,
            status: self.status,
            suspended_reason: self.suspended_reason,
            is_synthetic: self.is_synthetic,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }

    /// The short snapshot of the tenant that lists show.
    pub fn into_snapshot(self) -> TenantSnapshot {
        TenantSnapshot {
            id: self.id.into(),
            name: self.name,
            slug: self.slug,
            status: self.status,
            plan: self.plan,
            created_at: self.created_at.0,
            updated_at: Some(self.updated_at.0),
        }
    }

    /// The detailed snapshot of the tenant, with its quotas, usage and onboarding progress; fails when the
    /// stored onboarding step is not one of 0..=4.
    pub fn into_detail(self) -> Result<TenantDetailSnapshot, DriverError> {
        let state = onboarding_state(self.onboarding_state)?;
        Ok(TenantDetailSnapshot {
            quotas: self.quotas(),
            usage: self.usage(),
            onboarding_state: state,
            onboarding_complete: self.onboarding_state >= 4,
            id: self.id.into(),
            name: self.name,
            slug: self.slug,
            description: self.description,
            status: self.status,
            plan: self.plan,
            created_at: self.created_at.0,
            updated_at: Some(self.updated_at.0),
        })
    }
}
