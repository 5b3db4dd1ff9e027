-- Usage records: metering in hour buckets.
CREATE TABLE usage_records (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    meter_name    varchar(100) NOT NULL,
    amount        bigint NOT NULL CHECK (amount >= 0),
    unit          varchar(50) NOT NULL DEFAULT 'count' CHECK (unit IN ('count', 'tokens', 'seconds')),
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    worker_id     varchar(100),
    api_key_id    uuid,
    metadata_json text,
    recorded_at   timestamptz NOT NULL
);
CREATE INDEX ix_usage_records_tenant_period ON usage_records (tenant_id, period_start);
