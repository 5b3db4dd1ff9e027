// `memory-pins-driver`: the per-tenant JSON key/value store and its access log. Expiry is computed here
// from the call's `now`, as on every host: a pin with `expires_at <= now` is expired.

import { DriverError, invalid, notFound } from '../errors.js';
import { countLimit, fetchLimit, decode, finish, integerId, timeKey } from '../cursor.js';
import { isJsonObject } from '../json.js';
import { access, accessSize, pin, pinSize, utf8Length } from '../rows.js';
import { addMicros, oneRequired, readBounded, scalarRequired } from './shared/statements.js';

/** How long the memory access log is kept (the platform's `cleanup-expired` sweep deletes older rows). */
export const MEMORY_AUDIT_RETENTION_DAYS = 30;
/** A pin's reads are logged at most once per this interval. */
const READ_LOG_INTERVAL_MICROS = 3_600_000_000;
const I32_MAX = 2 ** 31 - 1;

/** A pin id of a cursor, read as Rust's `str::parse::<i64>` reads it. */
function pinCursorId(text) {
  const id = /^[+-]?\d+$/.test(text) ? BigInt(text) : null;
  if (id === null || id < -(2n ** 63n) || id >= 2n ** 63n) throw invalid('the cursor is not valid for this list');
  return id;
}

export function upsertPin(call, tenantId, key, value, source, ttlSeconds) {
  const t = call.tenant(tenantId);
  if (!isJsonObject(value)) throw invalid("a pin's value must be a JSON object");
  if (ttlSeconds !== null && ttlSeconds > I32_MAX) throw invalid('ttl_seconds is out of range');
  const expiresAt = ttlSeconds === null ? null : addMicros(call.now, BigInt(ttlSeconds) * 1_000_000n);
  const row = oneRequired(call, 'memory-pins-driver/upsert-pin', t, key, value, source, call.now, ttlSeconds, expiresAt, utf8Length(value));
  return pin(row);
}

export function fetchPinStorage(call, tenantId, key) {
  const t = call.tenant(tenantId);
  const row = call.values('memory-pins-driver/fetch-pin-storage', t, key);
  if (row === null) throw notFound('tenant');
  const [plan, pins, bytes, keyBytes] = row;
  const count = (v) => (v === null || v < 0 ? 0 : v);
  return { plan, pins: count(pins), bytes: count(bytes), key_bytes: keyBytes === null ? null : count(keyBytes) };
}

export function getPin(call, tenantId, key) {
  const t = call.tenant(tenantId);
  const row = call.one('memory-pins-driver/get-pin', t, key, call.now);
  return row === null ? null : pin(row);
}

export function listPins(call, tenantId, prefix, includeExpired, page, countUpTo) {
  const t = call.tenant(tenantId);
  const limit = fetchLimit(page);
  const after = decode(page);
  // The prefix is compared literally (no LIKE, so `%` and `_` are plain characters).
  let read;
  if (after === null) {
    read = readBounded(call, 'memory-pins-driver/list-pins-first-page', [t, prefix, includeExpired, call.now, limit], pinSize);
  } else {
    const at = timeKey(after);
    const id = pinCursorId(after.id);
    read = readBounded(call, 'memory-pins-driver/list-pins-next-page', [t, prefix, includeExpired, call.now, limit, at, id], pinSize);
  }
  const next = finish(read.rows, page, (r) => [String(r.created_at), String(r.id)], read.cut);
  // A first page with no next one holds every match: it is the count, in the same snapshot.
  const total = after === null && next === null
    ? Math.min(read.rows.length, Number(countUpTo))
    : scalarRequired(call, 'memory-pins-driver/list-pins-count', t, prefix, includeExpired, call.now, countLimit(countUpTo));
  return { items: read.rows.map(pin), total, next };
}

export function deletePin(call, tenantId, key) {
  const t = call.tenant(tenantId);
  return call.execute('memory-pins-driver/delete-pin', t, key) > 0;
}

export function cleanupExpired(call, tenantId) {
  let t = null;
  if (tenantId !== null) t = call.tenant(tenantId);
  else if (!call.platform) throw new DriverError('scope_violation', 'only the platform cleans up every tenant');
  const deleted = call.execute('memory-pins-driver/cleanup-expired-pins', call.now, t);
  if (t === null) {
    // The platform's sweep also ends the access log's retention.
    const horizon = addMicros(call.now, -BigInt(MEMORY_AUDIT_RETENTION_DAYS) * 86_400_000_000n);
    call.execute('memory-pins-driver/cleanup-expired-audit', horizon);
  }
  return deleted;
}

export function writeAudit(call, entry) {
  const t = call.tenant(entry.tenant_id);
  const latencyMs = performance.now() - call.started;
  // Reads must not grow storage without bound: a read is logged once per pin and hour. Writes are bounded
  // by the pin quotas and are always logged.
  const throttled = entry.operation === 'get';
  const since = addMicros(call.now, -READ_LOG_INTERVAL_MICROS);
  call.savepoint('memory_audit', () => {
    call.execute('memory-pins-driver/write-audit', call.now, entry.operation, t, entry.key, entry.agent_id, entry.source,
      entry.cache_hit, latencyMs, entry.success, entry.error_message, entry.old_value_hash, entry.new_value_hash,
      entry.extra ?? '{}', since, throttled);
  });
}

export function fetchAccessLog(call, tenantId, filter, page) {
  const t = call.tenant(tenantId);
  const args = [t, filter.key, filter.operation, filter.since, filter.until, fetchLimit(page)];
  const after = decode(page);
  const read = after === null
    ? readBounded(call, 'memory-pins-driver/fetch-access-log-first-page', args, accessSize)
    : readBounded(call, 'memory-pins-driver/fetch-access-log-next-page', [...args, timeKey(after), integerId(after)], accessSize);
  const next = finish(read.rows, page, (r) => [String(r.ts), String(r.id)], read.cut);
  return { items: read.rows.map(access), next };
}
