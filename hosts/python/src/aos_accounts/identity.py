"""Resolving a principal into the call's actor before the engine call, as the Rust host does
(``host/src/identity.rs``): a person's internal user, an API key's tenant, scopes and restrictions."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Optional, Tuple

from .catalogue import Catalogue
from .database import Database
from .principals import Anonymous, ApiKey, Operator, Person, Principal, System


class Unauthenticated(Exception):
    """The credential names nothing usable (an unknown, revoked or expired key)."""


def resolve(db: Database, sql: Catalogue, principal: Principal, tenant: Optional[str], now: int) -> Tuple[tuple, Optional[str]]:
    """(actor, tenant id) of a call: the actor as (case, payload) of the contract's `actor`."""
    from .engine import EngineError

    if isinstance(principal, System):
        return ("system", None), tenant
    if isinstance(principal, Operator):
        return ("operator", {"operator_id": principal.operator_id}), tenant
    if isinstance(principal, Anonymous):
        # Nobody acts on no tenant (the Rust host's front door gives an anonymous caller none).
        return ("anonymous", None), None
    if isinstance(principal, Person):
        user_id = db.scalar(sql["identity/user-id-for-subject"], [principal.external_id])
        # The tenant is the one the application names (as with the Rust host's `Caller`; its HTTP front
        # door, not the engine API, falls back to a person's default tenant).
        return ("identity", {"external_id": principal.external_id, "email": principal.email, "user_id": user_id,
                             "name": principal.name, "email_verified": principal.email_verified}), tenant
    if isinstance(principal, ApiKey):
        key = db.one(sql["identity/api-key-by-hash"], [hashlib.sha256(principal.secret.encode()).hexdigest(), now])
        if key is None:
            raise EngineError("unauthenticated", "the API key is not valid")
        if tenant is not None and tenant != key["tenant_id"]:
            raise EngineError("forbidden", "an API key acts only on its own tenant")
        return ("api_key", _key_principal(key)), key["tenant_id"]
    raise TypeError(f"not a principal: {principal!r}")


def _key_principal(key: Any) -> dict:
    # Whatever cannot be read back fails closed: broken scopes grant nothing, a broken worker list allows
    # no worker, a limit out of range is the tightest.
    def parsed(text: Optional[str]) -> list:
        try:
            value = json.loads(text) if text else []
        except ValueError:
            return []
        # A list with anything but strings in it grants nothing at all (not the strings it holds).
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else []

    rpm = key["rate_limit_rpm"]
    return {
        "key_id": key["id"],
        "scopes": parsed(key["permissions_json"]),
        "created_by": key["user_id"],
        "creator_role": key["creator_role"],
        "allowed_workers": None if key["allowed_workers_json"] is None else parsed(key["allowed_workers_json"]),
        "max_concurrent_runs": None if key["max_concurrent_runs"] is None else max(0, key["max_concurrent_runs"]),
        "rate_limit_rpm": None if rpm is None else min(max(rpm, 1), 2**31 - 1),
        "expires_at": key["expires_at"],
    }
