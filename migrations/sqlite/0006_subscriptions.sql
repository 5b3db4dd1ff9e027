-- Subscriptions: billing records written by the billing integration, read here.
CREATE TABLE subscriptions (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plan                   TEXT CHECK (length(plan) <= 50) NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    status                 TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'canceled', 'past_due', 'trialing')),
    stripe_subscription_id TEXT CHECK (length(stripe_subscription_id) <= 100),
    stripe_price_id        TEXT CHECK (length(stripe_price_id) <= 100),
    billing_period         TEXT CHECK (length(billing_period) <= 20) NOT NULL DEFAULT 'monthly' CHECK (billing_period IN ('monthly', 'annual')),
    current_period_start   INTEGER,
    current_period_end     INTEGER,
    trial_ends_at          INTEGER,
    canceled_at            INTEGER,
    cancel_at_period_end   BOOLEAN NOT NULL DEFAULT false,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX ix_subscriptions_tenant_created ON subscriptions (tenant_id, created_at, id);
