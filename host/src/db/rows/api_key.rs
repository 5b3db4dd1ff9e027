//! The API key row (table `api_keys`, never the key hash) and its conversion into the contract's API key snapshot.

use sqlx::FromRow;

use crate::bindings::{ApiKeySnapshot, ApiKeyStatus};
use crate::db::codec::{Id, Ts};

/// An API key row, read with the catalogue fragment `api-key-columns` (`hosts/sql/fragments.sql`): keep the two in step.
#[derive(FromRow)]
pub struct ApiKeyRecord {
    /// The key's id.
    pub id: Id,
    /// The tenant the key belongs to.
    pub tenant_id: Id,
    /// The person who made the key, if one did and still exists.
    pub user_id: Option<Id>,
    /// The name its maker gave the key.
    pub name: String,
    /// The first characters of the key, kept in clear so that people can tell their keys apart.
    pub key_prefix: String,
    /// Whether the key is active, revoked or expired.
    pub status: ApiKeyStatus,
    /// The key's scopes, as a JSON array of strings (unreadable: no scopes).
    pub permissions_json: String,
    /// The workers the key is restricted to, as a JSON array of strings; none when unrestricted.
    pub allowed_workers_json: Option<String>,
    /// The key's requests-per-minute limit, if it has its own.
    pub rate_limit_rpm: Option<i32>,
    /// How many runs the key may have going at once, if limited.
    pub max_concurrent_runs: Option<i32>,
    /// When the key expires, if it does.
    pub expires_at: Option<Ts>,
    /// When the key was revoked, if it was.
    pub revoked_at: Option<Ts>,
    /// Why the key was revoked, if given.
    pub revoked_reason: Option<String>,
    /// When the key was last used, if ever (written in batches, so a little behind).
    pub last_used_at: Option<Ts>,
    /// How many requests the key has made (written in batches, so a little behind).
    pub total_requests: i64,
    /// When the key was made.
    pub created_at: Ts,
}

impl From<ApiKeyRecord> for ApiKeySnapshot {
    fn from(k: ApiKeyRecord) -> Self {
        ApiKeySnapshot {
            id: k.id.into(),
            tenant_id: k.tenant_id.into(),
            user_id: k.user_id.map(Into::into),
            name: k.name,
            key_prefix: k.key_prefix,
            status: k.status,
            permissions: serde_json::from_str(&k.permissions_json).unwrap_or_default(),
            allowed_workers: k.allowed_workers_json.and_then(|w| serde_json::from_str(&w).ok()),
            rate_limit_rpm: k.rate_limit_rpm,
            max_concurrent_runs: k.max_concurrent_runs,
            expires_at: k.expires_at.map(|t| t.0),
            revoked_at: k.revoked_at.map(|t| t.0),
            revoked_reason: k.revoked_reason,
            last_used_at: k.last_used_at.map(|t| t.0),
            total_requests: k.total_requests,
            created_at: k.created_at.0,
        }
    }
}
