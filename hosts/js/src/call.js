// One engine call on the host side: its transaction, its scope, and what the host must know when it ends.
//
// This is the host's security boundary, as in the Rust host (host/src/call.rs): the engine names tenants
// and users in its driver calls, and the host lets a call touch only the tenant of its credential (or what
// the call itself created), only the caller's own user row, and platform columns only for operators and
// the system. A refused touch is a `scope-violation` for the engine and fails the whole call as
// `forbidden`, whatever the engine answers.

import { DriverError } from './errors.js';
import { canonicalId, parseId } from './ids.js';

/** SQLite's codes of a statement that lost a race for the database (Rust: `is_retryable`). */
const RETRYABLE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT']);

export class CallState {
  /**
   * @param {import('./database.js').Database} db
   * @param {import('./catalogue.js').Catalogue} sql
   * @param {{kind: string, principal: object|null}} actor the resolved actor (identity.js)
   * @param {string|null} tenantId the call's tenant
   * @param {number|bigint} now the call's one "now", microseconds
   */
  constructor(db, sql, actor, tenantId, now) {
    this.db = db;
    this.sql = sql;
    this.now = now;
    this.actor = actor;
    this.tenantId = tenantId;
    /** When the host began the call (the memory audit's latency). */
    this.started = performance.now();
    this.platform = actor.kind === 'operator' || actor.kind === 'system';
    this.tenantScope = this.platform || tenantId === null ? null : canonicalId(tenantId);
    /** @type {string[]} tenants the call created (in scope for the rest of the call) */
    this.createdTenants = [];
    /** The person behind the call: [internal user id or null, identity-provider subject]. */
    this.identity = actor.kind === 'identity' ? [canonicalId(actor.principal.user_id), actor.principal.external_id] : null;
    /** The first scope violation, if the guest attempted one. */
    this.violation = null;
    /** A statement failed outside a savepoint: the call must not commit; later statements are refused. */
    this.failed = false;
    /** A statement lost a race for the database: the whole call may run again. */
    this.lostRace = false;
    this.savepoints = 0;
    /** A tenant policy denied or failed: the call ends with this error ({code, message}) and rolls back. */
    this.doomed = null;
    /** Each tenant's active policy version as this call's lifecycle check read it: id → [version, hash] | null. */
    this.policySeen = new Map();
    this.began = false;
    /** A host exception inside an import (a driver's bug, a value that does not fit its type): the call
     *  traps, and the instance it ran on is replaced. */
    this.hostFailure = null;
  }

  // --- statements -------------------------------------------------------------------------------------

  /** Runs `work` (statements of this call's transaction, begun on first use); a database failure becomes
   *  a DriverError and, outside a savepoint, marks the call failed. */
  guard(work) {
    if (this.failed) {
      throw new DriverError('backend', 'an earlier statement of this call failed; its transaction will be rolled back');
    }
    try {
      if (!this.began) {
        this.db.begin();
        this.began = true;
      }
      return work();
    } catch (error) {
      throw this.fail(error);
    }
  }

  /** Records what a database failure means for the call and maps it for the guest (Rust: `from_sqlx`). */
  fail(error) {
    if (error instanceof DriverError) return error;
    const code = error?.code;
    const isSqlite = error?.name === 'SqliteError';
    // better-sqlite3 refuses a string, blob or BigInt too big to bind (sqlx: an encode error); any other
    // exception here is a host bug, and the call traps.
    const tooBig = error instanceof RangeError && /too big/.test(error.message);
    if (!isSqlite && !tooBig) throw error;
    if (this.savepoints === 0) this.failed = true;
    if (tooBig) return new DriverError('invalid', 'a value could not be stored');
    if (RETRYABLE.has(code)) {
      this.lostRace = true;
      return new DriverError('unavailable', 'the transaction lost a race with another; retry');
    }
    switch (code) {
      case 'SQLITE_CONSTRAINT_UNIQUE':
      case 'SQLITE_CONSTRAINT_PRIMARYKEY':
        return new DriverError('conflict', 'a unique constraint was violated');
      case 'SQLITE_CONSTRAINT_FOREIGNKEY':
        return new DriverError('invalid', 'a referenced row does not exist, or the row is still referenced');
      case 'SQLITE_CONSTRAINT_NOTNULL':
        return new DriverError('invalid', 'a required value is missing');
      case 'SQLITE_CONSTRAINT_CHECK':
        return new DriverError('invalid', 'a value is out of its allowed range');
      case 'SQLITE_CONSTRAINT_TRIGGER': // RAISE(ABORT) from a trigger (the immutable-run guard)
      case 'SQLITE_CONSTRAINT':
        return new DriverError('conflict', 'the row can no longer be changed');
      default:
        return new DriverError('backend', 'the database refused the statement');
    }
  }

