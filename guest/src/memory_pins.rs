//! `memory-pins`: the per-tenant JSON key/value store. The tenant is the call's; keys, values, sources
//! and TTLs are validated here, and the plan bounds how many pins and bytes a tenant keeps.

use sha2::{Digest, Sha256};

use crate::Engine;
use crate::access;
use crate::aos::accounts::policy_types::{PinEvent, Trigger};
use crate::aos::accounts::types::{
    AccessFilter, AccessPage, CallContext, EngineError, ErrorCode, MemoryAuditOperation, PageRequest, PinRow,
};
use crate::error::{Result, err, invalid};
use crate::exports::aos::accounts::memory_pins::{CleanupResult, Guest, Pin, PinList};
use crate::memory_pins_driver::{self as driver, MemoryAuditEntry, PinStorage};
use crate::operations::memory_pins as op;
use crate::policy_gate::{self, Change, PolicyEvent};
use crate::secrets::hex;
use crate::{plans, validate};

/// Largest serialised value.
pub const MAX_VALUE_BYTES: usize = 1_048_576;
/// Longest TTL: one year.
pub const MAX_TTL_SECONDS: u32 = 31_536_000;

impl Guest for Engine {
    fn upsert_pin(
        ctx: CallContext,
        key: String,
        value: String,
        source: Option<String>,
        ttl_seconds: Option<u32>,
    ) -> Result<Pin, EngineError> {
        enabled(&ctx)?;
        let access = access::check(&ctx, &op::UPSERT_PIN)?;
        let key = pin_key(&key)?;
        let mut value = pin_value(&value)?;
        let source = validate::optional_text("source", source.as_deref(), 64)?.unwrap_or_else(|| "api".into());
        let mut ttl_seconds = pin_ttl(ttl_seconds)?;
        let event = || Ok(PolicyEvent::WritePin(PinEvent { key: key.clone(), value: value.clone(), ttl_seconds }));
        let actor = policy_gate::actor(&ctx, &access);
        if let Change::Pin(rewrite) =
            policy_gate::consult(access.policy, Trigger::WritePin, &access.tenant_id, actor, event)?
        {
            // A rewritten pin is validated again like any pin.
            value = pin_value(&rewrite.value).map_err(rewrite_refused)?;
            ttl_seconds = pin_ttl(rewrite.ttl_seconds).map_err(rewrite_refused)?;
        }
        storage_fits(&access.tenant_id, &key, value.len() as u64)?;
        let row = driver::upsert_pin(&access.tenant_id, &key, &value, &source, ttl_seconds)?;
        driver::record(&audit_entry(MemoryAuditOperation::Upsert, &row, Some(value_hash(&value))));
        Ok(pin(row))
    }

    fn get_pin(ctx: CallContext, key: String) -> Result<Option<Pin>, EngineError> {
        enabled(&ctx)?;
        let access = access::check(&ctx, &op::GET_PIN)?;
        let key = pin_key(&key)?;
        let row = driver::get_pin(&access.tenant_id, &key)?;
        if let Some(row) = &row {
            driver::record(&audit_entry(MemoryAuditOperation::Get, row, None));
        }
        Ok(row.map(pin))
    }

    fn list_pins(
        ctx: CallContext,
        prefix: Option<String>,
        include_expired: bool,
        page: PageRequest,
    ) -> Result<PinList, EngineError> {
        enabled(&ctx)?;
        let access = access::check(&ctx, &op::LIST_PINS)?;
        let page = validate::page(&page)?;
        let prefix = validate::optional_text("prefix", prefix.as_deref(), 512)?;
        let list = driver::list_pins(
            &access.tenant_id,
            prefix.as_deref(),
            include_expired,
            &page,
            validate::TOTAL_COUNT_UP_TO,
        )?;
        let (total, total_exact) = validate::total(list.total);
        Ok(PinList { items: list.items.into_iter().map(pin).collect(), total, total_exact, next: list.next })
    }

    fn delete_pin(ctx: CallContext, key: String) -> Result<bool, EngineError> {
        enabled(&ctx)?;
        let access = access::check(&ctx, &op::DELETE_PIN)?;
        let key = pin_key(&key)?;
        let deleted = driver::delete_pin(&access.tenant_id, &key)?;
        if deleted {
            driver::record(&MemoryAuditEntry {
                operation: MemoryAuditOperation::Delete,
                tenant_id: access.tenant_id.clone(),
                key,
                success: true,
                agent_id: None,
                source: None,
                cache_hit: false,
                error_message: None,
                old_value_hash: None,
                new_value_hash: None,
                extra: None,
            });
        }
        Ok(deleted)
    }

