-- Tenants (organisations, "projects"): plan, quotas, usage counters, lifecycle and onboarding state.
CREATE TABLE tenants (
    id                    uuid PRIMARY KEY,
    name                  varchar(255) NOT NULL,
    slug                  varchar(100) NOT NULL UNIQUE,
    description           varchar(1000),
    clerk_org_id          varchar(100) UNIQUE,
    plan                  varchar(50) NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'enterprise')),
    billing_email         varchar(255),
    stripe_customer_id    varchar(100),
    max_workers           integer NOT NULL DEFAULT 3 CHECK (max_workers >= 0),
    max_runs_per_day      integer NOT NULL DEFAULT 100 CHECK (max_runs_per_day >= 0),
    max_concurrent_runs   integer NOT NULL DEFAULT 5 CHECK (max_concurrent_runs >= 0),
    max_tokens_per_month  bigint NOT NULL DEFAULT 1000000 CHECK (max_tokens_per_month >= 0),
    max_api_keys          integer NOT NULL DEFAULT 5 CHECK (max_api_keys >= 0),
    runs_today            integer NOT NULL DEFAULT 0,
    runs_this_month       integer NOT NULL DEFAULT 0,
    tokens_this_month     bigint NOT NULL DEFAULT 0,
    last_run_reset_at     timestamptz,
    status                varchar(50) NOT NULL DEFAULT 'active'
                          CHECK (status IN ('active', 'suspended', 'terminated', 'archived')),
    suspended_reason      text,
    frozen_at             timestamptz,
    frozen_by             varchar(100),
    freeze_reason         text,
    is_synthetic          boolean NOT NULL DEFAULT false,
    synthetic_scenario_id varchar(100),
    onboarding_state      integer NOT NULL DEFAULT 0 CHECK (onboarding_state BETWEEN 0 AND 4),
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX ix_tenants_plan ON tenants (plan);
CREATE INDEX idx_tenants_onboarding_state ON tenants (onboarding_state);
CREATE INDEX idx_tenants_synthetic_scenario ON tenants (is_synthetic, synthetic_scenario_id) WHERE is_synthetic = true;
