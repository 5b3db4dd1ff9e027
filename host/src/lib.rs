//! The native host of the account engine component.
//!
//! ```text
//!  caller ──► engine::<interface> ──► runtime (fresh store + instance, deadline, one transaction)
//!                                         │ export call
//!                                         ▼
//!                              guest component (all business rules)
//!                                         │ driver imports
//!                                         ▼
//!                 drivers::<driver> on CallState (tenant scope check) ──► db (sqlx: SQLite | PostgreSQL)
//! ```
//!
//! * [`bindings`] — the contract, generated from `wit/`.
//! * [`runtime`] — wasmtime: engine, component cache, pooling allocator, limits, commit/rollback/retry.
//! * [`call`] — the per-call state every driver works on: transaction and tenant scope.
//! * [`drivers`] — one module per driver interface, SQL for both backends.
//! * [`db`] — pools, migrations, transactions, codecs, cursors, error mapping.
//! * [`engine`] — typed Rust calls of the five engine interfaces (the embedding API).
//! * [`policy`] — tenants' own policy components: compiled, cached and run under their own limits.
//! * [`clock`] — the injectable clock.
//! * [`cache`] — the authenticated on-disk cache of compiled components (off unless configured).

pub mod admission;
pub mod bindings;
pub mod cache;
pub mod call;
pub mod catalogue;
pub mod clock;
pub mod db;
pub mod drivers;
pub mod engine;
pub mod health;
pub mod identity;
pub mod policy;
pub mod runtime;
pub mod server;

pub use cache::CacheConfig;
pub use policy::PolicyLimits;
pub use runtime::{Caller, Runtime, RuntimeConfig, Settings};
