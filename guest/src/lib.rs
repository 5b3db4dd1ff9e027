//! The account engine: every business rule of the account domain, compiled to one WebAssembly component.
//!
//! The component reaches the world only through its imports (the seven driver interfaces, the gate to
//! the tenant's own policy and `wasi:random`) and serves the six engine interfaces of `wit/`. One module
//! per WIT interface: the engine interfaces are implemented in `accounts`, `tenants`, `memory_pins`,
//! `onboarding`, `lifecycle` and `policies`; each imported interface has a module of the same name with
//! the engine's helpers around it.
//! `operations` describes every operation once (whether it writes, who may call it, with which
//! `permission`); the host compiles those two files too, so they are public and depend on nothing else.
//! `access` checks each call against its description; `error`, `validate`, `time`, `plans` and `secrets`
//! are the shared rules.
//!
//! The unit tests run natively (`cargo test -p account-engine-guest`). Natively the imports are stubs
//! that panic, so the tests cover the pure rules only: anything that reaches a driver is the black-box
//! suite's (`tests/`).

wit_bindgen::generate!({
    path: "../wit",
    world: "account-engine",
    generate_all,
});

pub mod operations;
pub mod permission;

mod access;
mod error;
mod plans;
mod secrets;
mod time;
mod validate;

mod accounts_facade_driver;
mod memory_pins_driver;
mod onboarding_driver;
mod policy_driver;
mod policy_gate;
mod tenant_driver;
mod tenant_lifecycle_driver;
mod user_write_driver;

mod accounts;
mod lifecycle;
mod memory_pins;
mod onboarding;
mod policies;
mod tenants;

#[cfg(test)]
mod test_support;

/// The type that implements every exported engine interface.
pub struct Engine;

// Only the component exports the engine: a native build (the unit tests, `cargo build` of the workspace)
// must not, as WIT export names are not valid native symbol names.
#[cfg(target_arch = "wasm32")]
export!(Engine);
