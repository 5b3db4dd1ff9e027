//! Typed calls of the engine's six interfaces: the Rust embedding API. Each call runs in a fresh
//! sandboxed instance and one transaction (see [`crate::runtime`]).

pub mod accounts;
pub mod dynamic;
pub mod lifecycle;
pub mod memory_pins;
pub mod onboarding;
pub mod policies;
pub mod tenants;

use crate::runtime::Runtime;

/// The operations that only read. Their calls run in a read-only transaction (see
/// [`crate::db::Database::begin`]); on PostgreSQL the server refuses a write in one, so a wrong entry
/// here fails loudly in the PostgreSQL suite rather than writing without serialisability. Operations that
/// may write on the way (audit rows, usage periods rolled over, a first sign-in's user) are not here.
pub const READ_ONLY_OPERATIONS: [(&str, &str); 23] = [
    ("accounts", "list-projects"),
    ("accounts", "get-project-detail"),
    ("accounts", "list-users"),
    ("accounts", "get-user-detail"),
    ("accounts", "list-tenant-users"),
    ("accounts", "get-billing-summary"),
    ("accounts", "get-billing-invoices"),
    ("accounts", "get-support-contact"),
    ("accounts", "list-support-tickets"),
    ("accounts", "list-invitations"),
    ("tenants", "get-tenant"),
    ("tenants", "get-tenant-by-slug"),
    ("tenants", "list-api-keys"),
    ("tenants", "get-usage-summary"),
    ("tenants", "list-runs"),
    ("tenants", "list-audit-log"),
    ("memory-pins", "list-pins"),
    ("memory-pins", "list-access-log"),
    ("onboarding", "get-state"),
    ("lifecycle", "get-state"),
    ("policies", "list-versions"),
    ("policies", "status"),
    ("policies", "dry-run"),
];

/// The operations anyone may call without a credential. The HTTP front door refuses every other
/// operation to an anonymous caller before it reads the body or instantiates anything (the engine would
/// refuse it too, later and at more cost).
pub const PUBLIC_OPERATIONS: [(&str, &str); 1] = [("accounts", "get-support-contact")];

/// Whether anyone may call an operation without a credential.
pub fn is_public(interface: &str, operation: &str) -> bool {
    PUBLIC_OPERATIONS.iter().any(|(i, o)| same_name(interface, i) && same_name(operation, o))
}

/// WIT names compared with `_` read as `-` (Rust identifiers and JSON names).
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y || (x == b'_' && y == b'-'))
}

/// Whether an operation only reads. Names are the WIT names; `_` is read as `-` (Rust identifiers).
pub fn is_read_only(interface: &str, operation: &str) -> bool {
    READ_ONLY_OPERATIONS.iter().any(|(i, o)| same_name(interface, i) && same_name(operation, o))
}

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

    /// Managing a tenant's own policy components.
    pub fn policies(&self) -> policies::Policies<'_> {
        policies::Policies(self)
    }
}
