// The one JSON check the drivers make (a pin's value, a user's preferences): whether a text is a JSON
// object, as the Rust host decides it with `serde_json::from_str::<Value>`. JSON.parse accepts a few
// texts serde_json refuses (numbers that overflow a double, lone UTF-16 surrogate escapes, nesting deeper
// than serde_json's recursion limit); they are refused here too.

// serde_json refuses a document nested deeper than this (its recursion limit of 128 counts down to 0).
const MAX_DEPTH = 127;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `text` is one JSON object (and nothing else). */
export function isJsonObject(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) && acceptable(value);
}

function acceptable(root) {
  const stack = [[root, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop();
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) return false; // serde_json: "number out of range"
    } else if (typeof item === 'string') {
      if (LONE_SURROGATE.test(item)) return false;
    } else if (item !== null && typeof item === 'object') {
      if (depth > MAX_DEPTH) return false;
      if (Array.isArray(item)) {
        for (const inner of item) stack.push([inner, depth + 1]);
      } else {
        for (const [key, inner] of Object.entries(item)) {
          if (LONE_SURROGATE.test(key)) return false;
          stack.push([inner, depth + 1]);
        }
      }
    }
  }
  return true;
}
