//! Builders of the contract's records for the unit tests (which run natively: they never reach an import).

use chrono::NaiveDate;

use crate::access::{Access, Principal};
use crate::aos::accounts::policy_types::TriggerSet;
use crate::aos::accounts::types::{
    Actor, ApiKeyPrincipal, CallContext, EngineSettings, IdentityPrincipal, OperatorPrincipal, Role, TenantStatus,
    Timestamp,
};

/// A call by `actor`, naming the tenant `tenant_id` or none.
pub fn ctx(actor: Actor, tenant_id: Option<&str>) -> CallContext {
    CallContext {
        actor,
        tenant_id: tenant_id.map(str::to_string),
        request_id: "req-1".into(),
        now: at(2024, 5, 17, 12, 0, 0),
        settings: EngineSettings {
            memory_pins_enabled: true,
            support_email: "help@example.com".into(),
            support_hours: "9-17".into(),
            support_response_time: "1 day".into(),
            max_owned_tenants_per_user: 3,
        },
    }
}

/// A signed-in person with a verified e-mail, and their user once they have one.
pub fn person(user_id: Option<&str>) -> IdentityPrincipal {
    IdentityPrincipal {
        external_id: "idp|ann".into(),
        email: "ann@example.com".into(),
        user_id: user_id.map(str::to_string),
        name: Some("Ann".into()),
        email_verified: true,
    }
}

pub fn operator() -> Actor {
    Actor::Operator(OperatorPrincipal { operator_id: "op-1".into() })
}

/// An API key `key-1` with `scopes`, made by `created_by` (whose role is now `creator_role`), unrestricted.
pub fn key(scopes: &[&str], created_by: Option<&str>, creator_role: Option<Role>) -> ApiKeyPrincipal {
    ApiKeyPrincipal {
        key_id: "key-1".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        created_by: created_by.map(str::to_string),
        creator_role,
        allowed_workers: None,
        max_concurrent_runs: None,
        rate_limit_rpm: None,
        expires_at: None,
    }
}

/// `principal`'s access to the active tenant `t-1`, whose policy handles nothing.
pub fn access(principal: Principal) -> Access {
    Access { tenant_id: "t-1".into(), principal, status: TenantStatus::Active, policy: TriggerSet::empty() }
}

/// A member's principal with `role`.
pub fn member(role: Role) -> Principal {
    Principal::User { user_id: "u-1".into(), role }
}

/// The timestamp of a UTC date and time.
pub fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Timestamp {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|d| d.and_hms_opt(hour, minute, second))
        .expect("a valid date and time")
        .and_utc()
        .timestamp_micros()
}
