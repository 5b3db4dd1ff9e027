// User reads and writes shared by `accounts-facade-driver` and `user-write-driver` (the Rust host's
// `fetch_user`, `visible_user` and `insert_user_row` of host/src/drivers/user_write_driver.rs).
//
// Users are not tenant rows, so `visibleUser` is the scope check of user lookups: a call on tenant A
// learns nothing of people outside A.

import { conflict } from '../../errors.js';
import { newId } from '../../ids.js';
import { oneRequired } from './statements.js';

/** The user-columns row of an already parsed user id, or null. */
export function fetchUser(call, userId) {
  return call.one('user-write-driver/fetch-user-by-id', userId);
}

/** The user, if the call may see it: the caller's own user, any user for operators and the system, and
 *  otherwise only members of a tenant in the call's scope. */
export function visibleUser(call, user) {
  if (user === null) return null;
  if (call.platform || call.isCallerUser(user.id) || call.isCallerSubject(user.clerk_user_id)) return user;
  for (const tenant of call.scopeTenants()) {
    if (call.scalar('user-write-driver/visible-user-membership', tenant, user.id) > 0) return user;
  }
  return null;
}

/** Inserts a user for an identity-provider subject; `conflict` if the subject or the e-mail has one. */
export function insertUserRow(call, email, externalId, name, avatarUrl, status) {
  call.mayCreateUser(externalId);
  const inserted = call.execute('user-write-driver/insert-user-write', newId(), externalId, email, name, avatarUrl, status, call.now);
  if (inserted === 0) throw conflict('a user already exists for this identity or e-mail');
  const row = oneRequired(call, 'user-write-driver/insert-user-read', externalId);
  call.createdUser(row.id, externalId);
  return row;
}
