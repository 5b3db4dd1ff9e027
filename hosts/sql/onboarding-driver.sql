-- onboarding-driver: the onboarding state on the tenant row (a step number, raised but never lowered)
-- and the evidence of the activation predicate.

-- Tenant $1's onboarding step: one INTEGER, or no row for an unknown tenant.
-- statement: fetch-onboarding-state
SELECT onboarding_state FROM tenants WHERE id = $1

-- Tenant $1's onboarding step before the raise: one INTEGER, or no row for an unknown tenant.
-- statement: write-onboarding-state-read
SELECT onboarding_state FROM tenants WHERE id = $1

-- Raises tenant $1's onboarding step to $2 at $3 (never lowers it); returns nothing.
-- statement: write-onboarding-state-raise
UPDATE tenants SET onboarding_state = CASE WHEN onboarding_state < $2 THEN $2 ELSE onboarding_state END, updated_at = $3 WHERE id = $1

-- Tenant $1's usable API keys at $2, enabled integrations and SDK attestations: one (keys, integrations, attestations) BIGINT row, or no row for an unknown tenant.
-- statement: fetch-activation-evidence
SELECT (SELECT COUNT(*) FROM api_keys k WHERE k.tenant_id = $1 AND k.status = 'active' AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)) AS keys, (SELECT COUNT(*) FROM cus_integrations i WHERE i.tenant_id = $1 AND i.status = 'enabled') AS integrations, (SELECT COUNT(*) FROM sdk_attestations a WHERE a.tenant_id = $1) AS attestations FROM tenants WHERE id = $1
