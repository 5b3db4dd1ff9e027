"""One engine call on the host side: its transaction, its scope, and what the host must do when it ends.

This is the host's security boundary, as in the Rust host (``host/src/call.rs``): the engine names tenants
and users in its driver calls, and the host lets a call touch only the tenant of its credential (or what
the call itself created), only the caller's own user row, and platform columns only for operators and the
system. A refused touch is a ``scope-violation`` for the engine and fails the whole call as ``forbidden``.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from typing import Any, List, Optional, Sequence

from .catalogue import Catalogue
from .database import Database


class DriverError(Exception):
    """What a driver function answers instead of a result (``driver-error``); never carries SQL."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def not_found(what: str) -> DriverError:
    return DriverError("not_found", f"{what} not found")


def conflict(message: str) -> DriverError:
    return DriverError("conflict", message)


def invalid(message: str) -> DriverError:
    return DriverError("invalid", message)


#: SQLite's extended result codes the drivers tell apart (https://sqlite.org/rescode.html).
_SQLITE_ERRORS = {
    2067: ("conflict", "a unique constraint was violated"),  # CONSTRAINT_UNIQUE
    1555: ("conflict", "a unique constraint was violated"),  # CONSTRAINT_PRIMARYKEY
    787: ("invalid", "a referenced row does not exist, or the row is still referenced"),  # CONSTRAINT_FOREIGNKEY
    1299: ("invalid", "a required value is missing"),  # CONSTRAINT_NOTNULL
    275: ("invalid", "a value is out of its allowed range"),  # CONSTRAINT_CHECK
    1811: ("conflict", "the row can no longer be changed"),  # CONSTRAINT_TRIGGER: RAISE(ABORT) of a guard
    19: ("conflict", "the row can no longer be changed"),  # CONSTRAINT
    5: ("unavailable", "the transaction lost a race with another; retry"),  # BUSY
    6: ("unavailable", "the transaction lost a race with another; retry"),  # LOCKED
    517: ("unavailable", "the transaction lost a race with another; retry"),  # BUSY_SNAPSHOT
}


def driver_error_of(e: sqlite3.Error) -> DriverError:
    """What a database failure tells the engine (the Rust host's ``from_sqlx``): a code, never SQL."""
    code = getattr(e, "sqlite_errorcode", None)
    return DriverError(*_SQLITE_ERRORS.get(code, ("backend", "the database refused the statement")))


_CANONICAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_id(text: str) -> str:
    """A uuid in the one form ids have, lowercase and hyphenated (as the Rust host takes them); ``invalid``
    otherwise."""
    if isinstance(text, str) and _CANONICAL_ID.fullmatch(text):
        return text
    raise DriverError("invalid", f"'{str(text)[:64]}' is not a valid id")


def new_id() -> str:
    return str(uuid.uuid4())


