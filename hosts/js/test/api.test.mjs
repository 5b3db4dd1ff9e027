// The public API: errors that say what is wrong, camelCase in and out, 64-bit values that round-trip
// exactly, the startup check of the imports, and the SQL catalogue names the drivers use.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Anonymous, EngineError, Person, System } from '@aos/accounts';
import { Catalogue } from '../src/catalogue.js';
import { link } from '../src/linker.js';
import { codec } from '../src/values.js';
import { caught, freshEngine } from './helpers.mjs';

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');

test('an unknown operation, argument or field, or a value of the wrong type, is a clear EngineError', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const system = engine.actingAs(new System());
  const cases = [
    [() => system.call('tenants', 'no-such-operation'), 'not_found', 'no operation tenants.no-such-operation'],
    [() => system.call('no-such-interface', 'get-tenant'), 'not_found', 'no operation no-such-interface.get-tenant'],
    [() => system.call('tenants', 'create-tenant', { bogus: 1 }), 'invalid_argument', "unknown argument 'bogus'"],
    [() => system.call('tenants', 'create-tenant', { tenant: { name: 'A', slug: 'a', plan: 'gold' } }), 'invalid_argument',
      'tenant: plan: expected one of free, pro, enterprise'],
    [() => system.call('tenants', 'create-tenant', { tenant: { name: 1, slug: 'a', plan: 'free' } }), 'invalid_argument', 'tenant: name: expected a string'],
    [() => system.call('tenants', 'create-tenant', {}), 'invalid_argument', 'tenant: a value is required'],
    [() => system.call('tenants', 'create-tenant', 'not an object'), 'invalid_argument', 'the arguments must be an object'],
    [() => system.tenants.createTenant({ tenant: { name: 'A', slug: 'a', plan: 'free', bogusField: 1 } }), 'invalid_argument',
      "tenant: unknown field 'bogusField'"],
    [() => system.tenants.createTenant({ tenantt: {} }), 'invalid_argument', "unknown argument 'tenantt'"],
    [() => system.memoryPins.listPins({ page: { limit: -1 } }), 'invalid_argument', 'page: limit: number out of range'],
    [() => system.tenants.checkTokenQuota({ tokens: 2 ** 60 }), 'invalid_argument', 'tokens: a number beyond 2^53 is not exact: pass a BigInt'],
  ];
  for (const [work, code, message] of cases) {
    const error = caught(work);
    assert.ok(error instanceof EngineError, `${message}: ${error}`);
    assert.equal(error.code, code, message);
    assert.equal(error.message, message);
  }
  assert.equal(typeof system.tenants.noSuchOperation, 'undefined');
});

test('the engine\'s own refusals carry its codes', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const { id } = engine.actingAs(new System()).tenants.createTenant({ tenant: { name: 'Acme', slug: 'acme', plan: 'free' } });
  assert.equal(caught(() => engine.actingAs(new Anonymous(), { tenant: id }).memoryPins.getPin({ key: 'k' })).code, 'unauthenticated');
  assert.equal(caught(() => engine.actingAs(new Person('mallory', 'm@example.com'), { tenant: id }).tenants.getTenant()).code, 'forbidden');
});

test('the JavaScript API is camelCase in and out; the generic call keeps the JSON convention', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const tenant = engine.actingAs(new System()).tenants.createTenant({
    tenant: { name: 'Acme', slug: 'acme', plan: 'pro', billingEmail: 'billing@acme.test' },
  });
  assert.equal(tenant.billingEmail, 'billing@acme.test');
  assert.equal(typeof tenant.quotas.maxApiKeys, 'number');
  assert.equal(tenant.onboardingState, 'created');
  const acme = engine.actingAs(new System(), { tenant: tenant.id });
  const pin = acme.memoryPins.upsertPin({ key: 'state', value: '{"snake_case_inside":true}', ttlSeconds: 30 });
  assert.equal(pin.ttlSeconds, 30);
  assert.equal(pin.value, '{"snake_case_inside":true}', 'JSON text is never renamed');
  const plain = acme.call('memory_pins', 'get_pin', { key: 'state' });
  assert.equal(plain.ttl_seconds, 30);
  assert.equal(plain.expires_at, pin.expiresAt);
  const created = acme.tenants.createApiKey({ key: { name: 'ci', permissions: ['read:*'] } });
  assert.equal(created.apiKey.keyPrefix, created.key.slice(0, 12));
  assert.deepEqual(acme.tenants.listApiKeys({}).items.map((k) => k.id), [created.apiKey.id]);
});

