//! The engine's side of `onboarding-driver`: the generated calls, re-exported under the interface's name.

pub use crate::aos::accounts::onboarding_driver::*;
