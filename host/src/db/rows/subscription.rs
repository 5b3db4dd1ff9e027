//! A tenant's latest subscription (table `subscriptions`: plan, status and billing period) and its conversion
//! into the contract's subscription snapshot.

use sqlx::FromRow;

use crate::bindings::{BillingPeriod, Plan, SubscriptionSnapshot, SubscriptionStatus};
use crate::db::codec::Ts;

/// A tenant's latest subscription, as the billing integration wrote it (the statement
/// `fetch-subscription` of `hosts/sql/accounts-facade-driver.sql`).
#[derive(FromRow)]
pub struct SubscriptionRecord {
    /// The plan subscribed to.
    pub plan: Plan,
    /// Whether the subscription is active, canceled, past due or trialing.
    pub status: SubscriptionStatus,
    /// Whether it is billed monthly or annually.
    pub billing_period: BillingPeriod,
    /// When the period being billed began, if the billing integration recorded it.
    pub current_period_start: Option<Ts>,
    /// When the period being billed ends, if the billing integration recorded it.
    pub current_period_end: Option<Ts>,
}

impl From<SubscriptionRecord> for SubscriptionSnapshot {
    fn from(s: SubscriptionRecord) -> Self {
        SubscriptionSnapshot {
            plan: s.plan,
            status: s.status,
            billing_period: s.billing_period,
            current_period_start: s.current_period_start.map(|t| t.0),
            current_period_end: s.current_period_end.map(|t| t.0),
        }
    }
}
