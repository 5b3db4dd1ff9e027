//! Memory pins (table `memory_pins`) and the memory access log (table `memory_audit`), with their conversions
//! into the contract's pin row and access record.

use sqlx::FromRow;

use crate::bindings::PinRow;
use crate::db::codec::{Id, Json, Ts};

/// A memory pin row, read with the catalogue fragment `pin-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct PinRecord {
    /// The pin's id (an integer, not a UUID).
    pub id: i64,
    /// The tenant the pin belongs to.
    pub tenant_id: Id,
    /// The pin's key, unique within the tenant.
    pub key: String,
    /// The pin's value: JSON text of an object, in the engine's canonical form.
    pub value: Json,
    /// Who wrote the pin (`api` unless the writer said otherwise).
    pub source: String,
    /// When the pin was first written.
    pub created_at: Ts,
    /// When the pin was last written.
    pub updated_at: Ts,
    /// How long the pin lives after each write, in seconds, if it expires.
    pub ttl_seconds: Option<i32>,
    /// When the pin expires, if it does (computed by the host from its clock).
    pub expires_at: Option<Ts>,
}

impl PinRecord {
    /// What the row weighs in a page (see [`crate::db::cursor::collect_bounded`]).
    pub fn size(&self) -> usize {
        self.value.0.len() + self.key.len() + self.source.len()
    }
}

impl From<PinRecord> for PinRow {
    fn from(p: PinRecord) -> Self {
        PinRow {
            id: p.id,
            tenant_id: p.tenant_id.into(),
            key: p.key,
            value: p.value.0,
            source: p.source,
            created_at: p.created_at.0,
            updated_at: p.updated_at.0,
            ttl_seconds: p.ttl_seconds.map(|t| t as u32),
            expires_at: p.expires_at.map(|t| t.0),
        }
    }
}

/// A memory access log row, read with the catalogue fragment `access-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct AccessRecord {
    /// The entry's id (an integer, increasing).
    pub id: i64,
    /// When the access happened.
    pub ts: Ts,
    /// What the access did: upsert, get or delete.
    pub operation: crate::bindings::MemoryAuditOperation,
    /// The key of the pin accessed.
    pub key: String,
    /// The agent that made the access, if known.
    pub agent_id: Option<String>,
    /// The source the access named, if any.
    pub source: Option<String>,
    /// What the host measured for the call until the access, in milliseconds.
    pub latency_ms: Option<f64>,
    /// The value before, when the access says: the first 16 hex digits of its canonical form's SHA-256.
    pub old_value_hash: Option<String>,
    /// The value written (a write): the first 16 hex digits of its canonical form's SHA-256.
    pub new_value_hash: Option<String>,
}

impl AccessRecord {
    /// What the row weighs in a page (see [`crate::db::cursor::collect_bounded`]).
    pub fn size(&self) -> usize {
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        self.key.len() + text(&self.agent_id) + text(&self.source) + 128
    }
}

impl From<AccessRecord> for crate::bindings::AccessRecord {
    fn from(r: AccessRecord) -> Self {
        crate::bindings::AccessRecord {
            id: r.id,
            at: r.ts.0,
            operation: r.operation,
            key: r.key,
            agent_id: r.agent_id,
            source: r.source,
            latency_ms: r.latency_ms,
            old_value_hash: r.old_value_hash,
            new_value_hash: r.new_value_hash,
        }
    }
}
