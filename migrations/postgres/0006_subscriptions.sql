-- Subscriptions: billing records written by the billing integration, read here.
CREATE TABLE subscriptions (
    id                     uuid PRIMARY KEY,
    tenant_id              uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plan                   varchar(50) NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    status                 varchar(50) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'canceled', 'past_due', 'trialing')),
    stripe_subscription_id varchar(100),
    stripe_price_id        varchar(100),
    billing_period         varchar(20) NOT NULL DEFAULT 'monthly' CHECK (billing_period IN ('monthly', 'annual')),
    current_period_start   timestamptz,
    current_period_end     timestamptz,
    trial_ends_at          timestamptz,
    canceled_at            timestamptz,
    cancel_at_period_end   boolean NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL
);
CREATE INDEX ix_subscriptions_tenant_created ON subscriptions (tenant_id, created_at, id);
