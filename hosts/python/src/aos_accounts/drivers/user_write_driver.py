"""``user-write-driver``: users bound to the identity provider. Users are not tenant rows; the host lets a
call write only its own caller's user (operators and the system excepted)."""

from __future__ import annotations

from typing import Optional

from ..call import CallState
from ..rows import user_row
from ._users import insert_user_row


def create_user(call: CallState, email: str, external_id: str, name: Optional[str], avatar_url: Optional[str],
                status: str) -> dict:
    return user_row(insert_user_row(call, email, external_id, name, avatar_url, status))
