// Rows of the catalogue's column lists (hosts/sql/fragments.sql) as the contract's records, in plain form:
// one function per row kind, as the Rust host's host/src/db/rows/. SQLite keeps booleans as 0/1, times
// as integer microseconds, enums as their snake_case names (the plain form's names too).

import { DriverError } from './errors.js';

/** The policy triggers in the order of their bits in `policy_versions.handles` (host/src/policy/mod.rs). */
export const TRIGGERS = ['invite_user', 'accept_invitation', 'change_role', 'remove_member', 'create_api_key', 'write_pin', 'file_ticket'];
export const ONBOARDING_STATES = ['created', 'identity_verified', 'api_key_created', 'sdk_connected', 'complete'];

/** The trigger names of stored bits (unknown bits are ignored). */
export function triggerNames(bits) {
  return TRIGGERS.filter((_, i) => (Number(bits) & (1 << i)) !== 0);
}

/** The stored bits of a list of trigger names. */
export function triggerBits(names) {
  return TRIGGERS.reduce((bits, name, i) => (names.includes(name) ? bits | (1 << i) : bits), 0);
}

export function onboardingState(step) {
  const state = ONBOARDING_STATES[step];
  if (state === undefined) throw new DriverError('backend', `stored onboarding state ${step} is not one of 0..=4`);
  return state;
}

export function onboardingStep(state) {
  return ONBOARDING_STATES.indexOf(state);
}

/** Rows written by the seed say `churned` for what the contract calls `terminated`. */
export function tenantStatus(text) {
  return text === 'churned' ? 'terminated' : text;
}

const bool = (v) => (v === null || v === undefined ? null : Boolean(v));
const pick = (row, names) => Object.fromEntries(names.map((n) => [n, row[n]]));

function quotas(r) {
  return pick(r, ['max_workers', 'max_runs_per_day', 'max_concurrent_runs', 'max_tokens_per_month', 'max_api_keys']);
}

function usage(r) {
  return pick(r, ['runs_today', 'runs_this_month', 'tokens_this_month', 'last_run_reset_at']);
}

export function tenantRow(r) {
  return {
    id: r.id, name: r.name, slug: r.slug, description: r.description, external_org_id: r.clerk_org_id, plan: r.plan,
    billing_email: r.billing_email, stripe_customer_id: r.stripe_customer_id, quotas: quotas(r), usage: usage(r),
    status: tenantStatus(r.status), suspended_reason: r.suspended_reason, onboarding_state: onboardingState(r.onboarding_state),
    is_synthetic: Boolean(r.is_synthetic), created_at: r.created_at, updated_at: r.updated_at,
  };
}

export function tenantSnapshot(r) {
  return {
    id: r.id, name: r.name, slug: r.slug, status: tenantStatus(r.status), plan: r.plan,
    created_at: r.created_at, updated_at: r.updated_at,
  };
}

export function tenantDetail(r) {
  return {
    ...tenantSnapshot(r), description: r.description, quotas: quotas(r), usage: usage(r),
    onboarding_state: onboardingState(r.onboarding_state), onboarding_complete: r.onboarding_state >= 4,
  };
}

export function userRow(u) {
  return {
    id: u.id, external_id: u.clerk_user_id, email: u.email, name: u.name, avatar_url: u.avatar_url,
    default_tenant_id: u.default_tenant_id, status: u.status, oauth_provider: u.oauth_provider,
    email_verified: Boolean(u.email_verified), preferences: u.preferences_json, created_at: u.created_at,
    updated_at: u.updated_at, last_login_at: u.last_login_at,
  };
}

/** A member (member-columns) as a `user-snapshot`. */
export function userSnapshot(m) {
  return pick(m, ['id', 'email', 'name', 'status', 'role', 'created_at', 'last_login_at']);
}

/** A member (member-columns) as a `user-detail-snapshot`. */
export function userDetail(m) {
  return {
    id: m.id, email: m.email, name: m.name, avatar_url: m.avatar_url, status: m.status, role: m.role,
    email_verified: Boolean(m.email_verified), oauth_provider: m.oauth_provider,
    membership_created_at: m.membership_created_at, invited_by: m.invited_by, created_at: m.created_at,
    updated_at: m.updated_at, last_login_at: m.last_login_at,
  };
}

