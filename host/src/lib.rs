//! The native host of the account engine component: the engine's rules run in a WebAssembly sandbox, its
//! database drivers run here on `sqlx` (SQLite embedded, or PostgreSQL).
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
//! # Embedding
//!
//! The batteries-included way is a [`Runtime`]: connect a [`Database`], build the runtime, call typed
//! operations with a [`Caller`] the platform's own authentication made.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use account_host::{Caller, Database, Runtime};
//! use account_host::bindings::{Actor, OperatorPrincipal};
//!
//! let db = Database::connect("sqlite://accounts.db").await?;
//! db.migrate().await?;
//! let runtime = Runtime::new(db).await?; // compiles the engine's components off the async executor
//! let operator = Caller::new(Actor::Operator(OperatorPrincipal { operator_id: "ops".into() }), None);
//! let contact = runtime.accounts().get_support_contact(&operator).await.map_err(|e| anyhow::anyhow!(e.message))?;
//! # let _ = contact; Ok(()) }
//! ```
//!
//! A platform with a store and a linker of its own takes the pieces: [`RuntimeBuilder::with_store_data`]
//! makes each call's store hold the platform's data (which exposes the engine's driver context through
//! [`drivers::DriverView`]), [`RuntimeBuilder::link`] adds the platform's own host interfaces beside the
//! engine's, and [`drivers::add_to_linker`] puts the engine's imports into any `Linker<T>`.
//! `examples/embed.rs` is a whole platform: an axum app with its own authentication, its own interface
//! and a plugin of its own.
//!
//! # Modules
//!
//! * [`bindings`] — the contract's types, generated from `wit/`.
//! * [`contract`] — every operation described once: interface, whether it writes, who may call it.
//! * [`engine`] — typed calls of the six engine interfaces, and calls by name with JSON.
//! * [`runtime`] — wasmtime: engine, pooling allocator, limits, commit/rollback/retry.
//! * [`drivers`] — the engine's imports, one module per driver interface, and `add_to_linker`.
//! * [`call`] — the driver context of one call: its transaction and tenant scope.
//! * [`db`] — the database handle, migrations, transactions, codecs, cursors, error mapping.
//! * [`server`] — the HTTP API (JSON, OpenAPI, console) the `account-service` binary serves.
//! * [`identity`] — who a credential's subject or key is, for a platform's own authentication.
//! * [`clock`] — the injectable clock.

#![warn(missing_docs)]

#[allow(missing_docs)] // generated from `wit/`, whose documentation the published contract carries
pub mod bindings;
pub mod call;
pub mod clock;
pub mod contract;
pub mod db;
pub mod drivers;
pub mod engine;
pub mod identity;
pub mod runtime;
pub mod server;

// Used by the binary and the test suite; not part of the embedding API.
#[doc(hidden)]
pub mod admission;
#[doc(hidden)]
pub mod cache;
#[doc(hidden)]
pub mod catalogue;
#[doc(hidden)]
pub mod health;
#[doc(hidden)]
pub mod policy;

pub use cache::CacheConfig;
pub use clock::{Clock, ManualClock, SystemClock};
pub use db::{Backend, Database};
pub use policy::PolicyLimits;
pub use runtime::{Caller, Runtime, RuntimeBuilder, RuntimeConfig, Settings, Ticking};
