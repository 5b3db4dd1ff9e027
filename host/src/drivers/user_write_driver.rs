//! `user-write-driver` over sqlx: users bound to the identity provider. Users are not tenant rows; the
//! host lets a call write only its own caller's user (operators and the system excepted).

use crate::bindings::user_write_driver::Host;
use crate::bindings::{DriverError, UserRow, UserStatus};
use crate::call::CallState;
use crate::catalogue::user_write_driver as statements;
use crate::db::codec::Id;
use crate::db::errors::conflict;
use crate::db::rows::UserRecord;
use crate::sql;

impl Host for CallState {
    async fn create_user(
        &mut self,
        email: String,
        external_id: String,
        name: Option<String>,
        avatar_url: Option<String>,
        status: UserStatus,
    ) -> Result<UserRow, DriverError> {
        Ok(insert_user_row(self, &email, &external_id, name.as_deref(), avatar_url.as_deref(), status).await?.into())
    }
}

/// The user, if the call may see it: the caller's own user, any user for operators and the system, and
/// otherwise only members of a tenant in the call's scope. Users are not tenant rows, so this is the
/// scope check of user lookups: a call on tenant A learns nothing of people outside A.
pub(crate) async fn visible_user(
    state: &mut CallState,
    user: Option<UserRecord>,
) -> Result<Option<UserRecord>, DriverError> {
    let Some(user) = user else { return Ok(None) };
    if state.is_platform() || state.is_caller_user(&user.id) || state.is_caller_subject(&user.clerk_user_id) {
        return Ok(Some(user));
    }
    for tenant in state.scope_tenants() {
        let member: i64 = sql!(state, |c| sqlx::query_scalar(statements::VISIBLE_USER_MEMBERSHIP)
            .bind(&tenant)
            .bind(&user.id)
            .fetch_one(c))?;
        if member > 0 {
            return Ok(Some(user));
        }
    }
    Ok(None)
}

/// The user with this id, if any, read without a visibility check: the caller checks access itself (or
/// passes the result through [`visible_user`]).
pub(crate) async fn fetch_user(state: &mut CallState, user: &Id) -> Result<Option<UserRecord>, DriverError> {
    sql!(state, |c| sqlx::query_as(statements::FETCH_USER_BY_ID).bind(user).fetch_optional(c))
}

/// Inserts a user for an identity-provider subject; `conflict` if the subject or the e-mail has one.
pub(crate) async fn insert_user_row(
    state: &mut CallState,
    email: &str,
    external_id: &str,
    name: Option<&str>,
    avatar_url: Option<&str>,
    status: UserStatus,
) -> Result<UserRecord, DriverError> {
    state.may_create_user(external_id)?;
    let now = state.now;
    let inserted = sql!(
        state,
        rows | c
            | sqlx::query(statements::INSERT_USER_WRITE)
                .bind(Id::new())
                .bind(external_id)
                .bind(email)
                .bind(name)
                .bind(avatar_url)
                .bind(status)
                .bind(now)
                .execute(c)
    )?;
    if inserted == 0 {
        return Err(conflict("a user already exists for this identity or e-mail"));
    }
    let row: UserRecord = sql!(state, |c| sqlx::query_as(statements::INSERT_USER_READ).bind(external_id).fetch_one(c))?;
    state.created_user(&row.id, external_id);
    Ok(row)
}
