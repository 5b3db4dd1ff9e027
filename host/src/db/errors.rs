//! How database failures reach the guest: as a [`DriverError`] with a code the engine can act on and a
//! message without SQL. Serialisation failures and deadlocks are `unavailable` and make the runtime retry
//! the whole engine call.

use sqlx::error::ErrorKind;

use crate::bindings::{DriverError, DriverErrorCode};

/// A driver error with a code and a message.
pub fn driver_error(code: DriverErrorCode, message: impl Into<String>) -> DriverError {
    DriverError { code, message: message.into() }
}

/// A `not-found` error naming what is missing (`"tenant"` gives "tenant not found").
pub fn not_found(what: &str) -> DriverError {
    driver_error(DriverErrorCode::NotFound, format!("{what} not found"))
}

/// A `conflict` error: the state of the data does not allow the change.
pub fn conflict(message: impl Into<String>) -> DriverError {
    driver_error(DriverErrorCode::Conflict, message)
}

/// An `invalid` error: an argument the driver cannot take.
pub fn invalid(message: impl Into<String>) -> DriverError {
    driver_error(DriverErrorCode::Invalid, message)
}

/// Whether the error means "run the whole transaction again" (PostgreSQL serialisation failure or
/// deadlock or lock memory exhausted; SQLite busy).
pub fn is_retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            // 53200: PostgreSQL ran out of shared memory (predicate locks under load): it passes.
            matches!(
                db.code().as_deref(),
                Some("40001") | Some("40P01") | Some("53200") | Some("5") | Some("6") | Some("517")
            )
        }
        _ => false,
    }
}

/// Whether PostgreSQL refused a write because the transaction is read-only (25006): for a call run first
/// as a reader ([`crate::contract::Effect::SeldomWrites`]), "run it again as a writer".
pub fn is_write_in_read_only(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("25006"))
}

/// Whether the error means the connection to the database is gone (or could not be had): the call is
/// `unavailable` wherever it happened, and the runtime learns that the database may be down.
pub fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        // 08xxx: connection exceptions; 57P01..03: the server is shutting down or not yet accepting.
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

/// Maps a sqlx error to what the guest sees.
pub fn from_sqlx(e: &sqlx::Error) -> DriverError {
    match e {
        sqlx::Error::RowNotFound => not_found("row"),
        sqlx::Error::Database(db) => {
            if is_retryable(e) {
                return driver_error(DriverErrorCode::Unavailable, "the transaction lost a race with another; retry");
            }
            if is_connection_lost(e) {
                return driver_error(DriverErrorCode::Unavailable, "the database is unavailable");
            }
            let constraint = db.constraint().map(|c| format!(" ({c})")).unwrap_or_default();
            match db.kind() {
                ErrorKind::UniqueViolation => conflict(format!("a unique constraint was violated{constraint}")),
                ErrorKind::ForeignKeyViolation => {
                    invalid(format!("a referenced row does not exist, or the row is still referenced{constraint}"))
                }
                ErrorKind::NotNullViolation => invalid(format!("a required value is missing{constraint}")),
                ErrorKind::CheckViolation => invalid(format!("a value is out of its allowed range{constraint}")),
                _ => match db.code().as_deref() {
                    // PostgreSQL data exceptions (too long, malformed) and the immutable-run guard.
                    Some(code) if code.starts_with("22") => invalid("a value is malformed or too long"),
                    Some("23001") => conflict("the row can no longer be changed"),
                    // SQLite CHECK/RAISE(ABORT) from a trigger.
                    Some("1811") | Some("19") => conflict("the row can no longer be changed"),
                    // PostgreSQL out of a resource (shared memory for locks, connections, disk).
                    Some(code) if code.starts_with("53") => {
                        driver_error(DriverErrorCode::Unavailable, "the database is short of resources; try again")
                    }
                    _ => driver_error(DriverErrorCode::Backend, "the database refused the statement"),
                },
            }
        }
        sqlx::Error::Encode(_) => invalid("a value could not be stored"),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            driver_error(DriverErrorCode::Backend, "a stored value could not be read")
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => driver_error(DriverErrorCode::Unavailable, "the database is unavailable"),
        _ => driver_error(DriverErrorCode::Backend, "the database failed"),
    }
}
