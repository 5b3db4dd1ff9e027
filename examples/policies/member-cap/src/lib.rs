//! "At most 25 members."
//!
//! Config: `{"max_members": 25}`. Handles `invite-user` (members and pending invitations together may
//! not pass the cap) and `accept-invitation` (members may not).

wit_bindgen::generate!({ path: "../../../wit", world: "tenant-policy" });

use aos::accounts::policy_types::{
    AcceptEvent, ApiKeyEvent, Decision, InviteEvent, KeyDecision, PinDecision, PinEvent, PolicyContext, RemovalEvent,
    RoleChangeEvent, TicketEvent, Trigger,
};
use exports::aos::accounts::hooks::Guest;

struct Policy;

fn cap(ctx: &PolicyContext) -> u64 {
    let config: serde_json::Value = serde_json::from_str(&ctx.config).unwrap_or_default();
    config["max_members"].as_u64().unwrap_or(25)
}

fn within(ctx: &PolicyContext, after: u64) -> Decision {
    let cap = cap(ctx);
    if after <= cap { Decision::Allow } else { Decision::Deny(format!("this tenant has at most {cap} members")) }
}

impl Guest for Policy {
    fn handles() -> Vec<Trigger> {
        vec![Trigger::InviteUser, Trigger::AcceptInvitation]
    }
    fn invite_user(ctx: PolicyContext, event: InviteEvent) -> Decision {
        within(&ctx, u64::from(event.members) + u64::from(event.pending_invitations) + 1)
    }
    fn accept_invitation(ctx: PolicyContext, event: AcceptEvent) -> Decision {
        within(&ctx, u64::from(event.members) + 1)
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
