// Row ids: UUIDs in the canonical lowercase hyphenated form the database keeps. An id that comes from the
// guest is parsed as the Rust host's `uuid::Uuid::try_parse` reads it (hyphenated, simple, braced or URN);
// anything else is `invalid`.

import { randomUUID } from 'node:crypto';
import { DriverError } from './errors.js';

const HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SIMPLE = /^[0-9a-fA-F]{32}$/;

/** The canonical form of a UUID text, or null when it is none. */
export function canonicalId(text) {
  if (typeof text !== 'string') return null;
  let s = text;
  if (s.length === 45 && s.slice(0, 9).toLowerCase() === 'urn:uuid:') s = s.slice(9);
  else if (s.length === 38 && s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (HYPHENATED.test(s)) return s.toLowerCase();
  if (s === text && SIMPLE.test(s)) {
    const h = s.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return null;
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
