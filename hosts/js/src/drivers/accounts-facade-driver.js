// `accounts-facade-driver`: projects, members, profiles, billing, support tickets and invitations.

import { conflict, invalid, notFound } from '../errors.js';
import { countLimit, decode, fetchLimit, finish, timeKey } from '../cursor.js';
import { newId, parseId } from '../ids.js';
import { isJsonObject } from '../json.js';
import * as rows from '../rows.js';
import { insertMembershipRow } from './shared/memberships.js';
import { oneRequired, scalarRequired } from './shared/statements.js';
import { fetchUser, visibleUser } from './shared/users.js';

// --- tenant / project ---

export function fetchTenants(call, tenantId, status, limit, offset) {
  const t = call.tenant(tenantId);
  const clamped = Math.min(Math.max(limit, 1), 1000);
  return call.all('accounts-facade-driver/fetch-tenants', t, status, clamped, offset).map(rows.tenantSnapshot);
}

export function countTenants(call, tenantId, status) {
  const t = call.tenant(tenantId);
  return scalarRequired(call, 'accounts-facade-driver/count-tenants', t, status);
}

export function fetchTenantDetail(call, tenantId) {
  const t = call.tenant(tenantId);
  const row = call.one('accounts-facade-driver/fetch-tenant-by-id', t);
  return row === null ? null : rows.tenantDetail(row);
}

export function insertProject(call, name, slug, description) {
  const id = newId();
  // Quotas, counters, status and onboarding state take the schema's defaults: the free plan.
  const row = call.one('accounts-facade-driver/insert-project', id, name, slug, description, call.now);
  if (row === null) throw conflict(`the slug '${slug}' is taken`);
  call.createdTenant(id);
  return rows.tenantDetail(row);
}

// --- users and memberships ---

export function fetchUsers(call, tenantId, role, status, page) {
  const t = call.tenant(tenantId);
  const limit = fetchLimit(page);
  const after = decode(page);
  // A role is sought in an index by statements of its own (the catalogue says why).
  const users = role === null ? 'fetch-users' : 'fetch-users-with-role';
  const found = after === null
    ? call.all(`accounts-facade-driver/${users}-first-page`, t, role, status, limit)
    : call.all(`accounts-facade-driver/${users}-next-page`, t, role, status, limit, after.key, parseId(after.id));
  const next = finish(found, page, (m) => [m.email, m.id]);
  return { items: found.map(rows.userSnapshot), next };
}

export function countUsers(call, tenantId, role, status, upTo) {
  const t = call.tenant(tenantId);
  // Every membership has its user (a foreign key): without a status filter the memberships alone are
  // counted, from an index.
  const users = role === null ? 'count-users' : 'count-users-with-role';
  return status === null
    ? scalarRequired(call, `accounts-facade-driver/${users}-any-status`, t, role, countLimit(upTo))
    : scalarRequired(call, `accounts-facade-driver/${users}-with-status`, t, role, status, countLimit(upTo));
}

export function fetchUserDetail(call, tenantId, userId) {
  const t = call.tenant(tenantId);
  const u = parseId(userId);
  const row = call.one('accounts-facade-driver/fetch-user-detail', t, u);
  return row === null ? null : rows.userDetail(row);
}

export function fetchTenantMemberships(call, tenantId, page) {
  const t = call.tenant(tenantId);
  const limit = fetchLimit(page);
  const after = decode(page);
  const found = after === null
    ? call.all('accounts-facade-driver/fetch-tenant-memberships-first-page', t, limit)
    : call.all('accounts-facade-driver/fetch-tenant-memberships-next-page', t, limit, timeKey(after), parseId(after.id));
  const next = finish(found, page, (m) => [String(m.membership_created_at), m.membership_id]);
  return { items: found.map(rows.membershipSnapshot), next };
}

export function fetchMembership(call, tenantId, userId) {
  const t = call.tenant(tenantId);
  const row = call.one('accounts-facade-driver/fetch-membership', t, parseId(userId));
  return row === null ? null : rows.membershipRow(row);
}

export function fetchMembershipWithUser(call, tenantId, userId) {
  const t = call.tenant(tenantId);
  const u = parseId(userId);
  // One statement: every engine call of a person starts here (their role and their account status).
  const row = call.one('accounts-facade-driver/fetch-membership-with-user', t, u);
  if (row === null) return null;
  return {
    membership: {
      id: row.membership_id, tenant_id: row.tenant_id, user_id: row.user_id, role: row.role,
      invited_by: row.invited_by, created_at: row.membership_created_at,
    },
    user: rows.userRow(row),
  };
}

export function updateMembershipRole(call, tenantId, membershipId, newRole) {
  const t = call.tenant(tenantId);
  const m = parseId(membershipId);
  if (call.execute('accounts-facade-driver/update-membership-role-write', t, m, newRole) === 0) throw notFound('membership');
  return rows.membershipSnapshot(oneRequired(call, 'accounts-facade-driver/update-membership-role-read', m));
}

export function deleteMembership(call, tenantId, membershipId) {
  const t = call.tenant(tenantId);
  const m = parseId(membershipId);
  return call.execute('accounts-facade-driver/delete-membership', t, m) > 0;
}

// --- profile ---

export function fetchProfile(call, tenantId, userId) {
  const t = call.tenant(tenantId);
  const u = parseId(userId);
  const p = call.one('accounts-facade-driver/fetch-profile', t, u);
  // Someone else's profile is visible only when they are a member of the tenant.
  if (p === null || !(p.role !== null || call.isCallerUser(u) || call.platform)) return null;
  return {
    user_id: p.id, email: p.email, name: p.name, avatar_url: p.avatar_url, tenant_id: t, tenant_name: p.tenant_name,
    role: p.role, created_at: p.created_at, updated_at: p.updated_at, preferences: p.preferences_json,
  };
}

