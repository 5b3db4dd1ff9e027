//! `memory-pins-driver` over sqlx: the per-tenant JSON key/value store and its access log. Expiry is
//! computed here from the call's `now`, the same on both backends: a pin with `expires_at <= now` is
//! expired.

use crate::bindings::memory_pins_driver::{Host, MemoryAuditEntry, PinList, PinStorage};
use crate::bindings::{
    AccessFilter, AccessPage, DriverError, DriverErrorCode, MemoryAuditOperation, PageRequest, PinRow, Plan,
};
use crate::call::CallState;
use crate::catalogue::memory_pins_driver as statements;
use crate::db::codec::{Id, Json, Ts};
use crate::db::cursor;
use crate::db::errors::{driver_error, invalid, not_found};
use crate::db::rows::{AccessRecord, PinRecord};
use crate::db::{Backend, Database};
use crate::drivers::Savepoint;
use crate::{on_pool_idempotent, sql};
use futures_util::TryFutureExt;

/// How long the memory access log is kept (the platform's `cleanup-expired` sweep deletes older rows).
pub const MEMORY_AUDIT_RETENTION_DAYS: i64 = 30;
/// A pin's reads are logged at most once per this interval.
const READ_LOG_INTERVAL_MICROS: i64 = 3_600 * 1_000_000;

/// One row of the memory access log, as the write-audit statement binds it.
pub struct AccessRow {
    at: Ts,
    tenant: Id,
    latency_ms: f64,
    /// JSON text (the statement makes it `jsonb` on PostgreSQL).
    extra: String,
    entry: MemoryAuditEntry,
}

/// The write-audit statement of `$backend` for `$row` (an [`AccessRow`]), as a query of one optional text:
/// on PostgreSQL the statement runs the row in a subtransaction of its own and answers why it could not
/// write it, if it could not (migration 0021); on SQLite it answers no row and runs in a savepoint. Reads
/// must not grow storage without bound: a read is logged once per pin and hour (the statement writes
/// nothing for a later one). Writes are bounded by the pin quotas and are always logged.
macro_rules! write_access_row {
    ($backend:expr, $row:expr) => {
        sqlx::query_scalar::<_, Option<String>>(match $backend {
            Backend::Sqlite => statements::WRITE_AUDIT_SQLITE,
            Backend::Postgres => statements::WRITE_AUDIT_POSTGRES,
        })
        .bind($row.at)
        .bind($row.entry.operation)
        .bind(&$row.tenant)
        .bind(&$row.entry.key)
        .bind(&$row.entry.agent_id)
        .bind(&$row.entry.source)
        .bind($row.entry.cache_hit)
        .bind($row.latency_ms)
        .bind($row.entry.success)
        .bind(&$row.entry.error_message)
        .bind(&$row.entry.old_value_hash)
        .bind(&$row.entry.new_value_hash)
        .bind(&$row.extra)
        .bind(Ts($row.at.0 - READ_LOG_INTERVAL_MICROS))
        .bind($row.entry.operation == MemoryAuditOperation::Get)
    };
}

/// The access log of a read-only call's pin reads: a read runs in a read-only snapshot (no write
/// transaction, no savepoint), and its log row is written once the call has answered ok, in a statement
/// of its own — still before the call answers, so the caller's next look at the log sees it. The log is
/// best-effort, as inside a call: a failure is logged and the read stands. A row is not even sent when
/// this process logged a read of the same pin within the hour, which the statement would skip anyway.
pub struct ReadLog {
    db: Database,
    rows: Vec<AccessRow>,
}

impl ReadLog {
    pub(crate) fn new(db: Database, rows: Vec<AccessRow>) -> Self {
        ReadLog { db, rows }
    }

    /// The same log with nothing to write.
    pub(crate) fn without_rows(self) -> Self {
        ReadLog { rows: Vec::new(), ..self }
    }

    /// Writes the rows, giving up at `deadline` (the call's: a row not written by then is dropped with a
    /// warning). The runtime hands it on only once the call has answered ok ([`crate::db::Tx::finish`]).
    pub async fn write(self, deadline: tokio::time::Instant) {
        let recent = self.db.recent_reads();
        for row in self.rows {
            let key = &row.entry.key;
            let throttled = row.entry.operation == MemoryAuditOperation::Get;
            if throttled && recent.logged_within(&row.tenant, key, row.at.0, READ_LOG_INTERVAL_MICROS) {
                continue;
            }
            let written = tokio::time::timeout_at(deadline, async {
                // SQLite: one writer at a time, as for a call that writes.
                let _writer = self.db.writer_turn().await;
                crate::call::count_round_trip();
                let backend = self.db.backend();
                // Throttled: a second run skips the row the first one wrote.
                on_pool_idempotent!(&self.db, |p| write_access_row!(backend, row)
                    .fetch_optional(p)
                    .map_ok(Option::flatten))
            })
            .await;
            match written {
                Ok(Ok(None)) if throttled => recent.note(&row.tenant, key, row.at.0, READ_LOG_INTERVAL_MICROS),
                Ok(Ok(None)) => {}
                Ok(Ok(Some(refused))) => refused_read_log(&refused),
                Ok(Err(e)) => refused_read_log(&e),
                Err(_) => tracing::warn!("a pin read's access log row was not written before the call's deadline"),
            }
        }
    }
}

