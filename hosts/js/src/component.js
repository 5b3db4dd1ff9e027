// The engine component as jco transpiled it at build time (data/jco/): its core modules compiled once per
// process, and instances made from them on demand. jco's `--instantiation sync` output is used so that a
// replacement instance is made synchronously inside an engine call (see engine.js: a call never awaits, so
// no other call can observe a missing or poisoned instance).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export class Component {
  /** Loads the transpiled component of `dataDir` and compiles its core modules (once). */
  static async load(dataDir) {
    const dir = join(dataDir, 'jco');
    const bindings = await import(pathToFileURL(join(dir, 'account-engine.js')).href);
    const modules = new Map();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.wasm'))) {
      modules.set(file, await WebAssembly.compile(readFileSync(join(dir, file))));
    }
    const types = JSON.parse(readFileSync(join(dataDir, 'account-engine.types.json'), 'utf8'));
    return new Component(bindings.instantiate, modules, types);
  }

  constructor(instantiate, modules, types) {
    this.instantiateBindings = instantiate;
    this.modules = modules;
    /** The types of every imported and exported function (account-engine.types.json). */
    this.types = types;
  }

  /** A fresh instance: its exports by interface name (`aos:accounts/memory-pins@0.5.0`). */
  instantiate(imports) {
    const getCoreModule = (name) => {
      const module = this.modules.get(name);
      if (!module) throw new Error(`the transpiled component has no core module ${name}`);
      return module;
    };
    // jco 1.35's instantiation probes `WebAssembly.promising` (JSPI) for every export inside try/catch; on
    // a Node without JSPI (20, 22) each probe throws, which makes one instantiation take 1.5 s instead of
    // 4 ms. While it runs, an identity `promising` gives jco exactly the value its catch would have used
    // (the plain export), and it is removed again before anything else can run.
    if (typeof WebAssembly.promising === 'function') return this.instantiateBindings(getCoreModule, imports);
    WebAssembly.promising = (f) => f;
    try {
      return this.instantiateBindings(getCoreModule, imports);
    } finally {
      delete WebAssembly.promising;
    }
  }
}
