-- The audit log: one row per mutation, written in the mutation's transaction.
CREATE TABLE audit_log (
    id             uuid PRIMARY KEY,
    tenant_id      uuid,
    user_id        uuid,
    api_key_id     uuid,
    actor          varchar(200),
    action         varchar(100) NOT NULL,
    resource_type  varchar(50) NOT NULL,
    resource_id    varchar(100),
    ip_address     varchar(50),
    user_agent     varchar(500),
    request_id     varchar(100),
    old_value_json text,
    new_value_json text,
    created_at     timestamptz NOT NULL
);
CREATE INDEX ix_audit_log_tenant_created ON audit_log (tenant_id, created_at);
CREATE INDEX ix_audit_log_action ON audit_log (action);
