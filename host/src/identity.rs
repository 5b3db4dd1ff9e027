//! Resolving credentials, once, before the engine call (the guest never resolves identities itself; see
//! "Identity and access" in `docs/DECISIONS.md`): an identity-provider subject to its internal user, and
//! an API key to its tenant and scopes; and the bookkeeping of key use. These are the host's only
//! statements outside engine calls.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::FromRow;

use crate::bindings::{ApiKeyPrincipal, Role};
use crate::catalogue::identity as statements;
use crate::db::Database;
use crate::db::codec::{Id, Ts};
use crate::on_pool_idempotent;

/// The internal user id of an identity-provider subject, if it has a user.
pub async fn user_id_for_subject(db: &Database, external_id: &str) -> Result<Option<String>, sqlx::Error> {
    let id: Option<Id> = on_pool_idempotent!(db, |p| sqlx::query_scalar(statements::USER_ID_FOR_SUBJECT)
        .bind(external_id)
        .fetch_optional(p))?;
    Ok(id.map(|id| id.to_string()))
}

/// The default tenant of a user, if any.
pub async fn default_tenant(db: &Database, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    let Ok(user) = Id::parse(user_id) else { return Ok(None) };
    let id: Option<Option<Id>> = on_pool_idempotent!(db, |p| sqlx::query_scalar(statements::DEFAULT_TENANT_OF_USER)
        .bind(&user)
        .fetch_optional(p))?;
    Ok(id.flatten().map(|id| id.to_string()))
}

/// A usable API key: its id, tenant, scopes and the restrictions stored on it.
#[derive(Debug, Clone)]
pub struct KeyPrincipal {
    /// The key's id.
    pub key_id: String,
    /// The tenant the key belongs to, and so the tenant of every call made with it.
    pub tenant_id: String,
    /// The permissions granted to the key (e.g. `keys:*`, `read:*`); unreadable stored scopes grant none.
    pub scopes: Vec<String>,
    /// The person who made the key, and their role in its tenant now (none: no longer an active member).
    pub created_by: Option<String>,
    /// The creator's current role in the key's tenant; none when they are no longer an active member.
    pub creator_role: Option<Role>,
    /// The workers the key is restricted to; none when unrestricted (an unreadable stored list allows none).
    pub allowed_workers: Option<Vec<String>>,
    /// The key's requests-per-minute limit, at least 1; none when the server's default applies.
    pub rate_limit_rpm: Option<u32>,
    /// How many runs the key may have going at once, never negative; none when the key sets no limit.
    pub max_concurrent_runs: Option<i32>,
    /// When the key expires, in microseconds since the Unix epoch; none when it never does.
    pub expires_at: Option<i64>,
}

impl KeyPrincipal {
    /// The engine's view of the key.
    pub fn principal(&self) -> ApiKeyPrincipal {
        ApiKeyPrincipal {
            key_id: self.key_id.clone(),
            scopes: self.scopes.clone(),
            created_by: self.created_by.clone(),
            creator_role: self.creator_role,
            allowed_workers: self.allowed_workers.clone(),
            max_concurrent_runs: self.max_concurrent_runs,
            rate_limit_rpm: self.rate_limit_rpm.map(|r| r.min(i32::MAX as u32) as i32),
            expires_at: self.expires_at,
        }
    }
}

#[derive(FromRow)]
struct KeyRecord {
    id: Id,
    tenant_id: Id,
    permissions_json: String,
    user_id: Option<Id>,
    allowed_workers_json: Option<String>,
    rate_limit_rpm: Option<i32>,
    max_concurrent_runs: Option<i32>,
    expires_at: Option<Ts>,
    creator_role: Option<Role>,
}

/// Lower-case hex SHA-256, the form in which key and token secrets are stored (as the engine computes it).
pub fn sha256_hex(secret: impl AsRef<[u8]>) -> String {
    Sha256::digest(secret.as_ref()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The key with this secret, if it is active, unrevoked and unexpired at `now`, with its creator's
/// current role (the creator must still be an active member). One read; its use is counted by
/// [`KeyUsage`], off the request path.
pub async fn api_key(db: &Database, secret: &str, now: i64) -> Result<Option<KeyPrincipal>, sqlx::Error> {
    let hash = sha256_hex(secret);
    let record: Option<KeyRecord> = on_pool_idempotent!(db, |p| sqlx::query_as(statements::API_KEY_BY_HASH)
        .bind(&hash)
        .bind(Ts(now))
        .fetch_optional(p))?;
    let Some(record) = record else { return Ok(None) };
    Ok(Some(KeyPrincipal {
        key_id: record.id.to_string(),
        tenant_id: record.tenant_id.to_string(),
        // Whatever cannot be read back fails closed: broken scopes grant nothing, a broken worker list
        // allows no worker, a limit out of range is the tightest.
        scopes: serde_json::from_str(&record.permissions_json).unwrap_or_default(),
        created_by: record.user_id.map(|u| u.to_string()),
        creator_role: record.creator_role,
        allowed_workers: record.allowed_workers_json.map(|w| serde_json::from_str(&w).unwrap_or_default()),
        rate_limit_rpm: record.rate_limit_rpm.map(|r| u32::try_from(r).unwrap_or(1).max(1)),
        max_concurrent_runs: record.max_concurrent_runs.map(|n| n.max(0)),
        expires_at: record.expires_at.map(|t| t.0),
    }))
}

/// The per-request bookkeeping of API keys (`last_used_at`, `total_requests`), collected in memory and
/// written in one short transaction per interval ([`KeyUsage::flush`]): a request never waits for a write
/// (on SQLite, for the writer lock) just because it was authenticated with a key.
#[derive(Default)]
pub struct KeyUsage {
    pending: std::sync::Mutex<HashMap<String, (i64, i64)>>,
}

impl KeyUsage {
    /// Notes one use of a key at `now`.
    pub fn record(&self, key_id: &str, now: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = pending.entry(key_id.to_string()).or_insert((0, now));
        entry.0 += 1;
        entry.1 = entry.1.max(now);
    }

    /// Writes what was collected; on failure it is kept for the next flush.
    pub async fn flush(&self, db: &Database) -> Result<usize, sqlx::Error> {
        let batch: Vec<(String, (i64, i64))> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match write_usage(db, &batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (key, (count, last)) in batch {
                    let entry = pending.entry(key).or_insert((0, last));
                    entry.0 += count;
                    entry.1 = entry.1.max(last);
                }
                Err(e)
            }
        }
    }
}

async fn write_usage(db: &Database, batch: &[(String, (i64, i64))]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin(false).await?;
    for (key, (count, last)) in batch {
        let Ok(id) = Id::parse(key) else { continue };
        crate::on_tx!(
            &mut tx,
            rows | c | sqlx::query(statements::RECORD_API_KEY_USAGE).bind(&id).bind(*count).bind(Ts(*last)).execute(c)
        )?;
    }
    tx.commit().await
}
