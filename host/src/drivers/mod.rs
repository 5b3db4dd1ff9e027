//! The seven driver interfaces, one module each, every one implementing its generated `Host` trait on
//! [`CallState`](crate::call::CallState).

pub mod accounts_facade_driver;
pub mod memory_pins_driver;
pub mod onboarding_driver;
pub mod policy_driver;
pub mod tenant_driver;
pub mod tenant_lifecycle_driver;
pub mod user_write_driver;

use crate::bindings::DriverError;
use crate::call::CallState;

/// A savepoint around a write that must never abort the call's transaction (the audit writes): if the
/// write fails, the transaction is rolled back to before it and stays usable.
#[derive(Clone, Copy)]
pub(crate) enum Savepoint {
    AuditLog,
    MemoryAudit,
}

impl Savepoint {
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Savepoint::AuditLog => {
                ("SAVEPOINT audit_log", "RELEASE SAVEPOINT audit_log", "ROLLBACK TO SAVEPOINT audit_log")
            }
            Savepoint::MemoryAudit => {
                ("SAVEPOINT memory_audit", "RELEASE SAVEPOINT memory_audit", "ROLLBACK TO SAVEPOINT memory_audit")
            }
        }
    }

    pub(crate) async fn begin(self, state: &mut CallState) -> Result<(), DriverError> {
        let (begin, _, _) = self.sql();
        let tx = state.tx().await?;
        tx.execute(begin).await.map_err(|e| state.fail(e))?;
        state.savepoint_depth(1);
        Ok(())
    }

    /// Releases the savepoint after a successful write, or rolls back to it after a failed one.
    pub(crate) async fn end(self, state: &mut CallState, written: Result<(), DriverError>) -> Result<(), DriverError> {
        let (_, release, rollback) = self.sql();
        state.savepoint_depth(-1);
        let tx = state.tx().await?;
        let undo = if written.is_ok() { tx.execute(release).await } else { tx.execute(rollback).await };
        undo.map_err(|e| state.fail(e))?;
        if written.is_err() {
            let tx = state.tx().await?;
            tx.execute(release).await.map_err(|e| state.fail(e))?;
        }
        written
    }
}
