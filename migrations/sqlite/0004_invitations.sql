-- Invitations: only the token's SHA-256 is kept; one pending invitation per (tenant, lower(email)).
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email       TEXT CHECK (length(email) <= 255) NOT NULL,
    role        TEXT CHECK (length(role) <= 50) NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    status      TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'expired', 'revoked')),
    token_hash  TEXT CHECK (length(token_hash) <= 64) NOT NULL UNIQUE,
    invited_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER
);
CREATE UNIQUE INDEX ux_invitations_pending_email ON invitations (tenant_id, lower(email)) WHERE status = 'pending';
CREATE INDEX ix_invitations_tenant_created ON invitations (tenant_id, created_at, id);
