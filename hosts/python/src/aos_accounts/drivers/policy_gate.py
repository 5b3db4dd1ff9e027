"""``policy-gate``: the engine's way to its tenant's policy.

This host runs no tenant policies (it has no policy runtime). It answers as the Rust host does when its
call has none (``host/src/policy/policy_gate.rs``, ``CallState::policies`` failing): a tenant without an
active policy is allowed (version 0: no policy ran); a tenant with one is refused as ``unavailable``, and
the call is doomed (fail closed: whatever the engine answers next, the call rolls back); ``inspect`` and
``dry-run`` cannot run a policy and say so.

The host, not the engine, decides whose policy runs: a tenant in the call's scope, checked like every
driver's tenant (a refusal is ``forbidden``)."""

from __future__ import annotations

from typing import Optional, Tuple

from ..call import CallState, DriverError
from ._statements import as_i32, as_u32

#: What a call without a policy runtime is told (the Rust host's words).
_NO_RUNTIME = "this host runs no tenant policies"

def _engine_error(code: str, message: str) -> Exception:
    from ..engine import EngineError  # here: the engine module imports the drivers

    return EngineError(code, message)


def _no_runtime() -> Exception:
    return _engine_error("unavailable", _NO_RUNTIME)


def _driver_failure(e: DriverError) -> Exception:
    return _engine_error("unavailable", f"the policy could not be read: {e.message}")


def _policy_tenant(call: CallState, tenant_id: str) -> str:
    """The tenant whose policy the engine asks for: one of the call's scope, or the call is refused."""
    try:
        return call.tenant(tenant_id)
    except DriverError as e:
        raise _engine_error("forbidden", e.message) from None


def _read_active_policy(call: CallState, tenant: str) -> Optional[Tuple[int, str]]:
    """The tenant's active version and content hash, or None, noted for the rest of the call."""
    try:
        row = call.one("policy-gate/active-version", tenant)
    except DriverError as e:
        raise _driver_failure(e) from None
    active = None if row is None else (as_u32(row["version"]), row["content_hash"].strip())
    call.policy_seen[tenant] = active
    return active


def _consult_policy(call: CallState, tenant_id: str) -> dict:
    tenant = _policy_tenant(call, tenant_id)
    active = call.policy_seen[tenant] if tenant in call.policy_seen else _read_active_policy(call, tenant)
    if active is None:
        return {"version": 0, "verdict": "allow"}
    # The tenant has a policy, and this host cannot run it.
    raise _no_runtime()


def consult(call: CallState, tenant_id: str, actor: dict, event) -> dict:
    from ..engine import EngineError  # here: the engine module imports the drivers

    # Whatever goes wrong here, the call goes no further: every error also dooms it on the host.
    try:
        return _consult_policy(call, tenant_id)
    except EngineError as error:
        call.doom(error.code, error.message)
        raise


def inspect(call: CallState, component: bytes) -> dict:
    raise _no_runtime()


def dry_run(call: CallState, tenant_id: str, version: int, actor: dict, event) -> dict:
    tenant = _policy_tenant(call, tenant_id)
    try:
        # Rust binds the version `as i32`.
        stored = call.scalar("policy-gate/stored-hash", tenant, as_i32(version))
    except DriverError as e:
        raise _driver_failure(e) from None
    if stored is None:
        raise _engine_error("not_found", f"the tenant has no policy version {version}")
    raise _no_runtime()
