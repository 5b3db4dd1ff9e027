// DOM helpers of the console: elements built with createElement/textContent only (no innerHTML with
// data), form fields with labels, tables, the alert and status regions, modal dialogs (confirmations
// with a reason, one-time secrets) and the formatting of times (microseconds since the epoch, UTC).

import { ApiError } from './api.js';

/**
 * Creates an element. attrs: plain attributes, plus `class`, `text` (textContent), `on` ({event: fn})
 * and boolean properties (`checked`, `disabled`, `required`, `readOnly`, `value`, `selected`, `hidden`).
 * Children: nodes, strings (text nodes) or null/false (skipped); arrays are flattened.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (['checked', 'disabled', 'required', 'readOnly', 'value', 'selected', 'hidden', 'multiple'].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let idCounter = 0;
/** A fresh element id for label/control pairs. */
export function uid(prefix = 'f') {
  idCounter += 1;
  return prefix + '-' + idCounter;
}

/**
 * A labelled control. type: 'text' | 'number' | 'email' | 'datetime-local' | 'file' | 'select' |
 * 'textarea' | 'checkbox'. options (select): [[value, label], ...]. hint: help text tied by aria-describedby.
 * masked: a credential (shown as dots, never a password field).
 */
export function field(label, name, { type = 'text', value, required, options, hint, placeholder, min, max, rows, autocomplete, readOnly, spellcheck, masked } = {}) {
  const id = uid(name);
  const hintId = hint ? id + '-hint' : null;
  let control;
  if (type === 'select') {
    // Defaults (defaultSelected, defaultValue, defaultChecked) so that a form's reset() returns to them.
    control = h('select', { id, name, required }, (options || []).map(([v, l]) => {
      const option = h('option', { value: v, text: l });
      option.defaultSelected = v === value;
      return option;
    }));
  } else if (type === 'textarea') {
    control = h('textarea', { id, name, required, rows: rows || 8, spellcheck: spellcheck === undefined ? 'false' : spellcheck, readOnly });
    if (value !== undefined && value !== null) control.defaultValue = value;
  } else {
    // A credential is a masked text field, not a password field: browsers offer to save password
    // fields, and the console promises that a credential is never stored.
    control = h('input', { id, name, type, required, placeholder, min, max, autocomplete: autocomplete || 'off', readOnly, spellcheck: 'false',
      class: masked ? 'credential' : null, autocapitalize: masked ? 'off' : null, 'data-1p-ignore': masked ? 'true' : null, 'data-lpignore': masked ? 'true' : null });
    if (type === 'checkbox') control.defaultChecked = !!value;
    else if (value !== undefined && value !== null) control.defaultValue = String(value);
  }
  if (hintId) control.setAttribute('aria-describedby', hintId);
  const wrapper = h('div', { class: type === 'checkbox' ? 'field check' : 'field' });
  const labelEl = h('label', { for: id, text: label + (required ? ' (required)' : '') });
  if (type === 'checkbox') wrapper.append(control, labelEl);
  else wrapper.append(labelEl, control);
  if (hintId) wrapper.append(h('p', { id: hintId, class: 'hint', text: hint }));
  return wrapper;
}

/** A form that calls `onSubmit(form)` (never navigates; the CSP forbids form actions anyway). */
export function form(attrs, children, onSubmit) {
  const f = h('form', { ...attrs, novalidate: false }, children);
  f.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = f.querySelectorAll('button[type=submit]');
    buttons.forEach((b) => (b.disabled = true));
    f.setAttribute('aria-busy', 'true');
    try {
      await onSubmit(f);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      f.removeAttribute('aria-busy');
    }
  });
  return f;
}

/** The value of a named control of a form ('' when empty). */
export function val(f, name) {
  const el = f.elements.namedItem(name);
  if (!el) return '';
  if (el.type === 'checkbox') return el.checked;
  return el.value.trim();
}

/** An integer from a form field, or null when empty; throws a readable error when not a whole number. */
export function intOrNull(f, name, label) {
  const text = val(f, name);
  if (text === '') return null;
  if (!/^\d+$/.test(text)) throw new ApiError(label + ' must be a whole number.', 'form_invalid', null, 0);
  return Number(text);
}

/** A table with a caption, column headers and rows of cells (nodes or text). */
export function table(caption, headers, rows, emptyText = 'Nothing to show.') {
  if (!rows.length) return h('p', { class: 'empty', text: emptyText });
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c === null || c === undefined ? '—' : c)))))));
}

// ----- times ------------------------------------------------------------------------------------

/** Microseconds since the epoch as "YYYY-MM-DD HH:MM:SS UTC" (a <time> whose title is local time). */
export function time(us) {
  if (us === null || us === undefined) return h('span', { class: 'muted', text: '—' });
  const d = new Date(Math.floor(Number(us) / 1000));
  if (Number.isNaN(d.getTime())) return h('span', { text: String(us) });
  const utc = d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  return h('time', { datetime: d.toISOString(), title: 'Local time: ' + d.toLocaleString() }, utc);
}

/** A datetime-local value (the browser's local time) as microseconds since the epoch, or null. */
export function localToMicros(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  if (Number.isNaN(ms)) throw new ApiError('"' + value + '" is not a date and time.', 'form_invalid', null, 0);
  return ms * 1000;
}

