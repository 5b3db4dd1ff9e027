// `tenant-driver`: tenants, plans, memberships, API keys, runs, usage and the audit log.

import { conflict, invalid, notFound } from '../errors.js';
import { decode, fetchLimit, finish, timeKey } from '../cursor.js';
import { newId, parseId } from '../ids.js';
import * as rows from '../rows.js';
import { plainBig } from '../values.js';
import { insertMembershipRow } from './shared/memberships.js';
import { oneRequired, readBounded, scalarRequired } from './shared/statements.js';

const HOUR = 3_600_000_000n;
const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

const optionalId = (text) => (text === null ? null : parseId(text));

export function fetchTenantById(call, tenantId) {
  const t = call.tenant(tenantId);
  const row = call.one('tenant-driver/fetch-tenant-by-id', t);
  return row === null ? null : rows.tenantRow(row);
}

export function fetchTenantBySlug(call, slug) {
  const row = call.one('tenant-driver/fetch-tenant-by-slug', slug);
  // Another tenant's row is invisible, not an error: looking up a slug names no tenant.
  return row === null || !call.inScope(row.id) ? null : rows.tenantRow(row);
}

export function insertTenant(call, tenant) {
  const id = newId();
  const q = tenant.quotas;
  const row = call.one('tenant-driver/insert-tenant', id, tenant.name, tenant.slug, tenant.external_org_id, tenant.plan,
    tenant.billing_email, q.max_workers, q.max_runs_per_day, q.max_concurrent_runs, q.max_tokens_per_month, q.max_api_keys, call.now);
  if (row === null) throw conflict('a tenant with this slug or external org id exists');
  call.createdTenant(id);
  return rows.tenantRow(row);
}

export function updateTenantPlan(call, tenantId, plan, quotas) {
  const t = call.tenant(tenantId);
  call.platformOnly("a tenant's plan");
  const row = call.one('tenant-driver/update-tenant-plan', t, plan, quotas.max_workers, quotas.max_runs_per_day,
    quotas.max_concurrent_runs, quotas.max_tokens_per_month, quotas.max_api_keys, call.now);
  if (row === null) throw notFound('tenant');
  return rows.tenantRow(row);
}

export function updateTenantUsage(call, tenantId, update) {
  const t = call.tenant(tenantId);
  const row = call.one('tenant-driver/update-tenant-usage', t, update.runs_today, update.runs_this_month,
    update.tokens_this_month, update.last_run_reset_at);
  if (row === null) throw notFound('tenant');
  return rows.tenantRow(row);
}

export function incrementTenantUsage(call, tenantId, runs, tokens) {
  const t = call.tenant(tenantId);
  if (runs < 0 || tokens < 0) throw invalid('usage increments must not be negative');
  const row = call.one('tenant-driver/increment-tenant-usage', t, runs, tokens, call.now);
  if (row === null) throw notFound('tenant');
  return rows.tenantRow(row);
}

export function insertMembership(call, tenantId, userId, role, setAsDefault) {
  const t = call.tenant(tenantId);
  const u = parseId(userId);
  // Customers add only themselves (creating a project); anyone else joins through an invitation.
  call.mayWriteUser(u);
  const row = insertMembershipRow(call, t, u, role, null);
  if (setAsDefault) call.execute('tenant-driver/insert-membership-set-default-tenant', u, t, call.now);
  return rows.membershipRow(row);
}

export function countActiveApiKeys(call, tenantId) {
  const t = call.tenant(tenantId);
  return scalarRequired(call, 'tenant-driver/count-active-api-keys', t, call.now);
}

export function insertApiKey(call, tenantId, key) {
  const t = call.tenant(tenantId);
  const user = optionalId(key.user_id);
  const parent = optionalId(key.parent_key_id);
  const allowedWorkers = key.allowed_workers === null || key.allowed_workers.length === 0 ? null : JSON.stringify(key.allowed_workers);
  const row = call.one('tenant-driver/insert-api-key', newId(), t, user, key.name, key.key_prefix, key.key_hash,
    JSON.stringify(key.permissions), allowedWorkers, key.rate_limit_rpm, key.max_concurrent_runs, key.expires_at, call.now, parent);
  if (row === null) throw conflict("the key hash is not unique, or the parent key is not the tenant's");
  return rows.apiKey(row);
}

export function fetchApiKeys(call, tenantId, includeRevoked, page) {
  const t = call.tenant(tenantId);
  const limit = fetchLimit(page);
  const after = decode(page);
  const found = after === null
    ? call.all('tenant-driver/fetch-api-keys-first-page', t, includeRevoked, call.now, limit)
    : call.all('tenant-driver/fetch-api-keys-next-page', t, includeRevoked, call.now, limit, timeKey(after), parseId(after.id));
  const next = finish(found, page, (r) => [String(r.created_at), r.id]);
  return { items: found.map(rows.apiKey), next };
}

export function fetchApiKeyById(call, tenantId, keyId) {
  const t = call.tenant(tenantId);
  let k;
  try {
    k = parseId(keyId);
  } catch {
    return null;
  }
  const row = call.one('tenant-driver/fetch-api-key-by-id', t, k);
  return row === null ? null : rows.apiKey(row);
}

export function updateApiKeyRevoked(call, tenantId, keyId, reason) {
  const t = call.tenant(tenantId);
  const k = parseId(keyId);
  if ([...reason].length > 255) throw invalid('the revocation reason must be at most 255 characters');
  const row = call.one('tenant-driver/update-api-key-revoked-write', t, k, call.now, reason);
  if (row !== null) {
    // What the key made goes with it, however deep.
    call.execute('tenant-driver/update-api-key-revoked-cascade', t, k, call.now, 'its parent key was revoked');
    return rows.apiKey(row);
  }
  const exists = scalarRequired(call, 'tenant-driver/update-api-key-revoked-exists', t, k);
  throw exists > 0 ? conflict('the API key is already revoked') : notFound('API key');
}

