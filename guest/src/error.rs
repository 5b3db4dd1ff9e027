//! Engine errors: how driver errors become engine errors, and short constructors for the rest.

use crate::aos::accounts::types::{DriverError, DriverErrorCode, EngineError, ErrorCode};

pub type Result<T, E = EngineError> = core::result::Result<T, E>;

impl From<DriverError> for EngineError {
    fn from(e: DriverError) -> Self {
        let code = match e.code {
            DriverErrorCode::NotFound => ErrorCode::NotFound,
            DriverErrorCode::Conflict => ErrorCode::Conflict,
            DriverErrorCode::Invalid => ErrorCode::InvalidArgument,
            DriverErrorCode::ScopeViolation => ErrorCode::Forbidden,
            DriverErrorCode::Unavailable => ErrorCode::Unavailable,
            DriverErrorCode::Backend => ErrorCode::Internal,
        };
        EngineError { code, message: e.message }
    }
}

/// A driver's `not-found` told as the engine's own message about what is missing; other errors as they are.
pub fn missing(message: &str) -> impl FnOnce(DriverError) -> EngineError + '_ {
    move |e| if e.code == DriverErrorCode::NotFound { not_found(message) } else { e.into() }
}

pub fn err(code: ErrorCode, message: impl Into<String>) -> EngineError {
    EngineError { code, message: message.into() }
}

pub fn invalid(message: impl Into<String>) -> EngineError {
    err(ErrorCode::InvalidArgument, message)
}

pub fn forbidden(message: impl Into<String>) -> EngineError {
    err(ErrorCode::Forbidden, message)
}

pub fn not_found(message: impl Into<String>) -> EngineError {
    err(ErrorCode::NotFound, message)
}

pub fn conflict(message: impl Into<String>) -> EngineError {
    err(ErrorCode::Conflict, message)
}

/// True when a driver error is a unique-constraint or state conflict.
pub fn is_conflict(e: &DriverError) -> bool {
    e.code == DriverErrorCode::Conflict
}
