// The component's imports: one driver module of this package per imported interface (src/drivers/, named
// like the WIT interface), one function per imported function (named like the WIT function, camelCase).
// Checked when the engine opens against the types file: a function the component imports that this host
// does not implement fails loudly there, not at the first call that needs it; so does a driver function
// the contract does not have (a misspelt name).
//
// Every function is wrapped: jco's arguments become plain values, the driver's plain answer becomes jco's,
// a DriverError (or EngineError, for `policy-gate`) becomes the `err` case of the function's result. Any
// other exception is a host failure: it propagates through the guest as a trap, the call rolls back and
// the instance is replaced.

import { DriverError, EngineError } from './errors.js';
import * as random from './random.js';
import { Signature, camel, codec } from './values.js';
import * as accountsFacadeDriver from './drivers/accounts-facade-driver.js';
import * as memoryPinsDriver from './drivers/memory-pins-driver.js';
import * as onboardingDriver from './drivers/onboarding-driver.js';
import * as policyDriver from './drivers/policy-driver.js';
import * as policyGate from './drivers/policy-gate.js';
import * as tenantDriver from './drivers/tenant-driver.js';
import * as tenantLifecycleDriver from './drivers/tenant-lifecycle-driver.js';
import * as userWriteDriver from './drivers/user-write-driver.js';

/** The implementation of each imported interface, by its name without version. */
export const IMPLEMENTATIONS = {
  'aos:accounts/accounts-facade-driver': accountsFacadeDriver,
  'aos:accounts/memory-pins-driver': memoryPinsDriver,
  'aos:accounts/onboarding-driver': onboardingDriver,
  'aos:accounts/policy-driver': policyDriver,
  'aos:accounts/policy-gate': policyGate,
  'aos:accounts/tenant-driver': tenantDriver,
  'aos:accounts/tenant-lifecycle-driver': tenantLifecycleDriver,
  'aos:accounts/user-write-driver': userWriteDriver,
  'wasi:random/random': random,
};

/**
 * The import object of the component.
 * @param {object} types the types file's `imports`
 * @param {() => import('./call.js').CallState|null} currentCall the call in progress
 */
export function link(types, currentCall) {
  const imports = {};
  for (const [name, functions] of Object.entries(types)) {
    const unversioned = name.split('@')[0];
    const entries = Object.entries(functions);
    const module = IMPLEMENTATIONS[unversioned];
    if (entries.length > 0 && module === undefined) throw new Error(`${name}: this host implements no such interface`);
    const implemented = {};
    for (const [fn, type] of entries) {
      const implementation = module[camel(fn)];
      if (typeof implementation !== 'function') throw new Error(`${name}: this host does not implement ${fn}`);
      implemented[camel(fn)] = wrap(implementation, new Signature(type), currentCall, `${name}#${fn}`);
    }
    if (module !== undefined) {
      const known = new Set(entries.map(([fn]) => camel(fn)));
      const extra = Object.keys(module).filter((k) => typeof module[k] === 'function' && !known.has(k));
      if (extra.length > 0) throw new Error(`${name}: the contract has no function ${extra.join(', ')}`);
    }
    // jco 1.35's generated code reads the unversioned name; its .d.ts names the versioned one.
    imports[name] = implemented;
    imports[unversioned] = implemented;
  }
  return imports;
}

function wrap(implementation, signature, currentCall, where) {
  const returnsResult = signature.resultType !== null && typeof signature.resultType === 'object' && 'result' in signature.resultType;
  const okCodec = returnsResult && signature.resultType.result.ok !== null ? codec(signature.resultType.result.ok) : null;
  const errCodec = returnsResult && signature.resultType.result.err !== null ? codec(signature.resultType.result.err) : null;
  return (...args) => {
    const call = currentCall();
    if (call === null) throw new Error(`${where} was called outside an engine call`);
    try {
      const plain = signature.params.map((p, i) => p.codec.fromJco(args[i]));
      let value;
      try {
        value = implementation(call, ...plain);
      } catch (error) {
        if (returnsResult && (error instanceof DriverError || error instanceof EngineError)) {
          return { tag: 'err', val: errCodec.toJco({ code: error.code, message: error.message }) };
        }
        throw error;
      }
      if (returnsResult) return { tag: 'ok', val: okCodec === null ? undefined : okCodec.toJco(value) };
      return signature.result === null ? undefined : signature.result.toJco(value);
    } catch (error) {
      // Recorded so that the instance is replaced even if the exception were somehow not to surface.
      if (call.hostFailure === null) call.hostFailure = error;
      throw error;
    }
  };
}
