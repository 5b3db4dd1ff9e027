-- policy-driver: a tenant's policy versions and which one is active. Version numbers come from the
-- tenant's `policy_state.last_version` and are never reused.

-- Takes tenant $1's next policy version number: one INTEGER.
-- statement: insert-policy-version-next-number
INSERT INTO policy_state (tenant_id, last_version) VALUES ($1, 1) ON CONFLICT (tenant_id) DO UPDATE SET last_version = policy_state.last_version + 1 RETURNING last_version

-- Stores tenant $1's policy version $2 ($6 handled triggers as bits, $10 now); returns nothing.
-- statement: insert-policy-version-write
INSERT INTO policy_versions (tenant_id, version, content_hash, component, size_bytes, handles, config, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)

-- Tenant $1's policy versions, newest first, without their components: (version, content_hash, size_bytes, handles, config, note, created_by, created_at, calls, denials, failures) rows.
-- statement: fetch-policy-versions
SELECT version, content_hash, size_bytes, handles, config, note, created_by, created_at, calls, denials, failures FROM policy_versions WHERE tenant_id = $1 ORDER BY version DESC

-- Tenant $1's active policy and last failure: one (active_version, previous_version, changed_by, reason, changed_at, failure_version, failure_trigger, failure_message, failure_at) row, or no row (never had a policy).
-- statement: fetch-policy-state
SELECT active_version, previous_version, changed_by, reason, changed_at, failure_version, failure_trigger, failure_message, failure_at FROM policy_state WHERE tenant_id = $1

-- Whether tenant $1 has policy version $2: its version (INTEGER), or no row.
-- statement: set-active-policy-check-version
SELECT version FROM policy_versions WHERE tenant_id = $1 AND version = $2

-- Activates tenant $1's version $2 (NULL: none) by $3 for reason $4 at $5, remembering the version it replaces when $6; returns nothing.
-- statement: set-active-policy-write
INSERT INTO policy_state (tenant_id, active_version, changed_by, reason, changed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET previous_version = CASE WHEN NOT $6 THEN NULL WHEN policy_state.active_version IS NOT NULL AND policy_state.active_version IS DISTINCT FROM excluded.active_version THEN policy_state.active_version ELSE policy_state.previous_version END, active_version = excluded.active_version, changed_by = excluded.changed_by, reason = excluded.reason, changed_at = excluded.changed_at

-- Deletes tenant $1's policy version $2 unless it is the active one; returns nothing (rows affected: whether it was deleted).
-- statement: delete-policy-version-write
DELETE FROM policy_versions WHERE tenant_id = $1 AND version = $2 AND NOT EXISTS (SELECT 1 FROM policy_state s WHERE s.tenant_id = $1 AND s.active_version = $2)

-- After a deletion: forgets deleted version $2 as tenant $1's previous one; returns nothing.
-- statement: delete-policy-version-forget-previous
UPDATE policy_state SET previous_version = NULL WHERE tenant_id = $1 AND previous_version = $2
