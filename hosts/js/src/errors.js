// The two errors of this package: what an engine call answers instead of a result (EngineError, with the
// engine's stable snake_case code), and what a driver function answers instead of its result
// (DriverError, the contract's `driver-error`, whose message never carries SQL).

/** An engine call's error: `code` is the engine's stable code (`forbidden`, `not_found`, …). */
export class EngineError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** What a driver function answers instead of a result (`driver-error`). */
export class DriverError extends Error {
  /** @param {'not_found'|'conflict'|'invalid'|'scope_violation'|'unavailable'|'backend'} code */
  constructor(code, message) {
    super(message);
    this.name = 'DriverError';
    this.code = code;
  }
}

export const notFound = (what) => new DriverError('not_found', `${what} not found`);
export const conflict = (message) => new DriverError('conflict', message);
export const invalid = (message) => new DriverError('invalid', message);
