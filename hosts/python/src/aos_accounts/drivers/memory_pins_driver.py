"""``memory-pins-driver``: the per-tenant JSON key/value store and its access log. Expiry is computed
here from the call's ``now``, the same on every backend: a pin with ``expires_at <= now`` is expired."""

from __future__ import annotations

import re
import time
from typing import Optional

from .. import cursor
from ..call import CallState, DriverError, invalid, not_found
from ..rows import access_record, access_size, pin, pin_size
from ._json import is_json_object
from ._statements import one_required, read_bounded

#: How long the memory access log is kept (the platform's `cleanup-expired` sweep deletes older rows).
_MEMORY_AUDIT_RETENTION_DAYS = 30
#: A pin's reads are logged at most once per this interval.
_READ_LOG_INTERVAL_MICROS = 3_600 * 1_000_000

_I32_MAX = (1 << 31) - 1
_I64_TEXT = re.compile(r"[+-]?[0-9]+\Z")


def _pin_cursor_id(text: str) -> int:
    """A pin id of a cursor, parsed as Rust's ``str::parse::<i64>`` does (no spaces, no underscores)."""
    if _I64_TEXT.match(text):
        value = int(text)
        if -(1 << 63) <= value < 1 << 63:
            return value
    raise invalid("the cursor is not valid for this list")


def _latency_ms(call: CallState) -> float:
    """Milliseconds since the engine call began on this machine (the Rust host's ``started`` instant)."""
    return (time.monotonic() - call.started) * 1000.0


def upsert_pin(call: CallState, tenant_id: str, key: str, value: str, source: str, ttl_seconds: Optional[int]) -> dict:
    t = call.tenant(tenant_id)
    if not is_json_object(value):
        raise invalid("a pin's value must be a JSON object")
    now = call.now
    if ttl_seconds is not None and ttl_seconds > _I32_MAX:
        raise invalid("ttl_seconds is out of range")
    expires_at = None if ttl_seconds is None else now + ttl_seconds * 1_000_000
    value_bytes = len(value.encode("utf-8"))
    row = one_required(call, "memory-pins-driver/upsert-pin", t, key, value, source, now, ttl_seconds, expires_at,
                       value_bytes)
    return pin(row)


def get_pin(call: CallState, tenant_id: str, key: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    row = call.one("memory-pins-driver/get-pin", t, key, call.now)
    return None if row is None else pin(row)


def list_pins(call: CallState, tenant_id: str, prefix: Optional[str], include_expired: bool, page: dict,
              count_up_to: int) -> dict:
    t = call.tenant(tenant_id)
    limit = cursor.fetch_limit(page)
    now = call.now
    after = cursor.decode(page)
    # The prefix is compared literally (no LIKE, so `%` and `_` are plain characters).
    if after is None:
        rows, cut = read_bounded(call, "memory-pins-driver/list-pins-first-page", (t, prefix, include_expired, now, limit),
                                 pin_size)
    else:
        at = cursor.time_key(after[0])
        after_id = _pin_cursor_id(after[1])
        rows, cut = read_bounded(call, "memory-pins-driver/list-pins-next-page",
                                 (t, prefix, include_expired, now, limit, at, after_id), pin_size)
    next_cursor = cursor.finish(rows, page, lambda r: (str(r["created_at"]), str(r["id"])), cut)
    if after is None and next_cursor is None:
        # A first page with no next one holds every match: it is the count, in the same snapshot.
        total = min(len(rows), count_up_to)
    else:
        total = call.scalar("memory-pins-driver/list-pins-count", t, prefix, include_expired, now,
                            cursor.count_limit(count_up_to))
    return {"items": [pin(r) for r in rows], "total": total, "next": next_cursor}


def fetch_pin_storage(call: CallState, tenant_id: str, key: str) -> dict:
    t = call.tenant(tenant_id)
    row = call.one("memory-pins-driver/fetch-pin-storage", t, key)
    if row is None:
        raise not_found("tenant")
    plan, pins, stored_bytes, key_bytes = row[0], row[1], row[2], row[3]
    return {"plan": plan, "pins": max(pins or 0, 0), "bytes": max(stored_bytes or 0, 0),
            "key_bytes": None if key_bytes is None else max(key_bytes, 0)}


def delete_pin(call: CallState, tenant_id: str, key: str) -> bool:
    t = call.tenant(tenant_id)
    return call.execute("memory-pins-driver/delete-pin", t, key) > 0


def cleanup_expired(call: CallState, tenant_id: Optional[str]) -> int:
    if tenant_id is not None:
        t = call.tenant(tenant_id)
    elif call.platform:
        t = None
    else:
        # Refused without recording a violation, as the Rust host does.
        raise DriverError("scope_violation", "only the platform cleans up every tenant")
    now = call.now
    deleted = call.execute("memory-pins-driver/cleanup-expired-pins", now, t)
    if t is None:
        # The platform's sweep also ends the access log's retention.
        horizon = now - _MEMORY_AUDIT_RETENTION_DAYS * 86_400 * 1_000_000
        call.execute("memory-pins-driver/cleanup-expired-audit", horizon)
    return deleted


def write_audit(call: CallState, entry: dict) -> None:
    t = call.tenant(entry["tenant_id"])
    latency_ms = _latency_ms(call)
    now = call.now
    # Reads must not grow storage without bound: a read is logged once per pin and hour. Writes are
    # bounded by the pin quotas and are always logged.
    throttled = entry["operation"] == "get"
    since = now - _READ_LOG_INTERVAL_MICROS
    extra = entry["extra"] if entry["extra"] is not None else "{}"

    def write() -> None:
        call.execute("memory-pins-driver/write-audit", now, entry["operation"], t, entry["key"], entry["agent_id"],
                     entry["source"], entry["cache_hit"], latency_ms, entry["success"], entry["error_message"],
                     entry["old_value_hash"], entry["new_value_hash"], extra, since, throttled)

    # As in the Rust host, a failed write is undone to the savepoint and reported (not swallowed); the
    # call's transaction stays usable.
    call.savepoint("memory_audit", write)


def fetch_access_log(call: CallState, tenant_id: str, filter: dict, page: dict) -> dict:
    t = call.tenant(tenant_id)
    limit = cursor.fetch_limit(page)
    after = cursor.decode(page)
    args = (t, filter["key"], filter["operation"], filter["since"], filter["until"], limit)
    if after is None:
        rows, cut = read_bounded(call, "memory-pins-driver/fetch-access-log-first-page", args, access_size)
    else:
        at, after_id = cursor.time_key(after[0]), cursor.integer_id(after[1])
        rows, cut = read_bounded(call, "memory-pins-driver/fetch-access-log-next-page", args + (at, after_id), access_size)
    next_cursor = cursor.finish(rows, page, lambda r: (str(r["ts"]), str(r["id"])), cut)
    return {"items": [access_record(r) for r in rows], "next": next_cursor}
