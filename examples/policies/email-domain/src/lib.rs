//! "Only e-mails of @acme.com may be invited."
//!
//! Config: `{"domains": ["acme.com"]}`. Handles `invite-user` and `accept-invitation`: an e-mail outside
//! the configured domains is denied, with the list of domains in the reason.

wit_bindgen::generate!({ path: "../../../wit", world: "tenant-policy" });

use aos::accounts::policy_types::{
    AcceptEvent, ApiKeyEvent, Decision, InviteEvent, KeyDecision, PinDecision, PinEvent, PolicyContext, RemovalEvent,
    RoleChangeEvent, TicketEvent, Trigger,
};
use exports::aos::accounts::hooks::Guest;

struct Policy;

fn check(ctx: &PolicyContext, email: &str) -> Decision {
    let config: serde_json::Value = serde_json::from_str(&ctx.config).unwrap_or_default();
    let domains: Vec<String> = config["domains"]
        .as_array()
        .map(|d| d.iter().filter_map(|v| v.as_str()).map(str::to_ascii_lowercase).collect())
        .unwrap_or_default();
    let domain = email.rsplit('@').next().unwrap_or_default().to_ascii_lowercase();
    if domains.contains(&domain) {
        Decision::Allow
    } else {
        let listed: Vec<String> = domains.iter().map(|d| format!("@{d}")).collect();
        Decision::Deny(format!("only e-mails of {} may join this tenant", listed.join(", ")))
    }
}

impl Guest for Policy {
    fn handles() -> Vec<Trigger> {
        vec![Trigger::InviteUser, Trigger::AcceptInvitation]
    }
    fn invite_user(ctx: PolicyContext, event: InviteEvent) -> Decision {
        check(&ctx, &event.email)
    }
    fn accept_invitation(ctx: PolicyContext, event: AcceptEvent) -> Decision {
        check(&ctx, &event.email)
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
    fn write_pin(_: PolicyContext, _: PinEvent) -> PinDecision {
        PinDecision::Allow
    }
    fn file_ticket(_: PolicyContext, _: TicketEvent) -> Decision {
        Decision::Allow
    }
}

export!(Policy);
