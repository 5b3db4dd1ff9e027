//! The rows the drivers read, as sqlx `FromRow` records with the columns they select, and their
//! conversions into the contract's snapshot records. One record per table (or join) serves every
//! snapshot cut from it.
//!
//! One module per table or group of related tables; every record is re-exported here, so drivers import
//! them as `crate::db::rows::X`. Each record's columns follow a catalogue fragment of
//! `hosts/sql/fragments.sql`: keep the two in step.

mod api_key;
mod audit;
mod invitation;
mod membership;
mod pin;
mod run;
mod subscription;
mod tenant;
mod ticket;
mod user;

pub use api_key::ApiKeyRecord;
pub use audit::AuditRecord;
pub use invitation::InvitationRecord;
pub use membership::{MemberRecord, MembershipRecord};
pub use pin::{AccessRecord, PinRecord};
pub use run::{RunRecord, UsageRecordRecord};
pub use subscription::SubscriptionRecord;
pub use tenant::{TenantRecord, TenantWithGateRecord};
pub use ticket::TicketRecord;
pub use user::UserRecord;
