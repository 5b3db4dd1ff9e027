// Resolving a principal into the call's actor before the engine call, as the Rust host does
// (host/src/identity.rs): a person's internal user, an API key's tenant, scopes and restrictions. These
// reads run outside the call's transaction, through the catalogue's `identity` statements.

import { createHash } from 'node:crypto';
import { EngineError } from './errors.js';
import { Anonymous, ApiKey, Operator, Person, System } from './principals.js';

const I32_MAX = 2 ** 31 - 1;

/** Lower-case hex SHA-256, the form in which key and token secrets are stored. */
export function sha256Hex(secret) {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * The actor (a case of the contract's `actor`, plain: {kind, principal}) and the tenant of a call.
 * @returns {{actor: {kind: string, principal: object|null}, tenantId: string|null}}
 */
export function resolve(db, sql, principal, tenant, now) {
  if (principal instanceof System) return { actor: { kind: 'system', principal: null }, tenantId: tenant };
  if (principal instanceof Operator) {
    return { actor: { kind: 'operator', principal: { operator_id: principal.operatorId } }, tenantId: tenant };
  }
  // Nobody acts on no tenant (the Rust host's front door gives an anonymous caller none).
  if (principal instanceof Anonymous) return { actor: { kind: 'anonymous', principal: null }, tenantId: null };
  if (principal instanceof Person) {
    const userId = db.scalar(sql.get('identity/user-id-for-subject'), [principal.externalId]);
    const identity = {
      external_id: principal.externalId, email: principal.email, user_id: userId, name: principal.name ?? null,
      email_verified: principal.emailVerified !== false,
    };
    return { actor: { kind: 'identity', principal: identity }, tenantId: tenant };
  }
  if (principal instanceof ApiKey) {
    const key = db.one(sql.get('identity/api-key-by-hash'), [sha256Hex(principal.secret), now]);
    if (key === null) throw new EngineError('unauthenticated', 'the API key is not valid');
    if (tenant !== null && tenant !== key.tenant_id) throw new EngineError('forbidden', 'an API key acts only on its own tenant');
    return { actor: { kind: 'api_key', principal: keyPrincipal(key) }, tenantId: key.tenant_id };
  }
  throw new TypeError(`not a principal: ${principal}`);
}

// Whatever cannot be read back fails closed: broken scopes grant nothing, a broken worker list allows no
// worker, a limit out of range is the tightest.
function keyPrincipal(key) {
  const strings = (text) => {
    try {
      const value = text ? JSON.parse(text) : [];
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : [];
    } catch {
      return [];
    }
  };
  const rpm = key.rate_limit_rpm;
  return {
    key_id: key.id,
    scopes: strings(key.permissions_json),
    created_by: key.user_id,
    creator_role: key.creator_role,
    allowed_workers: key.allowed_workers_json === null ? null : strings(key.allowed_workers_json),
    max_concurrent_runs: key.max_concurrent_runs === null ? null : Math.max(0, key.max_concurrent_runs),
    rate_limit_rpm: rpm === null ? null : Math.min(Math.max(rpm, 1), I32_MAX),
    expires_at: key.expires_at,
  };
}
