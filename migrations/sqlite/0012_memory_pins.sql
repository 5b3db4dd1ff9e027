-- Memory pins: a per-tenant JSON key/value store. Expiry is computed by the host from its clock.
CREATE TABLE memory_pins (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL CHECK (json_valid(value) AND json_type(value) = 'object'),
    source      TEXT CHECK (length(source) <= 64) NOT NULL DEFAULT 'api',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    ttl_seconds INTEGER CHECK (ttl_seconds BETWEEN 1 AND 31536000),
    expires_at  INTEGER,
    CONSTRAINT ix_memory_pins_tenant_key UNIQUE (tenant_id, key)
);
CREATE INDEX ix_memory_pins_tenant_created ON memory_pins (tenant_id, created_at, id);
CREATE INDEX ix_memory_pins_expires_at ON memory_pins (expires_at) WHERE expires_at IS NOT NULL;
