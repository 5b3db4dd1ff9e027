//! "API keys expire within 90 days and never carry `admin:*`."
//!
//! Config: `{"max_days": 90, "forbidden_scopes": ["admin:*"]}`. Handles `create-api-key`: a key asked
//! without an expiry, or with a later one, is narrowed to expire after `max_days`; forbidden scopes are
//! dropped; a key left with no scope is denied. The engine checks that the narrowed key is no wider.

wit_bindgen::generate!({ path: "../../../wit", world: "tenant-policy" });

use aos::accounts::policy_types::{
    AcceptEvent, ApiKeyEvent, Decision, InviteEvent, KeyChange, KeyDecision, PinDecision, PinEvent, PolicyContext,
    RemovalEvent, RoleChangeEvent, TicketEvent, Trigger,
};
use exports::aos::accounts::hooks::Guest;

struct Policy;

const DAY_MICROS: i64 = 86_400_000_000;

impl Guest for Policy {
    fn handles() -> Vec<Trigger> {
        vec![Trigger::CreateApiKey]
    }
    fn create_api_key(ctx: PolicyContext, event: ApiKeyEvent) -> KeyDecision {
        let config: serde_json::Value = serde_json::from_str(&ctx.config).unwrap_or_default();
        let max_days = config["max_days"].as_i64().unwrap_or(90).clamp(1, 365);
        let forbidden: Vec<&str> = config["forbidden_scopes"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or(vec!["admin:*"]);
        let latest = ctx.now + max_days * DAY_MICROS;
        let scopes: Vec<String> = event.scopes.iter().filter(|s| !forbidden.contains(&s.as_str())).cloned().collect();
        if scopes.is_empty() {
            return KeyDecision::Deny(format!("keys of this tenant may not carry {}", forbidden.join(", ")));
        }
        let expires_at = Some(event.expires_at.map_or(latest, |at| at.min(latest)));
        if scopes == event.scopes && expires_at == event.expires_at {
            return KeyDecision::Allow;
        }
        KeyDecision::Narrow(KeyChange { scopes, expires_at })
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
    fn write_pin(_: PolicyContext, _: PinEvent) -> PinDecision {
        PinDecision::Allow
    }
    fn file_ticket(_: PolicyContext, _: TicketEvent) -> Decision {
        Decision::Allow
    }
}

export!(Policy);
