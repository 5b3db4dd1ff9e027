-- Column lists shared by several statements. Each matches one row record of the Rust host
-- (host/src/db/rows/), column for column, so that a host maps rows in one place.

-- The columns of a tenant row (table `tenants`, unaliased).
-- fragment: tenant-columns
id, name, slug, description, clerk_org_id, plan, billing_email, stripe_customer_id, max_workers, max_runs_per_day, max_concurrent_runs, max_tokens_per_month, max_api_keys, runs_today, runs_this_month, tokens_this_month, last_run_reset_at, status, suspended_reason, is_synthetic, onboarding_state, created_at, updated_at

-- The columns of a user row (table `users` aliased `u`).
-- fragment: user-columns
u.id, u.clerk_user_id, u.email, u.name, u.avatar_url, u.default_tenant_id, u.status, u.oauth_provider, u.email_verified, u.preferences_json, u.created_at, u.updated_at, u.last_login_at

-- The columns of a member: a user (`users u`) joined with their membership of one tenant (`tenant_memberships m`).
-- fragment: member-columns
u.id, u.email, u.name, u.avatar_url, u.status, u.oauth_provider, u.email_verified, u.created_at, u.updated_at, u.last_login_at, m.id AS membership_id, m.role, m.created_at AS membership_created_at, m.invited_by

-- The columns of a membership row (table `tenant_memberships`, unaliased).
-- fragment: membership-columns
id, tenant_id, user_id, role, invited_by, created_at

-- The columns of an invitation row (table `invitations`, unaliased).
-- fragment: invitation-columns
id, tenant_id, email, role, status, invited_by, created_at, expires_at, accepted_at

-- The columns of a support ticket row (table `support_tickets`, unaliased).
-- fragment: ticket-columns
id, tenant_id, user_id, subject, description, category, priority, status, resolution, created_at, updated_at, resolved_at

-- The columns of an API key row (table `api_keys`, unaliased; never the key hash).
-- fragment: api-key-columns
id, tenant_id, user_id, name, key_prefix, status, permissions_json, allowed_workers_json, rate_limit_rpm, max_concurrent_runs, expires_at, revoked_at, revoked_reason, last_used_at, total_requests, created_at

-- The columns of a worker run row (table `worker_runs`, unaliased).
-- fragment: run-columns
id, tenant_id, worker_id, api_key_id, user_id, task, input_json, status, success, error, output_json, replay_token_json, total_tokens, total_latency_ms, stages_completed, recoveries, policy_violations, cost_cents, created_at, completed_at

-- The columns of a usage record row (table `usage_records`, unaliased).
-- fragment: usage-columns
id, tenant_id, meter_name, amount, unit, period_start, period_end, worker_id, api_key_id, metadata_json, recorded_at

-- The columns of a memory pin row (table `memory_pins`, unaliased).
-- fragment: pin-columns
id, tenant_id, key, value, source, created_at, updated_at, ttl_seconds, expires_at

-- The columns of an audit log row (table `audit_log`, unaliased).
-- fragment: audit-columns
id, user_id, api_key_id, actor, action, resource_type, resource_id, request_id, old_value_json, new_value_json, created_at

-- The columns of a memory access log row (table `memory_audit`, unaliased).
-- fragment: access-columns
id, ts, operation, key, agent_id, source, latency_ms, old_value_hash, new_value_hash
