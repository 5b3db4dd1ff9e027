//! Memberships (table `tenant_memberships`): the membership row itself, and a member — a user joined with
//! their membership of one tenant — with its conversions into the contract's user and membership snapshots.

use sqlx::FromRow;

use crate::bindings::{
    MembershipRow, MembershipSnapshot, OauthProvider, Role, UserDetailSnapshot, UserSnapshot, UserStatus,
};
use crate::db::codec::{Id, Ts};

/// A user joined with their membership of one tenant, read with the catalogue fragment `member-columns`
/// (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct MemberRecord {
    /// The user's id.
    pub id: Id,
    /// The user's e-mail address.
    pub email: String,
    /// The user's display name, if known.
    pub name: Option<String>,
    /// Where the user's picture is, if known.
    pub avatar_url: Option<String>,
    /// Whether the user is active, suspended or deleted.
    pub status: UserStatus,
    /// How the user signs in with the identity provider, if known.
    pub oauth_provider: Option<OauthProvider>,
    /// Whether the identity provider vouched for the e-mail address.
    pub email_verified: bool,
    /// When the user was created.
    pub created_at: Ts,
    /// When the user was last changed.
    pub updated_at: Ts,
    /// When the user last signed in, if ever.
    pub last_login_at: Option<Ts>,
    /// The membership's id.
    pub membership_id: Id,
    /// The user's role in the tenant.
    pub role: Role,
    /// When the user joined the tenant.
    pub membership_created_at: Ts,
    /// The user who invited them, if they were invited and that user still exists.
    pub invited_by: Option<Id>,
}

impl From<MemberRecord> for UserSnapshot {
    fn from(m: MemberRecord) -> Self {
        UserSnapshot {
            id: m.id.into(),
            email: m.email,
            name: m.name,
            status: m.status,
            role: m.role,
            created_at: m.created_at.0,
            last_login_at: m.last_login_at.map(|t| t.0),
        }
    }
}

impl From<MemberRecord> for UserDetailSnapshot {
    fn from(m: MemberRecord) -> Self {
        UserDetailSnapshot {
            id: m.id.into(),
            email: m.email,
            name: m.name,
            avatar_url: m.avatar_url,
            status: m.status,
            role: m.role,
            email_verified: m.email_verified,
            oauth_provider: m.oauth_provider,
            membership_created_at: m.membership_created_at.0,
            invited_by: m.invited_by.map(Into::into),
            created_at: m.created_at.0,
            updated_at: Some(m.updated_at.0),
            last_login_at: m.last_login_at.map(|t| t.0),
        }
    }
}

impl From<MemberRecord> for MembershipSnapshot {
    fn from(m: MemberRecord) -> Self {
        MembershipSnapshot {
            membership_id: m.membership_id.into(),
            user_id: m.id.into(),
            email: m.email,
            name: m.name,
            role: m.role,
            created_at: m.membership_created_at.0,
        }
    }
}

/// A membership row, read with the catalogue fragment `membership-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct MembershipRecord {
    /// The membership's id.
    pub id: Id,
    /// The tenant the user is a member of.
    pub tenant_id: Id,
    /// The member.
    pub user_id: Id,
    /// The member's role in the tenant.
    pub role: Role,
    /// The user who invited the member, if they were invited and that user still exists.
    pub invited_by: Option<Id>,
    /// When the membership was created.
    pub created_at: Ts,
}

impl From<MembershipRecord> for MembershipRow {
    fn from(m: MembershipRecord) -> Self {
        MembershipRow {
            id: m.id.into(),
            tenant_id: m.tenant_id.into(),
            user_id: m.user_id.into(),
            role: m.role,
            invited_by: m.invited_by.map(Into::into),
            created_at: m.created_at.0,
        }
    }
}
