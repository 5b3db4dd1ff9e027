// `tenant-lifecycle-driver`: the tenant's gate (status and what its active policy handles, in one read),
// and a status change made only from the status the engine read.

import { conflict, notFound } from '../errors.js';
import { tenantStatus, triggerNames } from '../rows.js';

export function fetchTenantStatus(call, tenantId) {
  const t = call.tenant(tenantId);
  const row = call.one('tenant-lifecycle-driver/fetch-tenant-status', t);
  if (row === null) return null;
  // The call runs the policy version it saw here (see policy-gate).
  const active = row.version !== null && row.content_hash !== null ? [row.version, row.content_hash.trim()] : null;
  call.policySeen.set(t, active);
  return { status: tenantStatus(row.status), policy_handles: triggerNames(row.handles ?? 0) };
}

export function updateLifecycleStatus(call, tenantId, fromStatus, toStatus, reason) {
  const t = call.tenant(tenantId);
  call.platformOnly("a tenant's lifecycle status");
  const changed = call.execute('tenant-lifecycle-driver/update-lifecycle-status-write', t, fromStatus, toStatus, reason, call.now);
  if (changed > 0) return fromStatus;
  if (call.one('tenant-lifecycle-driver/update-lifecycle-status-read', t) === null) throw notFound('tenant');
  throw conflict("the tenant's status changed concurrently");
}
