// The console's pages: overview, members & invitations, API keys, memory pins, audit log, policies and
// the operator's tenant lifecycle. Each page renders into its <section> and calls the API through
// api.js; the engine decides what is allowed, the console only shows its answers.

import * as api from './api.js';
import {
  h, field, form, val, intOrNull, table, time, localToMicros, prettyJson, attempt, showStatus, showError,
  clearAlerts, ask, showSecretOnce, facts, pagerBar,
} from './ui.js';

const ROLES = ['viewer', 'member', 'admin', 'owner'];
const RANK = { viewer: 1, member: 2, admin: 3, owner: 4 };
const SCOPES = [
  ['read:*', 'read:* — every read but the audit log'], ['run:*', 'run:* — start and see runs'], ['admin:*', 'admin:* — everything its creator may do'],
  ['audit:read', 'audit:read — the audit log'],
  ['keys:create', 'keys:create'], ['keys:read', 'keys:read'], ['keys:revoke', 'keys:revoke'],
  ['invitations:manage', 'invitations:manage'], ['users:manage', 'users:manage'],
  ['memory_pin:read', 'memory_pin:read'], ['memory_pin:write', 'memory_pin:write'], ['memory_pin:delete', 'memory_pin:delete'],
  ['onboarding:write', 'onboarding:write'],
];

/** A sub-section with a heading, appended to `parent`; returns its body to fill. */
function panel(parent, title, level = 'h2') {
  const body = h('div', { class: 'panel-body' });
  parent.append(h('section', { class: 'panel' }, h(level, { text: title }), body));
  return body;
}

function badge(text) {
  return h('span', { class: 'badge badge-' + String(text).replace(/[^a-z_]/g, ''), text: String(text) });
}

/** A log's filter from its form: the named fields that are filled in, and the since/until times (µs). */
function logFilter(f, fields) {
  const filter = {};
  for (const k of fields) if (val(f, k)) filter[k] = val(f, k);
  const since = localToMicros(val(f, 'since'));
  const until = localToMicros(val(f, 'until'));
  if (since !== null) filter.since = since;
  if (until !== null) filter.until = until;
  return filter;
}

function busy(container, text = 'Loading…') {
  container.replaceChildren(h('p', { class: 'muted', text }));
}

/** Loads into a container: shows the error in the alert region (and a note in place) on failure. */
async function load(container, fetcher, draw) {
  busy(container);
  try {
    const result = await fetcher();
    container.replaceChildren();
    draw(result);
  } catch (e) {
    container.replaceChildren(h('p', { class: 'muted', text: 'Could not load this part (see the message above).' }));
    showError(e);
  }
}

// ----- overview ---------------------------------------------------------------------------------

/** How many of the tenant's keys are active (null when the caller may not list keys). */
async function activeKeys() {
  let count = 0, after = null;
  try {
    do {
      const page = await api.call('tenants', 'list_api_keys', { include_revoked: false, page: { limit: 1000, after } });
      count += page.items.filter((k) => k.status === 'active').length;
      after = page.next;
    } while (after);
  } catch (e) {
    if (e.code === 'forbidden') return null;
    throw e;
  }
  return count;
}

export async function overview(section, me) {
  if (me.kind === 'person') {
    panel(section, 'You').append(facts([['E-mail', me.email], ['Role', me.role], ['User id', me.userId]]));
  }
  const tenantBody = panel(section, 'Tenant');
  const quotaBody = panel(section, 'Quotas and usage');
  const lifeBody = panel(section, 'Lifecycle');
  const onbBody = panel(section, 'Onboarding');
  await Promise.all([
    load(tenantBody, () => Promise.all([api.call('tenants', 'get_tenant'), activeKeys()]), ([t, keyCount]) => {
      tenantBody.append(facts([
        ['Name', t.name], ['Slug', t.slug], ['Tenant id', h('code', { text: t.id })], ['Plan', t.plan],
        ['Status', badge(t.status)], ['Suspended because', t.suspended_reason], ['Billing e-mail', t.billing_email],
        ['Created', time(t.created_at)], ['Updated', time(t.updated_at)],
      ]));
      const q = t.quotas, u = t.usage;
      const row = (label, used, max) => [label, used === null ? '—' : String(used), String(max),
        used === null ? '—' : h('progress', { max: String(Math.max(1, max)), value: String(Math.min(used, max)), 'aria-label': label + ' used' })];
      quotaBody.replaceChildren(table('Quotas of the ' + t.plan + ' plan against usage', ['Quota', 'Used', 'Limit', ''], [
        row('Runs today', u.runs_today, q.max_runs_per_day),
        row('Tokens this month', u.tokens_this_month, q.max_tokens_per_month),
        ['Runs this month', String(u.runs_this_month), '—', ''],
        ['Concurrent runs', '—', String(q.max_concurrent_runs), ''],
        ['Workers', '—', String(q.max_workers), ''],
        row('Active API keys', keyCount, q.max_api_keys),
      ]), h('p', { class: 'hint' }, 'Counters last reset: ', time(u.last_run_reset_at)));
    }),
    load(lifeBody, () => api.call('lifecycle', 'get_state'), (s) => {
      lifeBody.append(facts([
        ['Status', badge(s.status)],
        ['Allows', ['reads', 'writes', 'api_keys', 'sdk', 'token_refresh'].filter((k) => s['allows_' + k]).join(', ') || 'nothing'],
        ['Final', s.is_terminal ? 'yes: terminated or archived' : 'no'], ['Can be resumed', s.is_reversible ? 'yes' : 'no'],
        ['Can move to', s.valid_transitions.join(', ') || 'nowhere'],
      ]));
    }),
    load(onbBody, () => api.call('onboarding', 'get_state'), (o) => {
      const pid = 'onb-progress';
      onbBody.append(
        h('p', {}, h('label', { for: pid, text: 'Step ' + o.step_index + ' of ' + o.total_steps + ': ' + o.state + (o.is_complete ? ' (complete)' : '') + ' ' }),
          h('progress', { id: pid, max: String(o.total_steps), value: String(o.step_index) })),
        facts([
          ['Next', o.next_action ? o.next_action.action_type + ' (' + o.next_action.action_id + ')' : 'nothing'],
          ['Allowed', o.allowed.join(', ') || 'nothing'], ['Blocked', o.blocked.join(', ') || 'nothing'],
        ]));
    }),
  ]);
}

