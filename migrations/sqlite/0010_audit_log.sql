-- The audit log: one row per mutation, written in the mutation's transaction.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT,
    user_id        TEXT,
    api_key_id     TEXT,
    actor          TEXT CHECK (length(actor) <= 200),
    action         TEXT CHECK (length(action) <= 100) NOT NULL,
    resource_type  TEXT CHECK (length(resource_type) <= 50) NOT NULL,
    resource_id    TEXT CHECK (length(resource_id) <= 100),
    ip_address     TEXT CHECK (length(ip_address) <= 50),
    user_agent     TEXT CHECK (length(user_agent) <= 500),
    request_id     TEXT CHECK (length(request_id) <= 100),
    old_value_json TEXT,
    new_value_json TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX ix_audit_log_tenant_created ON audit_log (tenant_id, created_at);
CREATE INDEX ix_audit_log_action ON audit_log (action);
