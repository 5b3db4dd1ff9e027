// The JavaScript API's names: record fields and parameters in camelCase (`ttlSeconds`, `createdAt`),
// converted to and from the engine's JSON convention (`ttl_seconds`) by the component's types, so that only
// names the contract declares are renamed. Enum, flag and variant case names are values, not keys: they
// stay as in the JSON convention (`'past_due'`, `['write_pin']`, `{deny: 'why'}`). JSON text (a pin's
// value, preferences) is never touched.

import { EngineError } from './errors.js';
import { camel, snake } from './values.js';

/** A plain value of `type` with camelCase record fields, from the JSON convention. */
export function toCamel(type, value) {
  if (value === null || value === undefined || typeof type === 'string') return value;
  const [kind] = Object.keys(type);
  const spec = type[kind];
  switch (kind) {
    case 'record': {
      const out = {};
      for (const [name, t] of spec) out[camel(name)] = toCamel(t, value[snake(name)]);
      return out;
    }
    case 'list':
      return spec === 'u8' ? value : value.map((v) => toCamel(spec, v));
    case 'option':
      return toCamel(spec, value);
    case 'tuple':
      return value.map((v, i) => toCamel(spec[i], v));
    case 'variant': {
      if (typeof value === 'string') return value;
      const [[name, payload]] = Object.entries(value);
      const [, t] = spec.find(([n]) => snake(n) === name);
      return { [name]: toCamel(t, payload) };
    }
    default:
      return value;
  }
}

/** A plain value of `type` in the JSON convention, from camelCase record fields; an unknown field is
 *  `invalid_argument` (with its camelCase name), as it is in the JSON convention. */
export function toSnake(type, value, path) {
  if (value === null || value === undefined || typeof type === 'string') return value;
  const [kind] = Object.keys(type);
  const spec = type[kind];
  switch (kind) {
    case 'record': {
      if (typeof value !== 'object' || Array.isArray(value)) return value; // the codec says what is wrong
      const fields = new Map(spec.map(([name, t]) => [camel(name), [snake(name), t]]));
      const out = {};
      for (const [key, v] of Object.entries(value)) {
        const field = fields.get(key);
        if (field === undefined) throw new EngineError('invalid_argument', `${path}: unknown field '${key}'`);
        out[field[0]] = toSnake(field[1], v, `${path}: ${key}`);
      }
      return out;
    }
    case 'list':
      return spec === 'u8' || !Array.isArray(value) ? value : value.map((v, i) => toSnake(spec, v, `${path}: ${i}`));
    case 'option':
      return toSnake(spec, value, path);
    case 'tuple':
      return Array.isArray(value) ? value.map((v, i) => toSnake(spec[i], v, `${path}: ${i}`)) : value;
    case 'variant': {
      if (typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length !== 1) return value;
      const [[name, payload]] = Object.entries(value);
      const found = spec.find(([n]) => snake(n) === snake(name));
      return found === undefined || found[1] === null ? value : { [name]: toSnake(found[1], payload, `${path}: ${name}`) };
    }
    default:
      return value;
  }
}
