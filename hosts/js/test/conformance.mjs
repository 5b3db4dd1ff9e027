// The JavaScript host's runner of the conformance suite (tests/conformance/ at the repository's root): every
// scenario on a fresh SQLite database, through the real component in jco, with the package's generic
// `call(interface, operation, args)` so that scenario arguments pass in the JSON convention untranslated.
// Same semantics as the Python runner (hosts/python/tests/conformance.py). Exits 1 when any scenario
// fails. Usage: node test/conformance.mjs [SCENARIO_DIR]

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Anonymous, ApiKey, Engine, EngineError, Operator, Person, System } from '@aos/accounts';
import { counts } from './helpers.mjs';
import { parseLossless } from './lossless-json.mjs';

/** 2026-03-15T12:00:00Z, where every scenario's clock starts (microseconds). */
export const T0 = 1_773_576_000_000_000;
const SECOND = 1_000_000;

class Failure extends Error {}

const show = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);

/** `$name` and `${name}` replaced by saved values. */
export function substitute(value, saved) {
  if (typeof value === 'string') {
    if (value.startsWith('$') && !value.startsWith('${') && value !== '$any') {
      const name = value.slice(1);
      if (!(name in saved)) throw new Failure(`nothing saved as ${name}`);
      return saved[name];
    }
    if (value.includes('${')) {
      let out = value;
      for (const [name, v] of Object.entries(saved)) out = out.replaceAll(`\${${name}}`, typeof v === 'string' ? v : show(v));
      if (out.includes('${')) throw new Failure(`unknown name in ${value}`);
      return out;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, saved));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, saved)]));
  return value;
}

/** Whether `value` matches `pattern` (tests/conformance/README.md, "Values and patterns"). */
export function matches(pattern, value, path = '') {
  if (pattern === '$any') {
    if (value === null || value === undefined) throw new Failure(`${path}: expected a value, got null`);
    return;
  }
  if (isObject(pattern) && Object.keys(pattern).length === 1 && '$len' in pattern) {
    if (!Array.isArray(value) && typeof value !== 'string') throw new Failure(`${path}: expected a list or string, got ${show(value)}`);
    const length = typeof value === 'string' ? [...value].length : value.length;
    if (length !== pattern.$len) throw new Failure(`${path}: expected length ${pattern.$len}, got ${length}`);
    return;
  }
  if (isObject(pattern)) {
    if (!isObject(value)) throw new Failure(`${path}: expected an object, got ${show(value)}`);
    for (const [k, p] of Object.entries(pattern)) matches(p, value[k] ?? null, `${path}.${k}`);
    return;
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value) || value.length !== pattern.length) throw new Failure(`${path}: expected ${pattern.length} items, got ${show(value)}`);
    pattern.forEach((p, i) => matches(p, value[i], `${path}.${i}`));
    return;
  }
  const numeric = (v) => typeof v === 'number' || typeof v === 'bigint';
  if (numeric(pattern) && numeric(value)) {
    // 64-bit values may come back as BigInt: compare by value (exactly, when both are whole).
    const whole = (v) => typeof v === 'bigint' || Number.isInteger(v);
    const equal = whole(pattern) && whole(value) ? BigInt(pattern) === BigInt(value) : Number(pattern) === Number(value);
    if (!equal) throw new Failure(`${path}: expected ${show(pattern)}, got ${show(value)}`);
    return;
  }
  if (pattern !== (value ?? null)) throw new Failure(`${path}: expected ${show(pattern)}, got ${show(value)}`);
}

function lookup(value, path) {
  let current = value;
  for (const part of path.split('.').filter(Boolean)) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isObject(current) && part in current) current = current[part];
    else throw new Failure(`no ${path} in ${show(value)}`);
  }
  return current;
}

function principal(spec) {
  if (spec === 'system') return new System();
  if (spec === 'anonymous') return new Anonymous();
  if (isObject(spec) && 'operator' in spec) return new Operator(spec.operator);
  if (isObject(spec) && 'person' in spec) {
    const subject = spec.person;
    return new Person(subject, spec.email ?? `${subject}@example.com`, { emailVerified: spec.email_verified ?? true });
  }
  if (isObject(spec) && 'key' in spec) return new ApiKey(spec.key);
  throw new Failure(`unknown principal ${show(spec)}`);
}


