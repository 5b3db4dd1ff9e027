-- Pages of a tenant's audit log, newest first, by (created_at, id): the index holds the whole sort key,
-- so a page reads only its own rows at any depth. It replaces (tenant_id, created_at), its prefix.
CREATE INDEX ix_audit_log_tenant_page ON audit_log (tenant_id, created_at, id);
DROP INDEX ix_audit_log_tenant_created;
