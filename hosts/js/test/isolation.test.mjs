// Instance isolation and the transaction of a call: a trap or a host exception replaces the instance and
// writes nothing; a refused call writes nothing; a call that must fail closed (a tenant policy this host
// cannot run, a failed audit write) writes nothing whatever the engine answers.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DriverError, EngineError, System } from '@aos/accounts';
import { CallState } from '../src/call.js';
import { insertAuditLog } from '../src/drivers/tenant-driver.js';
import { T0, caught, counts, freshEngine } from './helpers.mjs';

const newTenant = { tenant: { name: 'Acme', slug: 'acme', plan: 'free' } };

test('a driver that throws something other than a DriverError traps the call: nothing is written, the instance is replaced', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const system = engine.actingAs(new System());
  const before = counts(engine);
  const poisoned = engine.instance;
  assert.equal(engine.instantiations, 1);

  // The audit write comes after the tenant's insert in the same transaction: make it fail like a host bug.
  const run = engine.db.run;
  engine.db.run = function (sql, params) {
    if (sql.startsWith('INSERT INTO audit_log')) throw new TypeError('a bug in the host');
    return run.call(this, sql, params);
  };
  const error = caught(() => system.call('tenants', 'create-tenant', newTenant));
  assert.ok(error instanceof EngineError);
  assert.equal(error.code, 'internal');
  assert.match(error.cause.message, /a bug in the host/);
  assert.equal(engine.instance, null, 'the instance that trapped is dropped at once');
  assert.deepEqual(counts(engine), before, 'the trapped call wrote nothing');
  assert.equal(engine.db.conn.inTransaction, false);

  engine.db.run = run;
  const tenant = system.tenants.createTenant(newTenant);
  assert.equal(tenant.slug, 'acme');
  assert.equal(engine.instantiations, 2, 'the next call ran on a new instance');
  assert.notEqual(engine.instance, poisoned);
  assert.equal(counts(engine).tenants, 1);
});

test('a driver answer that does not fit its type is a host failure too (the instance is replaced)', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const system = engine.actingAs(new System());
  const { id } = system.tenants.createTenant(newTenant);
  const acme = engine.actingAs(new System(), { tenant: id });
  const before = counts(engine);

  const one = engine.db.one;
  engine.db.one = function (sql, params) {
    const row = one.call(this, sql, params);
    return row !== null && 'status' in row && sql.includes('FROM tenants t LEFT JOIN policy_state') ? { ...row, status: 'on-fire' } : row;
  };
  assert.throws(() => acme.memoryPins.upsertPin({ key: 'k', value: '{}' }), { name: 'EngineError', code: 'internal' });
  engine.db.one = one;
  assert.deepEqual(counts(engine), before);
  assert.equal(acme.memoryPins.upsertPin({ key: 'k', value: '{}' }).key, 'k');
  assert.equal(engine.instantiations, 2);
});

test('an engine error is an answer, not a trap: the instance is kept', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const system = engine.actingAs(new System());
  system.tenants.createTenant(newTenant);
  const instance = engine.instance;
  assert.throws(() => system.tenants.createTenant(newTenant), { code: 'conflict' });
  assert.equal(engine.instance, instance);
  assert.equal(engine.instantiations, 1);
});

test('a refused call writes nothing', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const { id } = engine.actingAs(new System()).tenants.createTenant(newTenant);
  const acme = engine.actingAs(new System(), { tenant: id });
  acme.memoryPins.upsertPin({ key: 'kept', value: '{"v":1}' });
  const before = counts(engine);
  assert.throws(() => acme.memoryPins.upsertPin({ key: 'broken', value: '{not json' }), { code: 'invalid_argument' });
  assert.throws(() => acme.memoryPins.upsertPin({ key: 'kept', value: '[1]' }), { code: 'invalid_argument' });
  assert.deepEqual(counts(engine), before);
});

