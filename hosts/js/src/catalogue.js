// The SQL catalogue (`hosts/sql/`, copied into this package's data/ at build): every statement this host
// runs, written once for every host, addressed as `<file>/<name>`. Format: hosts/sql/README.md. This
// host states no SQL of its own for the engine's data; it only loads, selects and expands these blocks.

import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const MARKER = /^--\s*(statement|fragment):\s*([a-z0-9-]+)\s*(?:\[(sqlite|postgres)\])?\s*$/;
const FRAGMENT = /\{\{([a-z0-9-]+)\}\}/g;

/** Statements by `<file>/<name>` for one backend, fragments expanded. */
export class Catalogue {
  /** @param {string} directory @param {'sqlite'|'postgres'} backend */
  constructor(directory, backend = 'sqlite') {
    const blocks = new Map(); // `${file}\u0000${name}\u0000${variant}` → { file, name, variant, text }
    const fragments = new Map();
    const files = readdirSync(directory).filter((f) => f.endsWith('.sql')).sort();
    for (const file of files) {
      const stem = basename(file, '.sql');
      for (const block of parseBlocks(readFileSync(join(directory, file), 'utf8'))) {
        if (block.kind === 'fragment') {
          if (fragments.has(block.name)) throw new Error(`${file}: fragment ${block.name} defined twice`);
          fragments.set(block.name, block.text);
          continue;
        }
        const key = `${stem}\u0000${block.name}\u0000${block.variant ?? ''}`;
        if (blocks.has(key)) throw new Error(`${file}: statement ${block.name} defined twice`);
        blocks.set(key, { file: stem, name: block.name, variant: block.variant, text: block.text });
      }
    }
    /** @type {Map<string, string>} */
    this.statements = new Map();
    for (const { file, name, variant, text } of blocks.values()) {
      if (variant !== null && variant !== backend) continue;
      // A backend's own block wins over the plain one.
      if (variant === null && blocks.has(`${file}\u0000${name}\u0000${backend}`)) continue;
      this.statements.set(`${file}/${name}`, expand(text, fragments, `${file}/${name}`));
    }
  }

  /** The text of statement `name` (`<file>/<name>`); throws for a name the catalogue lacks. */
  get(name) {
    const text = this.statements.get(name);
    if (text === undefined) throw new Error(`the SQL catalogue has no statement ${name}`);
    return text;
  }

  get size() {
    return this.statements.size;
  }
}

/** The blocks of one file: each marker line starts one; comment lines are not part of the text. */
function* parseBlocks(source) {
  let current = null;
  let lines = [];
  for (const line of source.split(/\r?\n/)) {
    const marker = MARKER.exec(line.trim());
    if (marker) {
      if (current) yield { ...current, text: body(lines) };
      current = { kind: marker[1], name: marker[2], variant: marker[3] ?? null };
      lines = [];
    } else if (current && !line.trim().startsWith('--')) {
      lines.push(line);
    }
  }
  if (current) yield { ...current, text: body(lines) };
}

function body(lines) {
  const text = lines.join('\n').trim();
  return text.endsWith(';') ? text.slice(0, -1).trimEnd() : text;
}

function expand(text, fragments, where) {
  return text.replace(FRAGMENT, (_, name) => {
    const fragment = fragments.get(name);
    if (fragment === undefined) throw new Error(`${where}: unknown fragment ${name}`);
    return fragment;
  });
}
