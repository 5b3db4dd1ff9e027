"""``policy-driver``: a tenant's policy versions and which one is active. Version numbers come from the
tenant's ``policy_state.last_version`` and are never reused.

The Rust host adds to the stored counters what its policy runtime has counted and not written yet; this
host runs no policies, so there is never anything pending and the stored counters are the answer."""

from __future__ import annotations

from typing import Optional

from ..call import CallState, not_found, parse_id
from ..rows import TRIGGERS, trigger_bits, trigger_names
from ._statements import as_i32, as_u32, as_u64, scalar_required

# Failures are stored with the trigger's WIT name (`invite-user`); the plain form is its snake name.
_TRIGGER_BY_STORED_NAME = {name.replace("_", "-"): name for name in TRIGGERS}


def insert_policy_version(call: CallState, tenant_id: str, row: dict) -> int:
    t = call.tenant(tenant_id)
    created_by = None if row["created_by"] is None else parse_id(row["created_by"])
    now = call.now
    version = scalar_required(call, "policy-driver/insert-policy-version-next-number", t)
    call.execute("policy-driver/insert-policy-version-write", t, version, row["content_hash"], row["component"],
                 as_i32(row["size_bytes"]), trigger_bits(row["handles"]), row["config"], row["note"], created_by, now)
    return as_u32(version)


def fetch_policy_versions(call: CallState, tenant_id: str) -> list:
    t = call.tenant(tenant_id)
    rows = call.all("policy-driver/fetch-policy-versions", t)
    return [{"version": as_u32(r["version"]), "content_hash": r["content_hash"].strip(),
             "size_bytes": as_u32(r["size_bytes"]), "handles": trigger_names(r["handles"]), "config": r["config"],
             "note": r["note"], "created_by": r["created_by"], "created_at": r["created_at"],
             "calls": as_u64(r["calls"]), "denials": as_u64(r["denials"]), "failures": as_u64(r["failures"])}
            for r in rows]


def fetch_policy_state(call: CallState, tenant_id: str) -> dict:
    t = call.tenant(tenant_id)
    row = call.one("policy-driver/fetch-policy-state", t)
    if row is None:
        return {"active_version": None, "previous_version": None, "changed_by": None, "reason": None,
                "changed_at": None, "last_failure": None}
    trigger = _TRIGGER_BY_STORED_NAME.get(row["failure_trigger"]) if row["failure_trigger"] is not None else None
    last_failure = None
    if (row["failure_version"] is not None and trigger is not None and row["failure_message"] is not None
            and row["failure_at"] is not None):
        last_failure = {"version": as_u32(row["failure_version"]), "trigger": trigger,
                        "message": row["failure_message"], "at": row["failure_at"]}
    active, previous = row["active_version"], row["previous_version"]
    return {"active_version": None if active is None else as_u32(active),
            "previous_version": None if previous is None else as_u32(previous),
            "changed_by": row["changed_by"], "reason": row["reason"], "changed_at": row["changed_at"],
            "last_failure": last_failure}


def set_active_policy(call: CallState, tenant_id: str, version: Optional[int], changed_by: Optional[str],
                      reason: Optional[str], remember_previous: bool) -> None:
    t = call.tenant(tenant_id)
    if version is not None:
        exists = call.one("policy-driver/set-active-policy-check-version", t, as_i32(version))
        if exists is None:
            raise not_found(f"the tenant has no policy version {version}")
    call.execute("policy-driver/set-active-policy-write", t, None if version is None else as_i32(version), changed_by,
                 reason, call.now, remember_previous)


def delete_policy_version(call: CallState, tenant_id: str, version: int) -> bool:
    t = call.tenant(tenant_id)
    deleted = call.execute("policy-driver/delete-policy-version-write", t, as_i32(version))
    if deleted > 0:
        call.execute("policy-driver/delete-policy-version-forget-previous", t, as_i32(version))
    return deleted > 0
