// Statement helpers the drivers share where CallState has no exact counterpart of the Rust host's sqlx
// calls: a read that must find its row (sqlx's `fetch_one`), a page read row by row under its byte budget
// (`cursor::collect_bounded`), and time arithmetic on microseconds that may be BigInt.

import { notFound } from '../../errors.js';
import { bounded } from '../../cursor.js';
import { plainBig } from '../../values.js';

/** The one row of a statement that always has one (an `INSERT … RETURNING`, a read after a write).
 *  sqlx's `fetch_one` fails with `RowNotFound` when there is none, which the Rust host maps to
 *  `not-found: row not found` and counts as a failed statement (the call must not commit). */
export function oneRequired(call, name, ...params) {
  const row = call.one(name, ...params);
  if (row === null) {
    if (call.savepoints === 0) call.failed = true;
    throw notFound('row');
  }
  return row;
}

/** The first column of the one row of a statement that always has one (see oneRequired). */
export function scalarRequired(call, name, ...params) {
  const row = call.values(name, ...params);
  if (row === null) {
    if (call.savepoints === 0) call.failed = true;
    throw notFound('row');
  }
  return row[0];
}

/** A page's rows read one at a time until the next would take it past the page's byte budget:
 *  {rows, cut}. The rest of the result is never read. */
export function readBounded(call, name, params, size) {
  return call.iterate(name, params, (rows) => bounded(rows, size));
}

/** `micros` (number or BigInt) plus `delta` microseconds, exactly: a number when safe, else a BigInt. */
export function addMicros(micros, delta) {
  return plainBig(BigInt(micros) + BigInt(delta));
}
