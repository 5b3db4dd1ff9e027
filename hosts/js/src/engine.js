// The account engine component in Node.js: loading it (transpiled by jco at build time), implementing its
// imports with this package's drivers, and running one engine call in one transaction.
//
// The rules are the Rust host's (host/src/runtime.rs): the call context (actor, tenant, now) comes from the
// host, never from arguments; a call commits only when the engine answered `ok` and nothing went wrong on
// the host (no scope violation, no failed statement outside a savepoint, no trap, no doomed policy call);
// anything else rolls back, so a refused call writes nothing.
//
// Instances: one instance serves call after call, and is replaced after any trap or host exception during
// a call (README.md, "Instance isolation"). A call is synchronous from start to end (better-sqlite3 and
// the guest are), so calls never interleave on the instance or the connection.

import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CallState } from './call.js';
import { Catalogue } from './catalogue.js';
import { Component } from './component.js';
import { Database } from './database.js';
import { EngineError } from './errors.js';
import * as identity from './identity.js';
import { link } from './linker.js';
import { Session } from './session.js';
import { Signature, ValueError, codec, kebab } from './values.js';

export const PACKAGE = 'aos:accounts';
export const VERSION = '0.5.0';
/** The engine interfaces the component exports. */
export const INTERFACES = ['accounts', 'tenants', 'memory-pins', 'onboarding', 'lifecycle', 'policies'];
/** How often a call that lost a race for the database runs again before it is refused `unavailable`. */
const MAX_ATTEMPTS = 3;
/** The page size of a call that names none (the Rust host's DEFAULT_PAGE_LIMIT). */
const DEFAULT_PAGE_LIMIT = 50;

const DATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'data');

/** Host configuration the engine needs with every call (`engine-settings`). */
export const DEFAULT_SETTINGS = Object.freeze({
  memoryPinsEnabled: true,
  supportEmail: 'support@example.com',
  supportHours: '24/7',
  supportResponseTime: 'Within 24 hours',
  maxOwnedTenantsPerUser: 10,
});

