-- policy-gate: what the engine's gate to tenant policies reads (the host's side of `policy-gate`): a
-- tenant's active version, and a stored version's hash and component.

-- Tenant $1's active policy version and its content hash: one (version, content_hash) row, or no row (no active policy).
-- statement: active-version
SELECT v.version, v.content_hash FROM policy_state s JOIN policy_versions v ON v.tenant_id = s.tenant_id AND v.version = s.active_version WHERE s.tenant_id = $1

-- The content hash of tenant $1's policy version $2: one TEXT, or no row.
-- statement: stored-hash
SELECT content_hash FROM policy_versions WHERE tenant_id = $1 AND version = $2

-- Tenant $1's policy version $2 to load: one (component, config, handles) row, or no row.
-- statement: stored-version
SELECT component, config, handles FROM policy_versions WHERE tenant_id = $1 AND version = $2
