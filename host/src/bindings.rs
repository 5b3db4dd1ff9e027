//! The host side of the contract, generated from `wit/` by wasmtime's `bindgen!`.
//!
//! Driver imports are `async` on the host (they run SQL through sqlx) while staying plain synchronous
//! functions to the guest. `wasi:random` is served by wasmtime-wasi's implementation.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "account-engine",
    imports: { default: async },
    exports: { default: async },
    with: {
        "wasi:random/random": wasmtime_wasi::p2::bindings::random::random,
    },
});

pub use aos::accounts::types::*;
pub use aos::accounts::{
    accounts_facade_driver, memory_pins_driver, onboarding_driver, policy_driver, policy_gate, tenant_driver,
    tenant_lifecycle_driver, user_write_driver,
};
pub use exports::aos::accounts::{accounts, lifecycle, memory_pins, onboarding, policies, tenants};
