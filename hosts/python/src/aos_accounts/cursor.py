"""Keyset cursors, as the Rust host's ``host/src/db/cursor.rs``: a page ends at its last row's sort key and
id, the next starts strictly after them; cursors are URL-safe base64 of ``key|id``; a page carries at most
``PAGE_BYTES`` of row data (and always at least one row)."""

from __future__ import annotations

import base64
import re
from typing import Any, Callable, List, Optional, Tuple

from .call import DriverError

PAGE_BYTES = 4 << 20


def _bad() -> DriverError:
    return DriverError("invalid", "the cursor is not valid for this list")


def encode(key: str, id: str) -> str:
    return base64.urlsafe_b64encode(f"{key}|{id}".encode()).decode().rstrip("=")


_UNPADDED_BASE64 = re.compile(r"^[A-Za-z0-9_-]*$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def decode(page: dict) -> Optional[Tuple[str, str]]:
    """(key, id) of a page's `after`, or None for the first page."""
    cursor = page.get("after")
    if cursor is None:
        return None
    try:
        # Exactly what the Rust host accepts: URL-safe base64 without padding, nothing else.
        if not _UNPADDED_BASE64.match(cursor) or len(cursor) % 4 == 1:
            raise ValueError
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        key, id = text.rsplit("|", 1)
    except (ValueError, UnicodeDecodeError):
        raise _bad() from None
    return key, id


def time_key(key: str) -> int:
    """The key of a cursor over a time-ordered list (microseconds): a 64-bit integer, as Rust parses one."""
    if not _INTEGER.match(key) or not -(2**63) <= int(key) < 2**63:
        raise _bad()
    return int(key)


def integer_id(id_text: str) -> int:
    """The id of a cursor over a list whose rows have integer ids: a 64-bit integer, as a time key."""
    return time_key(id_text)


def count_limit(up_to: int) -> int:
    """The LIMIT of a bounded count's sub-select: the bound asked for, at most what SQL can bind."""
    return min(up_to, 2**63 - 1)


def fetch_limit(page: dict) -> int:
    """The page's limit (1..=1000) plus one row, to learn whether another page follows."""
    limit = page["limit"]
    if limit == 0 or limit > 1000:
        raise DriverError("invalid", "limit must be between 1 and 1000")
    return limit + 1


def bounded(rows: Any, size: Callable[[Any], int]) -> Tuple[List[Any], bool]:
    """Reads rows until the next would take the page past PAGE_BYTES: (rows, cut)."""
    page: List[Any] = []
    total = 0
    for row in rows:
        total += size(row)
        if total > PAGE_BYTES and page:
            return page, True
        page.append(row)
    return page, False


def finish(rows: List[Any], page: dict, key_of: Callable[[Any], Tuple[str, str]], cut: bool = False) -> Optional[str]:
    """Cuts the extra row off; the cursor of the next page, if there is one."""
    if not cut:
        if len(rows) <= page["limit"]:
            return None
        del rows[page["limit"]:]
    if not rows:
        return None
    return encode(*key_of(rows[-1]))
