-- The memory audit: an access log of pin reads and writes.
CREATE TABLE memory_audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    ts             INTEGER NOT NULL,
    operation      TEXT NOT NULL CHECK (operation IN ('upsert', 'get', 'delete')),
    tenant_id      TEXT NOT NULL,
    key            TEXT NOT NULL,
    agent_id       TEXT,
    source         TEXT,
    cache_hit      BOOLEAN NOT NULL DEFAULT false,
    latency_ms     REAL,
    success        BOOLEAN NOT NULL DEFAULT true,
    error_message  TEXT,
    old_value_hash TEXT,
    new_value_hash TEXT,
    extra          TEXT NOT NULL CHECK (json_valid(extra)) DEFAULT '{}'
);
CREATE INDEX ix_memory_audit_ts ON memory_audit (ts DESC);
CREATE INDEX ix_memory_audit_tenant ON memory_audit (tenant_id, ts);
CREATE INDEX ix_memory_audit_errors ON memory_audit (success) WHERE success = false;
