"""The original stack as a benchmark peer: the same operations, issued the way the Python service did it
(SQLAlchemy 2 async ORM sessions on asyncpg, one transaction per operation, audit rows in a nested
transaction), against the same PostgreSQL database the Rust benchmark uses.

Started by `cargo bench -p account-host --bench engine` in its own virtual environment. Each line of
input is `operation callers seconds`; each answer is one JSON line with the calls completed in the window
and their median and 95th-percentile latency.
"""

import argparse
import asyncio
import hashlib
import json
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Integer, String, Text, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(1000))
    clerk_org_id: Mapped[str | None] = mapped_column(String(100))
    plan: Mapped[str] = mapped_column(String(50))
    billing_email: Mapped[str | None] = mapped_column(String(255))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100))
    max_workers: Mapped[int] = mapped_column(Integer)
    max_runs_per_day: Mapped[int] = mapped_column(Integer)
    max_concurrent_runs: Mapped[int] = mapped_column(Integer)
    max_tokens_per_month: Mapped[int] = mapped_column(BigInteger)
    max_api_keys: Mapped[int] = mapped_column(Integer)
    runs_today: Mapped[int] = mapped_column(Integer)
    runs_this_month: Mapped[int] = mapped_column(Integer)
    tokens_this_month: Mapped[int] = mapped_column(BigInteger)
    last_run_reset_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(50))
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    is_synthetic: Mapped[bool] = mapped_column(Boolean)
    onboarding_state: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(50))
    oauth_provider: Mapped[str | None] = mapped_column(String(50))
    email_verified: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TenantMembership(Base):
    __tablename__ = "tenant_memberships"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    role: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    invited_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    user_email: Mapped[str] = mapped_column(String(255))


class WorkerRun(Base):
    __tablename__ = "worker_runs"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(50))


class MemoryPin(Base):
    __tablename__ = "memory_pins"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    key: Mapped[str] = mapped_column(Text)
    value: Mapped[dict] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ttl_seconds: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MemoryAudit(Base):
    __tablename__ = "memory_audit"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    operation: Mapped[str] = mapped_column(Text)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    key: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    cache_hit: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    success: Mapped[bool] = mapped_column(Boolean)
    error_message: Mapped[str | None] = mapped_column(Text)
    old_value_hash: Mapped[str | None] = mapped_column(Text)
    new_value_hash: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column(JSONB)


def valid_key(key):
    if not key or len(key) > 512 or any(bad in key for bad in ("..", "/", "\\", "\0")):
        raise ValueError("invalid key")
    return key


async def writable(session, tenant_id):
    status = await session.scalar(select(Tenant.status).where(Tenant.id == tenant_id))
    if status is None:
        raise LookupError("tenant not found")
    return status


async def audit(session, started, now, operation, tenant_id, key, new_hash=None):
    async with session.begin_nested():
        session.add(MemoryAudit(
            ts=now, operation=operation, tenant_id=tenant_id, key=key, source="api", cache_hit=False,
            latency_ms=(time.perf_counter() - started) * 1000, success=True, new_value_hash=new_hash, extra={},
        ))


async def get_pin(session, tenant_id, caller, n):
    started, now = time.perf_counter(), datetime.now(timezone.utc)
    key = valid_key(f"c{n % PINS}")
    await writable(session, tenant_id)
    pin = await session.scalar(select(MemoryPin).where(
        MemoryPin.tenant_id == tenant_id, MemoryPin.key == key,
        or_(MemoryPin.expires_at.is_(None), MemoryPin.expires_at > now)))
    if pin is not None:
        await audit(session, started, now, "get", tenant_id, key)
    return pin


async def upsert_pin(session, tenant_id, caller, n):
    started, now = time.perf_counter(), datetime.now(timezone.utc)
    key = valid_key(f"t{caller}-{n % 100}")
    value = json.loads('{"step":1,"note":"benchmark"}')
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    await writable(session, tenant_id)
    statement = insert(MemoryPin).values(
        tenant_id=tenant_id, key=key, value=value, source="api", created_at=now, updated_at=now,
        ttl_seconds=3600, expires_at=now + timedelta(seconds=3600))
    statement = statement.on_conflict_do_update(
        index_elements=[MemoryPin.tenant_id, MemoryPin.key],
        set_={"value": statement.excluded.value, "source": statement.excluded.source,
              "ttl_seconds": statement.excluded.ttl_seconds, "expires_at": statement.excluded.expires_at,
              "updated_at": statement.excluded.updated_at})
    pin = await session.scalar(statement.returning(MemoryPin))
    await audit(session, started, now, "upsert", tenant_id, key, hashlib.sha256(canonical.encode()).hexdigest()[:16])
    return pin


async def check_run_quota(session, tenant_id, caller, n):
    await writable(session, tenant_id)
    tenant = await session.get(Tenant, tenant_id)
    running = await session.scalar(select(func.count()).select_from(WorkerRun).where(
        WorkerRun.tenant_id == tenant_id, WorkerRun.status.in_(("queued", "running"))))
    return running < tenant.max_concurrent_runs


async def list_members(session, tenant_id, caller, n):
    await writable(session, tenant_id)
    # The Rust side's SQL: members in e-mail order from the membership's index, memberships counted.
    joined = select(User, TenantMembership).join(TenantMembership, TenantMembership.user_id == User.id).where(
        TenantMembership.tenant_id == tenant_id)
    ordered = joined.order_by(TenantMembership.user_email, TenantMembership.user_id).limit(51)
    rows = (await session.execute(ordered)).all()
    total = await session.scalar(select(func.count()).select_from(TenantMembership).where(
        TenantMembership.tenant_id == tenant_id))
    return [{"id": str(u.id), "email": u.email, "role": m.role} for u, m in rows[:50]], total


# Pins `c0`… exist in the tenant (the benchmark writes them); set from --pins.
PINS = 1

OPERATIONS = {"get_pin": get_pin, "upsert_pin": upsert_pin, "check_run_quota": check_run_quota,
              "list_members": list_members}


async def run(sessions, tenant_id, operation, callers, seconds):
    op = OPERATIONS[operation]

    async def caller(index):
        latencies, n = [], 0
        while time.perf_counter() < stop:
            started = time.perf_counter()
            async with sessions() as session, session.begin():
                await op(session, tenant_id, index, n)
            latencies.append(time.perf_counter() - started)
            n += 1
        return latencies

    # Warm the pool and the statement caches first.
    stop = time.perf_counter() + 0.3
    await asyncio.gather(*(caller(i) for i in range(callers)))
    stop = time.perf_counter() + seconds
    began = time.perf_counter()
    # This process's processor time (user + system), as the benchmark reads its own from /proc.
    cpu_began = time.process_time()
    results = await asyncio.gather(*(caller(i) for i in range(callers)))
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    latencies = sorted(t for r in results for t in r)
    return {"operation": operation, "callers": callers, "calls": len(latencies), "seconds": elapsed,
            "cpu_seconds": cpu,
            "median_us": statistics.median(latencies) * 1e6,
            "p95_us": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] * 1e6}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="postgresql+asyncpg://… of the benchmark database")
    parser.add_argument("--tenant", required=True, type=uuid.UUID)
    parser.add_argument("--pins", required=True, type=int)
    args = parser.parse_args()
    global PINS
    PINS = args.pins
    # As many connections as the Rust side's pool (32): callers beyond that wait for one, on both sides.
    engine = create_async_engine(args.url, pool_size=32, max_overflow=0)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        operation, callers, seconds = line.split()
        result = await run(sessions, args.tenant, operation, int(callers), float(seconds))
        print(json.dumps(result), flush=True)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
