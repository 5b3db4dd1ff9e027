// The JavaScript host's figures for the engine benchmark (host/benches/engine/hosts.rs): instantiating the
// component, and get pin / upsert pin through the whole host on a SQLite file, with one reused instance
// (the host's default) and with a fresh instance per call. Prints one JSON object; medians in µs.
// Usage: node bench/bench.mjs DB_PATH [CALLS]

import { rmSync } from 'node:fs';
import { Engine, System } from '../src/index.js';

const [path, callsText] = process.argv.slice(2);
const calls = Number(callsText ?? 300);

function medianMicros(f) {
  const samples = [];
  for (let i = 0; i < calls; i++) {
    const started = process.hrtime.bigint();
    f();
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

async function measure(instancePerCall, suffix) {
  const file = `${path}.${suffix}`;
  rmSync(file, { force: true });
  const engine = await Engine.open(file, { instancePerCall });
  try {
    const tenant = engine.actingAs(new System()).tenants.createTenant({ tenant: { name: 'Bench', slug: 'bench', plan: 'free' } });
    const pins = engine.actingAs(new System(), { tenant: tenant.id }).memoryPins;
    pins.upsertPin({ key: 'k', value: '{"n": 0}' });
    return {
      engine,
      get: medianMicros(() => pins.getPin({ key: 'k' })),
      upsert: medianMicros(() => pins.upsertPin({ key: 'k', value: '{"n": 1}' })),
    };
  } finally {
    engine.close();
  }
}

const reused = await measure(false, 'reused');
const fresh = await measure(true, 'fresh');
const probe = await Engine.open(`${path}.probe`);
const instantiate = medianMicros(() => probe.instantiate());
probe.close();
console.log(JSON.stringify({
  instantiate_us: instantiate,
  get_pin_us: fresh.get,
  upsert_pin_us: fresh.upsert,
  get_pin_reused_us: reused.get,
  upsert_pin_reused_us: reused.upsert,
}));
