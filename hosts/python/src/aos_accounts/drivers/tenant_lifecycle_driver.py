"""``tenant-lifecycle-driver``: the tenant's gate (status and what its active policy handles, in one read),
and a status change made only from the status the engine read."""

from __future__ import annotations

from ..call import CallState, conflict, not_found
from ..rows import tenant_status, trigger_names


def fetch_tenant_status(call: CallState, tenant_id: str):
    t = call.tenant(tenant_id)
    row = call.one("tenant-lifecycle-driver/fetch-tenant-status", t)
    if row is None:
        return None
    # The call runs the policy version it saw here (see drivers/policy_gate.py).
    active = None if row["version"] is None or row["content_hash"] is None else (row["version"], row["content_hash"].strip())
    call.policy_seen[t] = active
    return {"status": tenant_status(row["status"]), "policy_handles": trigger_names(row["handles"] or 0)}


def update_lifecycle_status(call: CallState, tenant_id: str, from_status: str, to_status: str, reason):
    t = call.tenant(tenant_id)
    call.platform_only("a tenant's lifecycle status")
    changed = call.execute("tenant-lifecycle-driver/update-lifecycle-status-write", t, from_status, to_status, reason, call.now)
    if changed > 0:
        return from_status
    if call.one("tenant-lifecycle-driver/update-lifecycle-status-read", t) is None:
        raise not_found("tenant")
    raise conflict("the tenant's status changed concurrently")
