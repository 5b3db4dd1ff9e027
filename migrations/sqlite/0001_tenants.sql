-- Tenants (organisations, "projects"): plan, quotas, usage counters, lifecycle and onboarding state.
CREATE TABLE tenants (
    id                    TEXT PRIMARY KEY,
    name                  TEXT CHECK (length(name) <= 255) NOT NULL,
    slug                  TEXT CHECK (length(slug) <= 100) NOT NULL UNIQUE,
    description           TEXT CHECK (length(description) <= 1000),
    clerk_org_id          TEXT CHECK (length(clerk_org_id) <= 100) UNIQUE,
    plan                  TEXT CHECK (length(plan) <= 50) NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'enterprise')),
    billing_email         TEXT CHECK (length(billing_email) <= 255),
    stripe_customer_id    TEXT CHECK (length(stripe_customer_id) <= 100),
    max_workers           INTEGER NOT NULL DEFAULT 3 CHECK (max_workers >= 0),
    max_runs_per_day      INTEGER NOT NULL DEFAULT 100 CHECK (max_runs_per_day >= 0),
    max_concurrent_runs   INTEGER NOT NULL DEFAULT 5 CHECK (max_concurrent_runs >= 0),
    max_tokens_per_month  INTEGER NOT NULL DEFAULT 1000000 CHECK (max_tokens_per_month >= 0),
    max_api_keys          INTEGER NOT NULL DEFAULT 5 CHECK (max_api_keys >= 0),
    runs_today            INTEGER NOT NULL DEFAULT 0,
    runs_this_month       INTEGER NOT NULL DEFAULT 0,
    tokens_this_month     INTEGER NOT NULL DEFAULT 0,
    last_run_reset_at     INTEGER,
    status                TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'active'
                          CHECK (status IN ('active', 'suspended', 'terminated', 'archived')),
    suspended_reason      TEXT,
    frozen_at             INTEGER,
    frozen_by             TEXT CHECK (length(frozen_by) <= 100),
    freeze_reason         TEXT,
    is_synthetic          BOOLEAN NOT NULL DEFAULT false,
    synthetic_scenario_id TEXT CHECK (length(synthetic_scenario_id) <= 100),
    onboarding_state      INTEGER NOT NULL DEFAULT 0 CHECK (onboarding_state BETWEEN 0 AND 4),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX ix_tenants_plan ON tenants (plan);
CREATE INDEX idx_tenants_onboarding_state ON tenants (onboarding_state);
CREATE INDEX idx_tenants_synthetic_scenario ON tenants (is_synthetic, synthetic_scenario_id) WHERE is_synthetic = true;
