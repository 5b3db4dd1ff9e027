//! The engine's side of `user-write-driver`: the generated calls, re-exported under the interface's name.

pub use crate::aos::accounts::user_write_driver::*;
