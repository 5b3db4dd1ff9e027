// The database: migrations recorded in sqlx's `_sqlx_migrations` exactly as the Rust and Python hosts
// record them (so that every host opens the others' files), and how `$N` parameters are bound.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import BetterSqlite3 from 'better-sqlite3';
import { Database } from '../src/database.js';

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'migrations');

function tempFile(t) {
  const dir = mkdtempSync(join(tmpdir(), 'aos-js-db-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'accounts.db');
}

test('migrations are recorded as sqlx records them, applied once, and a changed text is refused', (t) => {
  const path = tempFile(t);
  new Database(path, MIGRATIONS).close();
  const files = readdirSync(MIGRATIONS).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  const raw = new BetterSqlite3(path);
  const rows = raw.prepare('SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version').all();
  assert.equal(rows.length, files.length);
  rows.forEach((row, i) => {
    const [, version, name] = /^(\d+)_(.+)\.sql$/.exec(files[i]);
    assert.equal(row.version, Number(version));
    assert.equal(row.description, name.replaceAll('_', ' '));
    assert.equal(row.success, 1);
    assert.deepEqual(row.checksum, createHash('sha384').update(readFileSync(join(MIGRATIONS, files[i]))).digest());
  });
  raw.close();

  // Opening again applies nothing.
  new Database(path, MIGRATIONS).close();
  const again = new BetterSqlite3(path);
  assert.equal(again.prepare('SELECT COUNT(*) FROM _sqlx_migrations').pluck().get(), files.length);
  again.prepare("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1").run();
  again.close();
  assert.throws(() => new Database(path, MIGRATIONS), /migration 1 was applied with a different text/);
});

test('`$N` parameters bind from an object keyed by number; booleans as 0/1, integers as 64-bit', (t) => {
  const db = new Database(tempFile(t), MIGRATIONS);
  t.after(() => db.close());
  assert.deepEqual(db.one('SELECT $1 AS a, $2 AS b, $1 AS c, typeof($3) AS t', ['x', true, 7]), { a: 'x', b: 1, c: 'x', t: 'integer' });
  assert.equal(db.scalar('SELECT $1 + 1', [2n ** 62n]), 2n ** 62n + 1n);
  assert.equal(db.scalar('SELECT typeof($1)', [0.5]), 'real');
  assert.ok(db.sqliteVersion.split('.').map(Number)[1] >= 35 || Number(db.sqliteVersion.split('.')[0]) > 3);
});
