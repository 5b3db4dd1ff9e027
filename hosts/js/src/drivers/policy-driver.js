// `policy-driver`: a tenant's policy versions and which one is active. Version numbers come from the
// tenant's `policy_state.last_version` and are never reused. (This host runs no policies, so there are no
// counts pending in memory to add to the stored ones, unlike the Rust host.)

import { notFound } from '../errors.js';
import { parseId } from '../ids.js';
import { TRIGGERS, triggerBits, triggerNames } from '../rows.js';
import { kebab } from '../values.js';
import { scalarRequired } from './shared/statements.js';

export function insertPolicyVersion(call, tenantId, row) {
  const t = call.tenant(tenantId);
  const createdBy = row.created_by === null ? null : parseId(row.created_by);
  const version = scalarRequired(call, 'policy-driver/insert-policy-version-next-number', t);
  call.execute('policy-driver/insert-policy-version-write', t, version, row.content_hash, row.component, row.size_bytes,
    triggerBits(row.handles), row.config, row.note, createdBy, call.now);
  return version;
}

export function fetchPolicyVersions(call, tenantId) {
  const t = call.tenant(tenantId);
  return call.all('policy-driver/fetch-policy-versions', t).map((r) => ({
    version: r.version, content_hash: r.content_hash.trim(), size_bytes: r.size_bytes, handles: triggerNames(r.handles),
    config: r.config, note: r.note, created_by: r.created_by, created_at: r.created_at,
    calls: r.calls, denials: r.denials, failures: r.failures,
  }));
}

export function fetchPolicyState(call, tenantId) {
  const t = call.tenant(tenantId);
  const r = call.one('policy-driver/fetch-policy-state', t) ?? {};
  // Failures are stored with the trigger's stable (kebab-case) name.
  const trigger = TRIGGERS.find((name) => kebab(name) === r.failure_trigger);
  const complete = r.failure_version != null && trigger !== undefined && r.failure_message != null && r.failure_at != null;
  return {
    active_version: r.active_version ?? null,
    previous_version: r.previous_version ?? null,
    changed_by: r.changed_by ?? null,
    reason: r.reason ?? null,
    changed_at: r.changed_at ?? null,
    last_failure: complete ? { version: r.failure_version, trigger, message: r.failure_message, at: r.failure_at } : null,
  };
}

export function setActivePolicy(call, tenantId, version, changedBy, reason, rememberPrevious) {
  const t = call.tenant(tenantId);
  if (version !== null && call.values('policy-driver/set-active-policy-check-version', t, version) === null) {
    throw notFound(`the tenant has no policy version ${version}`);
  }
  call.execute('policy-driver/set-active-policy-write', t, version, changedBy, reason, call.now, rememberPrevious);
}

export function deletePolicyVersion(call, tenantId, version) {
  const t = call.tenant(tenantId);
  const deleted = call.execute('policy-driver/delete-policy-version-write', t, version);
  if (deleted > 0) call.execute('policy-driver/delete-policy-version-forget-previous', t, version);
  return deleted > 0;
}
