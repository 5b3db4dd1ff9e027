"""``onboarding-driver``: the onboarding state on the tenant row (a step number, raised but never
lowered) and the evidence of the activation predicate."""

from __future__ import annotations

from typing import Optional

from ..call import CallState, not_found
from ..rows import onboarding_state, onboarding_step


def fetch_onboarding_state(call: CallState, tenant_id: str) -> str:
    t = call.tenant(tenant_id)
    row = call.one("onboarding-driver/fetch-onboarding-state", t)
    if row is None:
        raise not_found("tenant")
    return onboarding_state(row[0])


def write_onboarding_state(call: CallState, tenant_id: str, new_state: str) -> str:
    t = call.tenant(tenant_id)
    previous = call.one("onboarding-driver/write-onboarding-state-read", t)
    if previous is None:
        raise not_found("tenant")
    call.execute("onboarding-driver/write-onboarding-state-raise", t, onboarding_step(new_state), call.now)
    return onboarding_state(previous[0])


def fetch_activation_evidence(call: CallState, tenant_id: str) -> Optional[dict]:
    t = call.tenant(tenant_id)
    row = call.one("onboarding-driver/fetch-activation-evidence", t, call.now)
    if row is None:
        return None
    return {"usable_api_keys": row["keys"], "enabled_integrations": row["integrations"],
            "sdk_attested": row["attestations"] > 0}
