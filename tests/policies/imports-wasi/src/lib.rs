//! A policy that imports `wasi:random` (and would answer at random): the host refuses it at install,
//! because a policy imports nothing.

wit_bindgen::generate!({ path: ["../../../wit", "wit"], world: "test:imports-wasi/imports-wasi", generate_all });

use aos::accounts::policy_types::{
    AcceptEvent, ApiKeyEvent, Decision, InviteEvent, KeyDecision, PinDecision, PinEvent, PolicyContext, RemovalEvent,
    RoleChangeEvent, TicketEvent, Trigger,
};
use exports::aos::accounts::hooks::Guest;

struct Policy;

fn coin() -> Decision {
    if wasi::random::random::get_random_u64() % 2 == 0 { Decision::Allow } else { Decision::Deny("unlucky".into()) }
}

impl Guest for Policy {
    fn handles() -> Vec<Trigger> {
        vec![Trigger::InviteUser]
    }
    fn invite_user(_: PolicyContext, _: InviteEvent) -> Decision {
        coin()
    }
    fn accept_invitation(_: PolicyContext, _: AcceptEvent) -> Decision {
        coin()
    }
    fn change_role(_: PolicyContext, _: RoleChangeEvent) -> Decision {
        coin()
    }
    fn remove_member(_: PolicyContext, _: RemovalEvent) -> Decision {
        coin()
    }
    fn create_api_key(_: PolicyContext, _: ApiKeyEvent) -> KeyDecision {
        KeyDecision::Allow
    }
    fn write_pin(_: PolicyContext, _: PinEvent) -> PinDecision {
        PinDecision::Allow
    }
    fn file_ticket(_: PolicyContext, _: TicketEvent) -> Decision {
        coin()
    }
}

export!(Policy);