/** Microseconds since the Unix epoch, from the wall clock. */
function wallClock() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** The engine over one SQLite database. */
export class Engine {
  /**
   * Opens (creating and migrating) a SQLite database and loads the engine.
   * @param {string} path a file, or ':memory:'
   * @param {{settings?: object, clock?: () => number|bigint, dataDir?: string, instancePerCall?: boolean}} [options]
   */
  static async open(path = 'accounts.db', options = {}) {
    const dataDir = options.dataDir ?? DATA;
    const component = await Component.load(dataDir);
    const db = new Database(path, join(dataDir, 'migrations'));
    try {
      return new Engine(db, new Catalogue(join(dataDir, 'sql'), 'sqlite'), component, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  constructor(db, sql, component, { settings = {}, clock = wallClock, instancePerCall = false } = {}) {
    this.db = db;
    this.sql = sql;
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
    this.clock = clock;
    /** A fresh instance for every call, as the Rust host does (about 4–6 ms more per call). */
    this.instancePerCall = instancePerCall;
    this.component = component;
    /** @type {CallState|null} the call in progress (what the imports act for) */
    this.current = null;
    this.imports = link(component.types.imports, () => this.current);
    this.operations = readOperations(component.types.exports);
    /** How many instances this engine has made (the first, and one after each trap). */
    this.instantiations = 0;
    this.closed = false;
    /** The instance calls run on; null: make one at the next call. Made now, so that a broken component
     *  fails when the engine opens, not at its first call. */
    this.instance = this.instantiate();
  }

  // --- the public surface -----------------------------------------------------------------------------

  /** Calls made as `principal` on `tenant` (for an API key, the key's own tenant). */
  actingAs(principal, { tenant = null } = {}) {
    return new Session(this, principal, tenant);
  }

  /** Every engine operation (`interface/operation`, WIT names) with its parameter names (JSON convention). */
  listOperations() {
    return Object.fromEntries([...this.operations].map(([name, op]) => [name, op.signature.params.slice(1).map((p) => p.plain)]));
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.instance = null;
    this.db.close();
  }

  // --- one call ---------------------------------------------------------------------------------------

  /**
   * Runs `interface.operation` with arguments in the JSON convention; its `ok` value in the JSON
   * convention, or throws EngineError.
   */
  call(principal, tenant, interfaceName, operationName, args) {
    if (this.closed) throw new EngineError('unavailable', 'the engine is closed');
    if (this.current !== null) throw new Error('an engine call cannot be made from inside another');
    const op = this.operations.get(`${kebab(String(interfaceName))}/${kebab(String(operationName))}`);
    if (op === undefined) throw new EngineError('not_found', `no operation ${interfaceName}.${operationName}`);
    const params = this.lowerArguments(op, args ?? {});
    // Arguments are bounded before the guest sees them, and a call with large ones gets an instance of its
    // own: the reused instance's memory only grows, and must not keep what one caller made it allocate.
    const weight = argumentBytes(args ?? {});
    if (weight > MAX_ARGUMENT_BYTES) {
      throw new EngineError('invalid_argument', `the arguments are ${weight} bytes; at most ${MAX_ARGUMENT_BYTES} are accepted`);
    }
    const large = weight > LARGE_ARGUMENT_BYTES;
    if (large) this.instance = null;
    const resolved = this.resolve(principal, tenant ?? null);
    for (let attempt = 1; ; attempt++) {
      const state = new CallState(this.db, this.sql, resolved.actor, resolved.tenantId, this.clock());
      const outcome = this.run(op, state, params, large);
      const settled = this.settle(state, outcome, attempt < MAX_ATTEMPTS);
      if (settled !== RETRY) return settled;
    }
  }

  /** The caller's actor and tenant, resolved before the call (outside its transaction). */
  resolve(principal, tenant) {
    try {
      return identity.resolve(this.db, this.sql, principal, tenant, this.clock());
    } catch (error) {
      if (error?.name !== 'SqliteError') throw error;
      throw Object.assign(new EngineError('unavailable', 'the credential could not be checked; nothing was done, try again'), { cause: error });
    }
  }

  /** The operation's parameters after the context, as jco values (the context is added per attempt). */
  lowerArguments(op, args) {
    if (typeof args !== 'object' || Array.isArray(args)) throw new EngineError('invalid_argument', 'the arguments must be an object');
    const params = op.signature.params.slice(1);
    for (const key of Object.keys(args)) {
      if (!params.some((p) => p.plain === key)) throw new EngineError('invalid_argument', `unknown argument '${key}'`);
    }
    return params.map((p) => {
      let value = args[p.plain];
      if (value === null || value === undefined) value = defaultArgument(p);
      try {
        return p.codec.toJco(value);
      } catch (error) {
        if (error instanceof ValueError) throw new EngineError('invalid_argument', `${p.plain}: ${error.message}`);
        throw error;
      }
    });
  }

  /** One attempt on the current instance: {kind: 'ok'|'err', value} or {kind: 'trap', error}. `large`:
   *  the instance is dropped after it (see `call`). */
  run(op, state, params, large = false) {
    const instance = this.instance ?? (this.instance = this.instantiate());
    const context = op.signature.params[0].codec.toJco(this.context(state));
    this.current = state;
    try {
      const value = instance[op.exportName][op.functionName](context, ...params);
      if (state.hostFailure !== null) throw state.hostFailure;
      return { kind: 'ok', value: op.ok === null ? null : op.ok.fromJco(value) };
    } catch (error) {
      if (state.hostFailure === null && isEngineAnswer(error)) {
        const { code, message } = op.err.fromJco(error.payload);
        return { kind: 'err', value: { code, message } };
      }
      // A trap (or a host exception through the guest): this instance is never used again.
      this.instance = null;
      return { kind: 'trap', error };
    } finally {
      this.current = null;
      if (this.instancePerCall || large) this.instance = null;
    }
  }

  /** Commits or rolls back the attempt, and says what the caller gets (Rust: `settle_attempt`). */
  settle(state, outcome, mayRetry) {
    // Unconditional: `db.rollback` checks for an open transaction, and none may outlive its call.
    const rollback = () => this.db.rollback();
    if (state.violation !== null) {
      rollback();
      throw new EngineError('forbidden', "the engine touched data outside the caller's tenant; nothing was written");
    }
    if (state.lostRace) {
      rollback();
      if (mayRetry) return RETRY;
      throw new EngineError('unavailable', 'too much contention; try again');
    }
    if (state.doomed !== null) {
      // The tenant's policy said no, or could not be run: fail closed, whatever the engine answered.
      rollback();
      throw new EngineError(state.doomed.code, state.doomed.message);
    }
    if (outcome.kind === 'trap') {
      rollback();
      throw Object.assign(new EngineError('internal', 'the engine failed; nothing was written'), { cause: outcome.error });
    }
    if (outcome.kind === 'err') {
      rollback();
      throw new EngineError(outcome.value.code, outcome.value.message);
    }
    if (state.failed) {
      rollback();
      throw new EngineError('internal', 'a database statement failed; nothing was written');
    }
    if (state.began) {
      try {
        this.db.commit();
      } catch (error) {
        rollback();
        throw Object.assign(new EngineError('unavailable', 'the database could not commit; nothing was written'), { cause: error });
      }
    }
    return outcome.value;
  }

  /** The call context (`call-context`) in the JSON convention. */
  context(state) {
    const s = this.settings;
    return {
      actor: state.actor.principal === null ? state.actor.kind : { [state.actor.kind]: state.actor.principal },
      tenant_id: state.tenantId,
      request_id: randomUUID(),
      now: state.now,
      settings: {
        memory_pins_enabled: s.memoryPinsEnabled,
        support_email: s.supportEmail,
        support_hours: s.supportHours,
        support_response_time: s.supportResponseTime,
        max_owned_tenants_per_user: s.maxOwnedTenantsPerUser,
      },
    };
  }

  instantiate() {
    const instance = this.component.instantiate(this.imports);
    this.instantiations += 1;
    return instance;
  }
}

const RETRY = Symbol('retry');

/** The most argument bytes (text and binary) one call accepts: a pin's value is at most 1 MiB, a policy
 *  component 1 MiB by default. */
export const MAX_ARGUMENT_BYTES = 4 << 20;
/** Above this, the call runs on an instance of its own (dropped after it). */
const LARGE_ARGUMENT_BYTES = 256 << 10;

/** The length of a value's text and binary data: bytes, and UTF-16 units of strings (the guest gets at most
 *  three bytes of UTF-8 for each, so this bounds what it allocates within a factor of three). */
function argumentBytes(value) {
  if (typeof value === 'string') return value.length;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum, v) => sum + argumentBytes(v), 0);
  if (value !== null && typeof value === 'object') return Object.values(value).reduce((sum, v) => sum + argumentBytes(v), 0);
  return 0;
}

/** jco throws an export's `err` as a ComponentError carrying the value as its own `payload`. */
function isEngineAnswer(error) {
  return error instanceof Error && Object.prototype.hasOwnProperty.call(error, 'payload');
}

/** What a missing argument means (as in the Rust host's JSON calls): `false`, the first page. */
function defaultArgument(param) {
  if (param.type === 'bool') return false;
  if (param.plain === 'page' && typeof param.type === 'object' && 'record' in param.type) return { limit: DEFAULT_PAGE_LIMIT };
  return null;
}

/** Every exported operation, by `interface/operation` (WIT names). */
function readOperations(exports) {
  const operations = new Map();
  for (const name of INTERFACES) {
    const exportName = `${PACKAGE}/${name}@${VERSION}`;
    const functions = exports[exportName];
    if (functions === undefined) throw new Error(`the component does not export ${exportName}`);
    for (const [fn, type] of Object.entries(functions)) {
      const signature = new Signature(type);
      const result = type.result?.result;
      if (result === undefined || signature.params[0]?.name !== 'ctx') throw new Error(`${exportName}#${fn} is not an engine operation`);
      operations.set(`${name}/${fn}`, {
        interfaceName: name,
        name: fn,
        exportName,
        functionName: fn.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase()),
        signature,
        ok: result.ok === null ? null : codec(result.ok),
        okType: result.ok,
        err: codec(result.err),
      });
    }
  }
  return operations;
}

