-- tenant-lifecycle-driver: the tenant's status, with what its active policy handles, changed only from
-- the status the engine read.

-- Tenant $1's status with its active policy's version, handled triggers (bits) and content hash, in one read: one (status, version, handles, content_hash) row, or no row for an unknown tenant.
-- statement: fetch-tenant-status
SELECT t.status, v.version, v.handles, v.content_hash FROM tenants t LEFT JOIN policy_state s ON s.tenant_id = t.id LEFT JOIN policy_versions v ON v.tenant_id = s.tenant_id AND v.version = s.active_version WHERE t.id = $1

-- fetch-tenant-status with the whole tenant-columns row, for a host that keeps the row for the read of it
-- that usually follows at once (the Rust host: one round trip fewer for the operations that read their
-- tenant after its gate): a tenant-columns row with policy_version, policy_handles and
-- policy_content_hash, or no row for an unknown tenant.
-- statement: fetch-tenant-with-status
SELECT t.*, v.version AS policy_version, v.handles AS policy_handles, v.content_hash AS policy_content_hash FROM (SELECT {{tenant-columns}} FROM tenants WHERE id = $1) t LEFT JOIN policy_state s ON s.tenant_id = t.id LEFT JOIN policy_versions v ON v.tenant_id = s.tenant_id AND v.version = s.active_version

-- Moves tenant $1 from status $2 to $3 (reason $4) at $5; returns nothing (0 rows affected: unknown, or the status changed).
-- statement: update-lifecycle-status-write
UPDATE tenants SET status = $3, suspended_reason = $4, updated_at = $5 WHERE id = $1 AND status = $2

-- After a move that matched nothing: tenant $1's status, or no row for an unknown tenant.
-- statement: update-lifecycle-status-read
SELECT status FROM tenants WHERE id = $1
