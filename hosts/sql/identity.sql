-- identity: the host's own statements outside engine calls, resolving a credential before the call
-- (a subject's user, a user's default tenant, an API key) and counting key use after it.

-- The internal user id of identity-provider subject $1: one id, or no row.
-- statement: user-id-for-subject
SELECT id FROM users WHERE clerk_user_id = $1

-- User $1's default tenant: one id (NULL: none), or no row for an unknown user.
-- statement: default-tenant-of-user
SELECT default_tenant_id FROM users WHERE id = $1

-- The usable key with SHA-256 hex hash $1 at $2 (active, unrevoked, unfrozen, unexpired), with its creator's role if they are still an active member: one (id, tenant_id, permissions_json, user_id, allowed_workers_json, rate_limit_rpm, max_concurrent_runs, expires_at, creator_role) row, or no row.
-- statement: api-key-by-hash
SELECT k.id, k.tenant_id, k.permissions_json, k.user_id, k.allowed_workers_json, k.rate_limit_rpm, k.max_concurrent_runs, k.expires_at, m.role AS creator_role FROM api_keys k LEFT JOIN users u ON u.id = k.user_id AND u.status = 'active' LEFT JOIN tenant_memberships m ON m.tenant_id = k.tenant_id AND m.user_id = u.id WHERE k.key_hash = $1 AND k.status = 'active' AND k.revoked_at IS NULL AND k.is_frozen = false AND (k.expires_at IS NULL OR k.expires_at > $2)

-- Adds $2 requests to key $1's count and moves its last use to $3 if later; returns nothing.
-- statement: record-api-key-usage
UPDATE api_keys SET total_requests = total_requests + $2, last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $3 THEN $3 ELSE last_used_at END WHERE id = $1
