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
    member = fetch_user(call, user)
    if member is None:
        raise not_found("user")
    # The member's e-mail is copied onto the membership: it is the list order (see fetch_users).
    row = call.one("accounts-facade-driver/insert-membership-row", new_id(), tenant, user, role, call.now, invited_by,
                   member["email"])
    if row is None:
        raise conflict("the user is already a member of this tenant")
    return row