test('a tenant whose active policy this host cannot run is refused (fail closed), and the call writes nothing', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const { id } = engine.actingAs(new System()).tenants.createTenant(newTenant);
  // A stored, active version handling `write-pin` (bit 5), written as another host would have.
  const conn = engine.db.conn;
  conn
    .prepare("INSERT INTO policy_versions (tenant_id, version, content_hash, component, size_bytes, handles, config, created_at) VALUES (?, 1, ?, x'00', 1, 32, '{}', 0)")
    .run(id, 'a'.repeat(64));
  conn.prepare('INSERT INTO policy_state (tenant_id, active_version, last_version) VALUES (?, 1, 1)').run(id);
  const before = counts(engine);
  const acme = engine.actingAs(new System(), { tenant: id });
  assert.throws(() => acme.memoryPins.upsertPin({ key: 'k', value: '{}' }), { code: 'unavailable', message: /runs no tenant policies/ });
  assert.deepEqual(counts(engine), before);
  // Operations whose trigger the policy does not handle still run.
  assert.equal(acme.memoryPins.getPin({ key: 'k' }), null);
});

test('calls never overlap: one made from inside another is refused', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const system = engine.actingAs(new System());
  let inner = null;
  const one = engine.db.one;
  engine.db.one = function (sql, params) {
    if (inner === null) {
      try {
        system.tenants.getTenantBySlug({ slug: 'x' });
      } catch (error) {
        inner = error;
      }
    }
    return one.call(this, sql, params);
  };
  system.tenants.createTenant(newTenant);
  engine.db.one = one;
  assert.match(inner.message, /cannot be made from inside another/);
});

test('with instancePerCall, every call runs on a fresh instance (the Rust host\'s isolation)', async (t) => {
  const { engine, done } = await freshEngine({ instancePerCall: true });
  t.after(done);
  const system = engine.actingAs(new System());
  const { id } = system.tenants.createTenant(newTenant);
  const acme = engine.actingAs(new System(), { tenant: id });
  acme.memoryPins.upsertPin({ key: 'k', value: '{}' });
  assert.equal(acme.memoryPins.getPin({ key: 'k' }).key, 'k');
  assert.equal(engine.instantiations, 3, 'one made at open (used by the first call), then one per later call');
});

test('arguments past the budget are refused before the guest, and large ones never stay in the reused instance', async () => {
  const { MAX_ARGUMENT_BYTES } = await import('../src/engine.js');
  const { engine, done } = await freshEngine();
  try {
    const tenant = engine.actingAs(new System()).tenants.createTenant({ tenant: { name: 'Big', slug: 'big', plan: 'free' } });
    const pins = engine.actingAs(new System(), { tenant: tenant.id }).memoryPins;
    const before = engine.instantiations;
    assert.throws(() => pins.upsertPin({ key: 'k', value: `{"v":"${'x'.repeat(MAX_ARGUMENT_BYTES)}"}` }), (e) => e.code === 'invalid_argument');
    assert.equal(engine.instantiations, before, 'refused before any instance was made');
    pins.upsertPin({ key: 'k', value: `{"v":"${'x'.repeat(512 << 10)}"}` });
    const afterLarge = engine.instantiations;
    assert.equal(afterLarge, before + 1, 'the large call ran on an instance of its own');
    pins.getPin({ key: 'k' });
    assert.equal(engine.instantiations, afterLarge + 1, 'and the next call does not reuse it');
  } finally {
    done();
  }
});

test('a failed audit write dooms the call, whatever the engine does with the error (no savepoint spares it)', async (t) => {
  const { engine, done } = await freshEngine();
  t.after(done);
  const tenant = engine.actingAs(new System()).tenants.createTenant(newTenant);
  engine.db.conn.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'no audit'); END");
  const call = new CallState(engine.db, engine.sql, { kind: 'system', principal: null }, null, T0);
  const entry = {
    tenant_id: tenant.id, user_id: null, api_key_id: null, action: 'rename_tenant', resource_type: 'tenant',
    resource_id: tenant.id, actor: 'system', old_value: null, new_value: null, request_id: null,
  };
  assert.ok(caught(() => insertAuditLog(call, entry)) instanceof DriverError);
  assert.equal(call.failed, true, 'the call may not commit');
  const next = caught(() => insertAuditLog(call, entry));
  assert.equal(next.code, 'backend', 'later statements are refused');
  engine.db.rollback();
});