    fn cleanup_expired(ctx: CallContext) -> Result<CleanupResult, EngineError> {
        enabled(&ctx)?;
        // Naming a tenant, its expired pins; naming none, every tenant's.
        let tenant_id = access::check_platform_or_tenant(&ctx, &op::CLEANUP_EXPIRED)?.map(|access| access.tenant_id);
        let deleted_count = driver::cleanup_expired(tenant_id.as_deref())?;
        Ok(CleanupResult { deleted_count, tenant_id, at: ctx.now })
    }

    fn list_access_log(
        ctx: CallContext,
        filter: Option<AccessFilter>,
        page: PageRequest,
    ) -> Result<AccessPage, EngineError> {
        enabled(&ctx)?;
        let access = access::check(&ctx, &op::LIST_ACCESS_LOG)?;
        let filter = match filter {
            Some(filter) => AccessFilter { key: filter.key.as_deref().map(pin_key).transpose()?, ..filter },
            None => AccessFilter { key: None, operation: None, since: None, until: None },
        };
        Ok(driver::fetch_access_log(&access.tenant_id, &filter, &validate::page(&page)?)?)
    }
}

/// Refuses a write that would take the tenant past its plan's pin count or stored bytes. The counters are
/// the database's own (kept by triggers), and the call's transaction makes check and write one step.
fn storage_fits(tenant_id: &str, key: &str, new_bytes: u64) -> Result<()> {
    within_pin_quota(&driver::fetch_pin_storage(tenant_id, key)?, new_bytes)
}

/// Whether writing `new_bytes` to the key `storage` describes keeps the tenant within its plan. A write
/// that replaces a pin adds no pin, and one that shrinks what is stored is allowed even over the quota
/// (a plan changed down must not forbid making room).
fn within_pin_quota(storage: &PinStorage, new_bytes: u64) -> Result<()> {
    let (max_pins, max_bytes) = plans::pin_quota(storage.plan);
    let pins = storage.pins + u64::from(storage.key_bytes.is_none());
    let bytes = (storage.bytes - storage.key_bytes.unwrap_or(0).min(storage.bytes)).saturating_add(new_bytes);
    if storage.key_bytes.is_none() && pins > max_pins {
        return Err(err(ErrorCode::QuotaExceeded, format!("pins quota exceeded: {}/{max_pins}", storage.pins)));
    }
    if bytes > max_bytes && bytes > storage.bytes {
        return Err(err(ErrorCode::QuotaExceeded, format!("pin storage quota exceeded: {bytes} of {max_bytes} bytes")));
    }
    Ok(())
}

fn pin_ttl(ttl_seconds: Option<u32>) -> Result<Option<u32>> {
    ttl_seconds.map(|ttl| validate::range("ttl_seconds", ttl, 1, MAX_TTL_SECONDS)).transpose()
}

/// A policy's rewrite that is not a valid pin refuses the write (the policy's fault, not the caller's).
fn rewrite_refused(e: EngineError) -> EngineError {
    err(ErrorCode::PolicyFailed, format!("the tenant's policy rewrote the pin into an invalid one: {}", e.message))
}

fn enabled(ctx: &CallContext) -> Result<()> {
    if ctx.settings.memory_pins_enabled {
        Ok(())
    } else {
        Err(err(ErrorCode::FeatureDisabled, "Memory pins feature is disabled"))
    }
}

/// 1..=512 characters, none of `..`, `/`, `\`, NUL.
pub fn pin_key(key: &str) -> Result<String> {
    if key.is_empty() || key.chars().count() > 512 {
        return Err(invalid("key must be 1 to 512 characters"));
    }
    for bad in ["..", "/", "\\", "\0"] {
        if key.contains(bad) {
            let shown = if bad == "\0" { "NUL" } else { bad };
            return Err(invalid(format!("Key cannot contain '{shown}'")));
        }
    }
    Ok(key.to_string())
}

/// A JSON object of at most 1 MiB, returned in its canonical (compact, sorted keys) form.
pub fn pin_value(value: &str) -> Result<String> {
    validate::canonical_object("value", value, MAX_VALUE_BYTES)
}

