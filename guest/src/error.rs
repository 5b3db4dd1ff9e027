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

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(code: DriverErrorCode) -> DriverError {
        DriverError { code, message: "row".into() }
    }

    #[test]
    fn driver_errors_become_engine_errors() {
        let code = |c| EngineError::from(driver(c)).code;
        assert_eq!(code(DriverErrorCode::NotFound), ErrorCode::NotFound);
        assert_eq!(code(DriverErrorCode::ScopeViolation), ErrorCode::Forbidden, "the host refused a tenant's row");
        assert_eq!(code(DriverErrorCode::Invalid), ErrorCode::InvalidArgument);
        assert_eq!(code(DriverErrorCode::Backend), ErrorCode::Internal);
        assert_eq!(EngineError::from(driver(DriverErrorCode::Conflict)).message, "row");
        // A missing row told in the engine's own words; other errors pass as they are.
        let told = missing("Tenant not found")(driver(DriverErrorCode::NotFound));
        assert_eq!((told.code, told.message.as_str()), (ErrorCode::NotFound, "Tenant not found"));
        let passed = missing("Tenant not found")(driver(DriverErrorCode::Unavailable));
        assert_eq!((passed.code, passed.message.as_str()), (ErrorCode::Unavailable, "row"));
    }
}
