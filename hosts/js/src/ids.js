// Row ids: UUIDs in the canonical lowercase hyphenated form the database keeps. An id that comes from the
// guest has that one form, as the Rust host takes it; anything else is `invalid`.

import { randomUUID } from 'node:crypto';
import { DriverError } from './errors.js';

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The UUID text when it is in the canonical form, or null. */
export function canonicalId(text) {
  if (typeof text !== 'string') return null;
  return CANONICAL.test(text) ? text : null;
}

/** A uuid in the hyphenated form the database keeps; `invalid` otherwise. */
export function parseId(text) {
  const id = canonicalId(text);
  if (id === null) throw new DriverError('invalid', `'${[...String(text)].slice(0, 64).join('')}' is not a valid id`);
  return id;
}

export function newId() {
  return randomUUID();
}
