//! The engine's side of `tenant-lifecycle-driver`: the generated calls, re-exported under the interface's
//! name.

pub use crate::aos::accounts::tenant_lifecycle_driver::*;
