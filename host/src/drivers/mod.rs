//! The engine's imports, served on the driver context of each call ([`CallState`]): one module per driver
//! interface, each implementing its generated `Host` trait, and [`add_to_linker`], which puts all of them
//! (with `policy-gate` and `wasi:random`) into any `Linker<T>` whose store data exposes a driver context.
//!
//! The drivers share one context rather than one each: every driver call of an engine call runs in the
//! same transaction and under the same tenant scope, which is what the context holds.

pub mod accounts_facade_driver;
pub mod memory_pins_driver;
pub mod onboarding_driver;
pub mod policy_driver;
pub mod tenant_driver;
pub mod tenant_lifecycle_driver;
pub mod user_write_driver;

use wasmtime::component::{HasData, Linker};

use crate::bindings::{AccountEngine, DriverError};
use crate::call::CallState;

/// Store data that exposes the driver context of its call: what the engine's imports work on. The
/// wasmtime-wasi pattern (`WasiView`): an embedder's own store data holds a [`CallState`] and says where.
pub trait DriverView: Send + 'static {
    /// The driver context of the call this store runs.
    fn drivers(&mut self) -> &mut CallState;
}

impl DriverView for CallState {
    fn drivers(&mut self) -> &mut CallState {
        self
    }
}

/// The engine's imports reach their context through [`DriverView`] (the `HasData` of the generated
/// `add_to_linker`).
struct Drivers;

impl HasData for Drivers {
    type Data<'a> = &'a mut CallState;
}

/// Adds every import of the engine component — the seven driver interfaces, `policy-gate` and
/// `wasi:random` — to `linker`, served on the driver context of each store.
pub fn add_to_linker<T: DriverView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    AccountEngine::add_to_linker::<T, Drivers>(linker, T::drivers)
}

/// A savepoint around a write that must never abort the call's transaction (the memory access log on
/// SQLite; PostgreSQL runs it in a subtransaction of the statement's own): if the write fails, the
/// transaction is rolled back to before it and stays usable.
#[derive(Clone, Copy)]
pub(crate) enum Savepoint {
    MemoryAudit,
}

impl Savepoint {
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
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
