//! Typed calls of the engine's five interfaces: the Rust embedding API. Each call runs in a fresh
//! sandboxed instance and one transaction (see [`crate::runtime`]).

pub mod accounts;
pub mod dynamic;
pub mod lifecycle;
pub mod memory_pins;
pub mod onboarding;
pub mod tenants;

use crate::runtime::Runtime;

impl Runtime {
    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts(self)
    }

    pub fn tenants(&self) -> tenants::Tenants<'_> {
        tenants::Tenants(self)
    }

    pub fn memory_pins(&self) -> memory_pins::MemoryPins<'_> {
        memory_pins::MemoryPins(self)
    }

    pub fn onboarding(&self) -> onboarding::Onboarding<'_> {
        onboarding::Onboarding(self)
    }

    pub fn lifecycle(&self) -> lifecycle::Lifecycle<'_> {
        lifecycle::Lifecycle(self)
    }
}