/// A read's access log row that could not be written: the read stands (the log is best-effort).
fn refused_read_log(error: &dyn std::fmt::Display) {
    tracing::warn!(error = %error, "a pin read's access log row could not be written");
}

/// Refuses, before any statement, an access log row the database would refuse: `extra` that is not JSON
/// (`invalid` on every backend alike), and NUL in text, which PostgreSQL refuses when the statement is
/// bound, before the exception block that keeps a failed row from failing the call (migration 0021). The
/// log is best-effort: such a row is `invalid` and the call goes on. (`extra` is JSON, so it holds no NUL;
/// a `\u0000` in it is refused inside the block.)
fn refuse_unstorable(entry: &MemoryAuditEntry, extra: &str) -> Result<(), DriverError> {
    if serde_json::from_str::<&serde_json::value::RawValue>(extra).is_err() {
        return Err(invalid("an access log row's extra must be JSON"));
    }
    let texts = [&entry.agent_id, &entry.source, &entry.error_message, &entry.old_value_hash, &entry.new_value_hash]
        .map(Option::as_deref);
    if std::iter::once(Some(entry.key.as_str())).chain(texts).flatten().any(|text| text.contains('\0')) {
        return Err(invalid("an access log row's text may not contain NUL"));
    }
    Ok(())
}

impl Host for CallState {
    async fn upsert_pin(
        &mut self,
        tenant_id: String,
        key: String,
        value: String,
        source: String,
        ttl_seconds: Option<u32>,
    ) -> Result<PinRow, DriverError> {
        let t = self.tenant(&tenant_id)?;
        if !matches!(serde_json::from_str::<serde_json::Value>(&value), Ok(serde_json::Value::Object(_))) {
            return Err(invalid("a pin's value must be a JSON object"));
        }
        let now = self.now;
        let ttl =
            ttl_seconds.map(|s| i32::try_from(s).map_err(|_| invalid("ttl_seconds is out of range"))).transpose()?;
        let expires_at = ttl.map(|s| Ts(now.0 + i64::from(s) * 1_000_000));
        let value_bytes = value.len() as i64;
        let row: PinRecord = sql!(self, |c| sqlx::query_as(statements::UPSERT_PIN)
            .bind(&t)
            .bind(&key)
            .bind(Json(value))
            .bind(&source)
            .bind(now)
            .bind(ttl)
            .bind(expires_at)
            .bind(value_bytes)
            .fetch_one(c))?;
        Ok(row.into())
    }

