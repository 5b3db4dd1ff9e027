// @aos/accounts: the account engine (multi-tenant accounts, memberships, invitations, API keys, quotas,
// pins, …) as a WebAssembly component, hosted in Node.js with jco over SQLite (better-sqlite3).
//
//   import { Engine, System } from '@aos/accounts';
//   const engine = await Engine.open('accounts.db');
//   const acme = engine.actingAs(new System()).tenants.createTenant({ tenant: { name: 'Acme', slug: 'acme', plan: 'free' } });
//   engine.actingAs(new System(), { tenant: acme.id }).memoryPins.upsertPin({ key: 'greeting', value: '{"text":"hello"}' });
//   engine.close();

export { Engine, DEFAULT_SETTINGS, INTERFACES } from './engine.js';
export { Session } from './session.js';
export { EngineError, DriverError } from './errors.js';
export { Principal, System, Operator, Person, ApiKey, Anonymous } from './principals.js';
