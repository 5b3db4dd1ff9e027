-- Tables owned by the integration and SDK domains that the onboarding activation predicate reads.
CREATE TABLE cus_integrations (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       varchar(255) NOT NULL,
    status     varchar(50) NOT NULL DEFAULT 'disabled',
    created_at timestamptz NOT NULL
);
CREATE INDEX ix_cus_integrations_tenant ON cus_integrations (tenant_id, status);

CREATE TABLE sdk_attestations (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sdk_version varchar(50),
    attested_at timestamptz NOT NULL
);
CREATE INDEX ix_sdk_attestations_tenant ON sdk_attestations (tenant_id);
