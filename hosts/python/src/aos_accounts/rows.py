"""Rows of the catalogue's column lists (``hosts/sql/fragments.sql``) as the contract's records, in plain
form: one function per row kind, as the Rust host's ``host/src/db/rows/``. SQLite keeps booleans as 0/1,
times as integer microseconds, enums as their snake_case names (the plain form's too)."""

from __future__ import annotations

import json
from typing import Any, List, Optional

from .call import DriverError

#: The policy triggers in the order of their bits in `policy_versions.handles` (host/src/policy/mod.rs).
TRIGGERS = ("invite_user", "accept_invitation", "change_role", "remove_member", "create_api_key", "write_pin", "file_ticket")
ONBOARDING_STATES = ("created", "identity_verified", "api_key_created", "sdk_connected", "complete")


def trigger_names(bits: int) -> List[str]:
    return [name for i, name in enumerate(TRIGGERS) if bits & (1 << i)]


def trigger_bits(names: List[str]) -> int:
    return sum(1 << TRIGGERS.index(n) for n in set(names))


def onboarding_state(step: int) -> str:
    if not 0 <= step < len(ONBOARDING_STATES):
        raise DriverError("backend", f"stored onboarding state {step} is not one of 0..=4")
    return ONBOARDING_STATES[step]


def onboarding_step(state: str) -> int:
    return ONBOARDING_STATES.index(state)


def tenant_status(text: str) -> str:
    # Rows written by the seed say `churned` for what the contract calls `terminated`.
    return "terminated" if text == "churned" else text


def _bool(v: Any) -> Optional[bool]:
    return None if v is None else bool(v)


def _quotas(r: Any) -> dict:
    return {k: r[k] for k in ("max_workers", "max_runs_per_day", "max_concurrent_runs", "max_tokens_per_month", "max_api_keys")}


def _usage(r: Any) -> dict:
    return {"runs_today": r["runs_today"], "runs_this_month": r["runs_this_month"],
            "tokens_this_month": r["tokens_this_month"], "last_run_reset_at": r["last_run_reset_at"]}


def tenant_row(r: Any) -> dict:
    return {"id": r["id"], "name": r["name"], "slug": r["slug"], "description": r["description"],
            "external_org_id": r["clerk_org_id"], "plan": r["plan"], "billing_email": r["billing_email"],
            "stripe_customer_id": r["stripe_customer_id"], "quotas": _quotas(r), "usage": _usage(r),
            "status": tenant_status(r["status"]), "suspended_reason": r["suspended_reason"],
            "is_synthetic": bool(r["is_synthetic"]), "onboarding_state": onboarding_state(r["onboarding_state"]),
            "created_at": r["created_at"], "updated_at": r["updated_at"]}


def tenant_snapshot(r: Any) -> dict:
    return {"id": r["id"], "name": r["name"], "slug": r["slug"], "status": tenant_status(r["status"]),
            "plan": r["plan"], "created_at": r["created_at"], "updated_at": r["updated_at"]}


def tenant_detail(r: Any) -> dict:
    return {**tenant_snapshot(r), "description": r["description"], "quotas": _quotas(r), "usage": _usage(r),
            "onboarding_state": onboarding_state(r["onboarding_state"]), "onboarding_complete": r["onboarding_state"] >= 4}


def user_row(u: Any) -> dict:
    return {"id": u["id"], "external_id": u["clerk_user_id"], "email": u["email"], "name": u["name"],
            "avatar_url": u["avatar_url"], "default_tenant_id": u["default_tenant_id"], "status": u["status"],
            "oauth_provider": u["oauth_provider"], "email_verified": bool(u["email_verified"]),
            "preferences": u["preferences_json"], "created_at": u["created_at"], "updated_at": u["updated_at"],
            "last_login_at": u["last_login_at"]}


def user_snapshot(m: Any) -> dict:
    return {"id": m["id"], "email": m["email"], "name": m["name"], "status": m["status"], "role": m["role"],
            "created_at": m["created_at"], "last_login_at": m["last_login_at"]}


