-- Memory pins: a per-tenant JSON key/value store. Expiry is computed by the host from its clock.
CREATE TABLE memory_pins (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         text COLLATE "C" NOT NULL,
    value       jsonb NOT NULL CHECK (jsonb_typeof(value) = 'object'),
    source      varchar(64) NOT NULL DEFAULT 'api',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    ttl_seconds integer CHECK (ttl_seconds BETWEEN 1 AND 31536000),
    expires_at  timestamptz,
    CONSTRAINT ix_memory_pins_tenant_key UNIQUE (tenant_id, key)
);
CREATE INDEX ix_memory_pins_tenant_created ON memory_pins (tenant_id, created_at, id);
CREATE INDEX ix_memory_pins_expires_at ON memory_pins (expires_at) WHERE expires_at IS NOT NULL;
