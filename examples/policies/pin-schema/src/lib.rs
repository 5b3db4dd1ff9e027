//! "Pins under `agent:` must hold a `version` field."
//!
//! Config: `{"prefix": "agent:", "required": ["version"], "default_ttl_seconds": 86400}`. Handles
//! `write-pin`: a pin under the prefix without every required field is denied; one written without a
//! TTL gets the default TTL, if configured (a rewrite, which the engine validates again like any pin).

wit_bindgen::generate!({ path: "../../../wit", world: "tenant-policy" });

use aos::accounts::policy_types::{
    AcceptEvent, ApiKeyEvent, Decision, InviteEvent, KeyDecision, PinChange, PinDecision, PinEvent, PolicyContext,
    RemovalEvent, RoleChangeEvent, TicketEvent, Trigger,
};
use exports::aos::accounts::hooks::Guest;

struct Policy;

impl Guest for Policy {
    fn handles() -> Vec<Trigger> {
        vec![Trigger::WritePin]
    }
    fn write_pin(ctx: PolicyContext, event: PinEvent) -> PinDecision {
        let config: serde_json::Value = serde_json::from_str(&ctx.config).unwrap_or_default();
        let prefix = config["prefix"].as_str().unwrap_or("agent:");
        if !event.key.starts_with(prefix) {
            return PinDecision::Allow;
        }
        let value: serde_json::Value = serde_json::from_str(&event.value).unwrap_or_default();
        let required = config["required"].as_array().cloned().unwrap_or_else(|| vec!["version".into()]);
        for field in required.iter().filter_map(|f| f.as_str()) {
            if value.get(field).is_none() {
                return PinDecision::Deny(format!("pins under `{prefix}` must hold a `{field}` field"));
            }
        }
        match (event.ttl_seconds, config["default_ttl_seconds"].as_u64()) {
            (None, Some(ttl)) => PinDecision::Rewrite(PinChange { value: event.value, ttl_seconds: Some(ttl as u32) }),
            _ => PinDecision::Allow,
        }
    }
    fn invite_user(_: PolicyContext, _: InviteEvent) -> Decision {
        Decision::Allow
    }
    fn accept_invitation(_: PolicyContext, _: AcceptEvent) -> Decision {
        Decision::Allow
    }
    fn change_role(_: PolicyContext, _: RoleChangeEvent) -> Decision {
        Decision::Allow
    }
    fn remove_member(_: PolicyContext, _: RemovalEvent) -> Decision {
        Decision::Allow
    }
    fn create_api_key(_: PolicyContext, _: ApiKeyEvent) -> KeyDecision {
        KeyDecision::Allow
    }
    fn file_ticket(_: PolicyContext, _: TicketEvent) -> Decision {
        Decision::Allow
    }
}

export!(Policy);
