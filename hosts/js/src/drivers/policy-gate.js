// `policy-gate` without a policy runtime (as the Python host): this host runs no tenant policy components.
// A tenant without an active policy is allowed (version 0: no policy ran); a tenant with one is refused
// `unavailable` and the call rolls back (fail closed), as the Rust host answers when it is configured
// without its policy runtime (host/src/policy/policy_gate.rs with `policies: None`). Every error of
// `consult` also dooms the call on the host side, whatever the engine answers next.

import { DriverError, EngineError } from '../errors.js';

const NO_RUNTIME = 'this host runs no tenant policies';

export function consult(call, tenantId, actor, event) {
  try {
    const tenant = policyTenant(call, tenantId);
    const active = call.policySeen.has(tenant) ? call.policySeen.get(tenant) : readActivePolicy(call, tenant);
    if (active === null) return { version: 0, verdict: 'allow' };
    throw new EngineError('unavailable', NO_RUNTIME);
  } catch (error) {
    if (error instanceof EngineError) call.doom(error.code, error.message);
    throw error;
  }
}

export function inspect(_call, _component) {
  throw new EngineError('unavailable', NO_RUNTIME);
}

export function dryRun(call, tenantId, version, _actor, _event) {
  const tenant = policyTenant(call, tenantId);
  let stored;
  try {
    stored = call.values('policy-gate/stored-hash', tenant, version);
  } catch (error) {
    throw driverFailure(error);
  }
  if (stored === null) throw new EngineError('not_found', `the tenant has no policy version ${version}`);
  throw new EngineError('unavailable', NO_RUNTIME);
}

/** The tenant whose policy the engine asks for: one of the call's scope, or the call is refused. */
function policyTenant(call, tenantId) {
  try {
    return call.tenant(tenantId);
  } catch (error) {
    if (error instanceof DriverError) throw new EngineError('forbidden', error.message);
    throw error;
  }
}

/** The tenant's active version and content hash, remembered for the call (the call runs what it saw). */
function readActivePolicy(call, tenant) {
  let row;
  try {
    row = call.one('policy-gate/active-version', tenant);
  } catch (error) {
    throw driverFailure(error);
  }
  const active = row === null ? null : [row.version, row.content_hash.trim()];
  call.policySeen.set(tenant, active);
  return active;
}

function driverFailure(error) {
  if (error instanceof DriverError) return new EngineError('unavailable', `the policy could not be read: ${error.message}`);
  return error;
}
