// Builds a tenant policy written in JavaScript into a component of world `tenant-policy` (wit/policy.wit)
// with componentize-js. Every WASI feature is left out: a policy imports nothing.
//
//   node build.mjs <policy.js> <out.wasm>
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const [source, out] = process.argv.slice(2);
if (!source || !out) {
  console.error('usage: node build.mjs <policy.js> <out.wasm>');
  process.exit(2);
}
const witPath = fileURLToPath(new URL('../../../wit', import.meta.url));
const started = Date.now();
const { component } = await componentize(await readFile(source, 'utf8'), {
  witPath,
  worldName: 'tenant-policy',
  disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
});
await writeFile(out, component);
console.log(`${out}: ${component.length} bytes in ${Date.now() - started} ms`);
