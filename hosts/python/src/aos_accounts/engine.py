"""The account engine component in wasmtime-py: loading it, implementing its imports with this package's
drivers, and running one engine call in one transaction on a fresh instance.

The rules are the Rust host's (``host/src/runtime.rs``): the call context (actor, tenant, now) comes from
the host, never from arguments; a call commits only when the engine answered ``ok`` and nothing went
wrong on the host (no scope violation, no failed statement, no trap, no doomed policy); anything else
rolls back, so a refused call writes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import sqlite3
import importlib.metadata
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional

import wasmtime
from wasmtime import component as wc

from . import identity
from .call import CallState, DriverError
from .catalogue import Catalogue
from .database import Database
from .principals import Principal
from .values import Outcome, Signature, signatures_of, snake

PACKAGE = "aos:accounts"
VERSION = "0.5.0"
#: The engine interfaces the component exports.
INTERFACES = ("accounts", "tenants", "memory-pins", "onboarding", "lifecycle", "policies")
#: The largest `get-random-bytes` request served (the engine asks for tens of bytes).
MAX_RANDOM_BYTES = 1 << 16

_DATA = Path(__file__).parent / "data"
_log = logging.getLogger("aos_accounts")


class EngineError(Exception):
    """An engine call's error: ``code`` is the engine's stable code (``forbidden``, ``not_found``, …)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass
class Settings:
    """Host configuration the engine needs with every call (``engine-settings``)."""

    memory_pins_enabled: bool = True
    support_email: str = "support@example.com"
    support_hours: str = "24/7"
    support_response_time: str = "Within 24 hours"
    max_owned_tenants_per_user: int = 10
    #: Wall-clock limit of one engine call.
    call_deadline_ms: int = 10_000
    #: Linear memory one instance may use.
    instance_memory_mib: int = 64


@dataclass
class _Operation:
    index: Any
    signature: Signature


