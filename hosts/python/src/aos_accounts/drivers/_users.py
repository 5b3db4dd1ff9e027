"""User reads and writes shared by ``accounts-facade-driver`` and ``user-write-driver`` (the Rust host's
``fetch_user``, ``visible_user`` and ``insert_user_row`` of ``host/src/drivers/user_write_driver.rs``).

Users are not tenant rows, so :func:`visible_user` is the scope check of user lookups: a call on tenant A
learns nothing of people outside A."""

from __future__ import annotations

import sqlite3
from typing import Optional

from ..call import CallState, conflict, new_id
from ._statements import one_required


def fetch_user(call: CallState, user_id: str) -> Optional[sqlite3.Row]:
    """The user-columns row of an already parsed user id, or None."""
    return call.one("user-write-driver/fetch-user-by-id", user_id)


def visible_user(call: CallState, user: Optional[sqlite3.Row]) -> Optional[sqlite3.Row]:
    """The user, if the call may see it: the caller's own user, any user for operators and the system,
    and otherwise only members of a tenant in the call's scope."""
    if user is None:
        return None
    if call.platform or call.is_caller_user(user["id"]) or call.is_caller_subject(user["clerk_user_id"]):
        return user
    for tenant in call.scope_tenants():
        member = call.scalar("user-write-driver/visible-user-membership", tenant, user["id"])
        if member > 0:
            return user
    return None


def insert_user_row(call: CallState, email: str, external_id: str, name: Optional[str], avatar_url: Optional[str],
                    status: str) -> sqlite3.Row:
    """Inserts a user for an identity-provider subject; ``conflict`` if the subject or the e-mail has one."""
    call.may_create_user(external_id)
    inserted = call.execute("user-write-driver/insert-user-write", new_id(), external_id, email, name, avatar_url,
                            status, call.now)
    if inserted == 0:
        raise conflict("a user already exists for this identity or e-mail")
    row = one_required(call, "user-write-driver/insert-user-read", external_id)
    call.created_user(row["id"], external_id)
    return row
