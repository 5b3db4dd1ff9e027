// Engine calls as one principal on one tenant, in two styles:
//   session.call('memory-pins', 'upsert-pin', {key, value})   the JSON convention, untranslated (snake_case)
//   session.memoryPins.upsertPin({key, value, ttlSeconds})     the JavaScript API (camelCase fields)
// Both run the same call (engine.js); the second renames record fields by the contract's types
// (naming.js). Calls are synchronous, like better-sqlite3's.

import { EngineError } from './errors.js';
import { toCamel, toSnake } from './naming.js';
import { camel } from './values.js';

export class Session {
  constructor(engine, principal, tenant) {
    this.engine = engine;
    this.principal = principal;
    this.tenant = tenant;
    const interfaces = new Set([...engine.operations.values()].map((op) => op.interfaceName));
    for (const name of interfaces) {
      Object.defineProperty(this, camel(name), { value: interfaceApi(this, name), enumerable: true });
    }
  }

  /** Runs `interface.operation` (WIT names; `_` or `-`) with arguments and result in the JSON convention. */
  call(interfaceName, operationName, args = {}) {
    return this.engine.call(this.principal, this.tenant, interfaceName, operationName, args);
  }
}

/** `session.memoryPins`: one method per operation of the interface, camelCase in and out. */
function interfaceApi(session, interfaceName) {
  const api = {};
  for (const op of session.engine.operations.values()) {
    if (op.interfaceName !== interfaceName) continue;
    const params = new Map(op.signature.params.slice(1).map((p) => [camel(p.name), p]));
    api[op.functionName] = (args = {}) => {
      if (args === null || typeof args !== 'object' || Array.isArray(args)) {
        throw new EngineError('invalid_argument', 'the arguments must be an object');
      }
      const plain = {};
      for (const [key, value] of Object.entries(args)) {
        const param = params.get(key);
        if (param === undefined) throw new EngineError('invalid_argument', `unknown argument '${key}'`);
        plain[param.plain] = toSnake(param.type, value, key);
      }
      return toCamel(op.okType, session.call(interfaceName, op.name, plain));
    };
  }
  return Object.freeze(api);
}