// ----- members & invitations ------------------------------------------------------------------------

/** The roles the caller may give (mirrors the engine; the engine's answer is authoritative). */
function grantableRoles(me) {
  if (me.kind !== 'person') return ROLES;
  if (me.role === 'owner') return ROLES;
  if (me.role === 'admin') return ROLES.filter((r) => RANK[r] <= RANK.admin);
  return [];
}

export async function members(section, me) {
  const inviteBody = panel(section, 'Invite someone');
  const membersBody = panel(section, 'Members');
  const invBody = panel(section, 'Invitations');

  const roles = grantableRoles(me);
  if (!roles.length) inviteBody.append(h('p', { class: 'hint', text: 'Your role does not let you invite; the service will refuse.' }));
  inviteBody.append(
    form({ class: 'inline', 'aria-label': 'Invite someone' }, [
      field('E-mail', 'email', { type: 'email', required: true, autocomplete: 'off' }),
      field('Role', 'role', { type: 'select', value: 'member', options: (roles.length ? roles : ROLES).map((r) => [r, r]) }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Send invitation' })),
    ], async (f) => {
      const created = await attempt(() => api.call('accounts', 'invite_user', { email: val(f, 'email'), role: val(f, 'role') }));
      if (!created) return;
      f.reset();
      showStatus('Invitation ' + created.invitation.id + ' created for ' + created.invitation.email + ' as ' + created.invitation.role + '.');
      await showSecretOnce('Invitation token', 'Invitation token for ' + created.invitation.email, created.token,
        'Send it with the invitation id (' + created.invitation.id + ') to the invitee out of band; only its hash is kept.');
      await drawInvitations();
    }));

  const memberPager = new api.Pager((after) => api.call('accounts', 'list_users', { page: { limit: 50, after } }));
  const drawMembers = (result) => {
    membersBody.replaceChildren(
      h('p', { class: 'muted', text: (result.total_exact ? '' : 'More than ') + result.total + ' member(s).' }),
      table('Members of the tenant', ['E-mail', 'Name', 'Role', 'Status', 'Since', 'Last sign-in', 'Change role', 'Remove'],
        result.items.map((u) => {
          const self = u.user_id === me.userId;
          const sel = h('select', { 'aria-label': 'New role for ' + u.email, disabled: self },
            ROLES.map((r) => h('option', { value: r, selected: r === u.role, text: r })));
          const change = h('button', { type: 'button', text: 'Change', disabled: self, 'aria-label': 'Change the role of ' + u.email, on: { click: async () => {
            const r = await attempt(() => api.call('accounts', 'update_user_role', { user_id: u.user_id, new_role: sel.value }));
            if (r) { showStatus(u.email + ' is now ' + r.role + '.'); await reloadMembers(); }
          } } });
          const remove = h('button', { type: 'button', class: 'danger', text: 'Remove', disabled: self, 'aria-label': 'Remove ' + u.email, on: { click: async () => {
            if (!(await ask('Remove ' + u.email + '?', 'They lose access to this tenant at once.', [], 'Remove'))) return;
            const r = await attempt(() => api.call('accounts', 'remove_user', { user_id: u.user_id }));
            if (r !== undefined) { showStatus(u.email + ' was removed.'); await reloadMembers(); }
          } } });
          return [u.email + (self ? ' (you)' : ''), u.name, badge(u.role), badge(u.status), time(u.created_at), time(u.last_login_at),
            h('span', { class: 'row-actions' }, sel, change), remove];
        }), 'No members.'),
      pagerBar(memberPager, drawMembers));
  };
  const reloadMembers = () => load(membersBody, () => memberPager.first(), drawMembers);

  const statusFilter = h('select', { id: 'inv-status', on: { change: () => drawInvitations() } },
    [['', 'any'], ['pending', 'pending'], ['accepted', 'accepted'], ['expired', 'expired'], ['revoked', 'revoked']].map(([v, l]) => h('option', { value: v, text: l, selected: v === 'pending' })));
  const invList = h('div');
  invBody.append(h('div', { class: 'field inline-field' }, h('label', { for: 'inv-status', text: 'Status' }), statusFilter), invList);
  const invPager = new api.Pager((after) => api.call('accounts', 'list_invitations', { status: statusFilter.value || null, page: { limit: 50, after } }));
  const drawInv = (result) => {
    invList.replaceChildren(
      table('Invitations', ['E-mail', 'Role', 'Status', 'Created', 'Expires', 'Accepted', ''], result.items.map((i) => [
        i.email, badge(i.role), badge(i.status), time(i.created_at), time(i.expires_at), time(i.accepted_at),
        i.status === 'pending' ? h('button', { type: 'button', class: 'danger', text: 'Revoke', 'aria-label': 'Revoke the invitation of ' + i.email, on: { click: async () => {
          if (!(await ask('Revoke the invitation of ' + i.email + '?', 'Its token stops working.', [], 'Revoke'))) return;
          const r = await attempt(() => api.call('accounts', 'revoke_invitation', { invitation_id: i.id }));
          if (r) { showStatus('The invitation of ' + i.email + ' is revoked.'); await drawInvitations(); }
        } } }) : null,
      ]), 'No invitations.'),
      pagerBar(invPager, drawInv));
  };
  const drawInvitations = () => load(invList, () => invPager.first(), drawInv);
  await Promise.all([reloadMembers(), drawInvitations()]);
}

// ----- API keys ---------------------------------------------------------------------------------------

export async function keys(section) {
  const createBody = panel(section, 'Create a key');
  const listBody = panel(section, 'Keys');

  createBody.append(form({ class: 'stack', 'aria-label': 'Create an API key' }, [
    field('Name', 'name', { required: true, hint: '1 to 100 characters.' }),
    h('fieldset', { class: 'scopes' }, h('legend', { text: 'Scopes (none ticked: run:*, read:*, onboarding:write)' }),
      SCOPES.map(([s, l]) => field(l, 'scope:' + s, { type: 'checkbox' }))),
    field('Other scopes', 'more_scopes', { hint: 'Comma-separated, family:action or family:* (e.g. support:write).' }),
    field('Expires in days', 'expires', { type: 'number', min: '1', max: '365', hint: '1 to 365; empty: never expires.' }),
    field('Requests per minute', 'rpm', { type: 'number', min: '1', max: '1000', hint: '1 to 1000; empty: the platform default.' }),
    field('Concurrent runs', 'runs', { type: 'number', min: '1', max: '100', hint: '1 to 100; empty: only the plan\'s limit.' }),
    field('Allowed workers', 'workers', { hint: 'Comma-separated worker ids; empty: any.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Create key' })),
  ], async (f) => {
    const created = await attempt(() => {
      const scopes = SCOPES.map(([s]) => s).filter((s) => val(f, 'scope:' + s));
      scopes.push(...val(f, 'more_scopes').split(',').map((s) => s.trim()).filter(Boolean));
      const workers = val(f, 'workers').split(',').map((s) => s.trim()).filter(Boolean);
      return api.call('tenants', 'create_api_key', { key: {
        name: val(f, 'name'),
        permissions: scopes.length ? scopes : null,
        allowed_workers: workers.length ? workers : null,
        expires_in_days: intOrNull(f, 'expires', 'Expires in days'),
        rate_limit_rpm: intOrNull(f, 'rpm', 'Requests per minute'),
        max_concurrent_runs: intOrNull(f, 'runs', 'Concurrent runs'),
      } });
    });
    if (!created) return;
    f.reset();
    showStatus('Key "' + created.api_key.name + '" created (' + created.api_key.key_prefix + '…).');
    await showSecretOnce('Your new API key', 'API key "' + created.api_key.name + '"', created.key,
      'Only its hash is kept: if you lose it, revoke it and create another.');
    await reload();
  }));

  const includeRevoked = h('input', { type: 'checkbox', id: 'keys-revoked', on: { change: () => reload() } });
  const list = h('div');
  listBody.append(h('div', { class: 'field check' }, includeRevoked, h('label', { for: 'keys-revoked', text: 'Show revoked and expired keys' })), list);
  const pager = new api.Pager((after) => api.call('tenants', 'list_api_keys', { include_revoked: includeRevoked.checked, page: { limit: 50, after } }));
  const draw = (result) => {
    list.replaceChildren(
      table('API keys', ['Name', 'Prefix', 'Status', 'Scopes', 'Created', 'Expires', 'Last used', 'Requests', 'Revoked', ''], result.items.map((k) => [
        k.name, h('code', { text: k.key_prefix + '…' }), badge(k.status), k.permissions.join(', '), time(k.created_at),
        time(k.expires_at), time(k.last_used_at), String(k.total_requests),
        k.revoked_at ? h('span', {}, time(k.revoked_at), k.revoked_reason ? ' — ' + k.revoked_reason : '') : null,
        k.status === 'active' ? h('button', { type: 'button', class: 'danger', text: 'Revoke', 'aria-label': 'Revoke the key ' + k.name, on: { click: async () => {
          const answer = await ask('Revoke the key "' + k.name + '"?', 'It stops working at once; this cannot be undone.',
            [field('Reason', 'reason', { required: true })], 'Revoke');
          if (!answer) return;
          const r = await attempt(() => api.call('tenants', 'revoke_api_key', { key_id: k.id, reason: val(answer, 'reason') }));
          if (r) { showStatus('Key "' + r.name + '" is ' + r.status + '.'); includeRevoked.checked = true; await reload(); }
        } } }) : null,
      ]), 'No keys.'),
      pagerBar(pager, draw));
  };
  const reload = () => load(list, () => pager.first(), draw);
  await reload();
}

