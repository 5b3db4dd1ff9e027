// Keyset cursors, as the Rust host's host/src/db/cursor.rs: a page ends at its last row's sort key and id,
// the next starts strictly after them; cursors are URL-safe base64 (no padding) of `key|id`; a page
// carries at most PAGE_BYTES of row data (and always at least one row).

import { DriverError } from './errors.js';

export const PAGE_BYTES = 4 << 20;

const URL_SAFE_NO_PAD = /^[A-Za-z0-9_-]*$/;

function bad() {
  return new DriverError('invalid', 'the cursor is not valid for this list');
}

export function encode(key, id) {
  return Buffer.from(`${key}|${id}`, 'utf8').toString('base64url');
}

/** {key, id} of a page's `after`, or null for the first page. */
export function decode(page) {
  const cursor = page.after;
  if (cursor === null || cursor === undefined) return null;
  // base64url without padding, canonical (Rust's decoder refuses a length of 4n+1 and stray bits).
  if (!URL_SAFE_NO_PAD.test(cursor) || cursor.length % 4 === 1) throw bad();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.toString('base64url') !== cursor) throw bad();
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad();
  }
  const at = text.lastIndexOf('|');
  if (at < 0) throw bad();
  return { key: text.slice(0, at), id: text.slice(at + 1) };
}

/** The key of a cursor over a time-ordered list, as microseconds (Rust: `key.parse::<i64>()`). */
export function timeKey(after) {
  if (!/^[+-]?\d+$/.test(after.key)) throw bad();
  const value = BigInt(after.key);
  if (value < -(2n ** 63n) || value >= 2n ** 63n) throw bad();
  return value;
}

/** The id of a cursor over a list whose rows have integer ids: a 64-bit integer, as a time key. */
export function integerId(after) {
  return timeKey({ key: after.id });
}

/** The LIMIT of a bounded count's sub-select: the bound asked for, at most what SQL can bind. */
export function countLimit(upTo) {
  const max = 9223372036854775807n;
  return BigInt(upTo) > max ? max : BigInt(upTo);
}

/** The page's limit (1..=1000) plus one row, to learn whether another page follows. */
export function fetchLimit(page) {
  if (page.limit === 0 || page.limit > 1000) throw new DriverError('invalid', 'limit must be between 1 and 1000');
  return page.limit + 1;
}

/** Reads rows until the next would take the page past PAGE_BYTES: {rows, cut}. */
export function bounded(rows, size) {
  const page = [];
  let total = 0;
  for (const row of rows) {
    total += size(row);
    if (total > PAGE_BYTES && page.length > 0) return { rows: page, cut: true };
    page.push(row);
  }
  return { rows: page, cut: false };
}

/** Cuts the extra row off; the cursor of the next page, if there is one. */
export function finish(rows, page, keyOf, cut = false) {
  if (!cut) {
    if (rows.length <= page.limit) return null;
    rows.length = page.limit;
  }
  if (rows.length === 0) return null;
  const [key, id] = keyOf(rows[rows.length - 1]);
  return encode(key, id);
}
