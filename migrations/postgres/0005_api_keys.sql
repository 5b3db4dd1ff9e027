-- API keys: only the SHA-256 of the whole key is kept (unique); the 12-character prefix is kept in clear.
CREATE TABLE api_keys (
    id                    uuid PRIMARY KEY,
    tenant_id             uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id               uuid REFERENCES users (id) ON DELETE SET NULL,
    name                  varchar(100) NOT NULL,
    key_prefix            varchar(16) NOT NULL,
    key_hash              varchar(64) NOT NULL UNIQUE,
    permissions_json      text NOT NULL,
    allowed_workers_json  text,
    rate_limit_rpm        integer CHECK (rate_limit_rpm BETWEEN 1 AND 1000),
    max_concurrent_runs   integer CHECK (max_concurrent_runs BETWEEN 1 AND 100),
    status                varchar(50) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'expired')),
    expires_at            timestamptz,
    revoked_at            timestamptz,
    revoked_reason        varchar(255),
    last_used_at          timestamptz,
    total_requests        bigint NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL,
    frozen_at             timestamptz,
    frozen_by             varchar(100),
    freeze_reason         text,
    is_frozen             boolean NOT NULL DEFAULT false,
    is_synthetic          boolean NOT NULL DEFAULT false,
    synthetic_scenario_id varchar(100)
);
CREATE INDEX ix_api_keys_tenant_created ON api_keys (tenant_id, created_at, id);
CREATE INDEX ix_api_keys_key_prefix ON api_keys (key_prefix);
