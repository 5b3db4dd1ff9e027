// `wasi:random/random`: the CSPRNG behind API keys and invitation tokens, from node:crypto. The component
// imports `get-random-bytes` alone (account-engine.types.json lists exactly its imports). The engine asks
// for tens of bytes; a larger request is a host failure (the call traps and rolls back), not an allocation.

import { randomBytes } from 'node:crypto';

/** The largest `get-random-bytes` request served. */
export const MAX_RANDOM_BYTES = 1 << 16;

export function getRandomBytes(_call, length) {
  if (typeof length !== 'number' || length > MAX_RANDOM_BYTES) {
    throw new RangeError(`get-random-bytes(${length}) is more than this host serves`);
  }
  return randomBytes(length);
}