    async fn fetch_pin_storage(&mut self, tenant_id: String, key: String) -> Result<PinStorage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        // (plan, pins, bytes, bytes of the key's current value)
        type Storage = (Plan, Option<i64>, Option<i64>, Option<i64>);
        let row: Option<Storage> =
            sql!(self, |c| sqlx::query_as(statements::FETCH_PIN_STORAGE).bind(&t).bind(&key).fetch_optional(c))?;
        let (plan, pins, bytes, key_bytes) = row.ok_or_else(|| not_found("tenant"))?;
        let count = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
        Ok(PinStorage { plan, pins: count(pins), bytes: count(bytes), key_bytes: key_bytes.map(|b| b.max(0) as u64) })
    }

    async fn get_pin(&mut self, tenant_id: String, key: String) -> Result<Option<PinRow>, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let now = self.now;
        let row: Option<PinRecord> =
            sql!(self, |c| sqlx::query_as(statements::GET_PIN).bind(&t).bind(&key).bind(now).fetch_optional(c))?;
        Ok(row.map(Into::into))
    }

    async fn list_pins(
        &mut self,
        tenant_id: String,
        prefix: Option<String>,
        include_expired: bool,
        page: PageRequest,
        count_up_to: u64,
    ) -> Result<PinList, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let limit = cursor::fetch_limit(&page)?;
        let now = self.now;
        // The prefix is compared literally (no LIKE, so `%` and `_` are plain characters).
        let (statement, after) = cursor::twin(
            &page,
            statements::LIST_PINS_FIRST_PAGE,
            statements::LIST_PINS_NEXT_PAGE,
            cursor::time_and_integer_id,
        )?;
        let mut rows: cursor::Bounded<PinRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement).bind(&t).bind(&prefix).bind(include_expired).bind(now).bind(limit);
            let query = match &after {
                Some((at, id)) => query.bind(*at).bind(id),
                None => query,
            };
            cursor::collect_bounded(query.fetch(c), PinRecord::size)
        })?;
        let next = rows.finish(&page, |r| (r.created_at.0.to_string(), r.id.to_string()));
        // A first page with no next one holds every match: it is the count, in the same snapshot.
        let total = match (&page.after, &next) {
            (None, None) => (rows.rows.len() as u64).min(count_up_to),
            _ => sql!(self, |c| sqlx::query_scalar::<_, i64>(statements::LIST_PINS_COUNT)
                .bind(&t)
                .bind(&prefix)
                .bind(include_expired)
                .bind(now)
                .bind(cursor::count_limit(count_up_to))
                .fetch_one(c))? as u64,
        };
        Ok(PinList { items: rows.rows.into_iter().map(Into::into).collect(), total, next })
    }

    async fn delete_pin(&mut self, tenant_id: String, key: String) -> Result<bool, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let deleted = sql!(self, rows | c | sqlx::query(statements::DELETE_PIN).bind(&t).bind(&key).execute(c))?;
        Ok(deleted > 0)
    }

    async fn cleanup_expired(&mut self, tenant_id: Option<String>) -> Result<u64, DriverError> {
        let t = match tenant_id.as_deref() {
            Some(t) => Some(self.tenant(t)?),
            None if self.is_platform() => None,
            None => {
                return Err(driver_error(DriverErrorCode::ScopeViolation, "only the platform cleans up every tenant"));
            }
        };
        let now = self.now;
        let deleted =
            sql!(self, rows | c | sqlx::query(statements::CLEANUP_EXPIRED_PINS).bind(now).bind(&t).execute(c))?;
        if t.is_none() {
            // The platform's sweep also ends the access log's retention.
            let horizon = Ts(now.0 - MEMORY_AUDIT_RETENTION_DAYS * 86_400 * 1_000_000);
            sql!(self, rows | c | sqlx::query(statements::CLEANUP_EXPIRED_AUDIT).bind(horizon).execute(c))?;
        }
        Ok(deleted)
    }

    async fn write_audit(&mut self, entry: MemoryAuditEntry) -> Result<(), DriverError> {
        let tenant = self.tenant(&entry.tenant_id)?;
        let extra = entry.extra.clone().unwrap_or_else(|| "{}".into());
        refuse_unstorable(&entry, &extra)?;
        let row =
            AccessRow { at: self.now, tenant, latency_ms: self.started.elapsed().as_secs_f64() * 1000.0, extra, entry };
        if self.is_read_only() {
            // A read's snapshot cannot write: the row is written after it commits (`ReadLog::write`).
            if row.entry.operation != MemoryAuditOperation::Get {
                self.refuse_write_in_read_only();
                return Err(invalid("a call that only reads logs only reads"));
            }
            return self.defer_read_log(row);
        }
        match self.backend() {
            Backend::Postgres => {
                // One statement: the server writes the row in a subtransaction of its own and says why it
                // could not, so a failed row does not abort the transaction. What the function raises
                // (a lost race, a cancelled statement) fails the call like any failed statement.
                let refused = sql!(self, |c| write_access_row!(Backend::Postgres, row).fetch_optional(c))?;
                match refused.flatten() {
                    None => Ok(()),
                    Some(refused) => {
                        tracing::debug!(error = %refused, "a pin's access log row could not be written");
                        Err(driver_error(DriverErrorCode::Backend, "the access log row could not be written"))
                    }
                }
            }
            Backend::Sqlite => {
                Savepoint::MemoryAudit.begin(self).await?;
                let written = sql!(self, |c| write_access_row!(Backend::Sqlite, row).fetch_optional(c));
                Savepoint::MemoryAudit.end(self, written.map(drop)).await
            }
        }
    }

    async fn fetch_access_log(
        &mut self,
        tenant_id: String,
        filter: AccessFilter,
        page: PageRequest,
    ) -> Result<AccessPage, DriverError> {
        let t = self.tenant(&tenant_id)?;
        let (since, until) = (filter.since.map(Ts::bound), filter.until.map(Ts::bound));
        let limit = cursor::fetch_limit(&page)?;
        let (statement, after) = cursor::twin(
            &page,
            statements::FETCH_ACCESS_LOG_FIRST_PAGE,
            statements::FETCH_ACCESS_LOG_NEXT_PAGE,
            cursor::time_and_integer_id,
        )?;
        let mut rows: cursor::Bounded<AccessRecord> = sql!(self, |c| {
            let query = sqlx::query_as(statement)
                .bind(&t)
                .bind(&filter.key)
                .bind(filter.operation)
                .bind(since)
                .bind(until)
                .bind(limit);
            // The next page's statement takes the cursor's position as two more parameters.
            let query = match &after {
                Some((at, id)) => query.bind(*at).bind(id),
                None => query,
            };
            cursor::collect_bounded(query.fetch(c), AccessRecord::size)
        })?;
        let next = rows.finish(&page, |r| (r.ts.0.to_string(), r.id.to_string()));
        Ok(AccessPage { items: rows.rows.into_iter().map(Into::into).collect(), next })
    }
}
