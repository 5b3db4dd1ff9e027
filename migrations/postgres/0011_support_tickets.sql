-- Support tickets filed by members of a tenant.
CREATE TABLE support_tickets (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject        varchar(200) NOT NULL,
    description    varchar(4000) NOT NULL,
    category       varchar(50) NOT NULL DEFAULT 'general'
                   CHECK (category IN ('general', 'billing', 'technical', 'feature_request')),
    priority       varchar(20) NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    status         varchar(50) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
    resolution     varchar(4000),
    issue_event_id varchar(100),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    resolved_at    timestamptz
);
CREATE INDEX ix_support_tickets_tenant_created ON support_tickets (tenant_id, created_at, id);