// ----- memory pins ------------------------------------------------------------------------------------

export async function pins(section) {
  const browseBody = panel(section, 'Browse');
  const viewBody = panel(section, 'Pin');
  const editBody = panel(section, 'Create or replace a pin');
  const logBody = panel(section, 'Access log');
  viewBody.append(h('p', { class: 'muted', text: 'Choose a pin to see its value.' }));

  const list = h('div');
  let pager = null;
  const browse = form({ class: 'inline', 'aria-label': 'Browse pins' }, [
    field('Key prefix', 'prefix', { hint: 'Matched literally; empty: every pin.' }),
    field('Page size', 'limit', { type: 'number', min: '1', max: '1000', value: '25' }),
    field('Include expired', 'expired', { type: 'checkbox' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'List pins' })),
  ], async () => { await refresh(); });
  browseBody.append(browse, list);

  async function refresh() {
    let limit;
    try {
      limit = intOrNull(browse, 'limit', 'Page size') || 25;
    } catch (e) {
      await attempt(() => { throw e; });
      return;
    }
    const prefix = val(browse, 'prefix');
    const expired = val(browse, 'expired');
    pager = new api.Pager((after) => api.call('memory-pins', 'list_pins', { prefix: prefix || null, include_expired: expired, page: { limit, after } }));
    await load(list, () => pager.first(), draw);
  }
  const draw = (result) => {
    list.replaceChildren(
      h('p', { class: 'muted', text: (result.total_exact ? '' : 'More than ') + result.total + ' pin(s) match.' }),
      table('Pins, newest first', ['Key', 'Source', 'Updated', 'TTL', 'Expires', 'Size', ''], result.items.map((p) => [
        h('code', { text: p.key }), p.source, time(p.updated_at), p.ttl_seconds === null ? 'none' : p.ttl_seconds + ' s', time(p.expires_at),
        p.value.length + ' B',
        h('span', { class: 'row-actions' },
          h('button', { type: 'button', text: 'View', 'aria-label': 'View the pin ' + p.key, on: { click: () => view(p.key) } }),
          h('button', { type: 'button', text: 'Edit', 'aria-label': 'Edit the pin ' + p.key, on: { click: () => edit(p) } }),
          h('button', { type: 'button', text: 'Access log', 'aria-label': 'Access log of the pin ' + p.key, on: { click: () => showAccesses(p.key) } }),
          h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': 'Delete the pin ' + p.key, on: { click: () => del(p.key) } })),
      ]), 'No pins.'),
      pagerBar(pager, draw));
  };

  function showPin(p) {
    viewBody.replaceChildren(
      facts([['Key', h('code', { text: p.key })], ['Source', p.source], ['Created', time(p.created_at)], ['Updated', time(p.updated_at)],
        ['TTL', p.ttl_seconds === null ? 'none' : p.ttl_seconds + ' seconds'], ['Expires', time(p.expires_at)]]),
      h('pre', { class: 'json pin-value', tabindex: '0', 'aria-label': 'Value of ' + p.key, text: prettyJson(p.value) }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', text: 'Edit', on: { click: () => edit(p) } }),
        h('button', { type: 'button', text: 'Access log', on: { click: () => showAccesses(p.key) } }),
        h('button', { type: 'button', class: 'danger', text: 'Delete', on: { click: () => del(p.key) } })));
  }
  async function view(key) {
    const p = await attempt(() => api.call('memory-pins', 'get_pin', { key }));
    if (p === undefined) return;
    if (p === null) viewBody.replaceChildren(h('p', { text: 'The pin "' + key + '" does not exist (or has expired).' }));
    else showPin(p);
  }
  function edit(p) {
    editor.elements.namedItem('key').value = p.key;
    editor.elements.namedItem('value').value = prettyJson(p.value);
    editor.elements.namedItem('ttl').value = p.ttl_seconds === null ? '' : String(p.ttl_seconds);
    editor.elements.namedItem('source').value = p.source || '';
    editor.elements.namedItem('value').focus();
  }
  async function del(key) {
    if (!(await ask('Delete the pin "' + key + '"?', 'Its value is gone for good.', [], 'Delete'))) return;
    const r = await attempt(() => api.call('memory-pins', 'delete_pin', { key }));
    if (r === undefined) return;
    showStatus(r ? 'The pin "' + key + '" was deleted.' : 'There was no pin "' + key + '".');
    viewBody.replaceChildren(h('p', { class: 'muted', text: 'Choose a pin to see its value.' }));
    await Promise.all([refresh(), refreshLog({ quiet: true })]);
  }

  const jsonNote = h('p', { class: 'hint', id: 'pin-json-note', 'aria-live': 'polite' });
  const editor = form({ class: 'stack', 'aria-label': 'Create or replace a pin' }, [
    field('Key', 'key', { required: true, hint: '1 to 512 characters, without "..", "/", "\\".' }),
    field('Value (a JSON object)', 'value', { type: 'textarea', required: true, rows: 10, value: '{\n  \n}' }),
    jsonNote,
    field('TTL in seconds', 'ttl', { type: 'number', min: '1', max: '31536000', hint: 'Counted from this write; empty: never expires. Saving again restarts it.' }),
    field('Source', 'source', { hint: 'Who wrote it; empty: api.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Save pin' })),
  ], async (f) => {
    const text = f.elements.namedItem('value').value;
    const p = await attempt(() => {
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new api.ApiError('The value is not valid JSON: ' + e.message, 'invalid_json', null, 0);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new api.ApiError('The value must be a JSON object ({…}).', 'invalid_json', null, 0);
      }
      return api.call('memory-pins', 'upsert_pin', {
        key: val(f, 'key'), value: JSON.stringify(parsed), source: val(f, 'source') || null, ttl_seconds: intOrNull(f, 'ttl', 'TTL'),
      });
    });
    if (!p) return;
    showStatus('Pin "' + p.key + '" saved.');
    showPin(p);
    await Promise.all([refresh(), refreshLog({ quiet: true })]);
  });
  const valueBox = editor.elements.namedItem('value');
  valueBox.addEventListener('input', () => {
    try {
      JSON.parse(valueBox.value);
      jsonNote.textContent = 'Valid JSON.';
      valueBox.removeAttribute('aria-invalid');
    } catch (e) {
      jsonNote.textContent = 'Not valid JSON yet: ' + e.message;
      valueBox.setAttribute('aria-invalid', 'true');
    }
  });
  editBody.append(editor);

  // The access log: every write and delete of a pin, and the first read of a pin per hour, newest first.
  const logList = h('div', { class: 'access-log' });
  let logPager = null;
  const logFilters = form({ class: 'filters access-filters', 'aria-label': 'Filter the access log' }, [
    field('Key', 'key', { hint: 'Exact key; empty: every pin.' }),
    field('Operation', 'operation', { type: 'select', value: '', options: [['', 'any'], ['upsert', 'upsert (write)'], ['get', 'get (first read per hour)'], ['delete', 'delete']] }),
    field('Since (your local time)', 'since', { type: 'datetime-local' }),
    field('Until (your local time)', 'until', { type: 'datetime-local' }),
    field('Page size', 'limit', { type: 'number', min: '1', max: '1000', value: '25' }),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', text: 'Show accesses' }),
      h('button', { type: 'button', text: 'Clear filters', on: { click: () => { logFilters.reset(); refreshLog(); } } })),
  ], async () => { await refreshLog(); });
  logBody.append(
    h('p', { class: 'hint intro', text: 'Every write and delete of a pin and the first read of a pin per hour. A value hash is the first 16 hex digits of the SHA-256 of the stored (canonical) value. Admins, owners, keys with memory_pin:admin and operators may read it.' }),
    logFilters, logList);

  /**
   * Lists the accesses the filters select. `quiet`: a load the reader did not ask for (opening the page,
   * after a write), where a refusal of the caller's role is a note in place rather than an alert.
   * Resolves to true when the list is shown.
   */
  async function refreshLog({ quiet = false } = {}) {
    let filter, limit;
    try {
      filter = logFilter(logFilters, ['key', 'operation']);
      limit = intOrNull(logFilters, 'limit', 'Page size') || 25;
    } catch (e) {
      await attempt(() => { throw e; });
      return false;
    }
    if (!quiet) clearAlerts();
    const pager = new api.Pager((after) => api.call('memory-pins', 'list_access_log', { filter, page: { limit, after } }));
    logPager = pager;
    busy(logList);
    try {
      const result = await pager.first();
      if (logPager !== pager) return false; // a later request replaced this one
      drawLog(pager, result);
      return true;
    } catch (e) {
      if (logPager !== pager) return false;
      if (quiet && e.code === 'forbidden') {
        logList.replaceChildren(h('p', { class: 'muted', text: 'Your access does not include the access log (' + e.message + ').' }));
        return false;
      }
      logList.replaceChildren(h('p', { class: 'muted', text: 'Could not load this part (see the message above).' }));
      showError(e);
      return false;
    }
  }
  const hashes = (a) => {
    if (!a.old_value_hash && !a.new_value_hash) return null;
    return h('span', { class: 'hashes' },
      a.old_value_hash ? [h('code', { title: 'Before', text: a.old_value_hash }), ' → '] : null,
      a.new_value_hash ? h('code', { title: 'After', text: a.new_value_hash }) : h('span', { class: 'muted', text: 'none' }));
  };
  const latency = (ms) => (ms === null || ms === undefined ? null : Number(ms).toFixed(Number(ms) < 10 ? 2 : 0) + ' ms');
  const drawLog = (pager, result) => {
    logList.replaceChildren(
      table('Access log, newest first', ['When', 'Operation', 'Key', 'Source', 'Agent', 'Latency', 'Value hash'], result.items.map((a) => [
        time(a.at), badge(a.operation), h('code', { text: a.key }), a.source, a.agent_id ? h('code', { text: a.agent_id }) : null,
        latency(a.latency_ms), hashes(a),
      ]), 'No accesses match.'),
      pagerBar(pager, (r) => drawLog(pager, r)));
  };
  /** The per-pin shortcut: every access of one pin, newest first. */
  async function showAccesses(key) {
    const limit = logFilters.elements.namedItem('limit').value;
    logFilters.reset();
    logFilters.elements.namedItem('key').value = key;
    logFilters.elements.namedItem('limit').value = limit;
    const heading = logBody.parentElement.querySelector('h2');
    heading.setAttribute('tabindex', '-1');
    heading.focus();
    if (await refreshLog()) showStatus('Showing the accesses of the pin "' + key + '", newest first.');
  }

  await Promise.all([refresh(), refreshLog({ quiet: true })]);
}

