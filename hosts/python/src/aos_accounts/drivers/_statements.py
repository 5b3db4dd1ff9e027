"""Statement helpers the drivers share where ``CallState`` has no exact counterpart of the Rust host's
sqlx calls: a read that must find its row (sqlx's ``fetch_one``), a page read row by row under its byte
budget (``cursor::collect_bounded``), and the integer casts Rust writes with ``as``."""

from __future__ import annotations

import sqlite3
from typing import Any, Callable, List, Tuple

from ..call import CallState, DriverError, not_found
from ..cursor import bounded


def one_required(call: CallState, name: str, *params: Any) -> sqlite3.Row:
    """The one row of a statement that always has one (an ``INSERT … RETURNING``, a read after a write).

    sqlx's ``fetch_one`` fails with ``RowNotFound`` when there is none, which the Rust host maps to
    ``not-found: row not found`` and counts as a failed statement (the call must not commit)."""
    row = call.one(name, *params)
    if row is None:
        call._failed()
        raise not_found("row")
    return row


def scalar_required(call: CallState, name: str, *params: Any) -> Any:
    """The first column of the one row of a statement that always has one (see :func:`one_required`)."""
    return one_required(call, name, *params)[0]


def read_bounded(call: CallState, name: str, params: Tuple[Any, ...], size: Callable[[Any], int]) -> Tuple[List[Any], bool]:
    """A page's rows read one at a time until the next would take it past the page's byte budget:
    (rows, cut). The rest of the result is never read."""
    rows = call.rows(name, *params)
    try:
        return bounded(rows, size)
    except sqlite3.Error as e:
        # A row that fails while the page is read is a failed statement, as in `CallState._run`.
        call._failed()
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            raise DriverError("unavailable", "the database is busy") from None
        raise DriverError("backend", "a database statement failed") from None
    finally:
        rows.close()


def as_i32(value: int) -> int:
    """Rust's ``value as i32`` of a ``u32``: the same 32 bits, read as signed."""
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def as_u32(value: int) -> int:
    """Rust's ``value as u32`` of an ``i32``/``i64``: its low 32 bits."""
    return value & 0xFFFF_FFFF


def as_u64(value: int) -> int:
    """Rust's ``value as u64`` of an ``i64``: its 64 bits, read as unsigned."""
    return value & 0xFFFF_FFFF_FFFF_FFFF
