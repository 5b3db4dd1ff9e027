//! The engine's side of `memory-pins-driver`: the generated calls, and the access log that never fails
//! an operation.

pub use crate::aos::accounts::memory_pins_driver::*;

/// Appends to the memory audit. The memory audit is an access log: the host writes it so that a failure
/// to write it does not fail the pin operation that caused it (a savepoint, or on PostgreSQL a statement
/// that is its own subtransaction).
pub fn record(entry: &MemoryAuditEntry) {
    let _ = write_audit(entry);
}
