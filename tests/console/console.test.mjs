// The web console's browser journey: Playwright (playwright-core) drives Debian's Chromium through the
// console served by the real service. One line per step; any unmet expectation exits non-zero.
//
// Environment: CONSOLE_URL (…/console/), OWNER_JWT (the bootstrapped owner's JWT), OPERATOR_TOKEN,
// TENANT_ID, SCREENSHOT_DIR (PNG files are written there), CHROMIUM (default /usr/bin/chromium),
// TEST_TIMEOUT_MS (default 120000).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') {
    console.error(`FAIL: the environment variable ${name} is required`);
    process.exit(2);
  }
  return v;
};
const CONSOLE_URL = env('CONSOLE_URL');
const OWNER_JWT = env('OWNER_JWT');
const OPERATOR_TOKEN = env('OPERATOR_TOKEN');
const TENANT_ID = env('TENANT_ID');
const SCREENSHOT_DIR = env('SCREENSHOT_DIR');
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const TIMEOUT_MS = Number(env('TEST_TIMEOUT_MS', '120000'));
const ORIGIN = new URL(CONSOLE_URL).origin;
const RUN = Date.now().toString(36);

fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });

let browser = null;
/** The page, for a screenshot and the alert text when a step fails. */
let currentPage = null;
let suspended = false;
const failures = [];
/** Every secret the journey handles: none may appear in a URL, in storage or in the browser's console. */
const secrets = [OWNER_JWT, OPERATOR_TOKEN];
const urls = [];
const consoleLines = [];
const cspViolations = [];

// A bound on the whole journey: past it, close the browser and exit non-zero.
let timedOut = false;
const watchdog = setTimeout(async () => {
  timedOut = true;
  console.log(`FAIL: the journey took longer than ${TIMEOUT_MS} ms (TEST_TIMEOUT_MS); stopping`);
  await cleanup();
  process.exit(3);
}, TIMEOUT_MS);

