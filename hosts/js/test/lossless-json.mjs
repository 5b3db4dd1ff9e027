// JSON.parse that keeps every integer exact: an integer literal beyond Number.MAX_SAFE_INTEGER becomes a
// BigInt (JSON.parse would round 9007199254740993 to …992). Scenario files may hold 64-bit values, as the
// Rust runner (serde_json) reads them. Node 20's JSON.parse gives a reviver no source text, hence this.

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const SPACE = /[ \t\n\r]*/y;

export function parseLossless(text) {
  let at = 0;
  const fail = (what) => {
    throw new SyntaxError(`${what} at position ${at}`);
  };
  const space = () => {
    SPACE.lastIndex = at;
    SPACE.exec(text);
    at = SPACE.lastIndex;
  };
  const token = (re) => {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return null;
    at = re.lastIndex;
    return m[0];
  };
  const value = () => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const out = {};
      space();
      if (text[at] === '}') return at++, out;
      for (;;) {
        space();
        const key = token(STRING) ?? fail('expected a key');
        space();
        if (text[at++] !== ':') fail("expected ':'");
        out[JSON.parse(key)] = value();
        space();
        const next = text[at++];
        if (next === '}') return out;
        if (next !== ',') fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      at++;
      const out = [];
      space();
      if (text[at] === ']') return at++, out;
      for (;;) {
        out.push(value());
        space();
        const next = text[at++];
        if (next === ']') return out;
        if (next !== ',') fail("expected ',' or ']'");
      }
    }
    if (c === '"') return JSON.parse(token(STRING) ?? fail('bad string'));
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, at)) return (at += word.length), v;
    }
    const n = token(NUMBER) ?? fail('unexpected character');
    if (/^-?\d+$/.test(n) && !Number.isSafeInteger(Number(n))) return BigInt(n);
    return Number(n);
  };
  const result = value();
  space();
  if (at !== text.length) fail('unexpected text after the value');
  return result;
}