class CallState:
    """The host's state of one engine call (``CallState`` of the Rust host)."""

    def __init__(self, db: Database, sql: Catalogue, actor: tuple, tenant_id: Optional[str], now: int):
        self.db, self.sql, self.now = db, sql, now
        kind = actor[0]
        self.platform = kind in ("operator", "system")
        self.tenant_scope: Optional[str] = None
        if not self.platform and tenant_id is not None:
            try:
                self.tenant_scope = str(uuid.UUID(tenant_id))
            except ValueError:
                self.tenant_scope = None
        self.created_tenants: List[str] = []
        # The person behind the call: (internal user id or None, identity-provider subject).
        self.identity: Optional[list] = None
        if kind == "identity":
            principal = actor[1]
            self.identity = [principal.get("user_id"), principal["external_id"]]
        # When the call started on this machine (latencies), beside its "now" (which a clock may fake).
        self.started = time.monotonic()
        self.violation: Optional[str] = None
        self.failed = False
        # The database was busy or locked (another process held it): the call fails as `unavailable`.
        self.lost_race = False
        self.savepoints = 0
        self.doomed: Optional[tuple] = None
        # Each tenant's active policy (version, content hash) or None, as the call first read it: the call
        # runs the version it saw (the Rust host's `policy_seen`).
        self.policy_seen: dict = {}
        self.began = False

    # --- statements ---------------------------------------------------------------------------------

    def _run(self, method: str, name: str, params: Sequence[Any]) -> Any:
        if self.failed:
            raise DriverError("backend", "an earlier statement of this call failed; its transaction will be rolled back")
        try:
            self._begin()
            return getattr(self.db, method)(self.sql[name], params)
        except sqlite3.Error as e:
            self._failed()
            error = driver_error_of(e)
            if error.code == "unavailable":
                self.lost_race = True  # the whole call fails as `unavailable`, savepoint or not
            raise error from None

    def _begin(self) -> None:
        if not self.began:
            self.db.begin()
            self.began = True

    def _failed(self) -> None:
        if self.savepoints == 0:
            self.failed = True

    def one(self, name: str, *params: Any) -> Optional[sqlite3.Row]:
        return self._run("one", name, params)

    def all(self, name: str, *params: Any) -> list:
        return self._run("all", name, params)

    def scalar(self, name: str, *params: Any) -> Any:
        return self._run("scalar", name, params)

    def rows(self, name: str, *params: Any) -> sqlite3.Cursor:
        """The rows of a statement, read as they are iterated (for pages bounded in bytes)."""
        return self._run("execute", name, params)

    def execute(self, name: str, *params: Any) -> int:
        """Runs a statement; the number of rows it changed."""
        return self._run("rowcount", name, params)

    def savepoint(self, name: str, write) -> None:
        """Runs ``write`` inside a savepoint: if it fails, it is undone and the call goes on (the access log)."""
        try:
            self._begin()
            self.db.conn.execute(f"SAVEPOINT {name}")
        except sqlite3.Error as e:
            self._failed()
            raise driver_error_of(e) from None
        self.savepoints += 1
        try:
            write()
        except DriverError:
            self.savepoints -= 1
            self.db.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.db.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.savepoints -= 1
        self.db.conn.execute(f"RELEASE SAVEPOINT {name}")

    # --- scope --------------------------------------------------------------------------------------

    def tenant(self, tenant_id: str) -> str:
        """Checks that the call may touch ``tenant_id`` and parses it."""
        t = parse_id(tenant_id)
        if self.in_scope(t):
            return t
        return self._refuse(f"tenant {t} is outside this call's scope")

    def in_scope(self, tenant_id: str) -> bool:
        if self.platform:
            return True
        return tenant_id == self.tenant_scope or tenant_id in self.created_tenants

    def scope_tenant(self) -> Optional[str]:
        return self.tenant_scope

    def scope_tenants(self) -> List[str]:
        return self.created_tenants + ([self.tenant_scope] if self.tenant_scope else [])

    def created_tenant(self, tenant_id: str) -> None:
        self.created_tenants.append(tenant_id)

    def admit_tenant_by_token(self, tenant_id: str) -> None:
        """Presenting an invitation's token puts its tenant in the call's scope."""
        if self.platform:
            return
        if self.tenant_scope is None:
            self.tenant_scope = tenant_id
        elif self.tenant_scope != tenant_id and tenant_id not in self.created_tenants:
            self.created_tenants.append(tenant_id)

    def platform_only(self, what: str) -> None:
        if not self.platform:
            self._refuse(f"{what} is an operator's write")

    def is_caller_user(self, user_id: str) -> bool:
        return self.identity is not None and self.identity[0] is not None and _canonical(self.identity[0]) == _canonical(user_id)

    def is_caller_subject(self, external_id: str) -> bool:
        return self.identity is not None and self.identity[1] == external_id

    def may_write_user(self, user_id: str) -> None:
        if not (self.is_caller_user(user_id) or self.platform):
            self._refuse(f"user {user_id} is not the caller")

    may_read_user = may_write_user

    def may_create_user(self, external_id: str) -> None:
        if not (self.is_caller_subject(external_id) or self.platform):
            self._refuse("a user may only be created for the calling identity")

    def created_user(self, user_id: str, external_id: str) -> None:
        if self.identity is not None and self.identity[1] == external_id:
            self.identity[0] = user_id

    def _refuse(self, message: str):
        if self.violation is None:
            self.violation = message
        raise DriverError("scope_violation", message)

    def doom(self, code: str, message: str) -> None:
        """The call must end with this error and roll back, whatever the engine answers."""
        if self.doomed is None:
            self.doomed = (code, message)


def _canonical(id: str) -> Optional[str]:
    try:
        return str(uuid.UUID(id))
    except (ValueError, AttributeError, TypeError):
        return None