export function countRunningRuns(call, tenantId) {
  const t = call.tenant(tenantId);
  return scalarRequired(call, 'tenant-driver/count-running-runs', t);
}

export function countRunningRunsForKey(call, tenantId, apiKeyId) {
  const t = call.tenant(tenantId);
  const k = parseId(apiKeyId);
  return scalarRequired(call, 'tenant-driver/count-running-runs-for-key', t, k);
}

export function insertRun(call, tenantId, run) {
  const t = call.tenant(tenantId);
  const apiKey = optionalId(run.api_key_id);
  const user = optionalId(run.user_id);
  if (scalarRequired(call, 'tenant-driver/insert-run-count-worker', run.worker_id) === 0) {
    throw notFound(`worker '${run.worker_id}'`);
  }
  const row = oneRequired(call, 'tenant-driver/insert-run-write', newId(), t, run.worker_id, apiKey, user, run.task, run.input_json, call.now);
  return rows.run(row);
}

export function fetchRunById(call, tenantId, runId) {
  const t = call.tenant(tenantId);
  let r;
  try {
    r = parseId(runId);
  } catch {
    return null;
  }
  const row = call.one('tenant-driver/fetch-run-by-id', t, r);
  return row === null ? null : rows.run(row);
}

export function updateRunCompleted(call, tenantId, runId, outcome) {
  const t = call.tenant(tenantId);
  const r = parseId(runId);
  const status = outcome.success ? 'completed' : 'failed';
  const row = call.one('tenant-driver/update-run-completed-write', t, r, status, outcome.success, outcome.output_json,
    outcome.replay_token_json, outcome.total_tokens, outcome.total_latency_ms, outcome.stages_completed, outcome.recoveries,
    outcome.policy_violations, outcome.cost_cents, outcome.error, call.now);
  if (row !== null) return rows.run(row);
  const exists = scalarRequired(call, 'tenant-driver/update-run-completed-exists', t, r);
  throw exists > 0 ? conflict('the run already ended') : notFound('run');
}

export function fetchRuns(call, tenantId, status, workerId, page) {
  const t = call.tenant(tenantId);
  const limit = fetchLimit(page);
  const after = decode(page);
  const read = after === null
    ? readBounded(call, 'tenant-driver/fetch-runs-first-page', [t, status, workerId, limit], rows.runSize)
    : readBounded(call, 'tenant-driver/fetch-runs-next-page', [t, status, workerId, limit, timeKey(after), parseId(after.id)], rows.runSize);
  const next = finish(read.rows, page, (r) => [String(r.created_at), r.id], read.cut);
  return { items: read.rows.map(rows.run), next };
}

export function insertUsageRecord(call, tenantId, usage) {
  const t = call.tenant(tenantId);
  const apiKey = optionalId(usage.api_key_id);
  const now = BigInt(call.now);
  // The hour bucket that holds `now` (Euclidean remainder: the bucket starts at or before `now`).
  const bucket = now - (((now % HOUR) + HOUR) % HOUR);
  const row = oneRequired(call, 'tenant-driver/insert-usage-record', newId(), t, usage.meter_name, usage.amount, usage.unit,
    plainBig(bucket), plainBig(bucket + HOUR), usage.worker_id, apiKey, usage.metadata, call.now);
  return rows.usageRecord(row);
}

export function fetchUsageTotals(call, tenantId, start, end) {
  const t = call.tenant(tenantId);
  // The sum is taken in two halves (amounts are at most 10^12 each, so neither half can overflow 64 bits
  // however many records there are) and put together here, saturating as the Rust host does.
  const saturate = (v) => (v > I64_MAX ? I64_MAX : v < I64_MIN ? I64_MIN : v);
  return call.all('tenant-driver/fetch-usage-totals', t, start, end).map((r) => {
    const total = saturate(saturate(BigInt(r.millions) * 1_000_000n) + BigInt(r.units));
    return { meter_name: r.meter_name, total: plainBig(total), unit: r.unit, records: r.records };
  });
}

export function insertAuditLog(call, entry) {
  const tenant = entry.tenant_id === null ? null : call.tenant(entry.tenant_id);
  const user = optionalId(entry.user_id);
  const apiKey = optionalId(entry.api_key_id);
  // Outside a savepoint: a failed audit write fails the call, so no mutation commits without its row.
  call.execute('tenant-driver/insert-audit-log', newId(), tenant, user, apiKey, entry.actor, entry.action, entry.resource_type,
    entry.resource_id, entry.request_id, entry.old_value, entry.new_value, call.now);
}

export function fetchAuditLog(call, tenantId, filter, page) {
  const t = call.tenant(tenantId);
  const args = [t, optionalId(filter.user_id), optionalId(filter.api_key_id), filter.actor, filter.action, filter.resource_type,
    filter.resource_id, filter.since, filter.until, fetchLimit(page)];
  const after = decode(page);
  const read = after === null
    ? readBounded(call, 'tenant-driver/fetch-audit-log-first-page', args, rows.auditSize)
    : readBounded(call, 'tenant-driver/fetch-audit-log-next-page', [...args, timeKey(after), parseId(after.id)], rows.auditSize);
  const next = finish(read.rows, page, (r) => [String(r.created_at), r.id], read.cut);
  return { items: read.rows.map(rows.audit), next };
}