/** A member (member-columns) as a `membership-snapshot`. */
export function membershipSnapshot(m) {
  return {
    membership_id: m.membership_id, user_id: m.id, email: m.email, name: m.name, role: m.role,
    created_at: m.membership_created_at,
  };
}

export function membershipRow(m) {
  return pick(m, ['id', 'tenant_id', 'user_id', 'role', 'invited_by', 'created_at']);
}

export function invitation(i) {
  return pick(i, ['id', 'tenant_id', 'email', 'role', 'status', 'invited_by', 'created_at', 'expires_at', 'accepted_at']);
}

export function ticket(t) {
  return pick(t, ['id', 'tenant_id', 'user_id', 'subject', 'description', 'category', 'priority', 'status', 'resolution',
    'created_at', 'updated_at', 'resolved_at']);
}

export function subscription(s) {
  return pick(s, ['plan', 'status', 'billing_period', 'current_period_start', 'current_period_end']);
}

/** A JSON list of strings, or null when the text is not one (serde_json's `Vec<String>`). */
function jsonStrings(text) {
  try {
    const value = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
  } catch {
    return null;
  }
}

export function apiKey(k) {
  return {
    id: k.id, tenant_id: k.tenant_id, user_id: k.user_id, name: k.name, key_prefix: k.key_prefix, status: k.status,
    permissions: jsonStrings(k.permissions_json) ?? [],
    allowed_workers: k.allowed_workers_json === null ? null : jsonStrings(k.allowed_workers_json),
    rate_limit_rpm: k.rate_limit_rpm, max_concurrent_runs: k.max_concurrent_runs, expires_at: k.expires_at,
    revoked_at: k.revoked_at, revoked_reason: k.revoked_reason, last_used_at: k.last_used_at,
    total_requests: k.total_requests, created_at: k.created_at,
  };
}

export function run(r) {
  return {
    ...pick(r, ['id', 'tenant_id', 'worker_id', 'api_key_id', 'user_id', 'task', 'input_json', 'status']),
    success: bool(r.success),
    ...pick(r, ['error', 'output_json', 'replay_token_json', 'total_tokens', 'total_latency_ms', 'stages_completed',
      'recoveries', 'policy_violations', 'cost_cents', 'created_at', 'completed_at']),
  };
}

/** What a run weighs in a page (UTF-8 bytes of its texts, as Rust's `String::len`). */
export function runSize(r) {
  return ['task', 'input_json', 'output_json', 'replay_token_json', 'error'].reduce((n, k) => n + utf8Length(r[k]), 0);
}

export function audit(r) {
  return {
    ...pick(r, ['id', 'user_id', 'api_key_id', 'actor', 'action', 'resource_type', 'resource_id', 'request_id']),
    old_value: r.old_value_json, new_value: r.new_value_json, created_at: r.created_at,
  };
}

export function auditSize(r) {
  return ['action', 'resource_type', 'actor', 'resource_id', 'old_value_json', 'new_value_json'].reduce((n, k) => n + utf8Length(r[k]), 0);
}

export function usageRecord(u) {
  return {
    ...pick(u, ['id', 'tenant_id', 'meter_name', 'amount', 'unit', 'period_start', 'period_end', 'worker_id', 'api_key_id']),
    metadata: u.metadata_json, recorded_at: u.recorded_at,
  };
}

export function access(r) {
  return {
    ...pick(r, ['id']), at: r.ts,
    ...pick(r, ['operation', 'key', 'agent_id', 'source', 'latency_ms', 'old_value_hash', 'new_value_hash']),
  };
}

export function accessSize(r) {
  return ['key', 'agent_id', 'source'].reduce((n, k) => n + utf8Length(r[k]), 0) + 128;
}

export function pin(p) {
  return pick(p, ['id', 'tenant_id', 'key', 'value', 'source', 'created_at', 'updated_at', 'ttl_seconds', 'expires_at']);
}

/** What a pin weighs in a page. */
export function pinSize(p) {
  return utf8Length(p.value) + utf8Length(p.key) + utf8Length(p.source);
}

export function utf8Length(text) {
  return text === null || text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}