test('64-bit values round-trip exactly: BigInt beyond 2^53, numbers below', async (t) => {
  // A clock past 2^53 microseconds (the year 2255): every time the engine writes is beyond a double.
  const now = 2n ** 53n + 1n;
  const { engine, done } = await freshEngine({ now });
  t.after(done);
  const tenant = engine.actingAs(new System()).tenants.createTenant({ tenant: { name: 'Acme', slug: 'acme', plan: 'free' } });
  assert.equal(tenant.createdAt, now);
  const acme = engine.actingAs(new System(), { tenant: tenant.id });
  const pin = acme.call('memory-pins', 'upsert-pin', { key: 'k', value: '{}', ttl_seconds: 1 });
  assert.equal(pin.created_at, 9007199254740993n);
  assert.equal(pin.expires_at, 9007199254740993n + 1_000_000n);
  const stored = engine.db.conn.prepare('SELECT created_at FROM memory_pins').safeIntegers(true).pluck().get();
  assert.equal(stored, 9007199254740993n);
  assert.equal(acme.memoryPins.getPin({ key: 'k' }).createdAt, 9007199254740993n);
  // Safe values stay numbers.
  assert.equal(typeof tenant.quotas.maxTokensPerMonth, 'number');

  const s64 = codec('s64');
  const u64 = codec('u64');
  for (const v of [-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n]) assert.equal(s64.fromJco(s64.toJco(v)), v >= -(2n ** 53n) && v < 2n ** 53n ? Number(v) : v);
  assert.equal(u64.fromJco(u64.toJco(2n ** 64n - 1n)), 2n ** 64n - 1n);
  assert.equal(s64.toJco(42), 42n);
  assert.throws(() => s64.toJco(2n ** 63n), /out of range/);
  assert.throws(() => u64.toJco(-1), /out of range/);
  assert.throws(() => s64.toJco(2 ** 53), /not exact/);
  assert.throws(() => codec('u32').toJco(2 ** 32), /out of range/);
  assert.throws(() => codec('s32').toJco(1.5), /whole number/);
});

test('every function the component imports must be implemented: a missing one fails when the engine opens', () => {
  const types = JSON.parse(readFileSync(join(PACKAGE, 'data', 'account-engine.types.json'), 'utf8'));
  assert.doesNotThrow(() => link(types.imports, () => null));
  const extended = structuredClone(types.imports);
  extended['aos:accounts/tenant-driver@0.5.0']['fetch-something-new'] = { params: [], result: 'bool' };
  assert.throws(() => link(extended, () => null), /this host does not implement fetch-something-new/);
  const unknown = { ...types.imports, 'aos:accounts/new-driver@0.5.0': { 'do-it': { params: [], result: null } } };
  assert.throws(() => link(unknown, () => null), /implements no such interface/);
});

test('every catalogue statement the host names exists in the SQL catalogue', () => {
  const catalogue = new Catalogue(join(PACKAGE, 'data', 'sql'), 'sqlite');
  const named = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else for (const [, name] of readFileSync(path, 'utf8').matchAll(/'((?:[a-z-]+-driver|identity)\/[a-z0-9-]+)'/g)) named.add(name);
    }
  };
  walk(join(PACKAGE, 'src'));
  assert.ok(named.size > 80, `found ${named.size} names`);
  for (const name of named) assert.doesNotThrow(() => catalogue.get(name), name);
});
