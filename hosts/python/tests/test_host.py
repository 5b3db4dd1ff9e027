"""The Python host's own rules, beside the shared conformance suite: a trap or a host failure leaves nothing
written and the next call works, a scope violation or a failed audit write fails the call whatever the
engine answers, bad calls are clear errors, migrations are recorded like sqlx's, 64-bit values and API keys
round-trip."""

from __future__ import annotations

import sqlite3
import tempfile
import time
import unittest
from pathlib import Path
from unittest import mock

from aos_accounts import ApiKey, Engine, EngineError, Person, System
from aos_accounts.drivers import tenant_driver, tenant_lifecycle_driver

T0 = 1_773_576_000_000_000


class Host(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.path = str(Path(self.dir.name) / "accounts.db")
        self.engine = Engine(self.path, clock=lambda: T0)
        self.system = self.engine.acting_as(System())

    def tearDown(self) -> None:
        self.engine.close()
        self.dir.cleanup()

    def count(self, table: str) -> int:
        return self.engine.db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def create_tenant(self, slug: str):
        return self.system.tenants.create_tenant(tenant={"name": slug.title(), "slug": slug, "plan": "free"})

    def assert_creating_a_tenant_fails_and_writes_nothing(self, engine: Engine) -> None:
        """Creating a tenant (a mutation audited in its own call) is refused `internal` and leaves no tenant."""
        with self.assertRaises(EngineError) as refused:
            engine.acting_as(System()).tenants.create_tenant(tenant={"name": "Acme", "slug": "acme", "plan": "free"})
        self.assertEqual(refused.exception.code, "internal")
        self.assertEqual(engine.db.conn.execute("SELECT COUNT(*) FROM tenants").fetchone()[0], 0, "the tenant row was rolled back")

    def test_a_host_failure_in_a_driver_writes_nothing_and_the_next_call_works(self) -> None:
        original = tenant_driver.insert_audit_log
        failing = {"on": True}

        def audit(call, entry):
            if failing["on"]:
                raise RuntimeError("the disk is on fire")
            return original(call, entry)

        with mock.patch.object(tenant_driver, "insert_audit_log", audit):
            engine = Engine(self.path, clock=lambda: T0)  # links the failing audit write
            self.assert_creating_a_tenant_fails_and_writes_nothing(engine)
            failing["on"] = False
            created = engine.acting_as(System()).tenants.create_tenant(tenant={"name": "Acme", "slug": "acme", "plan": "free"})
            self.assertEqual(created.slug, "acme")
            engine.close()

    def test_a_failed_audit_write_fails_the_call_even_when_the_engine_carries_on(self) -> None:
        # The audit log refuses every row; an engine that swallowed the failure must not get a mutation
        # committed without its row.
        self.engine.db.conn.execute(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'no audit'); END")
        self.engine.db.conn.commit()
        original = tenant_driver.insert_audit_log

        def swallowed(call, entry):
            try:
                original(call, entry)
            except Exception:
                pass

        with mock.patch.object(tenant_driver, "insert_audit_log", swallowed):
            engine = Engine(self.path, clock=lambda: T0)  # links the swallowing audit write
            self.assert_creating_a_tenant_fails_and_writes_nothing(engine)
            engine.close()

    def test_a_scope_violation_fails_the_call_even_when_the_engine_carries_on(self) -> None:
        acme = self.engine.acting_as(Person("ann", "ann@example.com")).accounts.create_project(name="Acme", description=None)
        other = self.create_tenant("other")
        original = tenant_lifecycle_driver.fetch_tenant_status

        def nosy(call, tenant_id):
            try:
                call.tenant(other.id)  # refused: the call is acme's
            except Exception:
                pass  # a guest that swallows the refusal does not get away with it
            return original(call, tenant_id)

        with mock.patch.object(tenant_lifecycle_driver, "fetch_tenant_status", nosy):
            engine = Engine(self.path, clock=lambda: T0)
            before = engine.db.conn.execute("SELECT COUNT(*) FROM memory_pins").fetchone()[0]
            with self.assertRaises(EngineError) as refused:
                engine.acting_as(Person("ann", "ann@example.com"), tenant=acme.project_id).memory_pins.upsert_pin(key="k", value="{}")
            self.assertEqual(refused.exception.code, "forbidden")
            self.assertEqual(engine.db.conn.execute("SELECT COUNT(*) FROM memory_pins").fetchone()[0], before)
            engine.close()

    def test_bad_calls_are_clear_errors(self) -> None:
        with self.assertRaises(EngineError) as e:
            self.system.tenants.no_such_operation()
        self.assertEqual(e.exception.code, "not_found")
        with self.assertRaises(EngineError) as e:
            self.system.tenants.create_tenant(tenant={"name": "A", "slug": "a", "plan": "free"}, extra=1)
        self.assertEqual(e.exception.code, "invalid_argument")
        with self.assertRaises(EngineError) as e:
            self.system.tenants.create_tenant(tenant={"name": "A", "slug": "a", "plan": "platinum"})
        self.assertEqual((e.exception.code, "plan" in e.exception.message), ("invalid_argument", True))
        self.assertEqual(self.count("tenants"), 0)

    def test_a_person_and_an_api_key_act_on_their_tenant(self) -> None:
        founder = self.engine.acting_as(Person("ann", "ann@example.com"))
        project = founder.accounts.create_project(name="Ann's", description=None)
        owner = self.engine.acting_as(Person("ann", "ann@example.com"), tenant=project.project_id)
        created = owner.tenants.create_api_key(key={"name": "ci", "permissions": ["memory_pin:read", "memory_pin:write"]})
        keyed = self.engine.acting_as(ApiKey(created.key))
        pin = keyed.memory_pins.upsert_pin(key="build", value='{"n": 1}')
        self.assertEqual(pin.key, "build")
        with self.assertRaises(EngineError) as e:
            self.engine.acting_as(ApiKey("aos_not-a-key")).memory_pins.get_pin(key="build")
        self.assertEqual(e.exception.code, "unauthenticated")

    def test_the_deadline_stops_a_call_which_writes_nothing_and_a_closed_engine_says_so(self) -> None:
        acme = self.create_tenant("acme")
        ticks = self.engine._ticker.ticks
        self.engine._ticker.ticks = lambda deadline_ms: 0  # the deadline has passed when the guest starts
        try:
            with self.assertRaises(EngineError) as late:
                self.engine.acting_as(System(), tenant=acme.id).memory_pins.upsert_pin(key="k", value="{}")
            self.assertEqual(late.exception.code, "unavailable")
        finally:
            self.engine._ticker.ticks = ticks
        self.assertEqual(self.count("memory_pins"), 0)
        self.assertFalse(self.engine.db.conn.in_transaction, "no transaction outlives its call")
        self.engine.acting_as(System(), tenant=acme.id).memory_pins.upsert_pin(key="k", value="{}")
        self.engine.close()
        with self.assertRaises(EngineError) as closed:
            self.system.tenants.create_tenant(tenant={"name": "B", "slug": "b", "plan": "free"})
        self.assertEqual(closed.exception.code, "unavailable")
        self.engine = Engine(self.path, clock=lambda: T0)  # for tearDown

    def test_the_epoch_clock_ticks_only_while_a_call_runs(self) -> None:
        """An idle engine's clock thread does not wake; while a call runs it ticks (its deadline needs it)."""
        ticker = self.engine._ticker
        self.create_tenant("acme")  # a call: the clock ran, then stopped
        time.sleep(0.05)  # the tick under way when the call ended
        idle = ticker.ticks_made
        time.sleep(0.2)  # twenty ticks' time
        self.assertEqual(ticker.ticks_made, idle, "the clock ticked with no call running")
        with ticker.running():
            waited_until = time.monotonic() + 5
            while ticker.ticks_made == idle and time.monotonic() < waited_until:
                time.sleep(0.005)
        self.assertGreater(ticker.ticks_made, idle, "a held clock did not tick")

    def test_a_key_whose_stored_scopes_are_malformed_grants_nothing(self) -> None:
        founder = self.engine.acting_as(Person("ann", "ann@example.com"))
        project = founder.accounts.create_project(name="Ann's", description=None)
        owner = self.engine.acting_as(Person("ann", "ann@example.com"), tenant=project.project_id)
        created = owner.tenants.create_api_key(key={"name": "ci", "permissions": ["memory_pin:read", "memory_pin:write"]})
        self.engine.db.conn.execute("UPDATE api_keys SET permissions_json = '[\"memory_pin:write\", 1]'")
        with self.assertRaises(EngineError) as refused:
            self.engine.acting_as(ApiKey(created.key)).memory_pins.upsert_pin(key="k", value="{}")
        self.assertEqual(refused.exception.code, "forbidden")

    def test_64_bit_values_round_trip(self) -> None:
        acme = self.create_tenant("acme")
        tenant = self.engine.acting_as(System(), tenant=acme.id)
        usage = tenant.tenants.increment_usage(tokens=10**12)  # beyond 32 bits, at the engine's limit
        self.assertEqual(usage.tokens_this_month, 10**12)

    def test_migrations_are_recorded_like_sqlx_and_an_edited_one_is_refused(self) -> None:
        versions = [r[0] for r in self.engine.db.conn.execute("SELECT version FROM _sqlx_migrations ORDER BY version")]
        self.assertEqual(versions, sorted(versions))
        self.assertGreaterEqual(len(versions), 18)
        again = Engine(self.path, clock=lambda: T0)  # idempotent
        again.close()
        # A database that applied the old text of 0008 (before the SQLite floor was lowered) still opens.
        old = "47dea51c2fff9ddc6931e976b9bd633a2f894ba8ee39a050ff6369d38015e60cd3567b817c5cefd6e5ccbf71dcefcb3a"
        conn = sqlite3.connect(self.path)
        conn.execute(f"UPDATE _sqlx_migrations SET checksum = X'{old}' WHERE version = 8")
        conn.commit()
        conn.close()
        Engine(self.path, clock=lambda: T0).close()
        conn = sqlite3.connect(self.path)
        self.assertNotEqual(conn.execute("SELECT hex(checksum) FROM _sqlx_migrations WHERE version = 8").fetchone()[0].lower(), old)
        conn.execute("UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 8")
        conn.commit()
        conn.close()
        with self.assertRaises(RuntimeError):
            Engine(self.path, clock=lambda: T0)


if __name__ == "__main__":
    unittest.main()
