//! The user row (table `users`) and its conversions into the contract's user row and user summary.

use sqlx::FromRow;

use crate::bindings::{OauthProvider, UserRow, UserStatus, UserSummary};
use crate::db::codec::{Id, Ts};

/// A user row, read with the catalogue fragment `user-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct UserRecord {
    /// The user's internal id.
    pub id: Id,
    /// The identity provider's subject the user is bound to (the contract's `external-id`).
    pub clerk_user_id: String,
    /// The user's e-mail address, unique case-insensitively.
    pub email: String,
    /// The user's display name, if known.
    pub name: Option<String>,
    /// Where the user's picture is, if known.
    pub avatar_url: Option<String>,
    /// The tenant the user acts in when their credential names none.
    pub default_tenant_id: Option<Id>,
    /// Whether the user is active, suspended or deleted.
    pub status: UserStatus,
    /// How the user signs in with the identity provider, if known.
    pub oauth_provider: Option<OauthProvider>,
    /// Whether the identity provider vouched for the e-mail address.
    pub email_verified: bool,
    /// The user's preferences, as JSON text of an object, if set.
    pub preferences_json: Option<String>,
    /// When the user was created.
    pub created_at: Ts,
    /// When the user was last changed.
    pub updated_at: Ts,
    /// When the user last signed in, if ever.
    pub last_login_at: Option<Ts>,
}

impl From<UserRecord> for UserRow {
    fn from(u: UserRecord) -> Self {
        UserRow {
            id: u.id.into(),
            external_id: u.clerk_user_id,
            email: u.email,
            name: u.name,
            avatar_url: u.avatar_url,
            default_tenant_id: u.default_tenant_id.map(Into::into),
            status: u.status,
            oauth_provider: u.oauth_provider,
            email_verified: u.email_verified,
            preferences: u.preferences_json,
            created_at: u.created_at.0,
            updated_at: u.updated_at.0,
            last_login_at: u.last_login_at.map(|t| t.0),
        }
    }
}

impl From<UserRecord> for UserSummary {
    fn from(u: UserRecord) -> Self {
        UserSummary {
            id: u.id.into(),
            email: u.email,
            name: u.name,
            avatar_url: u.avatar_url,
            default_tenant_id: u.default_tenant_id.map(Into::into),
            status: u.status,
        }
    }
}