function checkRows(expected, found) {
  for (const [table, want] of Object.entries(expected ?? {})) {
    if (!(table in found)) throw new Failure(`no table ${table}`);
    if (found[table] !== want) throw new Failure(`expected ${want} rows in ${table}, found ${found[table]}`);
  }
}

function runStep(engine, clock, step, saved) {
  if ('advance_seconds' in step) {
    clock.now += step.advance_seconds * SECOND;
    return;
  }
  const at = step.call.indexOf('.');
  const [interfaceName, operation] = [step.call.slice(0, at), step.call.slice(at + 1)];
  const tenant = substitute(step.tenant ?? null, saved);
  const who = principal(substitute(step.as, saved));
  const args = substitute(step.args ?? {}, saved);
  const expect = step.expect ?? {};
  const before = counts(engine);
  let value = null;
  let error = null;
  try {
    value = engine.actingAs(who, { tenant }).call(interfaceName, operation, args);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    error = e;
  }
  const after = counts(engine);
  if ('error' in expect) {
    if (error === null) throw new Failure(`expected error ${expect.error}, got ok ${show(value)}`);
    if (error.code !== expect.error) throw new Failure(`expected error ${expect.error}, got ${error.code} (${error.message})`);
    const changed = Object.keys(after).filter((t) => before[t] !== after[t]);
    if (changed.length > 0) {
      throw new Failure(`a refused call wrote: ${show(Object.fromEntries(changed.map((t) => [t, [before[t] ?? null, after[t]]])))}`);
    }
  } else {
    if (error !== null) throw new Failure(`expected ok, got error ${error.code}: ${error.message}`);
    if ('ok' in expect) {
      try {
        matches(substitute(expect.ok, saved), value);
      } catch (f) {
        if (f instanceof Failure) throw new Failure(`${f.message}; the result: ${show(value)}`);
        throw f;
      }
    }
    for (const [name, path] of Object.entries(step.save ?? {})) saved[name] = lookup(value, path);
  }
  checkRows(step.rows, after);
}

async function run(scenario, database) {
  const clock = { now: T0 };
  const engine = await Engine.open(database, { clock: () => clock.now });
  try {
    const saved = {};
    for (const [i, step] of scenario.steps.entries()) {
      try {
        runStep(engine, clock, step, saved);
      } catch (f) {
        if (f instanceof Failure) throw new Failure(`step ${i + 1} (${step.call ?? '-'}): ${f.message}`);
        throw f;
      }
    }
    try {
      checkRows(scenario.rows, counts(engine));
    } catch (f) {
      if (f instanceof Failure) throw new Failure(`after the last step: ${f.message}`);
      throw f;
    }
  } finally {
    engine.close();
  }
}

/** Runs every scenario of `directory`, each on a fresh database; prints one line per scenario. */
export async function runScenarios(directory) {
  const files = readdirSync(directory).filter((f) => f.endsWith('.json')).sort();
  const failures = [];
  for (const file of files) {
    const scenario = parseLossless(readFileSync(join(directory, file), 'utf8'));
    const tmp = mkdtempSync(join(tmpdir(), 'aos-conformance-'));
    try {
      await run(scenario, join(tmp, 'accounts.db'));
      console.log(`ok    ${file}`);
    } catch (f) {
      const message = f instanceof Failure ? f.message : `the runner failed: ${f.stack ?? f}`;
      failures.push(`${file}: ${message}`);
      console.log(`FAIL  ${file}: ${message}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { files, failures };
}

async function main() {
  const root = resolvePath(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const directory = process.argv[2] ? resolvePath(process.argv[2]) : join(root, 'tests', 'conformance', 'scenarios');
  const started = performance.now();
  const { files, failures } = await runScenarios(directory);
  if (files.length === 0) {
    process.stderr.write(`no scenarios in ${directory}\n`);
    return 2;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`js host: ${files.length - failures.length} of ${files.length} scenarios passed in ${seconds}s`);
  console.log(`conformance: ${files.length - failures.length} passed, ${failures.length} failed`);
  return failures.length > 0 ? 1 : 0;
}

if (process.argv[1] && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
