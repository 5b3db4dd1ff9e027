-- Usage records: metering in hour buckets.
CREATE TABLE usage_records (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    meter_name    TEXT CHECK (length(meter_name) <= 100) NOT NULL,
    amount        INTEGER NOT NULL CHECK (amount >= 0),
    unit          TEXT CHECK (length(unit) <= 50) NOT NULL DEFAULT 'count' CHECK (unit IN ('count', 'tokens', 'seconds')),
    period_start  INTEGER NOT NULL,
    period_end    INTEGER NOT NULL,
    worker_id     TEXT CHECK (length(worker_id) <= 100),
    api_key_id    TEXT,
    metadata_json TEXT,
    recorded_at   INTEGER NOT NULL
);
CREATE INDEX ix_usage_records_tenant_period ON usage_records (tenant_id, period_start);