def user_detail(m: Any) -> dict:
    return {"id": m["id"], "email": m["email"], "name": m["name"], "avatar_url": m["avatar_url"], "status": m["status"],
            "role": m["role"], "email_verified": bool(m["email_verified"]), "oauth_provider": m["oauth_provider"],
            "membership_created_at": m["membership_created_at"], "invited_by": m["invited_by"],
            "created_at": m["created_at"], "updated_at": m["updated_at"], "last_login_at": m["last_login_at"]}


def membership_snapshot(m: Any) -> dict:
    return {"membership_id": m["membership_id"], "user_id": m["id"], "email": m["email"], "name": m["name"],
            "role": m["role"], "created_at": m["membership_created_at"]}


def membership_row(m: Any) -> dict:
    return {k: m[k] for k in ("id", "tenant_id", "user_id", "role", "invited_by", "created_at")}


def invitation(i: Any) -> dict:
    return {k: i[k] for k in ("id", "tenant_id", "email", "role", "status", "invited_by", "created_at", "expires_at", "accepted_at")}


def ticket(t: Any) -> dict:
    return {k: t[k] for k in ("id", "tenant_id", "user_id", "subject", "description", "category", "priority", "status",
                              "resolution", "created_at", "updated_at", "resolved_at")}


def subscription(s: Any) -> dict:
    return {k: s[k] for k in ("plan", "status", "billing_period", "current_period_start", "current_period_end")}


def _json_list(text: Optional[str]) -> Optional[list]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def api_key(k: Any) -> dict:
    allowed = k["allowed_workers_json"]
    return {"id": k["id"], "tenant_id": k["tenant_id"], "user_id": k["user_id"], "name": k["name"],
            "key_prefix": k["key_prefix"], "status": k["status"], "permissions": _json_list(k["permissions_json"]) or [],
            "allowed_workers": None if allowed is None else _json_list(allowed),
            "rate_limit_rpm": k["rate_limit_rpm"], "max_concurrent_runs": k["max_concurrent_runs"],
            "expires_at": k["expires_at"], "revoked_at": k["revoked_at"], "revoked_reason": k["revoked_reason"],
            "last_used_at": k["last_used_at"], "total_requests": k["total_requests"], "created_at": k["created_at"]}


def run(r: Any) -> dict:
    out = {k: r[k] for k in ("id", "tenant_id", "worker_id", "api_key_id", "user_id", "task", "input_json", "status",
                             "error", "output_json", "replay_token_json", "total_tokens", "total_latency_ms",
                             "stages_completed", "recoveries", "policy_violations", "cost_cents", "created_at", "completed_at")}
    out["success"] = _bool(r["success"])
    return out


def run_size(r: Any) -> int:
    return sum(len((r[k] or "").encode()) for k in ("task", "input_json", "output_json", "replay_token_json", "error"))


def audit_record(r: Any) -> dict:
    out = {k: r[k] for k in ("id", "user_id", "api_key_id", "actor", "action", "resource_type", "resource_id",
                             "request_id", "created_at")}
    out["old_value"], out["new_value"] = r["old_value_json"], r["new_value_json"]
    return out


def audit_size(r: Any) -> int:
    return sum(len((r[k] or "").encode()) for k in ("action", "resource_type", "actor", "resource_id", "old_value_json",
                                                    "new_value_json"))


def usage_record(u: Any) -> dict:
    return {"id": u["id"], "tenant_id": u["tenant_id"], "meter_name": u["meter_name"], "amount": u["amount"],
            "unit": u["unit"], "period_start": u["period_start"], "period_end": u["period_end"],
            "worker_id": u["worker_id"], "api_key_id": u["api_key_id"], "metadata": u["metadata_json"],
            "recorded_at": u["recorded_at"]}


def access_record(r: Any) -> dict:
    out = {k: r[k] for k in ("id", "operation", "key", "agent_id", "source", "latency_ms", "old_value_hash", "new_value_hash")}
    out["at"] = r["ts"]
    return out


def access_size(r: Any) -> int:
    return sum(len((r[k] or "").encode()) for k in ("key", "agent_id", "source")) + 128


def pin(p: Any) -> dict:
    return {k: p[k] for k in ("id", "tenant_id", "key", "value", "source", "created_at", "updated_at", "ttl_seconds", "expires_at")}


def pin_size(p: Any) -> int:
    return len(p["value"].encode()) + len(p["key"].encode()) + len(p["source"].encode())
