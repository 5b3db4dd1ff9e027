-- Invitations: only the token's SHA-256 is kept; one pending invitation per (tenant, lower(email)).
CREATE TABLE invitations (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email       varchar(255) COLLATE "C" NOT NULL,
    role        varchar(50) NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    status      varchar(50) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'expired', 'revoked')),
    token_hash  varchar(64) NOT NULL UNIQUE,
    invited_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE UNIQUE INDEX ux_invitations_pending_email ON invitations (tenant_id, lower(email)) WHERE status = 'pending';
CREATE INDEX ix_invitations_tenant_created ON invitations (tenant_id, created_at, id);
