// `user-write-driver`: users bound to the identity provider. Users are not tenant rows; the host lets a
// call write only its own caller's user (operators and the system excepted).

import { userRow } from '../rows.js';
import { insertUserRow } from './shared/users.js';

export function createUser(call, email, externalId, name, avatarUrl, status) {
  return userRow(insertUserRow(call, email, externalId, name, avatarUrl, status));
}