/** Runs one step; `soft` steps record their failure and let the journey go on. */
async function step(name, fn, { soft = false } = {}) {
  const started = Date.now();
  try {
    const note = await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)${note ? ' — ' + note : ''}`);
  } catch (e) {
    if (timedOut) throw e; // the watchdog reports and exits
    const message = (e && e.message ? e.message : String(e)).split('\n').slice(0, 12).join('\n     ');
    failures.push(name);
    let shown = '';
    if (currentPage) {
      await shot(currentPage, `FAIL-${String(failures.length).padStart(2, '0')}`).catch(() => {});
      shown = await currentPage.locator('#alerts').innerText({ timeout: 1000 }).catch(() => '');
    }
    console.log(`FAIL ${name}: ${message}${shown.trim() ? '\n     the console shows: ' + shown.replace(/\s+/g, ' ').trim() : ''}`);
    if (!soft) throw e;
  }
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name + '.png'), fullPage: true });
}

/** The operator's own API call (cleanup only: the journey itself goes through the console). */
async function operatorCall(operation, body) {
  const r = await fetch(`${ORIGIN}/v1/lifecycle/${operation}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${OPERATOR_TOKEN}`, 'X-Tenant-Id': TENANT_ID, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return r.status;
}

async function cleanup() {
  if (suspended) {
    // Leave the tenant as we found it even when the journey broke off half-way.
    const status = await operatorCall('resume', { reason: 'console test cleanup' }).catch((e) => String(e));
    console.log(`note cleanup: resumed the tenant (HTTP ${status})`);
    suspended = false;
  }
  if (browser) {
    const b = browser;
    browser = null;
    await Promise.race([b.close(), new Promise((r) => setTimeout(r, 5000))]).catch(() => {});
  }
}

/** The text of the alert region. */
const alertText = (page) => page.locator('#alerts').innerText();

/** Waits until the alert region holds an error, and returns its text. */
async function expectAlert(page, pattern) {
  const alert = page.locator('#alerts .alert').last();
  await alert.waitFor({ state: 'visible', timeout: 10000 });
  const text = await alert.innerText();
  assert.match(text, pattern, `the alert says: ${text}`);
  return text;
}

/**
 * Asserts that no error is shown. The operator page also loads the tenant's audit trail: with
 * `allowAudit`, a refusal of tenants/list_audit_log is tolerated here (its own soft step judges it).
 */
async function noAlert(page, { allowAudit = false } = {}) {
  const texts = await page.locator('#alerts .alert').allInnerTexts();
  const unexpected = texts.filter((t) => !(allowAudit && /while calling tenants\/list_audit_log/.test(t)));
  assert.deepEqual(unexpected.map((t) => t.replace(/\s+/g, ' ').trim()), [], 'unexpected error shown');
}

async function nav(page, name) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** Everything in the page a secret could hide in: the markup and every form control's value. */
async function pageHolds(page, secret) {
  return page.evaluate((s) => {
    if (document.documentElement.outerHTML.includes(s)) return 'markup';
    for (const el of document.querySelectorAll('input, textarea, select')) if (String(el.value).includes(s)) return 'a form field: ' + (el.name || el.id || el.outerHTML.slice(0, 80)) + ' = ' + String(el.value).slice(0, 40);
    if (document.body.innerText.includes(s)) return 'text';
    return null;
  }, secret);
}

async function storageHolds(page, context, secret) {
  const stored = await page.evaluate(() => {
    const dump = (s) => Array.from({ length: s.length }, (_, i) => s.key(i) + '=' + s.getItem(s.key(i))).join('\n');
    return dump(localStorage) + '\n' + dump(sessionStorage) + '\n' + document.cookie;
  });
  const cookies = JSON.stringify(await context.cookies());
  return stored.includes(secret) || cookies.includes(secret);
}

async function signInPerson(page, jwt) {
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByLabel('Person — paste a JWT').check();
  await page.getByLabel('JWT (from your identity provider)').fill(jwt);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  await noAlert(page);
}

async function signInOperator(page, tenantId) {
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByLabel('Operator — operator token').check();
  await page.getByLabel('Operator token', { exact: true }).fill(OPERATOR_TOKEN);
  await page.getByLabel('Tenant id', { exact: true }).fill(tenantId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Operator' }).waitFor();
  await page.locator('section.panel', { has: page.getByRole('heading', { name: 'Lifecycle' }) }).locator('form').waitFor();
  await noAlert(page, { allowAudit: true });
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  assert.equal((await page.locator('#whoami').innerText()).trim(), 'Signed out');
}

async function main() {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  currentPage = page;
  page.on('framenavigated', (f) => urls.push(f.url()));
  page.on('request', (r) => urls.push(r.url()));
  page.on('console', (m) => {
    consoleLines.push(m.text());
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => consoleLines.push('pageerror: ' + e.message));

  let slug = null;
  let apiKey = null;
  const keyName = `ci-key-${RUN}`;
  const invitee = `bob.${RUN}@example.com`;
  const pinKey = `console:test-${RUN}`;

  await step('open the console: the sign-in page', async () => {
    const response = await page.goto(CONSOLE_URL);
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'] || '';
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await shot(page, '01-sign-in');
    return csp ? 'served with a Content-Security-Policy' : 'NOTE: served without a Content-Security-Policy';
  });

  await step('sign in as the owner (person, JWT)', async () => {
    await signInPerson(page, OWNER_JWT);
    await assert.doesNotReject(page.getByText('Signed in as person').waitFor());
  });

  await step('overview: tenant, quotas, lifecycle, onboarding', async () => {
    const facts = page.locator('section.panel', { has: page.getByRole('heading', { name: 'Tenant' }) });
    await facts.getByText(TENANT_ID).waitFor();
    slug = (await facts.locator('dt:text-is("Slug") + dd').innerText()).trim();
    await page.getByRole('table', { name: /Quotas of the/ }).waitFor();
    await page.locator('section.panel', { has: page.getByRole('heading', { name: 'Lifecycle' }) }).getByText('active').first().waitFor();
    await page.locator('#onb-progress').waitFor();
    await noAlert(page);
    await shot(page, '02-overview');
    return `slug ${slug}`;
  });

  await step('members: invite someone with the keyboard only (focus, type, Enter)', async () => {
    await nav(page, 'Members & invitations');
    await page.getByRole('table', { name: 'Members of the tenant' }).getByText('ann@example.com').waitFor();
    await page.getByLabel('E-mail').focus();
    await page.keyboard.type(invitee);
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown'); // member → admin in the role list
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Invitation token' });
    await dialog.waitFor();
    const token = await dialog.locator('input.secret').inputValue();
    assert.ok(token.length >= 20, `an invitation token is shown once (got ${token.length} characters)`);
    secrets.push(token);
    await dialog.getByRole('button', { name: /close/ }).click();
    await page.waitForFunction(() => !document.querySelector('dialog'));
    assert.equal(await pageHolds(page, token), null, 'the invitation token is gone once its dialog is closed');
    const row = page.getByRole('table', { name: 'Invitations' }).getByRole('row', { name: new RegExp(invitee.replace(/\./g, '\\.')) });
    await row.waitFor();
    assert.match(await row.innerText(), /admin[\s\S]*pending/);
    await noAlert(page);
    await shot(page, '03-members');
  });

  await step('API keys: create a key and see its secret once', async () => {
    await nav(page, 'API keys');
    await page.getByLabel('Name').fill(keyName);
    await page.getByLabel('keys:read').check();
    await page.getByLabel('read:* — every read but the audit log').check();
    await page.getByLabel('Expires in days').fill('30');
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your new API key' });
    await dialog.waitFor();
    await dialog.getByText('you will not see it again').waitFor();
    apiKey = await dialog.locator('input.secret').inputValue();
    assert.match(apiKey, /^aos_/, 'the one-time secret is an API key');
    secrets.push(apiKey);
    assert.equal(await dialog.locator('input.secret').getAttribute('readonly'), '', 'the secret field is read-only');
    await dialog.getByRole('button', { name: 'Copy' }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, '04-keys-secret-once.png') });
    await dialog.getByRole('button', { name: /close/ }).click();
    await page.waitForFunction(() => !document.querySelector('dialog'));
    assert.equal(await pageHolds(page, apiKey), null, 'the key is nowhere in the page once the dialog is closed');
    const row = page.getByRole('table', { name: 'API keys' }).getByRole('row', { name: new RegExp(keyName) });
    await row.waitFor();
    assert.match(await row.innerText(), /active/);
    assert.match(await row.innerText(), /keys:read/);
    await nav(page, 'Overview');
    await nav(page, 'API keys');
    assert.equal(await pageHolds(page, apiKey), null, 'the key is nowhere in the page after navigating away and back');
    await noAlert(page);
  });

  await step('API keys: revoke the key with a reason; its status becomes revoked', async () => {
    await page.getByRole('button', { name: `Revoke the key ${keyName}` }).click();
    const dialog = page.getByRole('dialog', { name: /Revoke the key/ });
    await dialog.getByLabel('Reason').fill('console test: no longer needed');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('status').getByText(`Key "${keyName}" is revoked.`).waitFor();
    const row = page.getByRole('table', { name: 'API keys' }).getByRole('row', { name: new RegExp(keyName) });
    await row.getByText('revoked', { exact: true }).waitFor();
    assert.match(await row.innerText(), /no longer needed/);
    await noAlert(page);
    await shot(page, '05-keys-revoked');
  });

  await step('memory pins: create a pin', async () => {
    await nav(page, 'Memory pins');
    const editor = page.getByRole('form', { name: 'Create or replace a pin' });
    await editor.getByLabel('Key').fill(pinKey);
    await editor.getByLabel('Value (a JSON object)').fill('{"version": 1, "note": "first"}');
    await editor.getByLabel('TTL in seconds').fill('3600');
    await editor.getByRole('button', { name: 'Save pin' }).click();
    await page.getByRole('status').getByText(`Pin "${pinKey}" saved.`).waitFor();
    const value = page.locator('pre.pin-value');
    await value.waitFor();
    assert.deepEqual(JSON.parse(await value.innerText()), { version: 1, note: 'first' });
    await page.getByRole('table', { name: 'Pins, newest first' }).getByText(pinKey).waitFor();
    await noAlert(page);
  });

  await step('memory pins: invalid JSON is refused before sending', async () => {
    await page.getByRole('button', { name: `Edit the pin ${pinKey}` }).click();
    const editor = page.getByRole('form', { name: 'Create or replace a pin' });
    await editor.getByLabel('Value (a JSON object)').fill('{"version": 2,');
    await editor.getByRole('button', { name: 'Save pin' }).click();
    await expectAlert(page, /not valid JSON[\s\S]*invalid_json/);
  });

  await step('memory pins: edit the pin (JSON) and see the new value', async () => {
    const editor = page.getByRole('form', { name: 'Create or replace a pin' });
    await editor.getByLabel('Value (a JSON object)').fill('{"version": 2, "note": "edited", "tags": ["a", "b"]}');
    await editor.getByRole('button', { name: 'Save pin' }).click();
    await page.getByRole('status').getByText(`Pin "${pinKey}" saved.`).waitFor();
    await noAlert(page);
    await page.getByRole('button', { name: `View the pin ${pinKey}` }).click();
    await page.locator('pre.pin-value', { hasText: '"edited"' }).waitFor();
    assert.deepEqual(JSON.parse(await page.locator('pre.pin-value').innerText()), { version: 2, note: 'edited', tags: ['a', 'b'] });
    await shot(page, '06-pins');
  });

  await step('memory pins: the pin\'s access log shows its two writes, newest first (memory-pins/list_access_log)', async () => {
    // The service logs every write and delete and the first read of a pin per hour: this pin has its two
    // upserts (create, edit) and the read of "View" above; the value hashes are the first 16 hex digits
    // of the SHA-256 of the canonical value (compact JSON, sorted keys).
    const hash = (o) => crypto.createHash('sha256').update(JSON.stringify(o)).digest('hex').slice(0, 16);
    const created = hash({ note: 'first', version: 1 });
    const edited = hash({ note: 'edited', tags: ['a', 'b'], version: 2 });
    const log = page.locator('section.panel', { has: page.getByRole('heading', { name: 'Access log' }) });
    const rows = () => log.getByRole('table', { name: 'Access log, newest first' }).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => {
      const cells = [...tr.cells].map((c) => c.innerText.trim());
      return { when: tr.cells[0].querySelector('time')?.getAttribute('datetime') || '', operation: cells[1], key: cells[2], source: cells[3], hash: cells[6] };
    }));
    const show = (rs) => rs.map((r) => `${r.operation} ${r.key} ${r.hash}`).join(' | ');

    // The per-pin shortcut: fills the key filter and lists the pin's accesses.
    await page.getByRole('button', { name: `Access log of the pin ${pinKey}` }).click();
    await page.getByRole('status').getByText(`Showing the accesses of the pin "${pinKey}", newest first.`).waitFor();
    const filters = page.getByRole('form', { name: 'Filter the access log' });
    assert.equal(await filters.getByLabel('Key').inputValue(), pinKey, 'the shortcut fills the key filter');
    const all = await rows();
    assert.ok(all.every((r) => r.key === pinKey), `only the pin's accesses: ${show(all)}`);
    const upserts = all.filter((r) => r.operation === 'upsert');
    assert.equal(upserts.length, 2, `two upserts (create, edit): ${show(all)}`);
    assert.ok(all.some((r) => r.operation === 'get'), `the read of "View" is logged: ${show(all)}`);
    assert.deepEqual(upserts.map((r) => r.hash), [edited, created], `newest first, with the values' hashes: ${show(all)}`);
    assert.ok(upserts[0].when >= upserts[1].when, `newest first by time: ${upserts.map((r) => r.when).join(', ')}`);
    await noAlert(page);

    // The filter form: that key, operation upsert.
    await filters.getByLabel('Key').fill(pinKey);
    await filters.getByLabel('Operation').selectOption('upsert');
    await filters.getByRole('button', { name: 'Show accesses' }).click();
    await page.waitForFunction(() => !document.querySelector('form[aria-label="Filter the access log"][aria-busy]'));
    const writes = await rows();
    assert.deepEqual(writes.map((r) => [r.operation, r.key, r.source, r.hash]),
      [['upsert', pinKey, 'api', edited], ['upsert', pinKey, 'api', created]], `the two upserts, newest first: ${show(writes)}`);
    await noAlert(page);
    await log.scrollIntoViewIfNeeded();
    await shot(page, '06b-pins-access-log');
    return show(writes);
  });

  await step('audit log: the rows those actions wrote (tenants/list_audit_log)', async () => {
    await nav(page, 'Audit log');
    const outcome = await Promise.race([
      page.getByRole('table', { name: 'Audit log, newest first' }).waitFor().then(() => 'table'),
      page.getByText('No audit entries match.').waitFor().then(() => 'empty'),
      page.locator('#alerts .alert').first().waitFor().then(() => 'alert'),
    ]);
    await shot(page, '07-audit');
    if (outcome === 'alert') {
      const text = await alertText(page);
      assert.match(text, /code\s+\S+[\s\S]*request id\s+\S+/, 'the error is shown with its code and request id');
      assert.fail('the audit log could not be read');
    }
    assert.equal(outcome, 'table', 'the audit log has rows');
    const actions = await page.locator('code.audit-action').allInnerTexts();
    for (const a of ['create_api_key', 'revoke_api_key', 'invite_user']) assert.ok(actions.includes(a), `the audit log shows ${a} (it shows: ${actions.join(', ')})`);
    // Newest first: the revocation came after the creation.
    assert.ok(actions.indexOf('revoke_api_key') < actions.indexOf('create_api_key'), `newest first (${actions.join(', ')})`);
    const pinActions = actions.filter((a) => /pin/.test(a));
    // Filter by action.
    await page.getByLabel('Action').fill('create_api_key');
    await page.getByRole('button', { name: 'Show', exact: true }).press('Enter');
    await page.waitForFunction(() => [...document.querySelectorAll('code.audit-action')].every((c) => c.textContent === 'create_api_key'));
    await noAlert(page);
    return `actions seen: ${[...new Set(actions)].join(', ')}; pin actions: ${pinActions.length ? pinActions.join(', ') : 'none (the engine writes pin access to its memory access log, not the audit log)'}`;
  }, { soft: true });

  await step('sign out: the credential is forgotten', async () => {
    await signOut(page);
    for (const s of secrets) assert.equal(await pageHolds(page, s), null, 'no credential left in the page');
    for (const s of secrets) assert.equal(await storageHolds(page, context, s), false, 'no credential in storage or cookies');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  });

  await step('operator: sign in with the operator token and a tenant id', async () => {
    await signInOperator(page, TENANT_ID);
    await page.getByText('Signed in as operator').waitFor();
  });

  await step('operator: find the tenant by slug', async () => {
    const find = page.getByRole('form', { name: 'Find a tenant' });
    await find.getByLabel('Tenant slug').fill(slug);
    await find.getByRole('button', { name: 'Find tenant' }).click();
    await page.getByRole('status').getByText(/^Now acting on tenant .*\(/).waitFor();
    const tenant = page.locator('section.panel', { has: page.getByRole('heading', { name: 'Tenant', exact: true }) });
    await tenant.getByText(TENANT_ID).waitFor();
    await page.locator('section.panel', { has: page.getByRole('heading', { name: 'Lifecycle' }) }).locator('form').waitFor();
    await noAlert(page, { allowAudit: true });
  });

  await step('operator: suspend the tenant with a reason', async () => {
    const f = page.getByRole('form', { name: "Change the tenant's lifecycle" });
    await f.getByLabel('Action').selectOption('suspend');
    await f.getByLabel('Reason').fill(`console test ${RUN}: unpaid invoice`);
    await f.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('status').getByText('Tenant moved from active to suspended.').waitFor();
    suspended = true;
    const tenant = page.locator('section.panel', { has: page.getByRole('heading', { name: 'Tenant', exact: true }) });
    await tenant.getByText(`console test ${RUN}: unpaid invoice`).waitFor();
    await noAlert(page, { allowAudit: true });
    await shot(page, '08-operator');
  });

  await step('operator: the tenant\'s audit trail shows the suspension', async () => {
    const trail = page.locator('section.panel', { has: page.getByRole('heading', { name: 'Audit trail of this tenant' }) });
    const outcome = await Promise.race([
      trail.locator('code.audit-action', { hasText: /^suspend_tenant$/ }).first().waitFor().then(() => 'table'),
      page.locator('#alerts .alert').first().waitFor().then(() => 'alert'),
    ]).catch((e) => 'neither: ' + e.message);
    if (outcome === 'alert') assert.fail('the audit trail could not be read');
    assert.equal(outcome, 'table', 'the audit trail shows suspend_tenant');
    const actions = await trail.locator('code.audit-action').allInnerTexts();
    assert.ok(actions.some((a) => /suspend/.test(a)), `a suspension is in the trail (it shows: ${actions.join(', ')})`);
    await shot(page, '09-operator-audit');
    return `newest: ${actions[0]}`;
  }, { soft: true });

  await step('owner again: the tenant is suspended and an owner write is refused (lifecycle_blocked)', async () => {
    await signOut(page);
    await signInPerson(page, OWNER_JWT);
    const tenant = page.locator('section.panel', { has: page.getByRole('heading', { name: 'Tenant' }) });
    await tenant.getByText(`console test ${RUN}: unpaid invoice`).waitFor();
    await nav(page, 'Members & invitations');
    await page.getByLabel('E-mail').fill(`carol.${RUN}@example.com`);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    const text = await expectAlert(page, /lifecycle_blocked/);
    assert.match(text, /request id\s+[0-9a-f-]{8,}/, 'the refusal names its request id');
    await shot(page, '10-owner-refused');
    await nav(page, 'API keys');
    await page.getByLabel('Name').fill(`blocked-${RUN}`);
    await page.getByRole('button', { name: 'Create key' }).click();
    const keyText = await expectAlert(page, /lifecycle_blocked/);
    return `invite refused: ${text.split('\n')[0]} | key refused: ${keyText.split('\n')[0]}`;
  });

  await step('operator: resume the tenant', async () => {
    await signOut(page);
    await signInOperator(page, TENANT_ID);
    const f = page.getByRole('form', { name: "Change the tenant's lifecycle" });
    await f.getByLabel('Action').selectOption('resume');
    await f.getByLabel('Reason').fill(`console test ${RUN}: paid`);
    await f.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('status').getByText('Tenant moved from suspended to active.').waitFor();
    suspended = false;
    await noAlert(page, { allowAudit: true });
    await signOut(page);
  });

  await step('no credential in any URL, storage, cookie or console line; no CSP violation', async () => {
    for (const s of secrets) {
      const inUrl = urls.find((u) => u.includes(s) || u.includes(encodeURIComponent(s)));
      assert.equal(inUrl, undefined, `a credential appears in the URL ${inUrl}`);
      assert.equal(await storageHolds(page, context, s), false, 'a credential is in storage');
      assert.ok(!consoleLines.some((l) => l.includes(s)), 'a credential was written to the browser console');
    }
    assert.deepEqual(cspViolations, [], 'the page broke its Content-Security-Policy');
    const errors = consoleLines.filter((l) => l.startsWith('pageerror'));
    assert.deepEqual(errors, [], 'uncaught page errors');
    return `${new Set(urls).size} distinct URLs checked`;
  });
}

try {
  await main();
} catch {
  // Reported by its step.
} finally {
  if (!timedOut) {
    clearTimeout(watchdog);
    await cleanup();
  }
}
if (timedOut) await new Promise(() => {}); // the watchdog exits the process
if (failures.length) {
  console.log(`FAILED: ${failures.length} step(s): ${failures.join('; ')}`);
  process.exit(1);
}
console.log('PASSED: the console journey');