  /** The first row of catalogue statement `name` as an object, or null. */
  one(name, ...params) {
    return this.guard(() => this.db.one(this.sql.get(name), params));
  }

  /** Every row, as objects. */
  all(name, ...params) {
    return this.guard(() => this.db.all(this.sql.get(name), params));
  }

  /** The first row as an array of column values, or null. */
  values(name, ...params) {
    return this.guard(() => this.db.values(this.sql.get(name), params));
  }

  /** The first column of the first row, or null. */
  scalar(name, ...params) {
    return this.guard(() => this.db.scalar(this.sql.get(name), params));
  }

  /** Runs a statement; how many rows it changed. */
  execute(name, ...params) {
    return this.guard(() => this.db.run(this.sql.get(name), params));
  }

  /** Rows read one at a time while `consume(iterator)` runs (a page under its byte budget). */
  iterate(name, params, consume) {
    return this.guard(() => {
      const rows = this.db.iterate(this.sql.get(name), params);
      try {
        return consume(rows);
      } finally {
        rows.return();
      }
    });
  }

  /** Runs `write` inside a savepoint (the memory access log): if it fails, it is undone, the transaction
   *  stays usable and the failure is reported (hosts/sql/README.md, "Not in the catalogue"). */
  savepoint(name, write) {
    this.guard(() => this.db.control(`SAVEPOINT ${name}`));
    this.savepoints += 1;
    let failure = null;
    try {
      write();
    } catch (error) {
      if (!(error instanceof DriverError)) throw error;
      failure = error;
    } finally {
      this.savepoints -= 1;
    }
    if (failure === null) {
      this.guard(() => this.db.control(`RELEASE SAVEPOINT ${name}`));
      return;
    }
    this.guard(() => {
      this.db.control(`ROLLBACK TO SAVEPOINT ${name}`);
      this.db.control(`RELEASE SAVEPOINT ${name}`);
    });
    throw failure;
  }

  // --- scope ------------------------------------------------------------------------------------------

  /** Checks that the call may touch `tenantId` and parses it. */
  tenant(tenantId) {
    const id = parseId(tenantId);
    if (this.inScope(id)) return id;
    return this.refuse(`tenant ${id} is outside this call's scope`);
  }

  /** Whether rows of tenant `id` (parsed) are visible to this call. */
  inScope(id) {
    if (this.platform) return true;
    return id === this.tenantScope || this.createdTenants.includes(id);
  }

  /** The tenants whose members this call may see. */
  scopeTenants() {
    return this.tenantScope ? [...this.createdTenants, this.tenantScope] : [...this.createdTenants];
  }

  /** A tenant this call created is in its scope for the rest of the call. */
  createdTenant(id) {
    this.createdTenants.push(id);
  }

  /** Presenting an invitation's token puts its tenant in the call's scope (beside the call's own). */
  admitTenantByToken(id) {
    if (this.platform) return;
    if (this.tenantScope === null) this.tenantScope = id;
    else if (this.tenantScope !== id && !this.createdTenants.includes(id)) this.createdTenants.push(id);
  }

  /** Refuses a write only operators and the system may make (plans, statuses). */
  platformOnly(what) {
    if (!this.platform) this.refuse(`${what} is an operator's write`);
  }

  isCallerUser(userId) {
    return this.identity !== null && this.identity[0] !== null && this.identity[0] === userId;
  }

  isCallerSubject(externalId) {
    return this.identity !== null && this.identity[1] === externalId;
  }

  /** Writes to a user row are the user's own (or the platform's). */
  mayWriteUser(userId) {
    if (!(this.isCallerUser(userId) || this.platform)) this.refuse(`user ${userId} is not the caller`);
  }

  /** Reads about a user that only the user (or the platform) may make. */
  mayReadUser(userId) {
    this.mayWriteUser(userId);
  }

  /** A user is created for the calling identity only (or by the platform). */
  mayCreateUser(externalId) {
    if (!(this.isCallerSubject(externalId) || this.platform)) this.refuse('a user may only be created for the calling identity');
  }

  /** A user this call created for its own identity is the caller's user for the rest of the call. */
  createdUser(userId, externalId) {
    if (this.identity !== null && this.identity[1] === externalId) this.identity[0] = userId;
  }

  /** Records the first violation and answers `scope-violation`. */
  refuse(message) {
    if (this.violation === null) this.violation = message;
    throw new DriverError('scope_violation', message);
  }

  /** The call must end with this error and roll back, whatever the engine answers (the first one stands). */
  doom(code, message) {
    if (this.doomed === null) this.doomed = { code, message };
  }
}
