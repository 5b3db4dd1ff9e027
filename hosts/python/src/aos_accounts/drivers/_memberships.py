"""The membership insert shared by ``tenant-driver`` and ``accounts-facade-driver`` (the Rust host's
``insert_membership_row`` of ``host/src/drivers/accounts_facade_driver.rs``)."""

from __future__ import annotations

import sqlite3
from typing import Optional

from ..call import CallState, conflict, new_id, not_found
from ._users import fetch_user


def insert_membership_row(call: CallState, tenant: str, user: str, role: str, invited_by: Optional[str]) -> sqlite3.Row:
    """Inserts a membership of a tenant already checked to be in scope (ids already parsed): the
    membership-columns row; ``not-found`` for an unknown user, ``conflict`` for an existing member."""
    # The statement copies the member's e-mail onto the membership (it is the list order, see fetch_users),
    # reading the user in the same statement.
    row = call.one("accounts-facade-driver/insert-membership-row", new_id(), tenant, user, role, call.now, invited_by)
    if row is not None:
        return row
    # No row: an unknown user or an existing member, told apart only on this path.
    if fetch_user(call, user) is None:
        raise not_found("user")
    raise conflict("the user is already a member of this tenant")
