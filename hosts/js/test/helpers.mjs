// What the tests share: an engine on a fresh temporary database with a controllable clock, the row count
// of every table (the "a refused call wrote nothing" check of the conformance suite), and `caught`.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Engine } from '@aos/accounts';

/** 2026-03-15T12:00:00Z in microseconds, as in the conformance suite. */
export const T0 = 1_773_576_000_000_000;

/** An engine over a fresh file; `clock.now` is the time of the next call. Close with `done()`. */
export async function freshEngine(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'aos-js-test-'));
  const clock = { now: options.now ?? T0 };
  const engine = await Engine.open(join(dir, 'accounts.db'), { clock: () => clock.now, ...options });
  const done = () => {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { engine, clock, dir, done };
}

export function counts(engine) {
  const conn = engine.db.conn;
  const tables = conn
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'")
    .pluck()
    .all();
  return Object.fromEntries(tables.map((t) => [t, conn.prepare(`SELECT COUNT(*) FROM "${t}"`).pluck().get()]));
}

/** The error `work` throws (the test fails when it throws none). */
export function caught(work) {
  try {
    work();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}
