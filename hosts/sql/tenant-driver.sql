-- tenant-driver: tenants, plans, memberships, API keys, runs, usage and the audit log.
-- Times are microseconds since the epoch (integers on SQLite, timestamptz on PostgreSQL); ids are uuids.

-- The tenant with id $1: a tenant-columns row, or no row.
-- statement: fetch-tenant-by-id
SELECT {{tenant-columns}} FROM tenants WHERE id = $1

-- The tenant with slug $1: a tenant-columns row, or no row (the host hides another tenant's row).
-- statement: fetch-tenant-by-slug
SELECT {{tenant-columns}} FROM tenants WHERE slug = $1

-- Inserts a tenant ($1 new id, $12 now): the tenant-columns row, or no row when the slug or external org id is taken.
-- statement: insert-tenant
INSERT INTO tenants (id, name, slug, clerk_org_id, plan, billing_email, max_workers, max_runs_per_day, max_concurrent_runs, max_tokens_per_month, max_api_keys, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT DO NOTHING RETURNING {{tenant-columns}}

-- Sets tenant $1's plan $2 and quotas $3..$7 at $8: the tenant-columns row, or no row for an unknown tenant.
-- statement: update-tenant-plan
UPDATE tenants SET plan = $2, max_workers = $3, max_runs_per_day = $4, max_concurrent_runs = $5, max_tokens_per_month = $6, max_api_keys = $7, updated_at = $8 WHERE id = $1 RETURNING {{tenant-columns}}

-- Overwrites tenant $1's usage counters $2..$5 (a NULL keeps the counter): the tenant-columns row, or no row.
-- statement: update-tenant-usage
UPDATE tenants SET runs_today = COALESCE($2, runs_today), runs_this_month = COALESCE($3, runs_this_month), tokens_this_month = COALESCE($4, tokens_this_month), last_run_reset_at = COALESCE($5, last_run_reset_at) WHERE id = $1 RETURNING {{tenant-columns}}

-- Adds $2 runs and $3 tokens to tenant $1's counters at $4: the tenant-columns row, or no row.
-- statement: increment-tenant-usage
UPDATE tenants SET runs_today = runs_today + $2, runs_this_month = runs_this_month + $2, tokens_this_month = tokens_this_month + $3, updated_at = $4 WHERE id = $1 RETURNING {{tenant-columns}}

-- After accounts-facade-driver/insert-membership-row: makes tenant $2 user $1's default at $3; returns nothing.
-- statement: insert-membership-set-default-tenant
UPDATE users SET default_tenant_id = $2, updated_at = $3 WHERE id = $1

-- The number of tenant $1's API keys that are active and unexpired at $2: one BIGINT.
-- statement: count-active-api-keys
SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND status = 'active' AND (expires_at IS NULL OR expires_at > $2)

-- Inserts an active API key ($1 new id, $12 now, $13 parent key or NULL, which must be tenant $2's): the api-key-columns row, or no row (hash taken, or a foreign parent).
-- statement: insert-api-key
INSERT INTO api_keys (id, tenant_id, user_id, name, key_prefix, key_hash, permissions_json, allowed_workers_json, rate_limit_rpm, max_concurrent_runs, status, expires_at, created_at, parent_key_id) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, $13 WHERE $13 IS NULL OR EXISTS (SELECT 1 FROM api_keys p WHERE p.id = $13 AND p.tenant_id = $2) ON CONFLICT DO NOTHING RETURNING {{api-key-columns}}

-- The rows fetch-api-keys-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: fetch-api-keys-filter
FROM api_keys WHERE tenant_id = $1 AND ($2 OR (status = 'active' AND (expires_at IS NULL OR expires_at > $3)))

-- fragment: fetch-api-keys-order
ORDER BY created_at DESC, id DESC LIMIT $4

-- First page of tenant $1's API keys, newest first ($2 true: revoked and expired too, $3 now, $4 limit): api-key-columns rows.
-- statement: fetch-api-keys-first-page
SELECT {{api-key-columns}} {{fetch-api-keys-filter}} {{fetch-api-keys-order}}

-- Next page of fetch-api-keys-first-page, after the cursor's (created_at $5, id $6): api-key-columns rows.
-- statement: fetch-api-keys-next-page
SELECT {{api-key-columns}} {{fetch-api-keys-filter}} AND (created_at, id) < ($5, $6) {{fetch-api-keys-order}}

-- Tenant $1's API key $2: an api-key-columns row, or no row.
-- statement: fetch-api-key-by-id
SELECT {{api-key-columns}} FROM api_keys WHERE tenant_id = $1 AND id = $2

-- Revokes tenant $1's unrevoked key $2 at $3 with reason $4: the api-key-columns row, or no row (unknown or already revoked).
-- statement: update-api-key-revoked-write
UPDATE api_keys SET status = 'revoked', revoked_at = $3, revoked_reason = $4 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING {{api-key-columns}}

-- Revokes every key made from key $2, however deep, at $3 with reason $4; returns nothing.
-- statement: update-api-key-revoked-cascade
WITH RECURSIVE made (id) AS (SELECT id FROM api_keys WHERE tenant_id = $1 AND parent_key_id = $2 UNION SELECT k.id FROM api_keys k JOIN made ON k.parent_key_id = made.id WHERE k.tenant_id = $1) UPDATE api_keys SET status = 'revoked', revoked_at = $3, revoked_reason = $4 WHERE tenant_id = $1 AND revoked_at IS NULL AND id IN (SELECT id FROM made)

-- After a revocation that matched nothing: whether tenant $1 has key $2 at all, as one BIGINT count.
-- statement: update-api-key-revoked-exists
SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND id = $2

-- The number of tenant $1's queued or running runs: one BIGINT.
-- statement: count-running-runs
SELECT COUNT(*) FROM worker_runs WHERE tenant_id = $1 AND status IN ('queued', 'running')

-- The number of tenant $1's queued or running runs started with API key $2: one BIGINT.
-- statement: count-running-runs-for-key
SELECT COUNT(*) FROM worker_runs WHERE tenant_id = $1 AND api_key_id = $2 AND status IN ('queued', 'running')

-- Whether worker $1 is registered, as one BIGINT count.
-- statement: insert-run-count-worker
SELECT COUNT(*) FROM worker_registry WHERE id = $1

-- Inserts a queued run ($1 new id, $8 now): the run-columns row.
-- statement: insert-run-write
INSERT INTO worker_runs (id, tenant_id, worker_id, api_key_id, user_id, task, input_json, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8) RETURNING {{run-columns}}

-- Tenant $1's run $2: a run-columns row, or no row.
-- statement: fetch-run-by-id
SELECT {{run-columns}} FROM worker_runs WHERE tenant_id = $1 AND id = $2

-- Ends tenant $1's queued or running run $2 with status $3 and its outcome $4..$13 at $14: the run-columns row, or no row (unknown or already ended).
-- statement: update-run-completed-write
UPDATE worker_runs SET status = $3, success = $4, output_json = $5, replay_token_json = $6, total_tokens = $7, total_latency_ms = $8, stages_completed = $9, recoveries = $10, policy_violations = $11, cost_cents = $12, error = $13, completed_at = $14 WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running') RETURNING {{run-columns}}

-- After an update that matched nothing: whether tenant $1 has run $2 at all, as one BIGINT count.
-- statement: update-run-completed-exists
SELECT COUNT(*) FROM worker_runs WHERE tenant_id = $1 AND id = $2

-- The rows fetch-runs-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: fetch-runs-filter
FROM worker_runs WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR worker_id = $3)

-- fragment: fetch-runs-order
ORDER BY created_at DESC, id DESC LIMIT $4

-- First page of tenant $1's runs, newest first ($2 status or NULL, $3 worker or NULL, $4 limit): run-columns rows.
-- statement: fetch-runs-first-page
SELECT {{run-columns}} {{fetch-runs-filter}} {{fetch-runs-order}}

-- Next page of fetch-runs-first-page, after the cursor's (created_at $5, id $6): run-columns rows.
-- statement: fetch-runs-next-page
SELECT {{run-columns}} {{fetch-runs-filter}} AND (created_at, id) < ($5, $6) {{fetch-runs-order}}

-- Inserts a usage record ($1 new id, $6..$7 its hour, $11 now): the usage-columns row.
-- statement: insert-usage-record
INSERT INTO usage_records (id, tenant_id, meter_name, amount, unit, period_start, period_end, worker_id, api_key_id, metadata_json, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {{usage-columns}}

-- Tenant $1's usage overlapping [$2, $3) per meter: (meter_name, millions, units, unit, records) rows; total = millions * 1000000 + units, summed in halves so that no SUM overflows.
-- statement: fetch-usage-totals
SELECT meter_name, CAST(SUM(amount / 1000000) AS BIGINT) AS millions, CAST(SUM(amount % 1000000) AS BIGINT) AS units, MIN(unit) AS unit, COUNT(*) AS records FROM usage_records WHERE tenant_id = $1 AND period_end > $2 AND period_start < $3 GROUP BY meter_name ORDER BY meter_name

-- Appends an audit log entry ($1 new id, $12 now), in the call's transaction and outside any savepoint: a failure fails the call, so that no mutation commits without its row; returns nothing.
-- statement: insert-audit-log
INSERT INTO audit_log (id, tenant_id, user_id, api_key_id, actor, action, resource_type, resource_id, request_id, old_value_json, new_value_json, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)

-- The rows fetch-audit-log-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: fetch-audit-log-filter
FROM audit_log WHERE tenant_id = $1 AND ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR api_key_id = $3) AND ($4 IS NULL OR actor = $4) AND ($5 IS NULL OR action = $5) AND ($6 IS NULL OR resource_type = $6) AND ($7 IS NULL OR resource_id = $7) AND ($8 IS NULL OR created_at >= $8) AND ($9 IS NULL OR created_at < $9)

-- fragment: fetch-audit-log-order
ORDER BY created_at DESC, id DESC LIMIT $10

-- First page of tenant $1's audit log, newest first; each filter matches any row when NULL ($2 user, $3 API key, $4 actor, $5 action, $6 resource type, $7 resource id, $8 written at or after, $9 written before; $10 limit): audit-columns rows.
-- statement: fetch-audit-log-first-page
SELECT {{audit-columns}} {{fetch-audit-log-filter}} {{fetch-audit-log-order}}

-- Next page of fetch-audit-log-first-page, after the cursor's (created_at $11, id $12): audit-columns rows.
-- statement: fetch-audit-log-next-page
SELECT {{audit-columns}} {{fetch-audit-log-filter}} AND (created_at, id) < ($11, $12) {{fetch-audit-log-order}}
