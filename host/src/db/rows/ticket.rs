//! The support ticket row (table `support_tickets`) and its conversion into the contract's ticket snapshot.

use sqlx::FromRow;

use crate::bindings::{TicketCategory, TicketPriority, TicketSnapshot, TicketStatus};
use crate::db::codec::{Id, Ts};

/// A support ticket row, read with the catalogue fragment `ticket-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct TicketRecord {
    /// The ticket's id.
    pub id: Id,
    /// The tenant the ticket was filed in.
    pub tenant_id: Id,
    /// The member who filed it.
    pub user_id: Id,
    /// The ticket's one-line subject.
    pub subject: String,
    /// What the member wrote.
    pub description: String,
    /// What the ticket is about (general, billing, technical, feature request).
    pub category: TicketCategory,
    /// How urgent the member says it is.
    pub priority: TicketPriority,
    /// Where the ticket is (open, in progress, resolved, closed).
    pub status: TicketStatus,
    /// How it was resolved, once it is.
    pub resolution: Option<String>,
    /// When the ticket was filed.
    pub created_at: Ts,
    /// When the ticket was last changed.
    pub updated_at: Ts,
    /// When it was resolved, if it was.
    pub resolved_at: Option<Ts>,
}

impl From<TicketRecord> for TicketSnapshot {
    fn from(t: TicketRecord) -> Self {
        TicketSnapshot {
            id: t.id.into(),
            tenant_id: t.tenant_id.into(),
            user_id: t.user_id.into(),
            subject: t.subject,
            description: t.description,
            category: t.category,
            priority: t.priority,
            status: t.status,
            resolution: t.resolution,
            created_at: t.created_at.0,
            updated_at: t.updated_at.0,
            resolved_at: t.resolved_at.map(|t| t.0),
        }
    }
}