/// First 16 hex characters of the SHA-256 of the canonical value.
fn value_hash(canonical: &str) -> String {
    let mut h = hex(&Sha256::digest(canonical.as_bytes()));
    h.truncate(16);
    h
}

fn audit_entry(operation: MemoryAuditOperation, row: &PinRow, new_value_hash: Option<String>) -> MemoryAuditEntry {
    MemoryAuditEntry {
        operation,
        tenant_id: row.tenant_id.clone(),
        key: row.key.clone(),
        success: true,
        agent_id: None,
        source: Some(row.source.clone()),
        cache_hit: false,
        error_message: None,
        old_value_hash: None,
        new_value_hash,
        extra: None,
    }
}

fn pin(row: PinRow) -> Pin {
    Pin {
        key: row.key,
        value: row.value,
        source: row.source,
        created_at: row.created_at,
        updated_at: row.updated_at,
        ttl_seconds: row.ttl_seconds,
        expires_at: row.expires_at,
    }
}

#[cfg(test)]
mod tests {
    // The engine's results do not implement `Debug`, which `unwrap_err` needs.
    #![allow(clippy::err_expect, clippy::ok_expect)]

    use super::*;
    use crate::aos::accounts::types::Plan;

    fn storage(pins: u64, bytes: u64, key_bytes: Option<u64>) -> PinStorage {
        PinStorage { plan: Plan::Free, pins, bytes, key_bytes }
    }

    #[test]
    fn pin_keys_are_bounded_and_never_paths() {
        assert_eq!(pin_key("user:42/../x").err().map(|e| e.message).as_deref(), Some("Key cannot contain '..'"));
        assert_eq!(pin_key("a\0b").err().map(|e| e.message).as_deref(), Some("Key cannot contain 'NUL'"));
        for bad in ["", "a/b", "a\\b"] {
            assert!(pin_key(bad).is_err(), "{bad:?}");
        }
        assert!(pin_key(&"é".repeat(512)).is_ok(), "512 characters, not bytes");
        assert!(pin_key(&"k".repeat(513)).is_err());
        assert_eq!(pin_key("user:42.prefs").ok().as_deref(), Some("user:42.prefs"));
    }

    #[test]
    fn ttls_are_one_second_to_one_year() {
        assert_eq!(pin_ttl(None).ok(), Some(None));
        assert_eq!(pin_ttl(Some(MAX_TTL_SECONDS)).ok(), Some(Some(MAX_TTL_SECONDS)));
        assert!(pin_ttl(Some(0)).is_err());
        assert!(pin_ttl(Some(MAX_TTL_SECONDS + 1)).is_err());
    }

    #[test]
    fn the_plan_bounds_new_pins_but_a_replaced_pin_adds_none() {
        let (max_pins, _) = plans::pin_quota(Plan::Free);
        assert!(within_pin_quota(&storage(max_pins - 1, 0, None), 10).is_ok());
        let refused = within_pin_quota(&storage(max_pins, 0, None), 10).err().expect("refused");
        assert_eq!(
            (refused.code, refused.message),
            (ErrorCode::QuotaExceeded, format!("pins quota exceeded: {max_pins}/{max_pins}"))
        );
        assert!(within_pin_quota(&storage(max_pins, 100, Some(10)), 10).is_ok(), "replacing a pin at the limit");
    }

    #[test]
    fn the_plan_bounds_stored_bytes_but_a_write_may_always_shrink_them() {
        let (_, max_bytes) = plans::pin_quota(Plan::Free);
        assert!(within_pin_quota(&storage(1, max_bytes - 10, None), 10).is_ok());
        assert!(within_pin_quota(&storage(1, max_bytes - 10, None), 11).is_err());
        // Over the quota already (a plan changed down): a smaller value passes, a larger one does not.
        assert!(within_pin_quota(&storage(2, max_bytes + 100, Some(50)), 40).is_ok());
        assert!(within_pin_quota(&storage(2, max_bytes + 100, Some(50)), 60).is_err());
    }

    #[test]
    fn the_access_log_keeps_a_short_hash_of_the_canonical_value() {
        let canonical = pin_value(r#"{ "b": 2, "a": 1 }"#).ok().expect("a valid value");
        assert_eq!(canonical, r#"{"a":1,"b":2}"#);
        let hash = value_hash(&canonical);
        assert_eq!(hash.len(), 16);
        assert!(crate::secrets::sha256_hex(&canonical).starts_with(&hash));
    }
}
