"""``tenant-driver``: tenants, plans, memberships, API keys, runs, usage and the audit log."""

from __future__ import annotations

import json
from typing import Optional

from .. import cursor
from ..call import CallState, DriverError, conflict, invalid, new_id, not_found, parse_id
from ..rows import api_key, audit_record, audit_size, membership_row, run as run_snapshot, run_size, tenant_row, usage_record
from ._memberships import insert_membership_row
from ._statements import one_required, read_bounded

_HOUR = 3_600_000_000
_I64_MAX = (1 << 63) - 1
_I64_MIN = -(1 << 63)


def _saturate(value: int) -> int:
    """``value`` clamped to 64 bits, as Rust's saturating arithmetic leaves it."""
    return max(_I64_MIN, min(_I64_MAX, value))


def _tenant_or_not_found(row) -> dict:
    if row is None:
        raise not_found("tenant")
    return tenant_row(row)


def _serde_json_list(items: list) -> str:
    # serde_json's compact form of a list of strings (non-ASCII kept, control characters escaped).
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False)


# --- tenant ---------------------------------------------------------------------------------------------


def fetch_tenant_by_id(call: CallState, tenant_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    row = call.one("tenant-driver/fetch-tenant-by-id", t)
    return None if row is None else tenant_row(row)


def fetch_tenant_by_slug(call: CallState, slug: str) -> Optional[dict]:
    row = call.one("tenant-driver/fetch-tenant-by-slug", slug)
    # Another tenant's row is invisible, not an error: looking up a slug names no tenant.
    if row is None or not call.in_scope(row["id"]):
        return None
    return tenant_row(row)


def insert_tenant(call: CallState, tenant: dict) -> dict:
    tenant_id = new_id()
    q = tenant["quotas"]
    row = call.one("tenant-driver/insert-tenant", tenant_id, tenant["name"], tenant["slug"], tenant["external_org_id"],
                   tenant["plan"], tenant["billing_email"], q["max_workers"], q["max_runs_per_day"],
                   q["max_concurrent_runs"], q["max_tokens_per_month"], q["max_api_keys"], call.now)
    if row is None:
        raise conflict("a tenant with this slug or external org id exists")
    call.created_tenant(tenant_id)
    return tenant_row(row)


def update_tenant_plan(call: CallState, tenant_id: str, plan: str, quotas: dict) -> dict:
    t = call.tenant(tenant_id)
    call.platform_only("a tenant's plan")
    row = call.one("tenant-driver/update-tenant-plan", t, plan, quotas["max_workers"], quotas["max_runs_per_day"],
                   quotas["max_concurrent_runs"], quotas["max_tokens_per_month"], quotas["max_api_keys"], call.now)
    return _tenant_or_not_found(row)


def update_tenant_usage(call: CallState, tenant_id: str, update: dict) -> dict:
    t = call.tenant(tenant_id)
    row = call.one("tenant-driver/update-tenant-usage", t, update["runs_today"], update["runs_this_month"],
                   update["tokens_this_month"], update["last_run_reset_at"])
    return _tenant_or_not_found(row)


def increment_tenant_usage(call: CallState, tenant_id: str, runs: int, tokens: int) -> dict:
    t = call.tenant(tenant_id)
    if runs < 0 or tokens < 0:
        raise invalid("usage increments must not be negative")
    row = call.one("tenant-driver/increment-tenant-usage", t, runs, tokens, call.now)
    return _tenant_or_not_found(row)


# --- membership -----------------------------------------------------------------------------------------


def insert_membership(call: CallState, tenant_id: str, user_id: str, role: str, set_as_default: bool) -> dict:
    t = call.tenant(tenant_id)
    u = parse_id(user_id)
    # Customers add only themselves (creating a project); anyone else joins through an invitation.
    call.may_write_user(u)
    row = insert_membership_row(call, t, u, role, None)
    if set_as_default:
        call.execute("tenant-driver/insert-membership-set-default-tenant", u, t, call.now)
    return membership_row(row)


# --- API keys -------------------------------------------------------------------------------------------


def count_active_api_keys(call: CallState, tenant_id: str) -> int:
    t = call.tenant(tenant_id)
    return call.scalar("tenant-driver/count-active-api-keys", t, call.now)


def insert_api_key(call: CallState, tenant_id: str, key: dict) -> dict:
    t = call.tenant(tenant_id)
    user = None if key["user_id"] is None else parse_id(key["user_id"])
    parent = None if key["parent_key_id"] is None else parse_id(key["parent_key_id"])
    permissions = _serde_json_list(key["permissions"])
    # An empty list of allowed workers is stored as none (any worker).
    workers = key["allowed_workers"]
    allowed_workers = _serde_json_list(workers) if workers else None
    row = call.one("tenant-driver/insert-api-key", new_id(), t, user, key["name"], key["key_prefix"], key["key_hash"],
                   permissions, allowed_workers, key["rate_limit_rpm"], key["max_concurrent_runs"], key["expires_at"],
                   call.now, parent)
    if row is None:
        raise conflict("the key hash is not unique, or the parent key is not the tenant's")
    return api_key(row)


def fetch_api_keys(call: CallState, tenant_id: str, include_revoked: bool, page: dict) -> dict:
    t = call.tenant(tenant_id)
    limit = cursor.fetch_limit(page)
    after = cursor.decode(page)
    if after is None:
        rows = call.all("tenant-driver/fetch-api-keys-first-page", t, include_revoked, call.now, limit)
    else:
        at, after_id = cursor.time_key(after[0]), parse_id(after[1])
        rows = call.all("tenant-driver/fetch-api-keys-next-page", t, include_revoked, call.now, limit, at, after_id)
    next_cursor = cursor.finish(rows, page, lambda r: (str(r["created_at"]), r["id"]))
    return {"items": [api_key(r) for r in rows], "next": next_cursor}


def fetch_api_key_by_id(call: CallState, tenant_id: str, key_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    try:
        k = parse_id(key_id)
    except DriverError:
        return None  # a malformed id names no key
    row = call.one("tenant-driver/fetch-api-key-by-id", t, k)
    return None if row is None else api_key(row)


def update_api_key_revoked(call: CallState, tenant_id: str, key_id: str, reason: str) -> dict:
    t = call.tenant(tenant_id)
    k = parse_id(key_id)
    if len(reason) > 255:
        raise invalid("the revocation reason must be at most 255 characters")
    row = call.one("tenant-driver/update-api-key-revoked-write", t, k, call.now, reason)
    if row is not None:
        # What the key made goes with it, however deep.
        call.execute("tenant-driver/update-api-key-revoked-cascade", t, k, call.now, "its parent key was revoked")
        return api_key(row)
    exists = call.scalar("tenant-driver/update-api-key-revoked-exists", t, k)
    raise conflict("the API key is already revoked") if exists > 0 else not_found("API key")


# --- runs -----------------------------------------------------------------------------------------------


def count_running_runs(call: CallState, tenant_id: str) -> int:
    t = call.tenant(tenant_id)
    return call.scalar("tenant-driver/count-running-runs", t)


def count_running_runs_for_key(call: CallState, tenant_id: str, api_key_id: str) -> int:
    t = call.tenant(tenant_id)
    k = parse_id(api_key_id)
    return call.scalar("tenant-driver/count-running-runs-for-key", t, k)


def insert_run(call: CallState, tenant_id: str, run: dict) -> dict:
    t = call.tenant(tenant_id)
    key = None if run["api_key_id"] is None else parse_id(run["api_key_id"])
    user = None if run["user_id"] is None else parse_id(run["user_id"])
    known = call.scalar("tenant-driver/insert-run-count-worker", run["worker_id"])
    if known == 0:
        raise not_found(f"worker '{run['worker_id']}'")
    row = one_required(call, "tenant-driver/insert-run-write", new_id(), t, run["worker_id"], key, user, run["task"],
                       run["input_json"], call.now)
    return run_snapshot(row)


def fetch_run_by_id(call: CallState, tenant_id: str, run_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    try:
        r = parse_id(run_id)
    except DriverError:
        return None  # a malformed id names no run
    row = call.one("tenant-driver/fetch-run-by-id", t, r)
    return None if row is None else run_snapshot(row)


def update_run_completed(call: CallState, tenant_id: str, run_id: str, outcome: dict) -> dict:
    t = call.tenant(tenant_id)
    r = parse_id(run_id)
    status = "completed" if outcome["success"] else "failed"
    row = call.one("tenant-driver/update-run-completed-write", t, r, status, outcome["success"], outcome["output_json"],
                   outcome["replay_token_json"], outcome["total_tokens"], outcome["total_latency_ms"],
                   outcome["stages_completed"], outcome["recoveries"], outcome["policy_violations"],
                   outcome["cost_cents"], outcome["error"], call.now)
    if row is not None:
        return run_snapshot(row)
    exists = call.scalar("tenant-driver/update-run-completed-exists", t, r)
    raise conflict("the run already ended") if exists > 0 else not_found("run")


def fetch_runs(call: CallState, tenant_id: str, status: Optional[str], worker_id: Optional[str], page: dict) -> dict:
    t = call.tenant(tenant_id)
    limit = cursor.fetch_limit(page)
    after = cursor.decode(page)
    # Runs carry three JSON documents: the page is bounded in bytes as well as in rows.
    if after is None:
        rows, cut = read_bounded(call, "tenant-driver/fetch-runs-first-page", (t, status, worker_id, limit), run_size)
    else:
        at, after_id = cursor.time_key(after[0]), parse_id(after[1])
        rows, cut = read_bounded(call, "tenant-driver/fetch-runs-next-page", (t, status, worker_id, limit, at, after_id),
                                 run_size)
    next_cursor = cursor.finish(rows, page, lambda r: (str(r["created_at"]), r["id"]), cut)
    return {"items": [run_snapshot(r) for r in rows], "next": next_cursor}


# --- usage ----------------------------------------------------------------------------------------------


def insert_usage_record(call: CallState, tenant_id: str, usage: dict) -> dict:
    t = call.tenant(tenant_id)
    key = None if usage["api_key_id"] is None else parse_id(usage["api_key_id"])
    now = call.now
    bucket = now - now % _HOUR  # the hour that holds `now` (Python's % is Euclidean here, as rem_euclid)
    row = one_required(call, "tenant-driver/insert-usage-record", new_id(), t, usage["meter_name"], usage["amount"],
                       usage["unit"], bucket, bucket + _HOUR, usage["worker_id"], key, usage["metadata"], now)
    return usage_record(row)


def fetch_usage_totals(call: CallState, tenant_id: str, start: int, end: int) -> list:
    t = call.tenant(tenant_id)
    # The sum is taken in two halves (amounts are at most 10^12 each, so neither half can overflow 64 bits
    # however many records there are) and put together here, saturating: SQLite's SUM fails on overflow,
    # and PostgreSQL's cannot be read back into 64 bits.
    rows = call.all("tenant-driver/fetch-usage-totals", t, start, end)
    return [{"meter_name": r["meter_name"], "total": _saturate(_saturate(r["millions"] * 1_000_000) + r["units"]),
             "unit": r["unit"], "records": r["records"]}
            for r in rows]


# --- audit ----------------------------------------------------------------------------------------------


def insert_audit_log(call: CallState, entry: dict) -> None:
    tenant = None if entry["tenant_id"] is None else call.tenant(entry["tenant_id"])
    user = None if entry["user_id"] is None else parse_id(entry["user_id"])
    key = None if entry["api_key_id"] is None else parse_id(entry["api_key_id"])
    # Outside a savepoint: a failed audit write fails the call, so no mutation commits without its row.
    call.execute("tenant-driver/insert-audit-log", new_id(), tenant, user, key, entry["actor"], entry["action"],
                 entry["resource_type"], entry["resource_id"], entry["request_id"], entry["old_value"],
                 entry["new_value"], call.now)


def fetch_audit_log(call: CallState, tenant_id: str, filter: dict, page: dict) -> dict:
    t = call.tenant(tenant_id)
    user = None if filter["user_id"] is None else parse_id(filter["user_id"])
    key = None if filter["api_key_id"] is None else parse_id(filter["api_key_id"])
    limit = cursor.fetch_limit(page)
    after = cursor.decode(page)
    args = (t, user, key, filter["actor"], filter["action"], filter["resource_type"], filter["resource_id"],
            filter["since"], filter["until"], limit)
    if after is None:
        rows, cut = read_bounded(call, "tenant-driver/fetch-audit-log-first-page", args, audit_size)
    else:
        at, after_id = cursor.time_key(after[0]), parse_id(after[1])
        rows, cut = read_bounded(call, "tenant-driver/fetch-audit-log-next-page", args + (at, after_id), audit_size)
    next_cursor = cursor.finish(rows, page, lambda r: (str(r["created_at"]), r["id"]), cut)
    return {"items": [audit_record(r) for r in rows], "next": next_cursor}
