// Component values as plain JavaScript, converted by the component's own types
// (account-engine.types.json, format at the top of host/build/contract_types.rs): jco gives no runtime
// type information, so every conversion is driven by the declared type, never guessed from the value.
//
// The plain form is the engine's JSON convention (the HTTP API's, the conformance suite's and the Python
// host's): records are objects keyed by the WIT field names with `_` for `-`, enum and flag names the same
// way, an option is `null` or its value, a variant case is its name or `{name: payload}`, flags are a list
// of names, `list<u8>` is a Buffer (base64 text is accepted as input), times are integer microseconds.
// 64-bit integers are accepted as a number (a safe integer) or a BigInt, and given back as a number when
// `Number.isSafeInteger` holds for it, else as a BigInt, so that no value is ever rounded.
//
// jco's form (its generated code, `jco transpile`): records are objects with lowerCamelCase fields, enums
// kebab-case strings, variants `{tag, val}`, an option `undefined` or its value, 64-bit integers BigInt,
// `list<u8>` a Uint8Array, flags an object of lowerCamelCase booleans. jco wraps out-of-range integers
// silently (`val >>> 0`), so the plain → jco direction checks every value itself.

export const snake = (name) => name.replaceAll('-', '_');
export const kebab = (name) => name.replaceAll('_', '-');
/** jco's name of a WIT name (heck's lowerCamelCase): `max-tokens-per-month` → `maxTokensPerMonth`. */
export const camel = (name) => name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

/** A value of type `result` in plain form: `ok` or not, and its payload. */
export class Outcome {
  constructor(ok, value) {
    this.ok = ok;
    this.value = value;
  }
}

/** A value that does not fit its type; `path` says where (`tenant: quotas: max_workers`). */
export class ValueError extends TypeError {}

const INTEGER_RANGES = {
  u8: [0, 255], s8: [-128, 127], u16: [0, 65535], s16: [-32768, 32767], u32: [0, 4294967295], s32: [-2147483648, 2147483647],
};
const BIG_RANGES = { u64: [0n, 2n ** 64n - 1n], s64: [-(2n ** 63n), 2n ** 63n - 1n] };

const fail = (message) => {
  throw new ValueError(message);
};
const within = (prefix, work) => {
  try {
    return work();
  } catch (error) {
    if (error instanceof ValueError) throw new ValueError(`${prefix}: ${error.message}`);
    throw error;
  }
};

