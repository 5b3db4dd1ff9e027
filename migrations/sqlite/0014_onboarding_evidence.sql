-- Tables owned by the integration and SDK domains that the onboarding activation predicate reads.
CREATE TABLE cus_integrations (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT CHECK (length(name) <= 255) NOT NULL,
    status     TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'disabled',
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_cus_integrations_tenant ON cus_integrations (tenant_id, status);

CREATE TABLE sdk_attestations (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sdk_version TEXT CHECK (length(sdk_version) <= 50),
    attested_at INTEGER NOT NULL
);
CREATE INDEX ix_sdk_attestations_tenant ON sdk_attestations (tenant_id);
