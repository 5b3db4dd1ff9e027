// The console's entry point: sign-in (person JWT, API key, or operator token + tenant), the header and
// navigation, and the hash router (`#/members`; a hash never holds a credential). The credential is
// kept only in api.js's memory: a reload or "Sign out" forgets it.

import * as api from './api.js';
import { h, field, form, val, attempt, clearAlerts, showError } from './ui.js';
import * as pages from './pages.js';

/** Who is signed in, as learned after sign-in (no credential here). */
let me = null;

const ROUTES = {
  overview: { title: 'Overview', render: pages.overview },
  members: { title: 'Members & invitations', render: pages.members },
  keys: { title: 'API keys', render: pages.keys },
  pins: { title: 'Memory pins', render: pages.pins },
  audit: { title: 'Audit log', render: pages.audit },
  policies: { title: 'Policies', render: pages.policies },
  operator: { title: 'Operator', render: pages.operator },
};

/** The routes a kind of caller sees in the navigation. */
function routesFor(kind) {
  if (kind === 'operator') return ['operator', 'overview', 'members', 'keys', 'pins', 'audit', 'policies'];
  if (kind === 'person') return ['overview', 'members', 'keys', 'pins', 'audit', 'policies'];
  return ['overview', 'members', 'keys', 'pins', 'audit'];
}

function currentRoute() {
  const m = /^#\/([a-z]+)$/.exec(location.hash);
  return m && ROUTES[m[1]] ? m[1] : null;
}

function go(name) {
  if (location.hash === '#/' + name) render();
  else location.hash = '#/' + name;
}

// ----- the shell ----------------------------------------------------------------------------------

function renderHeader() {
  const who = document.getElementById('whoami');
  const nav = document.getElementById('nav');
  const out = document.getElementById('signout');
  if (!me) {
    who.textContent = 'Signed out';
    nav.hidden = true;
    nav.replaceChildren();
    out.hidden = true;
    return;
  }
  const tenant = (me.tenantName ? me.tenantName + (me.tenantSlug ? ' (' + me.tenantSlug + ')' : '') : me.tenantId || 'no tenant chosen') +
    (me.tenantStatus && me.tenantStatus !== 'active' ? ' — ' + me.tenantStatus.toUpperCase() : '');
  const as = me.kind === 'person' ? 'person ' + (me.email || '') + (me.role ? ' · ' + me.role : '')
    : me.kind === 'operator' ? 'operator' : 'API key';
  who.textContent = 'Signed in as ' + as + ' · tenant: ' + tenant;
  out.hidden = false;
  const active = currentRoute();
  nav.hidden = false;
  nav.replaceChildren(h('ul', {}, routesFor(me.kind).map((r) => h('li', {},
    h('a', { href: '#/' + r, 'aria-current': r === active ? 'page' : null, text: ROUTES[r].title })))));
}

/** Draws the page the hash names (or the sign-in page). */
async function render() {
  const main = document.getElementById('main');
  if (!api.signedIn() || !me) {
    renderHeader();
    main.replaceChildren(signInPage());
    return;
  }
  let route = currentRoute();
  if (!route || !routesFor(me.kind).includes(route)) {
    route = me.kind === 'operator' ? 'operator' : 'overview';
    history.replaceState(null, '', '#/' + route);
  }
  renderHeader();
  const heading = h('h1', { tabindex: '-1', text: ROUTES[route].title });
  const section = h('section', { class: 'page page-' + route, 'aria-labelledby': 'page-title' });
  heading.id = 'page-title';
  section.append(heading);
  main.replaceChildren(section);
  document.title = ROUTES[route].title + ' — Account console';
  heading.focus();
  if (me.kind === 'operator' && !api.operatorTenant() && route !== 'operator') {
    section.append(h('p', {}, 'Choose a tenant on the ', h('a', { href: '#/operator', text: 'Operator' }), ' page first.'));
    return;
  }
  try {
    await ROUTES[route].render(section, me, { refreshMe, go });
  } catch (e) {
    showError(e);
  }
}

/** Re-reads what the header shows (after an operator picks a tenant). */
async function refreshMe() {
  if (!me) return;
  if (me.kind === 'operator') {
    me.tenantId = api.operatorTenant();
    me.tenantName = null;
    me.tenantSlug = null;
    me.tenantStatus = null;
    if (me.tenantId) {
      const t = await api.call('tenants', 'get_tenant');
      me.tenantName = t.name;
      me.tenantSlug = t.slug;
      me.tenantStatus = t.status;
    }
  }
  renderHeader();
}

// ----- sign-in ------------------------------------------------------------------------------------

