// The membership insert shared by `tenant-driver` and `accounts-facade-driver` (the Rust host's
// `insert_membership_row` of host/src/drivers/accounts_facade_driver.rs).

import { conflict, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { fetchUser } from './users.js';

/** Inserts a membership of a tenant already checked to be in scope (ids already parsed): the
 *  membership-columns row; `not-found` for an unknown user, `conflict` for an existing member. */
export function insertMembershipRow(call, tenant, user, role, invitedBy) {
  // The statement copies the member's e-mail onto the membership (it is the list order, see fetchUsers),
  // reading the user in the same statement.
  const row = call.one('accounts-facade-driver/insert-membership-row', newId(), tenant, user, role, call.now, invitedBy);
  if (row !== null) return row;
  // No row: an unknown user or an existing member, told apart only on this path.
  if (fetchUser(call, user) === null) throw notFound('user');
  throw conflict('the user is already a member of this tenant');
}
