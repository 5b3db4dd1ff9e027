//! The description of every engine operation — its interface, whether it writes, who may call it and the
//! permission it needs — compiled from the guest's own files, so that the engine that enforces it and
//! the host that runs it read one declaration.
//!
//! The host runs an operation that only reads in a read-only transaction (one that seldom writes too, on
//! PostgreSQL, until it tries to write) and refuses anonymous callers of
//! any operation but the public ones before instantiating anything. Its build refuses a contract whose
//! exports and [`operations::ALL`] differ.
//!
//! A description leaves nothing to a default. One that does not say whether the operation writes does not
//! compile:
//!
//! ```compile_fail,E0063
//! use account_host::contract::{Access, Gate, Operation, Permission};
//! const RENAME_TENANT: Operation = Operation {
//!     interface: "tenants",
//!     name: "rename-tenant",
//!     access: Access::Tenant { permission: Permission::TenantWrite, gate: Gate::Write },
//! };
//! ```
//!
//! nor one that does not say who may call it, or with which permission:
//!
//! ```compile_fail,E0063
//! use account_host::contract::{Access, Effect, Gate, Operation};
//! const RENAME_TENANT: Operation = Operation {
//!     interface: "tenants",
//!     name: "rename-tenant",
//!     effect: Effect::Writes,
//!     access: Access::Tenant { gate: Gate::Write },
//! };
//! ```
//!
//! while the whole description does:
//!
//! ```
//! use account_host::contract::{Access, Effect, Gate, Operation, Permission};
//! const RENAME_TENANT: Operation = Operation {
//!     interface: "tenants",
//!     name: "rename-tenant",
//!     effect: Effect::Writes,
//!     access: Access::Tenant { permission: Permission::TenantWrite, gate: Gate::Write },
//! };
//! assert_eq!(RENAME_TENANT.permission(), Some(Permission::TenantWrite));
//! ```

#[path = "../../guest/src/operations.rs"]
pub mod operations;
#[path = "../../guest/src/permission.rs"]
pub mod permission;

pub use operations::{Access, Effect, Gate, Operation};
pub use permission::Permission;

/// The description of `interface.name` (WIT names; `_` is read as `-`, as in Rust and JSON names).
pub fn find(interface: &str, name: &str) -> Option<&'static Operation> {
    operations::ALL.iter().copied().find(|op| same_name(interface, op.interface) && same_name(name, op.name))
}

/// Whether an operation only reads (unknown operations do not).
pub fn is_read_only(interface: &str, operation: &str) -> bool {
    find(interface, operation).is_some_and(Operation::reads_only)
}

/// Whether anyone may call an operation without a credential (unknown operations may not).
pub fn is_public(interface: &str, operation: &str) -> bool {
    find(interface, operation).is_some_and(Operation::is_public)
}

/// WIT names compared with `_` read as `-` (Rust identifiers and JSON names).
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y || (x == b'_' && y == b'-'))
}

#[cfg(test)]
#[path = "../build/operations_check.rs"]
mod operations_check;

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract's exports, as the build read them from `wit/`.
    fn exports() -> Vec<(String, String)> {
        let model: serde_json::Value =
            serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/api-model.json"))).unwrap();
        let mut exports = Vec::new();
        for (interface, functions) in model.as_object().unwrap() {
            for function in functions.as_object().unwrap().keys() {
                exports.push((interface.clone(), function.clone()));
            }
        }
        exports
    }

    #[test]
    fn every_export_has_one_description() {
        let described: Vec<(&str, &str)> = operations::ALL.iter().map(|op| (op.interface, op.name)).collect();
        assert_eq!(operations_check::check(&exports(), &described), Ok(()));
        assert_eq!(described.len(), exports().len());
    }

    #[test]
    fn read_only_and_public_come_from_the_descriptions() {
        assert!(is_read_only("tenants", "list-audit-log"));
        assert!(is_read_only("memory_pins", "list_pins"), "Rust and JSON names read `_` as `-`");
        assert!(is_read_only("memory-pins", "get-pin"), "its access log row is written after its snapshot");
        assert!(!is_read_only("memory-pins", "upsert-pin"));
        assert!(!is_read_only("tenants", "no-such-operation"));
        let public: Vec<_> = operations::ALL.iter().filter(|op| op.is_public()).map(|op| op.name).collect();
        assert_eq!(public, ["get-support-contact"]);
        assert!(is_public("accounts", "get_support_contact"));
    }

    #[test]
    fn operations_acting_on_a_tenant_name_a_permission() {
        for op in operations::ALL {
            let needs_tenant = matches!(
                op.access,
                Access::Tenant { .. } | Access::TenantMembers { .. } | Access::PlatformOrTenant { .. }
            );
            assert_eq!(op.permission().is_some(), needs_tenant, "{}.{}", op.interface, op.name);
        }
    }
}
