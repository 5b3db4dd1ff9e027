//! Resolving credentials, once, before the engine call (design.md §4: the guest never resolves
//! identities itself): an identity-provider subject to its internal user, and an API key to its tenant
//! and scopes. These are the host's only queries outside engine calls.

use futures_util::TryFutureExt;
use sha2::{Digest, Sha256};
use sqlx::FromRow;

use crate::db::Database;
use crate::db::codec::{Id, Ts};
use crate::on_pool;

/// The internal user id of an identity-provider subject, if it has a user.
pub async fn user_id_for_subject(db: &Database, external_id: &str) -> Result<Option<String>, sqlx::Error> {
    let id: Option<Id> =
        on_pool!(db, |p| sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1").bind(external_id).fetch_optional(p))?;
    Ok(id.map(|id| id.to_string()))
}

/// The default tenant of a user, if any.
pub async fn default_tenant(db: &Database, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    let Ok(user) = Id::parse(user_id) else { return Ok(None) };
    let id: Option<Option<Id>> =
        on_pool!(db, |p| sqlx::query_scalar("SELECT default_tenant_id FROM users WHERE id = $1").bind(&user).fetch_optional(p))?;
    Ok(id.flatten().map(|id| id.to_string()))
}

/// A usable API key: its id, tenant and scopes.
#[derive(Debug, Clone)]
pub struct KeyPrincipal {
    pub key_id: String,
    pub tenant_id: String,
    pub scopes: Vec<String>,
}

#[derive(FromRow)]
struct KeyRecord {
    id: Id,
    tenant_id: Id,
    permissions_json: String,
}

/// Lower-case hex SHA-256, the form in which key and token secrets are stored (as the engine computes it).
pub fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The key with this secret, if it is active, unrevoked and unexpired at `now`; its use is counted.
pub async fn api_key(db: &Database, secret: &str, now: i64) -> Result<Option<KeyPrincipal>, sqlx::Error> {
    let hash = sha256_hex(secret);
    let record: Option<KeyRecord> = on_pool!(db, |p| sqlx::query_as(
        "SELECT id, tenant_id, permissions_json FROM api_keys WHERE key_hash = $1 AND status = 'active' \
         AND revoked_at IS NULL AND is_frozen = false AND (expires_at IS NULL OR expires_at > $2)"
    )
    .bind(&hash)
    .bind(Ts(now))
    .fetch_optional(p))?;
    let Some(record) = record else { return Ok(None) };
    on_pool!(db, |p| sqlx::query("UPDATE api_keys SET last_used_at = $2, total_requests = total_requests + 1 WHERE id = $1")
        .bind(&record.id)
        .bind(Ts(now))
        .execute(p)
        .map_ok(|_| ()))?;
    Ok(Some(KeyPrincipal {
        key_id: record.id.to_string(),
        tenant_id: record.tenant_id.to_string(),
        scopes: serde_json::from_str(&record.permissions_json).unwrap_or_default(),
    }))
}