// ----- audit log ------------------------------------------------------------------------------------

/** The audit trail of the call's tenant, newest first, with filters: used by the audit and operator pages. */
export function auditPanel(parent, pageSize = 50) {
  const list = h('div', { class: 'audit-list' });
  let pager = null;
  const filters = form({ class: 'filters', 'aria-label': 'Filter the audit log' }, [
    field('Action', 'action', { placeholder: 'e.g. create_api_key' }),
    field('Actor', 'actor', { placeholder: 'e.g. identity:ann, operator:alice', hint: 'Exact match.' }),
    field('Resource type', 'resource_type', { placeholder: 'e.g. api_key' }),
    field('Resource id', 'resource_id'),
    field('User id', 'user_id'),
    field('API key id', 'api_key_id'),
    field('Since (your local time)', 'since', { type: 'datetime-local' }),
    field('Until (your local time)', 'until', { type: 'datetime-local' }),
    field('Page size', 'limit', { type: 'number', min: '1', max: '1000', value: String(pageSize) }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Show' })),
  ], async () => { await refresh(); });

  async function refresh() {
    let filter, limit;
    try {
      filter = logFilter(filters, ['action', 'actor', 'resource_type', 'resource_id', 'user_id', 'api_key_id']);
      limit = intOrNull(filters, 'limit', 'Page size') || 50;
    } catch (e) {
      await attempt(() => { throw e; });
      return;
    }
    pager = new api.Pager((after) => api.call('tenants', 'list_audit_log', { filter, page: { limit, after } }));
    await load(list, () => pager.first(), draw);
  }
  const change = (e) => {
    if (e.old_value === null && e.new_value === null) return null;
    return h('details', {}, h('summary', { text: 'Details' }),
      e.old_value !== null ? [h('p', { class: 'hint', text: 'Before' }), h('pre', { class: 'json', text: prettyJson(e.old_value) })] : null,
      e.new_value !== null ? [h('p', { class: 'hint', text: 'After' }), h('pre', { class: 'json', text: prettyJson(e.new_value) })] : null);
  };
  const draw = (result) => {
    list.replaceChildren(
      table('Audit log, newest first', ['When', 'Actor', 'Action', 'Resource', 'User / key', 'Request id', 'Change'], result.items.map((e) => [
        time(e.created_at), e.actor, h('code', { class: 'audit-action', text: e.action }),
        h('span', {}, e.resource_type || '', e.resource_id ? [' ', h('code', { text: e.resource_id })] : ''),
        e.user_id || e.api_key_id ? h('span', {}, e.user_id ? 'user ' + e.user_id : '', e.api_key_id ? ' key ' + e.api_key_id : '') : null,
        e.request_id ? h('code', { text: e.request_id }) : null, change(e),
      ]), 'No audit entries match.'),
      pagerBar(pager, draw));
  };
  parent.append(filters, list);
  return refresh;
}

export async function audit(section) {
  await auditPanel(panel(section, 'Entries'))();
}

// ----- policies -------------------------------------------------------------------------------------

export async function policies(section) {
  const statusBody = panel(section, 'Status');
  const versionsBody = panel(section, 'Versions');
  const installBody = panel(section, 'Install a version');
  const dryBody = panel(section, 'Dry run');

  const drawStatus = () => load(statusBody, () => api.call('policies', 'status'), (s) => {
    statusBody.append(facts([
      ['Active version', s.active_version === null ? 'none (no policy runs)' : String(s.active_version)],
      ['Previous version', s.previous_version], ['Changed by', s.changed_by], ['Reason', s.reason], ['Changed', time(s.changed_at)],
      ['Calls / denials / failures', s.calls + ' / ' + s.denials + ' / ' + s.failures],
      ['Last failure', s.last_failure ? 'v' + s.last_failure.version + ' ' + s.last_failure.trigger + ': ' + s.last_failure.message : null],
    ]), h('div', { class: 'actions' },
      h('button', { type: 'button', text: 'Roll back', on: { click: async () => {
        const r = await attempt(() => api.call('policies', 'rollback'));
        if (r) { showStatus('Rolled back.'); await both(); }
      } } }),
      h('button', { type: 'button', class: 'danger', text: 'Deactivate', on: { click: async () => {
        const f = await ask('Deactivate the policy?', 'No policy runs any more until a version is activated.', [field('Reason', 'reason', { required: true })], 'Deactivate');
        if (!f) return;
        const r = await attempt(() => api.call('policies', 'deactivate', { reason: val(f, 'reason') }));
        if (r) { showStatus('No policy is active now.'); await both(); }
      } } })));
  });
  const drawVersions = () => load(versionsBody, () => api.call('policies', 'list_versions'), (versions) => {
    versionsBody.append(table('Stored versions, newest first', ['Version', 'Note', 'Handles', 'Size', 'Hash', 'Created', 'Active', 'Calls / denials / failures', ''],
      versions.map((v) => [String(v.version), v.note, v.handles.join(', '), v.size_bytes + ' B', h('code', { title: v.content_hash, text: v.content_hash.slice(0, 12) }),
        time(v.created_at), v.active ? badge('active') : 'no', v.calls + ' / ' + v.denials + ' / ' + v.failures,
        v.active ? null : h('span', { class: 'row-actions' },
          h('button', { type: 'button', text: 'Activate', 'aria-label': 'Activate version ' + v.version, on: { click: async () => {
            const r = await attempt(() => api.call('policies', 'activate', { version: v.version }));
            if (r) { showStatus('Version ' + v.version + ' is active.'); await both(); }
          } } }),
          h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': 'Delete version ' + v.version, on: { click: async () => {
            if (!(await ask('Delete version ' + v.version + '?', null, [], 'Delete'))) return;
            const r = await attempt(() => api.call('policies', 'delete_version', { version: v.version }));
            if (r !== undefined) { showStatus('Version ' + v.version + ' deleted.'); await both(); }
          } } }))]), 'No versions installed.'));
  });
  const both = () => Promise.all([drawStatus(), drawVersions()]);

  installBody.append(form({ class: 'stack', 'aria-label': 'Install a policy version' }, [
    field('Component (.wasm, world tenant-policy)', 'component', { type: 'file', required: true }),
    field('Configuration (JSON)', 'config', { type: 'textarea', rows: 4, value: '{}' }),
    field('Note', 'note', { hint: 'What this version is, at most 200 characters.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Install (not activated)' })),
  ], async (f) => {
    const v = await attempt(async () => {
      const file = f.elements.namedItem('component').files[0];
      if (!file) throw new api.ApiError('Choose a component file.', 'form_invalid', null, 0);
      const config = f.elements.namedItem('config').value;
      try { JSON.parse(config); } catch (e) { throw new api.ApiError('The configuration is not valid JSON: ' + e.message, 'invalid_json', null, 0); }
      const bytes = new Uint8Array(await file.arrayBuffer());
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return api.call('policies', 'install', { policy: { component: btoa(binary), config, note: val(f, 'note') || null } });
    });
    if (!v) return;
    f.reset();
    showStatus('Version ' + v.version + ' installed; it handles ' + (v.handles.join(', ') || 'nothing') + '.');
    await both();
  }));

  const outcome = h('pre', { class: 'json', tabindex: '0', 'aria-label': 'Dry-run outcome', hidden: true });
  dryBody.append(form({ class: 'stack', 'aria-label': 'Dry-run a policy version' }, [
    field('Version', 'version', { type: 'number', min: '1', required: true }),
    field('Event (JSON: one of invite_user, accept_invitation, change_role, remove_member, create_api_key, write_pin, file_ticket)', 'event', {
      type: 'textarea', rows: 5, value: '{"invite_user": {"email": "eve@evil.example", "role": "member", "members": 3, "pending_invitations": 0}}' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Dry run' })),
  ], async (f) => {
    const r = await attempt(() => {
      let event;
      try { event = JSON.parse(f.elements.namedItem('event').value); } catch (e) { throw new api.ApiError('The event is not valid JSON: ' + e.message, 'invalid_json', null, 0); }
      return api.call('policies', 'dry_run', { version: intOrNull(f, 'version', 'Version'), event });
    });
    if (!r) return;
    outcome.hidden = false;
    outcome.textContent = JSON.stringify(r, null, 2);
  }), outcome);

  await both();
}

// ----- operator -------------------------------------------------------------------------------------

export async function operator(section, me, { refreshMe }) {
  const findBody = panel(section, 'Tenant');
  const lifeBody = panel(section, 'Lifecycle');
  const auditBody = panel(section, 'Audit trail of this tenant');

  findBody.append(form({ class: 'inline', 'aria-label': 'Find a tenant' }, [
    field('Tenant slug', 'slug'),
    field('or tenant id', 'tenant_id'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Find tenant' })),
  ], async (f) => {
    const found = await attempt(async () => {
      const slug = val(f, 'slug'), id = val(f, 'tenant_id');
      if (!slug && !id) throw new api.ApiError('Give a slug or a tenant id.', 'form_invalid', null, 0);
      if (slug) {
        const t = await api.call('tenants', 'get_tenant_by_slug', { slug }, { noTenant: true });
        if (!t) throw new api.ApiError('No tenant has the slug "' + slug + '".', 'not_found', null, 0);
        return t.id;
      }
      return id;
    });
    if (!found) return;
    const previous = api.operatorTenant();
    api.setOperatorTenant(found);
    busy(current);
    busy(lifeBody);
    auditBody.replaceChildren();
    const ok = await attempt(async () => { await refreshMe(); return true; });
    if (!ok) api.setOperatorTenant(previous);
    await show();
    if (ok) showStatus('Now acting on tenant ' + (me.tenantName || found) + (me.tenantSlug ? ' (' + me.tenantSlug + ')' : '') + '.');
  }));
  const current = h('div');
  findBody.append(current);

  async function show() {
    if (!api.operatorTenant()) {
      current.replaceChildren(h('p', { class: 'muted', text: 'No tenant chosen yet.' }));
      lifeBody.replaceChildren(h('p', { class: 'muted', text: 'Choose a tenant first.' }));
      auditBody.replaceChildren();
      return;
    }
    await Promise.all([
      load(current, () => api.call('tenants', 'get_tenant'), (t) => {
        current.append(facts([['Name', t.name], ['Slug', t.slug], ['Tenant id', h('code', { text: t.id })], ['Plan', t.plan],
          ['Status', badge(t.status)], ['Suspended because', t.suspended_reason], ['Updated', time(t.updated_at)]]));
      }),
      load(lifeBody, () => api.call('lifecycle', 'get_state'), drawLifecycle),
    ]);
    auditBody.replaceChildren();
    await auditPanel(auditBody, 20)();
  }

  function drawLifecycle(s) {
    const actions = [['suspend', 'Suspend (→ suspended)'], ['resume', 'Resume (→ active)'], ['terminate', 'Terminate (→ terminated, irreversible)'], ['archive', 'Archive (→ archived, final)']];
    const target = { suspend: 'suspended', resume: 'active', terminate: 'terminated', archive: 'archived' };
    const firstValid = (actions.find(([a]) => s.valid_transitions.includes(target[a])) || actions[0])[0];
    lifeBody.append(
      facts([['Status', badge(s.status)], ['Can move to', s.valid_transitions.join(', ') || 'nowhere'],
        ['Allows writes', s.allows_writes ? 'yes' : 'no'], ['Allows API keys', s.allows_api_keys ? 'yes' : 'no']]),
      form({ class: 'stack', 'aria-label': 'Change the tenant\'s lifecycle' }, [
        field('Action', 'action', { type: 'select', value: firstValid, options: actions.map(([a, l]) => [a, l + (s.valid_transitions.includes(target[a]) ? '' : ' — not allowed from ' + s.status)]) }),
        field('Reason', 'reason', { required: true, hint: 'Recorded in the audit log with your operator id.' }),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger', text: 'Apply' })),
      ], async (f) => {
        const action = val(f, 'action');
        if ((action === 'terminate' || action === 'archive') &&
          !(await ask(action === 'terminate' ? 'Terminate this tenant?' : 'Archive this tenant?', 'This cannot be undone.', [], action === 'terminate' ? 'Terminate' : 'Archive'))) return;
        const r = await attempt(() => api.call('lifecycle', action, { reason: val(f, 'reason') }));
        if (!r) return;
        showStatus('Tenant moved from ' + r.from_status + ' to ' + r.to_status + '.');
        try {
          await refreshMe();
        } catch (e) {
          showError(e);
        }
        await show();
      }));
  }

  await show();
}
