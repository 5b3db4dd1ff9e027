"""The account engine (multi-tenant accounts, memberships, API keys, quotas, pins, …) as a WebAssembly
component, hosted in Python with wasmtime-py over SQLite.

    from aos_accounts import Engine, System
    with Engine("accounts.db") as engine:
        admin = engine.acting_as(System())
        acme = admin.tenants.create_tenant(tenant={"name": "Acme", "slug": "acme", "plan": "free"})
        engine.acting_as(System(), tenant=acme.id).memory_pins.upsert_pin(key="greeting", value='"hello"')
"""

from .call import DriverError
from .engine import Engine, EngineError, Session, Settings, Value
from .principals import Anonymous, ApiKey, Operator, Person, Principal, System

__all__ = ["Engine", "EngineError", "Session", "Settings", "Value", "DriverError",
           "Principal", "System", "Operator", "Person", "ApiKey", "Anonymous"]
