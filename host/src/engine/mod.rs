//! Typed calls of the engine's six interfaces: the Rust embedding API. Each call runs in a fresh
//! sandboxed instance and one transaction (see [`crate::runtime`]).

pub mod accounts;
pub mod dynamic;
pub mod lifecycle;
pub mod memory_pins;
pub mod onboarding;
pub mod policies;
pub mod tenants;

use crate::drivers::DriverView;
use crate::runtime::Runtime;

pub use crate::contract::{is_public, is_read_only};

impl<T: DriverView> Runtime<T> {
    /// People, members, invitations, billing and support.
    pub fn accounts(&self) -> accounts::Accounts<'_, T> {
        accounts::Accounts(self)
    }

    /// The tenant row, plans, API keys, usage, runs and the audit log.
    pub fn tenants(&self) -> tenants::Tenants<'_, T> {
        tenants::Tenants(self)
    }

    /// The tenant's JSON key/value store and its access log.
    pub fn memory_pins(&self) -> memory_pins::MemoryPins<'_, T> {
        memory_pins::MemoryPins(self)
    }

    /// The tenant's onboarding state machine.
    pub fn onboarding(&self) -> onboarding::Onboarding<'_, T> {
        onboarding::Onboarding(self)
    }

    /// Suspending, resuming, terminating and archiving a tenant.
    pub fn lifecycle(&self) -> lifecycle::Lifecycle<'_, T> {
        lifecycle::Lifecycle(self)
    }

    /// Managing a tenant's own policy components.
    pub fn policies(&self) -> policies::Policies<'_, T> {
        policies::Policies(self)
    }
}