/** A plain 64-bit value (number or BigInt) as a number when that is exact. */
export function plainBig(value) {
  return typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

const cache = new WeakMap();

/** The codec of one type of the types file: `{toJco(plain), fromJco(value)}`, built once per type node. */
export function codec(type) {
  if (typeof type === 'object' && type !== null && cache.has(type)) return cache.get(type);
  const built = required(build(type));
  if (typeof type === 'object' && type !== null) cache.set(type, built);
  return built;
}

/** Only an option may be left out (null or undefined); any other type says so before its own checks. */
function required(built) {
  if (built.optional) return built;
  const { toJco } = built;
  return { ...built, toJco: (v) => (v === null || v === undefined ? fail('a value is required') : toJco(v)) };
}

function build(type) {
  if (typeof type === 'string') return scalar(type);
  const [kind] = Object.keys(type);
  const spec = type[kind];
  switch (kind) {
    case 'list':
      return spec === 'u8' ? bytes() : list(codec(spec));
    case 'option':
      if (typeof spec === 'object' && 'option' in spec) fail('option<option<…>> is not part of this contract');
      return option(codec(spec));
    case 'result':
      return result(spec.ok === null ? null : codec(spec.ok), spec.err === null ? null : codec(spec.err));
    case 'tuple':
      return tuple(spec.map(codec));
    case 'record':
      return record(spec.map(([name, t]) => [name, codec(t)]));
    case 'variant':
      return variant(spec.map(([name, t]) => [name, t === null ? null : codec(t)]));
    case 'enum':
      return enumeration(spec);
    case 'flags':
      return flags(spec);
    default:
      throw new Error(`unsupported type ${JSON.stringify(type).slice(0, 80)}`);
  }
}

function scalar(name) {
  if (name === 'bool') {
    return {
      toJco: (v) => (typeof v === 'boolean' ? v : fail('expected true or false')),
      fromJco: (v) => v,
    };
  }
  if (name in INTEGER_RANGES) {
    const [min, max] = INTEGER_RANGES[name];
    return {
      toJco: (v) => {
        const n = typeof v === 'bigint' ? Number(v) : v;
        if (typeof n !== 'number' || !Number.isInteger(n)) fail('expected a whole number');
        if (n < min || n > max) fail('number out of range');
        return n;
      },
      fromJco: (v) => v,
    };
  }
  if (name in BIG_RANGES) {
    const [min, max] = BIG_RANGES[name];
    return {
      toJco: (v) => {
        let big;
        if (typeof v === 'bigint') big = v;
        else if (typeof v === 'number' && Number.isInteger(v)) {
          if (!Number.isSafeInteger(v)) fail('a number beyond 2^53 is not exact: pass a BigInt');
          big = BigInt(v);
        } else fail('expected a whole number');
        if (big < min || big > max) fail('number out of range');
        return big;
      },
      fromJco: plainBig,
    };
  }
  if (name === 'f32' || name === 'f64') {
    return { toJco: (v) => (typeof v === 'number' ? v : fail('expected a number')), fromJco: (v) => v };
  }
  if (name === 'string') {
    return { toJco: (v) => (typeof v === 'string' ? v : fail('expected a string')), fromJco: (v) => v };
  }
  if (name === 'char') {
    return {
      toJco: (v) => (typeof v === 'string' && [...v].length === 1 ? v : fail('expected one character')),
      fromJco: (v) => v,
    };
  }
  throw new Error(`unsupported type ${name}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bytes() {
  return {
    toJco: (v) => {
      if (v instanceof Uint8Array) return v;
      if (typeof v !== 'string') fail('expected bytes (a Uint8Array) or base64 text');
      if (!BASE64.test(v)) fail('not base64');
      return Buffer.from(v, 'base64');
    },
    fromJco: (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength),
  };
}

function list(item) {
  return {
    toJco: (v) => {
      if (!Array.isArray(v)) fail('expected an array');
      return v.map((x, i) => within(String(i), () => item.toJco(x)));
    },
    fromJco: (v) => Array.from(v, (x) => item.fromJco(x)),
  };
}

function option(inner) {
  return {
    toJco: (v) => (v === null || v === undefined ? undefined : inner.toJco(v)),
    fromJco: (v) => (v === null || v === undefined ? null : inner.fromJco(v)),
    optional: true,
  };
}

function result(ok, err) {
  const side = (c, v) => (c === null ? undefined : c.toJco(v));
  return {
    toJco: (v) => {
      if (!(v instanceof Outcome)) fail('expected an Outcome');
      return v.ok ? { tag: 'ok', val: side(ok, v.value) } : { tag: 'err', val: side(err, v.value) };
    },
    fromJco: (v) => {
      if (v.tag === 'ok') return new Outcome(true, ok === null ? null : ok.fromJco(v.val));
      return new Outcome(false, err === null ? null : err.fromJco(v.val));
    },
  };
}

function tuple(items) {
  return {
    toJco: (v) => {
      if (!Array.isArray(v) || v.length !== items.length) fail(`expected an array of ${items.length}`);
      return items.map((c, i) => within(String(i), () => c.toJco(v[i])));
    },
    fromJco: (v) => items.map((c, i) => c.fromJco(v[i])),
  };
}

function record(fields) {
  const described = fields.map(([name, c]) => ({ plain: snake(name), jco: camel(name), c }));
  const known = new Set(described.map((f) => f.plain));
  return {
    toJco: (v) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('expected an object');
      for (const key of Object.keys(v)) if (!known.has(key)) fail(`unknown field '${key}'`);
      const out = {};
      for (const { plain, jco, c } of described) {
        out[jco] = within(plain, () => c.toJco(v[plain]));
      }
      return out;
    },
    fromJco: (v) => {
      const out = {};
      for (const { plain, jco, c } of described) out[plain] = c.fromJco(v[jco]);
      return out;
    },
  };
}

function variant(cases) {
  const byName = new Map(cases.map(([name, c]) => [name, c]));
  const names = () => cases.map(([n]) => snake(n)).join(', ');
  return {
    toJco: (v) => {
      let name;
      let payload;
      let hasPayload = false;
      if (typeof v === 'string') name = kebab(v);
      else if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1) {
        [[name, payload]] = Object.entries(v).map(([k, p]) => [kebab(k), p]);
        hasPayload = true;
      } else fail('expected a case name, or an object with one field naming the case');
      if (!byName.has(name)) fail(`expected one of ${names()}`);
      const c = byName.get(name);
      if (c === null && hasPayload && payload !== null) fail(`the case ${snake(name)} carries nothing`);
      if (c !== null && !hasPayload) fail(`the case ${snake(name)} needs a value`);
      return c === null ? { tag: name } : { tag: name, val: within(snake(name), () => c.toJco(payload)) };
    },
    fromJco: (v) => {
      const c = byName.get(v.tag);
      if (c === undefined) fail(`a value of no case: ${v.tag}`);
      return c === null ? snake(v.tag) : { [snake(v.tag)]: c.fromJco(v.val) };
    },
  };
}

function enumeration(names) {
  const known = new Set(names);
  return {
    toJco: (v) => {
      if (typeof v !== 'string' || !known.has(kebab(v))) fail(`expected one of ${names.map(snake).join(', ')}`);
      return kebab(v);
    },
    fromJco: (v) => snake(v),
  };
}

function flags(names) {
  const known = new Set(names);
  return {
    toJco: (v) => {
      if (!Array.isArray(v)) fail('expected a list of flag names');
      const set = new Set(v.map((n) => (typeof n === 'string' ? kebab(n) : fail('expected a list of flag names'))));
      for (const n of set) if (!known.has(n)) fail(`unknown flag '${snake(n)}'`);
      return Object.fromEntries(names.map((n) => [camel(n), set.has(n)]));
    },
    fromJco: (v) => names.filter((n) => v[camel(n)]).map(snake),
  };
}

/** A function's parameters and result as codecs (built once per function). */
export class Signature {
  /** @param {{params: [string, any][], result: any}} fn one function of the types file */
  constructor(fn) {
    this.params = fn.params.map(([name, t]) => ({ name, plain: snake(name), type: t, codec: codec(t) }));
    this.result = fn.result === null ? null : codec(fn.result);
    this.resultType = fn.result;
  }
}
