// The SQLite database of the JavaScript host (better-sqlite3): opening it the way the Rust host does,
// applying the shared migrations (recorded in sqlx's own `_sqlx_migrations` table, exactly as the Python
// host's database.py does, so that the Rust, Python and JavaScript hosts open each other's files), running
// catalogue statements with `$N` parameters, and the transaction control of an engine call.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/** The oldest SQLite the migrations and the catalogue run on: `RETURNING` (3.35). better-sqlite3 bundles
 *  a far newer one; the check guards builds against an older system library. */
export const SQLITE_FLOOR = [3, 35, 0];

const MIGRATION_NAME = /^(\d+)_(.+)\.sql$/;

/** One SQLite connection; every statement is synchronous, so one engine call at a time uses it. */
export class Database {
  /** @param {string} path a file, or ':memory:' @param {string} migrations directory of NNNN_name.sql */
  constructor(path, migrations) {
    // A call waits for the writer lock no longer than the Rust host's call deadline (10 s).
    this.conn = new BetterSqlite3(path, { timeout: 10_000 });
    const version = this.conn.prepare('SELECT sqlite_version()').pluck().get();
    if (compareVersions(version.split('.').map(Number), SQLITE_FLOOR) < 0) {
      this.conn.close();
      throw new Error(`SQLite ${version} is older than ${SQLITE_FLOOR.join('.')}, the oldest this host supports`);
    }
    this.sqliteVersion = version;
    this.conn.pragma('foreign_keys = ON');
    if (path !== ':memory:' && path !== '') {
      this.conn.pragma('journal_mode = WAL');
      this.conn.pragma('synchronous = NORMAL');
    }
    /** Prepared statements by SQL text and row shape (better-sqlite3's `raw` mode is per statement). */
    this.prepared = new Map();
    migrate(this.conn, migrations);
  }

  close() {
    this.conn.close();
  }

  // --- statements -------------------------------------------------------------------------------------

  /** A prepared catalogue statement. Integers are read as BigInt (exact to 64 bits) and turned back into
   *  numbers when they are safe (see `plainRow`). */
  statement(sql, raw = false) {
    const key = raw ? `raw\u0000${sql}` : sql;
    let statement = this.prepared.get(key);
    if (!statement) {
      statement = this.conn.prepare(sql);
      statement.safeIntegers(true);
      if (raw && statement.reader) statement.raw(true);
      this.prepared.set(key, statement);
    }
    return statement;
  }

  /** The first row as an object keyed by column name, or null. */
  one(sql, params) {
    const row = this.statement(sql).get(bind(params));
    return row === undefined ? null : plainRow(row);
  }

  /** Every row, as objects. */
  all(sql, params) {
    return this.statement(sql).all(bind(params)).map(plainRow);
  }

  /** The first row as an array of column values (for statements whose columns share names), or null. */
  values(sql, params) {
    const row = this.statement(sql, true).get(bind(params));
    return row === undefined ? null : row.map(plainValue);
  }

  /** The first column of the first row, or null when there is no row. */
  scalar(sql, params) {
    const row = this.values(sql, params);
    return row === null ? null : row[0];
  }

  /** The rows, read as they are iterated (a page bounded in bytes stops early and returns the iterator). */
  *iterate(sql, params) {
    for (const row of this.statement(sql).iterate(bind(params))) yield plainRow(row);
  }

  /** Runs a statement; how many rows it changed. */
  run(sql, params) {
    return this.statement(sql).run(bind(params)).changes;
  }

  // --- transactions -----------------------------------------------------------------------------------

  /** IMMEDIATE: the writer lock up front, so that a call never fails half-way on a lock upgrade. */
  begin() {
    this.conn.exec('BEGIN IMMEDIATE');
  }

  commit() {
    this.conn.exec('COMMIT');
  }

  rollback() {
    if (this.conn.inTransaction) this.conn.exec('ROLLBACK');
  }

  /** Transaction control the catalogue leaves to hosts (savepoints; hosts/sql/README.md). */
  control(sql) {
    this.conn.exec(sql);
  }
}

/** `$1`, `$2`… are SQLite parameters named `1`, `2`…: better-sqlite3 binds them from an object
 *  `{1: …, 2: …}` (verified: an array is refused as "too many parameter values"). It binds no booleans
 *  (sqlx binds them as 0/1), and binds a JS number as a double: integers go as BigInt, so that they are
 *  64-bit integers exactly as sqlx's `i64`. */
export function bind(params) {
  const named = {};
  params.forEach((value, i) => {
    named[i + 1] = bindable(value);
  });
  return named;
}

function bindable(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

/** A BigInt column value as a number when that is exact; larger ones stay BigInt. */
export function plainValue(value) {
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(value);
  }
  return value;
}

function plainRow(row) {
  for (const key of Object.keys(row)) row[key] = plainValue(row[key]);
  return row;
}

function compareVersions(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// --- migrations ---------------------------------------------------------------------------------------

/** Applies the migrations not yet recorded, each in its own transaction, recording each as sqlx does
 *  (version, description, SHA-384 checksum of the file's bytes, execution time in nanoseconds). A recorded
 *  migration whose text has changed is refused, as sqlx refuses it. */
function migrate(conn, directory) {
  // The bookkeeping statements are sqlx's table, not the engine's data: like the Python host, stated here.
  conn.exec(
    'CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, ' +
      'installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, ' +
      'checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)',
  );
  const applied = new Map(
    conn
      .prepare('SELECT version, checksum FROM _sqlx_migrations')
      .raw(true)
      .all()
      .map(([version, checksum]) => [Number(version), Buffer.from(checksum)]),
  );
  const record = conn.prepare(
    'INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (?, ?, TRUE, ?, ?)',
  );
  const rewritten = rewrittenMigrations(directory);
  for (const { version, description, text } of migrations(directory)) {
    const checksum = createHash('sha384').update(text).digest();
    if (applied.has(version)) {
      const recorded = applied.get(version);
      if (recorded.equals(checksum)) continue;
      if ((rewritten[String(version)] ?? []).includes(recorded.toString('hex'))) {
        // The old text of a migration rewritten without changing what it does (migrations/sqlite/rewritten.json).
        conn.prepare('UPDATE _sqlx_migrations SET checksum = ? WHERE version = ?').run(checksum, version);
        continue;
      }
      throw new Error(`migration ${version} was applied with a different text; refusing to open`);
    }
    const started = process.hrtime.bigint();
    conn.exec('BEGIN IMMEDIATE');
    try {
      // exec runs every statement of the script inside the open transaction (it never commits by itself).
      conn.exec(text.toString('utf8'));
      record.run(version, description, checksum, process.hrtime.bigint() - started);
      conn.exec('COMMIT');
    } catch (error) {
      if (conn.inTransaction) conn.exec('ROLLBACK');
      throw error;
    }
  }
}

/** Old checksums (hex) of migrations rewritten without changing what they do, by version. */
function rewrittenMigrations(directory) {
  const path = join(directory, 'rewritten.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
}

function migrations(directory) {
  const found = [];
  for (const file of readdirSync(directory)) {
    const match = MIGRATION_NAME.exec(file);
    if (match) {
      // sqlx: the checksum is of the file's bytes; the description is the name with `_` as spaces.
      found.push({ version: Number(match[1]), description: match[2].replaceAll('_', ' '), text: readFileSync(join(directory, file)) });
    }
  }
  return found.sort((a, b) => a.version - b.version);
}
