"""The Python host's runner of the conformance suite (``tests/conformance/`` at the repository's root): every
scenario on a fresh SQLite database, through the real component in wasmtime-py. Exits non-zero when any
scenario fails. Usage: ``python conformance.py [SCENARIO_DIR]``."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional

from aos_accounts import Anonymous, ApiKey, Engine, EngineError, Operator, Person, System

#: 2026-03-15T12:00:00Z, where every scenario's clock starts.
T0 = 1_773_576_000_000_000
SECOND = 1_000_000


class Failure(Exception):
    pass


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def resolve(value: Any, saved: Dict[str, Any]) -> Any:
    """``$name`` and ``${name}`` replaced by saved values."""
    if isinstance(value, str):
        if value.startswith("$") and not value.startswith("${") and value != "$any":
            if value[1:] not in saved:
                raise Failure(f"nothing saved as {value[1:]}")
            return saved[value[1:]]
        if "${" in value:
            out = value
            for name, v in saved.items():
                out = out.replace("${" + name + "}", v if isinstance(v, str) else json.dumps(v))
            if "${" in out:
                raise Failure(f"unknown name in {value}")
            return out
        return value
    if isinstance(value, list):
        return [resolve(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, saved) for k, v in value.items()}
    return value


def matches(pattern: Any, value: Any, path: str = "") -> None:
    if pattern == "$any":
        if value is None:
            raise Failure(f"{path}: expected a value, got null")
        return
    if isinstance(pattern, dict) and set(pattern) == {"$len"}:
        if not isinstance(value, (list, str)):
            raise Failure(f"{path}: expected a list or string, got {value!r}")
        if len(value) != pattern["$len"]:
            raise Failure(f"{path}: expected length {pattern['$len']}, got {len(value)}")
        return
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            raise Failure(f"{path}: expected an object, got {value!r}")
        for k, p in pattern.items():
            matches(p, value.get(k), f"{path}.{k}")
        return
    if isinstance(pattern, list):
        if not isinstance(value, list) or len(value) != len(pattern):
            raise Failure(f"{path}: expected {len(pattern)} items, got {value!r}")
        for i, (p, v) in enumerate(zip(pattern, value)):
            matches(p, v, f"{path}.{i}")
        return
    if isinstance(pattern, bool) or isinstance(value, bool):
        if pattern is not value:
            raise Failure(f"{path}: expected {pattern!r}, got {value!r}")
        return
    if pattern != value:
        raise Failure(f"{path}: expected {pattern!r}, got {value!r}")


def lookup(value: Any, path: str) -> Any:
    for part in filter(None, path.split(".")):
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise Failure(f"no {path} in {value!r}")
    return value


def principal(spec: Any) -> Any:
    if spec == "system":
        return System()
    if spec == "anonymous":
        return Anonymous()
    if isinstance(spec, dict) and "operator" in spec:
        return Operator(spec["operator"])
    if isinstance(spec, dict) and "person" in spec:
        subject = spec["person"]
        return Person(subject, spec.get("email", f"{subject}@example.com"), email_verified=spec.get("email_verified", True))
    if isinstance(spec, dict) and "key" in spec:
        return ApiKey(spec["key"])
    raise Failure(f"unknown principal {spec!r}")


def counts(engine: Engine) -> Dict[str, int]:
    conn = engine.db.conn
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'")]
    return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def check_rows(expected: Optional[dict], found: Dict[str, int]) -> None:
    for table, want in (expected or {}).items():
        if table not in found:
            raise Failure(f"no table {table}")
        if found[table] != want:
            raise Failure(f"expected {want} rows in {table}, found {found[table]}")


def run(scenario: dict, database: str) -> None:
    clock = Clock()
    with Engine(database, clock=clock) as engine:
        saved: Dict[str, Any] = {}
        for i, step in enumerate(scenario["steps"], 1):
            try:
                run_step(engine, clock, step, saved)
            except Failure as f:
                raise Failure(f"step {i} ({step.get('call', '-')}): {f}") from None
        try:
            check_rows(scenario.get("rows"), counts(engine))
        except Failure as f:
            raise Failure(f"after the last step: {f}") from None


def run_step(engine: Engine, clock: Clock, step: dict, saved: Dict[str, Any]) -> None:
    if "advance_seconds" in step:
        clock.now += step["advance_seconds"] * SECOND
        return
    interface, operation = step["call"].split(".", 1)
    tenant = resolve(step.get("tenant"), saved)
    who = principal(resolve(step["as"], saved))
    args = resolve(step.get("args") or {}, saved)
    expect = step.get("expect") or {}
    before = counts(engine)
    try:
        value = engine.acting_as(who, tenant).call(interface, operation, **args)
        error = None
    except EngineError as e:
        value, error = None, e
    after = counts(engine)
    if "error" in expect:
        if error is None:
            raise Failure(f"expected error {expect['error']}, got ok {value!r}")
        if error.code != expect["error"]:
            raise Failure(f"expected error {expect['error']}, got {error.code} ({error.message})")
        if before != after:
            changed = {t: (before.get(t), after[t]) for t in after if before.get(t) != after[t]}
            raise Failure(f"a refused call wrote: {changed}")
    else:
        if error is not None:
            raise Failure(f"expected ok, got error {error.code}: {error.message}")
        if "ok" in expect:
            try:
                matches(resolve(expect["ok"], saved), value)
            except Failure as f:
                raise Failure(f"{f}; the result: {value!r}") from None
        for name, path in (step.get("save") or {}).items():
            saved[name] = lookup(value, path)
    check_rows(step.get("rows"), after)


def main() -> int:
    root = Path(__file__).resolve().parents[3]
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "tests" / "conformance" / "scenarios"
    files = sorted(directory.glob("*.json"))
    if not files:
        print(f"no scenarios in {directory}", file=sys.stderr)
        return 2
    failures = []
    started = time.monotonic()
    for path in files:
        scenario = json.loads(path.read_text())
        with tempfile.TemporaryDirectory() as tmp:
            try:
                run(scenario, str(Path(tmp) / "accounts.db"))
                print(f"ok    {path.name}")
            except Failure as f:
                failures.append(f"{path.name}: {f}")
                print(f"FAIL  {path.name}: {f}")
    print(f"python host: {len(files) - len(failures)} of {len(files)} scenarios passed in {time.monotonic() - started:.1f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
