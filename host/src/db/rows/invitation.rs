//! The invitation row (table `invitations`) and its conversion into the contract's invitation snapshot.

use sqlx::FromRow;

use crate::bindings::{InvitationSnapshot, InvitationStatus, Role};
use crate::db::codec::{Id, Ts};

/// An invitation row, read with the catalogue fragment `invitation-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct InvitationRecord {
    /// The invitation's id (never its token, of which only a hash is stored).
    pub id: Id,
    /// The tenant the invitation is to.
    pub tenant_id: Id,
    /// The invited e-mail address; only a person signed in with it may accept.
    pub email: String,
    /// The role the invited person gets on accepting.
    pub role: Role,
    /// Whether the invitation is pending, accepted, expired or revoked.
    pub status: InvitationStatus,
    /// The user who sent the invitation, if still known.
    pub invited_by: Option<Id>,
    /// When the invitation was sent.
    pub created_at: Ts,
    /// When the invitation stops being acceptable.
    pub expires_at: Ts,
    /// When it was accepted, if it was.
    pub accepted_at: Option<Ts>,
}

impl From<InvitationRecord> for InvitationSnapshot {
    fn from(i: InvitationRecord) -> Self {
        InvitationSnapshot {
            id: i.id.into(),
            tenant_id: i.tenant_id.into(),
            email: i.email,
            role: i.role,
            status: i.status,
            invited_by: i.invited_by.map(Into::into),
            created_at: i.created_at.0,
            expires_at: i.expires_at.0,
            accepted_at: i.accepted_at.map(|t| t.0),
        }
    }
}
