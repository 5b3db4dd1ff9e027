-- API keys: only the SHA-256 of the whole key is kept (unique); the 12-character prefix is kept in clear.
CREATE TABLE api_keys (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id               TEXT REFERENCES users (id) ON DELETE SET NULL,
    name                  TEXT CHECK (length(name) <= 100) NOT NULL,
    key_prefix            TEXT CHECK (length(key_prefix) <= 16) NOT NULL,
    key_hash              TEXT CHECK (length(key_hash) <= 64) NOT NULL UNIQUE,
    permissions_json      TEXT NOT NULL,
    allowed_workers_json  TEXT,
    rate_limit_rpm        INTEGER CHECK (rate_limit_rpm BETWEEN 1 AND 1000),
    max_concurrent_runs   INTEGER CHECK (max_concurrent_runs BETWEEN 1 AND 100),
    status                TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'expired')),
    expires_at            INTEGER,
    revoked_at            INTEGER,
    revoked_reason        TEXT CHECK (length(revoked_reason) <= 255),
    last_used_at          INTEGER,
    total_requests        INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    frozen_at             INTEGER,
    frozen_by             TEXT CHECK (length(frozen_by) <= 100),
    freeze_reason         TEXT,
    is_frozen             BOOLEAN NOT NULL DEFAULT false,
    is_synthetic          BOOLEAN NOT NULL DEFAULT false,
    synthetic_scenario_id TEXT CHECK (length(synthetic_scenario_id) <= 100)
);
CREATE INDEX ix_api_keys_tenant_created ON api_keys (tenant_id, created_at, id);
CREATE INDEX ix_api_keys_key_prefix ON api_keys (key_prefix);
