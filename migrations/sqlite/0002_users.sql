-- Users: human identities bound to the identity provider's subject. E-mails are unique case-insensitively.
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    clerk_user_id     TEXT CHECK (length(clerk_user_id) <= 100) NOT NULL UNIQUE,
    email             TEXT CHECK (length(email) <= 255) NOT NULL,
    name              TEXT CHECK (length(name) <= 255),
    avatar_url        TEXT CHECK (length(avatar_url) <= 500),
    default_tenant_id TEXT REFERENCES tenants (id) ON DELETE SET NULL,
    status            TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    last_login_at     INTEGER,
    oauth_provider    TEXT CHECK (length(oauth_provider) <= 50) CHECK (oauth_provider IN ('google', 'azure', 'email')),
    oauth_provider_id TEXT CHECK (length(oauth_provider_id) <= 255),
    email_verified    BOOLEAN NOT NULL DEFAULT false,
    email_verified_at INTEGER,
    preferences_json  TEXT
);
CREATE UNIQUE INDEX ux_users_email_lower ON users (lower(email));
CREATE INDEX ix_users_oauth_provider ON users (oauth_provider, oauth_provider_id);
