//! The engine's side of `policy-driver`: the generated calls, re-exported under the interface's name.

pub use crate::aos::accounts::policy_driver::*;
