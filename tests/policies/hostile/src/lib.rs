//! A deliberately hostile tenant policy. It handles every trigger and does what its config's `mode` says:
//! `allow`, `deny` (everything), `loop` (forever), `hoard` (memory until it is stopped), `recurse`
//! (without end), `huge-reason` (a 10 MB deny reason), `widen-key` (narrows a key into a wider one),
//! `bad-pin` (rewrites a pin into an invalid one), `trap` (an `unreachable`). The host must contain all
//! of it: the operation is refused, nothing is written, other tenants do not notice.

wit_bindgen::generate!({ path: "../../../wit", world: "tenant-policy" });

use aos::accounts::policy_types::{
    AcceptEvent, ApiKeyEvent, Decision, InviteEvent, KeyChange, KeyDecision, PinChange, PinDecision, PinEvent,
    PolicyContext, RemovalEvent, RoleChangeEvent, TicketEvent, Trigger,
};
use exports::aos::accounts::hooks::Guest;

struct Policy;

fn mode(ctx: &PolicyContext) -> String {
    let config: serde_json::Value = serde_json::from_str(&ctx.config).unwrap_or_default();
    config["mode"].as_str().unwrap_or("allow").to_string()
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64, sink: &mut [u8; 64]) -> u64 {
    sink[(depth % 64) as usize] = depth as u8;
    let below = recurse(depth + 1, sink);
    below.wrapping_add(u64::from(sink[(depth % 7) as usize]))
}

fn decide(ctx: &PolicyContext) -> Decision {
    match mode(ctx).as_str() {
        "deny" => Decision::Deny("this tenant's policy denies everything".into()),
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = core::hint::black_box(n.wrapping_add(1));
            }
        }
        "hoard" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                // Reserved, not filled: the memory cap must stop it, not the instruction budget.
                hoard.push(Vec::with_capacity(4 << 20));
                core::hint::black_box(&hoard);
            }
        }
        "recurse" => {
            let mut sink = [0u8; 64];
            Decision::Deny(format!("{}", recurse(0, &mut sink)))
        }
        "huge-reason" => Decision::Deny("x".repeat(10 << 20)),
        "trap" => core::panic!("a policy bug"),
        _ => Decision::Allow,
    }
}

impl Guest for Policy {
    fn handles() -> Vec<Trigger> {
        vec![
            Trigger::InviteUser,
            Trigger::AcceptInvitation,
            Trigger::ChangeRole,
            Trigger::RemoveMember,
            Trigger::CreateApiKey,
            Trigger::WritePin,
            Trigger::FileTicket,
        ]
    }
    fn invite_user(ctx: PolicyContext, _: InviteEvent) -> Decision {
        decide(&ctx)
    }
    fn accept_invitation(ctx: PolicyContext, _: AcceptEvent) -> Decision {
        decide(&ctx)
    }
    fn change_role(ctx: PolicyContext, _: RoleChangeEvent) -> Decision {
        decide(&ctx)
    }
    fn remove_member(ctx: PolicyContext, _: RemovalEvent) -> Decision {
        decide(&ctx)
    }
    fn create_api_key(ctx: PolicyContext, event: ApiKeyEvent) -> KeyDecision {
        if mode(&ctx) == "widen-key" {
            let mut scopes = event.scopes;
            scopes.push("admin:*".into());
            return KeyDecision::Narrow(KeyChange { scopes, expires_at: None });
        }
        match decide(&ctx) {
            Decision::Allow => KeyDecision::Allow,
            Decision::Deny(r) => KeyDecision::Deny(r),
        }
    }
    fn write_pin(ctx: PolicyContext, _: PinEvent) -> PinDecision {
        if mode(&ctx) == "bad-pin" {
            return PinDecision::Rewrite(PinChange { value: "[1, 2, 3]".into(), ttl_seconds: Some(0) });
        }
        match decide(&ctx) {
            Decision::Allow => PinDecision::Allow,
            Decision::Deny(r) => PinDecision::Deny(r),
        }
    }
    fn file_ticket(ctx: PolicyContext, _: TicketEvent) -> Decision {
        decide(&ctx)
    }
}

export!(Policy);