class Engine:
    """The engine over one SQLite database. Calls are serialised (one connection, one call at a time)."""

    def __init__(self, database: str = "accounts.db", settings: Optional[Settings] = None,
                 clock: Callable[[], int] = lambda: time.time_ns() // 1000, data: Path = _DATA):
        self.settings = settings or Settings()
        self.clock = clock
        self._lock = threading.Lock()
        self.db = Database(database, data / "migrations", busy_timeout_s=self.settings.call_deadline_ms / 1000)
        self.sql = Catalogue(data / "sql", "sqlite")
        config = wasmtime.Config()
        config.epoch_interruption = True
        self._wasm = wasmtime.Engine(config)
        self._component = _load_component(self._wasm, data / "account-engine.wasm")
        self._linker = wc.Linker(self._wasm)
        self._link_imports()
        self._operations = self._read_operations()
        self._current: Optional[CallState] = None
        self._closed = False
        self._ticker = _EpochTicker(self._wasm)

    # --- the public surface -------------------------------------------------------------------------

    def acting_as(self, principal: Principal, tenant: Optional[str] = None) -> "Session":
        """Calls made as ``principal`` on ``tenant`` (for an API key, the key's own tenant)."""
        return Session(self, principal, tenant)

    def operations(self) -> Dict[str, list]:
        """Every engine operation (``interface/operation``) and its parameter names."""
        return {f"{i}/{o}": op.signature.param_names()[1:] for (i, o), op in self._operations.items()}

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._ticker.stop()
            self.db.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- one call -----------------------------------------------------------------------------------

    def call(self, principal: Principal, tenant: Optional[str], interface: str, operation: str, args: Dict[str, Any]) -> Any:
        """Runs ``interface.operation`` with plain arguments; the plain ``ok`` value, or raises EngineError."""
        op = self._operations.get((interface.replace("_", "-"), operation.replace("_", "-")))
        if op is None:
            raise EngineError("not_found", f"no operation {interface}.{operation}")
        with self._lock:
            if self._closed:
                raise EngineError("unavailable", "the engine is closed")
            try:
                actor, tenant_id = identity.resolve(self.db, self.sql, principal, tenant, self.clock())
            except sqlite3.Error:
                raise EngineError("unavailable", "the credential could not be checked; nothing was done, try again") from None
            params = self._arguments(op, args, actor, tenant_id)
            now = self.clock()
            state = CallState(self.db, self.sql, actor, tenant_id, now)
            ctx = {"actor": _actor_value(actor), "tenant_id": tenant_id, "request_id": str(uuid.uuid4()), "now": now,
                   "settings": self._settings_value()}
            params[0] = op.signature.params[0][1].to_wasm(ctx)
            try:
                self._current = state
                try:
                    outcome, trap = self._run(op, params), None
                except Exception as e:  # a trap, the deadline, or a host failure inside an import
                    outcome, trap = None, e
                finally:
                    self._current = None
                return self._settle(state, outcome, trap)
            finally:
                # Whatever happened, no transaction outlives its call: one still open here must not commit.
                self.db.rollback()

    def _arguments(self, op: _Operation, args: Dict[str, Any], actor: tuple, tenant_id: Optional[str]) -> list:
        if not isinstance(args, dict):
            raise EngineError("invalid_argument", "the arguments must be a dict")
        names = op.signature.param_names()[1:]
        unknown = set(args) - set(names)
        if unknown:
            raise EngineError("invalid_argument", f"unknown argument '{sorted(unknown)[0]}'")
        params: list = [None]
        for (name, codec), plain in zip(op.signature.params[1:], names):
            value = args.get(plain)
            if value is None:
                value = _default_argument(plain, codec)
            try:
                params.append(codec.to_wasm(value))
            except (TypeError, ValueError) as e:
                raise EngineError("invalid_argument", f"{plain}: {e}") from None
        return params

    def _run(self, op: _Operation, params: list) -> Outcome:
        # The clock runs while the guest may: its deadline is counted in the clock's ticks.
        with self._ticker.running():
            store = wasmtime.Store(self._wasm)
            store.set_limits(memory_size=self.settings.instance_memory_mib << 20)
            store.set_epoch_deadline(self._ticker.ticks(self.settings.call_deadline_ms))
            instance = self._linker.instantiate(store, self._component)
            func = instance.get_func(store, op.index)
            result = func(store, *params)
            return op.signature.result.from_wasm(result)

    def _settle(self, state: CallState, outcome: Optional[Outcome], trap: Optional[Exception]) -> Any:
        """Commits or rolls back the call, and says what the caller gets (the Rust host's order)."""
        if state.violation is not None:
            self.db.rollback()
            raise EngineError("forbidden", "the engine touched data outside the caller's tenant; nothing was written")
        if state.lost_race:
            self.db.rollback()
            raise EngineError("unavailable", "the transaction lost a race with another; nothing was written, try again")
        if state.doomed is not None:
            self.db.rollback()
            raise EngineError(*state.doomed)
        if trap is not None or outcome is None:
            self.db.rollback()
            if _interrupted(trap):
                raise EngineError("unavailable", "the call ran past its deadline; nothing was written")
            _log.error("engine call failed: %s", trap)
            raise EngineError("internal", "the engine failed; nothing was written")
        if not outcome.ok:
            self.db.rollback()
            raise EngineError(outcome.value["code"], outcome.value["message"])
        if state.failed:
            self.db.rollback()
            raise EngineError("internal", "a database statement failed; nothing was written")
        if state.began:
            try:
                self.db.commit()
            except sqlite3.Error:
                self.db.rollback()
                raise EngineError("unavailable", "the database could not commit; nothing was written") from None
        return outcome.value

    def _settings_value(self) -> dict:
        s = self.settings
        return {"memory_pins_enabled": s.memory_pins_enabled, "support_email": s.support_email,
                "support_hours": s.support_hours, "support_response_time": s.support_response_time,
                "max_owned_tenants_per_user": s.max_owned_tenants_per_user}

    # --- the component's imports and exports --------------------------------------------------------

    def _link_imports(self) -> None:
        """Defines every function the component imports, and nothing else: a driver module of this package
        per imported interface, with one function per imported function (a missing one fails here)."""
        with self._linker.root() as root:
            for name, item in self._component.type.imports(self._wasm).items():
                signatures = signatures_of(item.ty, self._wasm)
                with root.add_instance(name) as instance:
                    if name.startswith("wasi:random/random@"):
                        instance.add_func("get-random-bytes", _random_bytes)
                        continue
                    if not signatures:
                        continue  # a type-only interface
                    interface = name.split("/", 1)[1].split("@", 1)[0]
                    module = importlib.import_module(f".drivers.{snake(interface)}", __package__)
                    for function, signature in signatures.items():
                        implementation = getattr(module, snake(function), None)
                        if implementation is None:
                            raise RuntimeError(f"{name}: this host does not implement {function}")
                        instance.add_func(function, self._import(implementation, signature))

    def _import(self, implementation: Callable, signature: Signature) -> Callable:
        params, result = signature.params, signature.result

        def call(_store: Any, *args: Any) -> Any:
            state = self._current
            assert state is not None, "a driver was called outside an engine call"
            plain = [codec.from_wasm(a) for (_, codec), a in zip(params, args)]
            try:
                value = Outcome(True, implementation(state, *plain))
            except DriverError as e:
                value = Outcome(False, {"code": e.code, "message": e.message})
            except EngineError as e:
                value = Outcome(False, {"code": e.code, "message": e.message})
            if result is None:
                return None
            return result.to_wasm(value)

        return call

    def _read_operations(self) -> Dict[tuple, _Operation]:
        operations = {}
        exports = self._component.type.exports(self._wasm)
        for interface in INTERFACES:
            name = f"{PACKAGE}/{interface}@{VERSION}"
            item = exports.get(name)
            if item is None:
                raise RuntimeError(f"the component does not export {name}")
            interface_index = self._component.get_export_index(name)
            for function, signature in signatures_of(item.ty, self._wasm).items():
                index = self._component.get_export_index(function, interface_index)
                operations[(interface, function)] = _Operation(index, signature)
        return operations


class Session:
    """Engine calls as one principal on one tenant: ``session.memory_pins.upsert_pin(key=…, value=…)``."""

    def __init__(self, engine: Engine, principal: Principal, tenant: Optional[str]):
        self._engine, self._principal, self._tenant = engine, principal, tenant

    def call(self, interface: str, operation: str, **args: Any) -> Any:
        return _typed(self._engine.call(self._principal, self._tenant, interface, operation, args))

    def __getattr__(self, interface: str) -> "_Interface":
        if interface.replace("_", "-") not in INTERFACES:
            raise AttributeError(interface)
        return _Interface(self, interface)


class _Interface:
    def __init__(self, session: Session, interface: str):
        self._session, self._interface = session, interface

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        return lambda **args: self._session.call(self._interface, operation, **args)


class Value(dict):
    """An engine result: a dict whose keys are also attributes (``tenant.id``, ``tenant["id"]``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return Value({k: _typed(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value


def _default_argument(name: str, codec: Any) -> Any:
    """What a missing argument means (as in the Rust host's JSON calls): `false`, the first page."""
    kind = type(codec).__name__
    if kind == "_Scalar" and codec.cls is bool:
        return False
    if kind == "_Record" and name == "page":
        return {"limit": 50}
    return None


def _interrupted(trap: Optional[Exception]) -> bool:
    """Whether the guest was stopped by the call's deadline (epoch interruption)."""
    if getattr(trap, "trap_code", None) == wasmtime.TrapCode.INTERRUPT:
        return True
    return isinstance(trap, wasmtime.WasmtimeError) and "interrupt" in str(trap)


def _actor_value(actor: tuple) -> Any:
    kind, principal = actor
    return kind if principal is None else {kind: principal}


def _random_bytes(_store: Any, length: int) -> bytes:
    if length > MAX_RANDOM_BYTES:
        raise RuntimeError(f"get-random-bytes({length}) is more than this host serves")
    return os.urandom(length)


def _load_component(engine: wasmtime.Engine, path: Path) -> wc.Component:
    """The component, compiled once per machine and wasmtime version (compiling takes a second or two).

    The compiled form is native code that wasmtime loads without checking it, so it is kept only in a
    directory private to this user (``$AOS_COMPILE_CACHE_DIR``, else ``~/.cache/aos-accounts``, created
    0700); a directory anyone else could write to is not used, and the component is compiled afresh."""
    wasm = path.read_bytes()
    cache = _private_cache_dir()
    if cache is None:
        return wc.Component(engine, wasm)
    key = hashlib.sha256(wasm + importlib.metadata.version("wasmtime").encode()).hexdigest()
    compiled = cache / f"{key}.cwasm"
    if compiled.exists():
        try:
            return wc.Component.deserialize_file(engine, str(compiled))
        except Exception:
            pass  # a file from another build of wasmtime: compile again
    component = wc.Component(engine, wasm)
    partial = compiled.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(component.serialize())
    os.replace(partial, compiled)
    return component


def _private_cache_dir() -> Optional[Path]:
    directory = Path(os.environ.get("AOS_COMPILE_CACHE_DIR") or Path.home() / ".cache" / "aos-accounts")
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return directory


class _EpochTicker:
    """Advances the engine's epoch every 10 ms while a call runs, so that a call's deadline interrupts a
    runaway guest; while none runs its thread waits without waking (an idle process spends nothing)."""

    TICK_MS = 10

    def __init__(self, engine: wasmtime.Engine):
        self._engine = engine
        self._changed = threading.Condition()
        self._running = 0
        self._stopped = False
        self.ticks_made = 0
        self._thread = threading.Thread(target=self._run, name="aos-epoch", daemon=True)
        self._thread.start()

    def ticks(self, deadline_ms: int) -> int:
        return max(1, deadline_ms // self.TICK_MS)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Keeps the clock going while the block runs (every store's guest code runs inside one)."""
        with self._changed:
            self._running += 1
            self._changed.notify()
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1

    def _run(self) -> None:
        while True:
            with self._changed:
                while self._running == 0 and not self._stopped:
                    self._changed.wait()
                if self._stopped:
                    return
            time.sleep(self.TICK_MS / 1000)
            self._engine.increment_epoch()
            self.ticks_made += 1

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()
