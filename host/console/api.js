// The console's API client: holds the one credential in memory (never in storage, cookies or URLs),
// calls `POST /v1/{interface}/{operation}` and turns every refusal into an ApiError carrying the API's
// message, code and request id.

/** The signed-in session: what kind of credential, the credential itself, the tenant acted on. */
let session = null;

/** An API refusal (or a failure to reach the API), as the API worded it. */
export class ApiError extends Error {
  constructor(message, code, requestId, status) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.requestId = requestId;
    this.status = status;
  }
}

/**
 * Starts a session. kind: 'person' (a JWT), 'key' (an API key) or 'operator' (operator token, with
 * tenantId naming the tenant acted on, which may be set later).
 */
export function signIn(kind, credential, tenantId = null) {
  session = { kind, credential, tenantId };
}

/** Forgets the credential. */
export function signOut() {
  session = null;
}

export function signedIn() {
  return session !== null;
}

/** What kind of caller this is ('person' | 'key' | 'operator'), or null. */
export function kind() {
  return session ? session.kind : null;
}

/** The tenant an operator acts on (other callers' tenant comes from their credential). */
export function operatorTenant() {
  return session && session.kind === 'operator' ? session.tenantId : null;
}

export function setOperatorTenant(tenantId) {
  if (session && session.kind === 'operator') session.tenantId = tenantId || null;
}

/**
 * Calls one operation. `args` is the JSON object of its arguments. `opts.noTenant` leaves out the
 * operator's X-Tenant-Id (for operations that work across tenants, e.g. finding a tenant by slug).
 * Resolves to the operation's result; rejects with an ApiError.
 */
export async function call(iface, operation, args = {}, opts = {}) {
  if (!session) throw new ApiError('You are signed out.', 'signed_out', null, 0);
  const headers = { 'Content-Type': 'application/json', Authorization: 'Bearer ' + session.credential };
  if (session.kind === 'operator' && session.tenantId && !opts.noTenant) headers['X-Tenant-Id'] = session.tenantId;
  let response;
  try {
    response = await fetch('/v1/' + iface + '/' + operation, {
      method: 'POST',
      headers,
      body: JSON.stringify(args),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    const error = new ApiError('The service could not be reached (' + e.message + ').', 'network_error', null, 0);
    error.operation = iface + '/' + operation;
    throw error;
  }
  const headerId = response.headers.get('X-Request-Id');
  const text = await response.text();
  let body = null;
  let parsed = !text;
  try {
    body = text ? JSON.parse(text) : null;
    parsed = true;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const err = body && typeof body === 'object' && body.error ? body.error : null;
    const message = err && err.message ? err.message : 'HTTP ' + response.status + ' ' + response.statusText + (text ? ': ' + text.slice(0, 300) : '');
    const code = err && err.code ? err.code : 'http_' + response.status;
    const error = new ApiError(message, code, (err && err.request_id) || headerId, response.status);
    error.operation = iface + '/' + operation;
    throw error;
  }
  if (!parsed) throw new ApiError('The service answered with something that is not JSON.', 'bad_response', headerId, response.status);
  return body;
}

/**
 * Calls a list operation page by page from the UI: keeps a stack of cursors so that "Next" and
 * "First page" work. `fetchPage(after)` returns {items, next}.
 */
export class Pager {
  constructor(fetchPage) {
    this.fetchPage = fetchPage;
    this.after = null;
    this.next = null;
    this.pageNumber = 1;
  }
  async first() {
    this.after = null;
    this.pageNumber = 1;
    return this.load();
  }
  async following() {
    if (!this.next) return null;
    const before = { after: this.after, page: this.pageNumber };
    this.after = this.next;
    this.pageNumber += 1;
    try {
      return await this.load();
    } catch (e) {
      this.after = before.after;
      this.pageNumber = before.page;
      throw e;
    }
  }
  async load() {
    const result = await this.fetchPage(this.after);
    this.next = result && result.next ? result.next : null;
    return result;
  }
}