/** A JSON text pretty-printed, or the text itself when it is not JSON. */
export function prettyJson(text) {
  if (text === null || text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

// ----- alerts and status --------------------------------------------------------------------------

/** Shows an error in the alert region: the API's message, its code and the request id. */
export function showError(error) {
  const region = document.getElementById('alerts');
  const e = error instanceof ApiError ? error : new ApiError(String(error && error.message ? error.message : error), 'client_error', null, 0);
  const box = h('div', { class: 'alert' },
    h('p', { class: 'alert-message' }, h('strong', { text: e.status ? 'Refused (HTTP ' + e.status + '): ' : 'Not done: ' }), e.message),
    h('p', { class: 'alert-meta' },
      'code ', h('code', { class: 'error-code', text: e.code || 'unknown' }),
      e.requestId ? [' · request id ', h('code', { class: 'request-id', text: e.requestId })] : ' · no request id',
      e.operation ? [' · while calling ', h('code', { class: 'operation', text: e.operation })] : null),
    h('button', { type: 'button', class: 'link', text: 'Dismiss', on: { click: () => box.remove() } }));
  region.append(box);
}

export function clearAlerts() {
  document.getElementById('alerts').replaceChildren();
  document.getElementById('status').replaceChildren();
}

/** A polite success message in the status region. */
export function showStatus(text) {
  const region = document.getElementById('status');
  region.replaceChildren(h('p', { text }));
}

/** Runs an action: clears old alerts, shows any error. Resolves to the action's value or undefined. */
export async function attempt(action) {
  clearAlerts();
  try {
    return await action();
  } catch (e) {
    showError(e);
    return undefined;
  }
}

// ----- dialogs ------------------------------------------------------------------------------------

/**
 * A modal dialog asking for confirmation, optionally with fields (built with `field`). Resolves to the
 * form when confirmed, null when cancelled. The dialog is removed from the page once closed.
 */
export function ask(title, message, fields = [], confirmLabel = 'Confirm') {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    let result = null;
    const dlg = h('dialog', { 'aria-labelledby': titleId });
    const f = h('form', {},
      h('h2', { id: titleId, text: title }),
      message ? h('p', { text: message }) : null,
      fields,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'danger', text: confirmLabel }),
        h('button', { type: 'button', text: 'Cancel', on: { click: () => dlg.close() } })));
    f.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!f.reportValidity()) return;
      result = f;
      dlg.close();
    });
    dlg.append(f);
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/**
 * Shows a secret once (an API key, an invitation token) in a read-only field with a Copy button. When
 * closed, the field is emptied and the dialog removed: the secret is then nowhere in the page.
 */
export function showSecretOnce(title, label, secret, explanation) {
  return new Promise((resolve) => {
    const titleId = uid('secret');
    const input = h('input', { id: uid('secret-value'), type: 'text', readOnly: true, class: 'secret', spellcheck: 'false', autocomplete: 'off' });
    input.value = secret;
    const copied = h('span', { class: 'copied', role: 'status' });
    const dlg = h('dialog', { 'aria-labelledby': titleId, class: 'secret-dialog' },
      h('h2', { id: titleId, text: title }),
      h('p', { class: 'warning' }, h('strong', { text: 'Copy it now: you will not see it again. ' }), explanation || 'Only its hash is kept.'),
      h('div', { class: 'field' }, h('label', { for: input.id, text: label }), input),
      h('div', { class: 'actions' },
        h('button', { type: 'button', text: 'Copy', on: { click: () => copy(input, copied) } }),
        h('button', { type: 'button', class: 'primary', text: 'I have stored it — close', on: { click: finish } }),
        copied));
    // Closing (the button, or Escape) empties the field and removes the dialog at once.
    function finish() {
      input.value = '';
      if (dlg.open) dlg.close();
      dlg.remove();
      resolve();
    }
    dlg.addEventListener('close', finish);
    document.body.append(dlg);
    dlg.showModal();
    input.focus();
    input.select();
  });
}

async function copy(input, note) {
  try {
    await navigator.clipboard.writeText(input.value);
    note.textContent = 'Copied.';
  } catch {
    input.focus();
    input.select();
    note.textContent = 'Copying was refused by the browser: the text is selected, press Ctrl+C.';
  }
}

/** A small "label: value" description list. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v === null || v === undefined || v === '' ? '—' : v)]));
}

/** A "Next page" / "First page" bar for a Pager; `render(result)` redraws the list. */
export function pagerBar(pager, render) {
  const bar = h('div', { class: 'pager' });
  const info = h('span', { class: 'muted', text: 'Page ' + pager.pageNumber });
  const first = h('button', { type: 'button', text: 'First page', disabled: pager.pageNumber === 1,
    on: { click: async () => { const r = await attempt(() => pager.first()); if (r) render(r); } } });
  const next = h('button', { type: 'button', text: 'Next page', disabled: !pager.next,
    on: { click: async () => { const r = await attempt(() => pager.following()); if (r) render(r); } } });
  bar.append(first, next, info);
  return bar;
}
