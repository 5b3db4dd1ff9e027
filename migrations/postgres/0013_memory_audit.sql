-- The memory audit: an access log of pin reads and writes.
CREATE TABLE memory_audit (
    id             bigserial PRIMARY KEY,
    ts             timestamptz NOT NULL,
    operation      text NOT NULL CHECK (operation IN ('upsert', 'get', 'delete')),
    tenant_id      uuid NOT NULL,
    key            text NOT NULL,
    agent_id       text,
    source         text,
    cache_hit      boolean NOT NULL DEFAULT false,
    latency_ms     double precision,
    success        boolean NOT NULL DEFAULT true,
    error_message  text,
    old_value_hash text,
    new_value_hash text,
    extra          jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX ix_memory_audit_ts ON memory_audit (ts DESC);
CREATE INDEX ix_memory_audit_tenant ON memory_audit (tenant_id, ts);
CREATE INDEX ix_memory_audit_errors ON memory_audit (success) WHERE success = false;
