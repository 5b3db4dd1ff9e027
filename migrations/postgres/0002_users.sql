-- Users: human identities bound to the identity provider's subject. E-mails are unique case-insensitively.
CREATE TABLE users (
    id                uuid PRIMARY KEY,
    clerk_user_id     varchar(100) NOT NULL UNIQUE,
    email             varchar(255) COLLATE "C" NOT NULL,
    name              varchar(255),
    avatar_url        varchar(500),
    default_tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    status            varchar(50) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    last_login_at     timestamptz,
    oauth_provider    varchar(50) CHECK (oauth_provider IN ('google', 'azure', 'email')),
    oauth_provider_id varchar(255),
    email_verified    boolean NOT NULL DEFAULT false,
    email_verified_at timestamptz,
    preferences_json  text
);
CREATE UNIQUE INDEX ux_users_email_lower ON users (lower(email));
CREATE INDEX ix_users_oauth_provider ON users (oauth_provider, oauth_provider_id);
