-- Memberships: a user's role in a tenant.
CREATE TABLE tenant_memberships (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT CHECK (length(role) <= 50) NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at INTEGER NOT NULL,
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT uq_tenant_user UNIQUE (tenant_id, user_id)
);
CREATE INDEX ix_tenant_memberships_user_id ON tenant_memberships (user_id);
CREATE INDEX ix_tenant_memberships_joined ON tenant_memberships (tenant_id, created_at, id);
CREATE INDEX ix_tenant_memberships_role ON tenant_memberships (tenant_id, role);
