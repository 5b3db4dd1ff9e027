//! "No one becomes owner outside office hours."
//!
//! Config: `{"from_hour": 9, "to_hour": 17, "utc_offset_minutes": 0, "weekdays_only": true}`. Handles
//! `change-role` and `invite-user`: making someone an owner (or inviting one) outside the hours is denied.
//! The time is the engine call's (`ctx.now`): a policy has no clock of its own, so its answer is a
//! function of its inputs.

wit_bindgen::generate!({ path: "../../../wit", world: "tenant-policy" });

use aos::accounts::policy_types::{
    AcceptEvent, ApiKeyEvent, Decision, InviteEvent, KeyDecision, PinDecision, PinEvent, PolicyContext, RemovalEvent,
    RoleChangeEvent, TicketEvent, Trigger,
};
use aos::accounts::types::Role;
use exports::aos::accounts::hooks::Guest;

struct Policy;

const MINUTE_MICROS: i64 = 60_000_000;

fn in_office_hours(ctx: &PolicyContext) -> Result<(), String> {
    let config: serde_json::Value = serde_json::from_str(&ctx.config).unwrap_or_default();
    let from = config["from_hour"].as_i64().unwrap_or(9);
    let to = config["to_hour"].as_i64().unwrap_or(17);
    let offset = config["utc_offset_minutes"].as_i64().unwrap_or(0);
    let weekdays_only = config["weekdays_only"].as_bool().unwrap_or(true);
    let minutes = ctx.now.div_euclid(MINUTE_MICROS) + offset;
    let days = minutes.div_euclid(24 * 60);
    let hour = minutes.rem_euclid(24 * 60) / 60;
    // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
    let weekday = (days + 3).rem_euclid(7);
    if weekdays_only && weekday >= 5 {
        return Err("owners are made on weekdays only".into());
    }
    if hour < from || hour >= to {
        return Err(format!("owners are made between {from}:00 and {to}:00 only"));
    }
    Ok(())
}

fn owner_decision(ctx: &PolicyContext, role: Role) -> Decision {
    match (role, in_office_hours(ctx)) {
        (Role::Owner, Err(reason)) => Decision::Deny(reason),
        _ => Decision::Allow,
    }
}

impl Guest for Policy {
    fn handles() -> Vec<Trigger> {
        vec![Trigger::ChangeRole, Trigger::InviteUser]
    }
    fn change_role(ctx: PolicyContext, event: RoleChangeEvent) -> Decision {
        owner_decision(&ctx, event.to_role)
    }
    fn invite_user(ctx: PolicyContext, event: InviteEvent) -> Decision {
        owner_decision(&ctx, event.role)
    }
    fn accept_invitation(_: PolicyContext, _: AcceptEvent) -> Decision {
        Decision::Allow
    }
    fn remove_member(_: PolicyContext, _: RemovalEvent) -> Decision {
        Decision::Allow
    }
    fn create_api_key(_: PolicyContext, _: ApiKeyEvent) -> KeyDecision {
        KeyDecision::Allow
    }
    fn write_pin(_: PolicyContext, _: PinEvent) -> PinDecision {
        PinDecision::Allow
    }
    fn file_ticket(_: PolicyContext, _: TicketEvent) -> Decision {
        Decision::Allow
    }
}

export!(Policy);
