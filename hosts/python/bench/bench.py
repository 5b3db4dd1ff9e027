"""The Python host's figures for the engine benchmark (``host/benches/engine/hosts.rs``): instantiating the
component, and get pin / upsert pin through the whole host (fresh instance and transaction per call) on a
SQLite file. Prints one JSON object; medians in microseconds. Usage: ``python bench.py DB_PATH [CALLS]``."""

import json
import statistics
import sys
import time

import wasmtime

from aos_accounts import Engine, System


def median_us(f, calls: int) -> float:
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        f()
        samples.append((time.perf_counter_ns() - started) / 1000)
    return statistics.median(samples)


def main() -> None:
    path, calls = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with Engine(path) as engine:
        tenant = engine.acting_as(System()).tenants.create_tenant(tenant={"name": "Bench", "slug": "bench", "plan": "free"})
        pins = engine.acting_as(System(), tenant=tenant.id).memory_pins
        pins.upsert_pin(key="k", value='{"n": 0}')

        def instantiate():
            store = wasmtime.Store(engine._wasm)
            store.set_epoch_deadline(1000)
            engine._linker.instantiate(store, engine._component)

        figures = {
            "instantiate_us": median_us(instantiate, calls),
            "get_pin_us": median_us(lambda: pins.get_pin(key="k"), calls),
            "upsert_pin_us": median_us(lambda: pins.upsert_pin(key="k", value='{"n": 1}'), calls),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
