-- Support tickets filed by members of a tenant.
CREATE TABLE support_tickets (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject        TEXT CHECK (length(subject) <= 200) NOT NULL,
    description    TEXT CHECK (length(description) <= 4000) NOT NULL,
    category       TEXT CHECK (length(category) <= 50) NOT NULL DEFAULT 'general'
                   CHECK (category IN ('general', 'billing', 'technical', 'feature_request')),
    priority       TEXT CHECK (length(priority) <= 20) NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    status         TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
    resolution     TEXT CHECK (length(resolution) <= 4000),
    issue_event_id TEXT CHECK (length(issue_event_id) <= 100),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    resolved_at    INTEGER
);
CREATE INDEX ix_support_tickets_tenant_created ON support_tickets (tenant_id, created_at, id);