function signInPage() {
  const section = h('section', { class: 'page page-signin', 'aria-labelledby': 'signin-title' });
  section.append(h('h1', { id: 'signin-title', tabindex: '-1', text: 'Sign in' }),
    h('p', {}, 'Your credential stays in this tab\'s memory only: it is never stored, and reloading the page signs you out.'));

  const kinds = [
    ['person', 'Person — paste a JWT from your identity provider'],
    ['operator', 'Operator — operator token and a tenant (id, or find it by slug)'],
    ['key', 'API key — paste a tenant API key (aos_…)'],
  ];
  const chooser = h('fieldset', { class: 'kinds' }, h('legend', { text: 'How do you sign in?' }),
    kinds.map(([v, l], i) => {
      const id = 'kind-' + v;
      return h('div', { class: 'field check' },
        h('input', { type: 'radio', name: 'kind', id, value: v, checked: i === 0, on: { change: show } }),
        h('label', { for: id, text: l }));
    }));

  // Only the chosen kind's fields are in the form (one credential field at a time).
  const build = {
    person: () => [field('JWT (from your identity provider)', 'jwt', { masked: true, hint: 'Signed by the identity provider this service trusts; its sub, email and optional tenant_id claims say who you are and where.' })],
    operator: () => [
      field('Operator token', 'operator_token', { masked: true }),
      field('Tenant id', 'tenant_id', { hint: 'The tenant to act on. Or leave it empty and give its slug.' }),
      field('Tenant slug', 'tenant_slug', { hint: 'Looked up with tenants/get_tenant_by_slug.' }),
    ],
    key: () => [field('API key', 'api_key', { masked: true, hint: 'A key acts within its scopes and never beyond its creator\'s role.' })],
  };
  const fields = h('div', { class: 'kind-fields' });

  const f = form({ class: 'signin', 'aria-labelledby': 'signin-title' },
    [chooser, fields, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Sign in' }))],
    async (f) => {
      const kind = f.elements.namedItem('kind').value;
      await attempt(() => signInWith(kind, f));
    });

  function show() {
    fields.replaceChildren(...build[f.elements.namedItem('kind').value]());
  }
  show();
  section.append(f);
  return section;
}

async function signInWith(kind, f) {
  const clearSecrets = () => f.querySelectorAll('input.credential').forEach((i) => (i.value = ''));
  let credential;
  if (kind === 'person') credential = val(f, 'jwt');
  else if (kind === 'operator') credential = val(f, 'operator_token');
  else credential = val(f, 'api_key');
  if (!credential) throw new api.ApiError('Paste your credential first.', 'form_invalid', null, 0);
  if (/\s/.test(credential)) throw new api.ApiError('The credential holds spaces or line breaks; paste it alone.', 'form_invalid', null, 0);

  const next = { kind, email: null, role: null, userId: null, tenantId: null, tenantName: null, tenantSlug: null, tenantStatus: null };
  api.signIn(kind, credential, null);
  try {
    if (kind === 'operator') {
      const tenantId = val(f, 'tenant_id');
      const slug = val(f, 'tenant_slug');
      if (!tenantId && !slug) throw new api.ApiError('Give the tenant\'s id or its slug.', 'form_invalid', null, 0);
      let tenant;
      if (tenantId) {
        api.setOperatorTenant(tenantId);
        tenant = await api.call('tenants', 'get_tenant');
      } else {
        tenant = await api.call('tenants', 'get_tenant_by_slug', { slug }, { noTenant: true });
        if (!tenant) throw new api.ApiError('No tenant has the slug "' + slug + '".', 'not_found', null, 0);
        api.setOperatorTenant(tenant.id);
      }
      Object.assign(next, { tenantId: tenant.id, tenantName: tenant.name, tenantSlug: tenant.slug, tenantStatus: tenant.status });
    } else if (kind === 'person') {
      const profile = await api.call('accounts', 'get_profile');
      Object.assign(next, { email: profile.email, role: profile.role, userId: profile.user_id, tenantId: profile.tenant_id, tenantName: profile.tenant_name });
      const tenant = await api.call('tenants', 'get_tenant').catch(() => null);
      if (tenant) Object.assign(next, { tenantSlug: tenant.slug, tenantStatus: tenant.status });
    } else {
      const tenant = await api.call('tenants', 'get_tenant');
      Object.assign(next, { tenantId: tenant.id, tenantName: tenant.name, tenantSlug: tenant.slug, tenantStatus: tenant.status });
    }
  } catch (e) {
    // A credential that does not let its holder in (or names no usable tenant) is forgotten at once.
    api.signOut();
    throw e;
  } finally {
    clearSecrets();
  }
  me = next;
  clearAlerts();
  go(kind === 'operator' ? 'operator' : currentRoute() || 'overview');
}

function signOut() {
  api.signOut();
  me = null;
  clearAlerts();
  document.querySelectorAll('dialog').forEach((d) => d.remove());
  history.replaceState(null, '', location.pathname);
  render();
  document.getElementById('signin-title')?.focus();
}

// ----- start --------------------------------------------------------------------------------------

document.getElementById('signout').addEventListener('click', signOut);
document.getElementById('skip').addEventListener('click', () => {
  const target = document.querySelector('main h1') || document.getElementById('main');
  target.focus();
});
window.addEventListener('hashchange', () => {
  clearAlerts();
  document.querySelectorAll('dialog').forEach((d) => d.close());
  render();
});
render();
