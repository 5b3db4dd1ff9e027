//! The engine's side of `accounts-facade-driver`: the generated calls, re-exported under the
//! interface's name.

pub use crate::aos::accounts::accounts_facade_driver::*;
