// Puts what the package carries into data/ when it is built (`npm run build`, and npm's `prepare`): the
// engine component and its types file, the SQLite migrations, the SQL catalogue and the WIT contract, all
// from this repository, and the component transpiled by jco (data/jco/). The component comes from
// $ACCOUNT_ENGINE_WASM, else from the Rust build, published into target/contract/ by
// `account-service contract --out` (run with cargo on every build). Outside the repository (a packed package, whose
// data/ is already built) there is nothing to do.
//
// Why `--instantiation sync`: the core modules are compiled once, asynchronously, when the engine opens;
// making an instance from them is then synchronous (4 ms), so an instance that trapped is replaced inside
// the next call without an `await`, and no other call can ever run between the trap and the replacement.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { apiTypes } from './api-types.mjs';

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(PACKAGE, '..', '..');
const DATA = join(PACKAGE, 'data');

function say(text) {
  process.stderr.write(`@aos/accounts build: ${text}\n`);
}

function inRepository() {
  return existsSync(join(ROOT, 'Cargo.toml')) && existsSync(join(ROOT, 'migrations', 'sqlite'));
}

/** The component to ship, building it with cargo when the repository has not built it yet. */
function component() {
  if (process.env.ACCOUNT_ENGINE_WASM) return resolve(process.env.ACCOUNT_ENGINE_WASM);
  const target = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
  const published = join(target, 'contract');
  // Published on every build (cargo rebuilds only what changed), so the package never carries an engine
  // older than the repository's.
  const args = ['run', '--quiet', '-p', 'account-host', '--bin', 'account-service', '--', 'contract', '--out', published];
  say(`publishing the engine: cargo ${args.join(' ')}`);
  const run = spawnSync('cargo', args, { cwd: ROOT, stdio: 'inherit' });
  if (run.error || run.status !== 0) throw new Error(`publishing the contract failed (${run.error?.message ?? `exit ${run.status}`})`);
  return join(published, 'account-engine.wasm');
}

/** Copies the files of `source` whose names end in `suffix` (subdirectories kept) into a fresh `target`. */
function copyTree(source, target, suffix) {
  rmSync(target, { recursive: true, force: true });
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(suffix)) {
        const destination = join(target, relative(source, path));
        mkdirSync(dirname(destination), { recursive: true });
        cpSync(path, destination);
      }
    }
  };
  walk(source);
}

async function transpile(wasm, outDir) {
  let jco;
  try {
    jco = await import('@bytecodealliance/jco');
  } catch (error) {
    throw new Error(`@bytecodealliance/jco is needed to build this package (npm install in hosts/js): ${error.message}`);
  }
  const { files } = await jco.transpile(readFileSync(wasm), {
    name: 'account-engine',
    instantiation: 'sync',
    emitTypescriptDeclarations: false, // the package's own index.d.ts is its typed API
    quiet: true,
  });
  rmSync(outDir, { recursive: true, force: true });
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(outDir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
  // The generated module is ESM; this package is `type: module`, so data/jco needs no package.json of its own.
  return Object.keys(files).length;
}

/** The version of an installed package (its exports do not include its package.json). */
function packageVersion(name) {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  while (basename(dir) !== basename(name) && dirname(dir) !== dir) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

async function main() {
  if (!inRepository()) {
    if (existsSync(join(DATA, 'jco', 'account-engine.js'))) return say('outside the repository; data/ is already built');
    throw new Error(`no repository around ${PACKAGE} and no built data/: build the package from the repository`);
  }
  const wasm = component();
  const types = process.env.ACCOUNT_ENGINE_TYPES
    ? resolve(process.env.ACCOUNT_ENGINE_TYPES)
    : join(dirname(wasm), 'account-engine.types.json');
  if (!existsSync(wasm)) throw new Error(`no component at ${wasm}`);
  if (!existsSync(types)) throw new Error(`no types file at ${types} (host/build/contract_types.rs writes it beside the component)`);

  mkdirSync(DATA, { recursive: true });
  cpSync(wasm, join(DATA, 'account-engine.wasm'));
  cpSync(types, join(DATA, 'account-engine.types.json'));
  copyTree(join(ROOT, 'migrations', 'sqlite'), join(DATA, 'migrations'), '.sql');
  cpSync(join(ROOT, 'migrations', 'sqlite', 'rewritten.json'), join(DATA, 'migrations', 'rewritten.json'));
  copyTree(join(ROOT, 'hosts', 'sql'), join(DATA, 'sql'), '.sql');
  copyTree(join(ROOT, 'wit'), join(DATA, 'wit'), '.wit');
  const count = await transpile(wasm, join(DATA, 'jco'));
  const interfaces = ['accounts', 'tenants', 'memory-pins', 'onboarding', 'lifecycle', 'policies'];
  writeFileSync(join(DATA, 'api.d.ts'), apiTypes(JSON.parse(readFileSync(types, 'utf8')).exports, interfaces));

  const bytes = readFileSync(wasm);
  const jcoVersion = packageVersion('@bytecodealliance/jco');
  writeFileSync(
    join(DATA, 'build.json'),
    `${JSON.stringify({ component: basename(wasm), sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, jco: jcoVersion }, null, 2)}\n`,
  );
  say(`data/ built from ${relative(ROOT, wasm)} (${(bytes.length / 1048576).toFixed(1)} MiB; jco ${jcoVersion}, ${count} files)`);
}

main().catch((error) => {
  say(`failed: ${error.message}`);
  process.exit(1);
});
