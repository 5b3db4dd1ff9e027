// This host's own scenarios (test/scenarios/, the shared format of tests/conformance/README.md): walks
// through every engine interface, so that every driver function the engine reaches runs against SQLite.
// They are this host's tests, checked on this host only; the shared suite is test/conformance.mjs.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { runScenarios } from './conformance.mjs';

test("the JS host's own scenarios pass", async () => {
  const { files, failures } = await runScenarios(join(dirname(fileURLToPath(import.meta.url)), 'scenarios'));
  assert.ok(files.length > 0);
  assert.deepEqual(failures, []);
});