export function fetchUserById(call, userId) {
  const user = fetchUser(call, parseId(userId));
  const visible = visibleUser(call, user);
  return visible === null ? null : rows.userRow(visible);
}

export function countOwnedTenants(call, userId) {
  const u = parseId(userId);
  call.mayReadUser(u);
  return scalarRequired(call, 'accounts-facade-driver/count-owned-tenants', u);
}

export function updateUserProfile(call, userId, name, preferences) {
  const u = parseId(userId);
  call.mayWriteUser(u);
  if (preferences !== null && !isJsonObject(preferences)) throw invalid('preferences must be a JSON object');
  if (call.execute('accounts-facade-driver/update-user-profile', u, name, preferences, call.now) === 0) throw notFound('user');
  const user = fetchUser(call, u);
  if (user === null) throw notFound('user');
  return rows.userRow(user);
}

// --- billing ---

export function fetchSubscription(call, tenantId) {
  const t = call.tenant(tenantId);
  const row = call.one('accounts-facade-driver/fetch-subscription', t);
  return row === null ? null : rows.subscription(row);
}

// --- support tickets ---

export function insertSupportTicket(call, tenantId, userId, subject, description, category, priority) {
  const t = call.tenant(tenantId);
  const u = parseId(userId);
  const row = oneRequired(call, 'accounts-facade-driver/insert-support-ticket', newId(), t, u, subject, description, category, priority, call.now);
  return rows.ticket(row);
}

export function fetchSupportTickets(call, tenantId, status, page) {
  const t = call.tenant(tenantId);
  const limit = fetchLimit(page);
  const after = decode(page);
  const found = after === null
    ? call.all('accounts-facade-driver/fetch-support-tickets-first-page', t, status, limit)
    : call.all('accounts-facade-driver/fetch-support-tickets-next-page', t, status, limit, timeKey(after), parseId(after.id));
  const next = finish(found, page, (r) => [String(r.created_at), r.id]);
  return { items: found.map(rows.ticket), next };
}

// --- invitations ---

export function countPendingInvitations(call, tenantId) {
  const t = call.tenant(tenantId);
  return scalarRequired(call, 'accounts-facade-driver/count-pending-invitations', t, call.now);
}

export function fetchInvitationByEmail(call, tenantId, email, status) {
  const t = call.tenant(tenantId);
  const row = call.one('accounts-facade-driver/fetch-invitation-by-email', t, email, status);
  return row === null ? null : rows.invitation(row);
}

export function insertInvitation(call, tenantId, email, role, tokenHash, invitedBy, expiresAt) {
  const t = call.tenant(tenantId);
  const by = invitedBy === null ? null : parseId(invitedBy);
  const row = call.one('accounts-facade-driver/insert-invitation', newId(), t, email, role, tokenHash, by, call.now, expiresAt);
  if (row === null) throw conflict('an invitation is already pending for this e-mail');
  return rows.invitation(row);
}

export function fetchInvitations(call, tenantId, status, page) {
  const t = call.tenant(tenantId);
  const limit = fetchLimit(page);
  const after = decode(page);
  const found = after === null
    ? call.all('accounts-facade-driver/fetch-invitations-first-page', t, status, limit)
    : call.all('accounts-facade-driver/fetch-invitations-next-page', t, status, limit, timeKey(after), parseId(after.id));
  const next = finish(found, page, (r) => [String(r.created_at), r.id]);
  return { items: found.map(rows.invitation), next };
}

export function fetchInvitationByIdAndToken(call, invitationId, tokenHash) {
  let id;
  try {
    id = parseId(invitationId);
  } catch {
    return null;
  }
  const row = call.one('accounts-facade-driver/fetch-invitation-by-id-and-token', id, tokenHash);
  if (row === null) return null;
  // The token is the capability: a call without a tenant gains the invitation's.
  call.admitTenantByToken(row.tenant_id);
  return call.inScope(row.tenant_id) ? rows.invitation(row) : null;
}

export function fetchUserByEmail(call, email) {
  const row = call.one('accounts-facade-driver/fetch-user-by-email', email);
  const visible = visibleUser(call, row);
  return visible === null ? null : rows.userRow(visible);
}

export function insertMembership(call, tenantId, userId, role, invitedBy) {
  const t = call.tenant(tenantId);
  const u = parseId(userId);
  call.mayWriteUser(u);
  const by = invitedBy === null ? null : parseId(invitedBy);
  const row = insertMembershipRow(call, t, u, role, by);
  // A person's first tenant becomes their default, so that a credential naming no tenant finds it.
  call.execute('accounts-facade-driver/insert-membership-set-default-tenant', u, t, call.now);
  return rows.membershipRow(row);
}

/** Moves a pending invitation to a final status; `conflict` if it is no longer pending. */
function endInvitation(call, tenantId, invitationId, status) {
  const t = call.tenant(tenantId);
  const id = parseId(invitationId);
  const acceptedAt = status === 'accepted' ? call.now : null;
  const row = call.one('accounts-facade-driver/end-invitation-write', t, id, status, acceptedAt);
  if (row !== null) return rows.invitation(row);
  const exists = scalarRequired(call, 'accounts-facade-driver/end-invitation-exists', t, id);
  throw exists > 0 ? conflict('the invitation is no longer pending') : notFound('invitation');
}

export function updateInvitationAccepted(call, tenantId, invitationId) {
  return endInvitation(call, tenantId, invitationId, 'accepted');
}

export function updateInvitationExpired(call, tenantId, invitationId) {
  return endInvitation(call, tenantId, invitationId, 'expired');
}

export function updateInvitationRevoked(call, tenantId, invitationId) {
  return endInvitation(call, tenantId, invitationId, 'revoked');
}
