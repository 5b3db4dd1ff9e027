//! The account engine: every business rule of the account domain, compiled to one WebAssembly component.
//!
//! The component reaches the world only through its imports (the seven driver interfaces, the gate to
//! the tenant's own policy and `wasi:random`) and serves the six engine interfaces of `wit/`. One module
//! per WIT interface: the engine interfaces are implemented in `accounts`, `tenants`, `memory_pins`,
//! `onboarding`, `lifecycle` and `policies`; each imported interface has a module of the same name with
//! the engine's helpers around it.
//! `access` decides who may do what; `error`, `validate`, `time`, `plans` and `secrets` are the shared
//! rules.

wit_bindgen::generate!({
    path: "../wit",
    world: "account-engine",
    generate_all,
});

mod access;
mod operations;
mod permission;
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

/// The type that implements every exported engine interface.
pub struct Engine;

export!(Engine);
