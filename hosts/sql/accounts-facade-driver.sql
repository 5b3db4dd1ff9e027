-- accounts-facade-driver: projects, members, profiles, billing, support tickets and invitations.
-- Times are microseconds since the epoch (integers on SQLite, timestamptz on PostgreSQL); ids are uuids.

-- Tenant $1 if its status is $2 (NULL: any), paged by $3 limit and $4 offset: tenant-columns rows (at most one).
-- statement: fetch-tenants
SELECT {{tenant-columns}} FROM tenants WHERE id = $1 AND ($2 IS NULL OR status = $2) ORDER BY id LIMIT $3 OFFSET $4

-- Whether tenant $1 has status $2 (NULL: any), as one BIGINT count.
-- statement: count-tenants
SELECT COUNT(*) FROM tenants WHERE id = $1 AND ($2 IS NULL OR status = $2)

-- Inserts a project on the schema's defaults (free plan; $1 new id, $5 now): the tenant-columns row, or no row when the slug is taken.
-- statement: insert-project
INSERT INTO tenants (id, name, slug, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING {{tenant-columns}}

-- The rows fetch-users-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: fetch-users-filter
FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND ($2 IS NULL OR m.role = $2) AND ($3 IS NULL OR u.status = $3)

-- fragment: fetch-users-order
ORDER BY m.user_email, m.user_id LIMIT $4

-- First page of tenant $1's members by e-mail ($2 role or NULL, $3 user status or NULL, $4 limit): member-columns rows.
-- statement: fetch-users-first-page
SELECT {{member-columns}} {{fetch-users-filter}} {{fetch-users-order}}

-- Next page of fetch-users-first-page, after the cursor's (e-mail $5, user id $6): member-columns rows.
-- statement: fetch-users-next-page
SELECT {{member-columns}} {{fetch-users-filter}} AND (m.user_email, m.user_id) > ($5, $6) {{fetch-users-order}}

-- The number of tenant $1's members with role $2 (NULL: any), from the memberships alone, counting no further than $3: one BIGINT.
-- statement: count-users-any-status
SELECT COUNT(*) FROM (SELECT 1 FROM tenant_memberships m WHERE m.tenant_id = $1 AND ($2 IS NULL OR m.role = $2) LIMIT $3) AS counted

-- The number of tenant $1's members with role $2 (NULL: any) whose user has status $3, counting no further than $4: one BIGINT.
-- statement: count-users-with-status
SELECT COUNT(*) FROM (SELECT 1 FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND ($2 IS NULL OR m.role = $2) AND u.status = $3 LIMIT $4) AS counted

-- The same four statements when a role is given ($2 never NULL), for the hosts to run instead. `($2 IS NULL OR
-- m.role = $2)` is a filter no index can seek: a plan made without the parameters' values (SQLite's,
-- PostgreSQL's generic one) walks the tenant's members in e-mail order testing each, so a page of a rare role
-- on a big tenant read every member. `m.role = $2` is sought in (tenant_id, role, user_email, user_id), in
-- the list's order. The parameters are the same as above.
-- fragment: fetch-users-with-role-filter
FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND m.role = $2 AND ($3 IS NULL OR u.status = $3)

-- fetch-users-first-page with role $2.
-- statement: fetch-users-with-role-first-page
SELECT {{member-columns}} {{fetch-users-with-role-filter}} {{fetch-users-order}}

-- fetch-users-next-page with role $2.
-- statement: fetch-users-with-role-next-page
SELECT {{member-columns}} {{fetch-users-with-role-filter}} AND (m.user_email, m.user_id) > ($5, $6) {{fetch-users-order}}

-- count-users-any-status with role $2.
-- statement: count-users-with-role-any-status
SELECT COUNT(*) FROM (SELECT 1 FROM tenant_memberships m WHERE m.tenant_id = $1 AND m.role = $2 LIMIT $3) AS counted

-- count-users-with-status with role $2.
-- statement: count-users-with-role-with-status
SELECT COUNT(*) FROM (SELECT 1 FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND m.role = $2 AND u.status = $3 LIMIT $4) AS counted

-- User $2 as a member of tenant $1: a member-columns row, or no row.
-- statement: fetch-user-detail
SELECT {{member-columns}} FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND u.id = $2

-- The rows fetch-tenant-memberships-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: fetch-tenant-memberships-filter
FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1

-- fragment: fetch-tenant-memberships-order
ORDER BY m.created_at, m.id LIMIT $2

-- First page of tenant $1's memberships, oldest first ($2 limit): member-columns rows.
-- statement: fetch-tenant-memberships-first-page
SELECT {{member-columns}} {{fetch-tenant-memberships-filter}} {{fetch-tenant-memberships-order}}

-- Next page of fetch-tenant-memberships-first-page, after the cursor's (created_at $3, membership id $4): member-columns rows.
-- statement: fetch-tenant-memberships-next-page
SELECT {{member-columns}} {{fetch-tenant-memberships-filter}} AND (m.created_at, m.id) > ($3, $4) {{fetch-tenant-memberships-order}}

-- User $2's membership of tenant $1 with the user, in one read: (membership_id, tenant_id, user_id, role, invited_by, membership_created_at, user-columns) or no row.
-- statement: fetch-membership-with-user
SELECT m.id AS membership_id, m.tenant_id, m.user_id, m.role, m.invited_by, m.created_at AS membership_created_at, {{user-columns}} FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND m.user_id = $2

-- Sets role $3 on tenant $1's membership $2; returns nothing (0 rows affected: no such membership).
-- statement: update-membership-role-write
UPDATE tenant_memberships SET role = $3 WHERE tenant_id = $1 AND id = $2

-- The membership $1 just updated, with its user: one member-columns row.
-- statement: update-membership-role-read
SELECT {{member-columns}} FROM tenant_memberships m JOIN users u ON u.id = m.user_id WHERE m.id = $1

-- Deletes tenant $1's membership $2; returns nothing (rows affected: whether it existed).
-- statement: delete-membership
DELETE FROM tenant_memberships WHERE tenant_id = $1 AND id = $2

-- User $2's profile with tenant $1's name and their role there (NULL: not a member): (id, email, name, avatar_url, created_at, updated_at, preferences_json, tenant_name, role) or no row.
-- statement: fetch-profile
SELECT u.id, u.email, u.name, u.avatar_url, u.created_at, u.updated_at, u.preferences_json, t.name AS tenant_name, m.role FROM users u LEFT JOIN tenants t ON t.id = $1 LEFT JOIN tenant_memberships m ON m.user_id = u.id AND m.tenant_id = $1 WHERE u.id = $2

-- The number of tenants user $1 owns: one BIGINT.
-- statement: count-owned-tenants
SELECT COUNT(*) FROM tenant_memberships WHERE user_id = $1 AND role = 'owner'

-- Sets user $1's name $2 and preferences $3 (a NULL keeps the value) at $4; returns nothing (0 rows affected: no such user).
-- statement: update-user-profile
UPDATE users SET name = COALESCE($2, name), preferences_json = COALESCE($3, preferences_json), updated_at = $4 WHERE id = $1

-- Tenant $1's latest subscription: (plan, status, billing_period, current_period_start, current_period_end) or no row.
-- statement: fetch-subscription
SELECT plan, status, billing_period, current_period_start, current_period_end FROM subscriptions WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1

-- Inserts an open support ticket ($1 new id, $8 now): the ticket-columns row.
-- statement: insert-support-ticket
INSERT INTO support_tickets (id, tenant_id, user_id, subject, description, category, priority, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8) RETURNING {{ticket-columns}}

-- The rows fetch-support-tickets-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: fetch-support-tickets-filter
FROM support_tickets WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2)

-- fragment: fetch-support-tickets-order
ORDER BY created_at DESC, id DESC LIMIT $3

-- First page of tenant $1's tickets, newest first ($2 status or NULL, $3 limit): ticket-columns rows.
-- statement: fetch-support-tickets-first-page
SELECT {{ticket-columns}} {{fetch-support-tickets-filter}} {{fetch-support-tickets-order}}

-- Next page of fetch-support-tickets-first-page, after the cursor's (created_at $4, id $5): ticket-columns rows.
-- statement: fetch-support-tickets-next-page
SELECT {{ticket-columns}} {{fetch-support-tickets-filter}} AND (created_at, id) < ($4, $5) {{fetch-support-tickets-order}}

-- Tenant $1's latest invitation of e-mail $2 (any case) with status $3: an invitation-columns row, or no row.
-- statement: fetch-invitation-by-email
SELECT {{invitation-columns}} FROM invitations WHERE tenant_id = $1 AND lower(email) = lower($2) AND status = $3 ORDER BY created_at DESC, id DESC LIMIT 1

-- Inserts a pending invitation ($1 new id, $5 token hash, $7 now, $8 expiry): the invitation-columns row, or no row when one is already pending.
-- statement: insert-invitation
INSERT INTO invitations (id, tenant_id, email, role, status, token_hash, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING {{invitation-columns}}

-- The number of tenant $1's pending invitations unexpired at $2: one BIGINT.
-- statement: count-pending-invitations
SELECT COUNT(*) FROM invitations WHERE tenant_id = $1 AND status = 'pending' AND expires_at > $2

-- The rows fetch-invitations-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: fetch-invitations-filter
FROM invitations WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2)

-- fragment: fetch-invitations-order
ORDER BY created_at DESC, id DESC LIMIT $3

-- First page of tenant $1's invitations, newest first ($2 status or NULL, $3 limit): invitation-columns rows.
-- statement: fetch-invitations-first-page
SELECT {{invitation-columns}} {{fetch-invitations-filter}} {{fetch-invitations-order}}

-- Next page of fetch-invitations-first-page, after the cursor's (created_at $4, id $5): invitation-columns rows.
-- statement: fetch-invitations-next-page
SELECT {{invitation-columns}} {{fetch-invitations-filter}} AND (created_at, id) < ($4, $5) {{fetch-invitations-order}}

-- The pending invitation $1 with token hash $2, any tenant (the token is the capability): an invitation-columns row, or no row.
-- statement: fetch-invitation-by-id-and-token
SELECT {{invitation-columns}} FROM invitations WHERE id = $1 AND token_hash = $2 AND status = 'pending'

-- The user with e-mail $1 (any case): a user-columns row, or no row (the host then checks it is visible).
-- statement: fetch-user-by-email
SELECT {{user-columns}} FROM users u WHERE lower(u.email) = lower($1)

-- After insert-membership-row: makes tenant $2 user $1's default at $3 if they have none yet; returns nothing.
-- statement: insert-membership-set-default-tenant
UPDATE users SET default_tenant_id = $2, updated_at = $3 WHERE id = $1 AND default_tenant_id IS NULL

-- The tenant with id $1 (fetch-tenant-detail): a tenant-columns row, or no row.
-- statement: fetch-tenant-by-id
SELECT {{tenant-columns}} FROM tenants WHERE id = $1

-- User $2's membership of tenant $1 (fetch-membership): a membership-columns row, or no row.
-- statement: fetch-membership
SELECT {{membership-columns}} FROM tenant_memberships WHERE tenant_id = $1 AND user_id = $2

-- Inserts a membership ($1 new id, $5 now) of user $3, with the user's e-mail copied onto it (the member list's order), for both drivers' insert-membership: the membership-columns row, or no row for an unknown user or an existing member.
-- statement: insert-membership-row
INSERT INTO tenant_memberships (id, tenant_id, user_id, role, created_at, invited_by, user_email) SELECT $1, $2, $3, $4, $5, $6, u.email FROM users u WHERE u.id = $3 ON CONFLICT DO NOTHING RETURNING {{membership-columns}}

-- Moves tenant $1's pending invitation $2 to status $3 ($4 acceptance time or NULL), for update-invitation-accepted/-expired/-revoked: the invitation-columns row, or no row (unknown or no longer pending).
-- statement: end-invitation-write
UPDATE invitations SET status = $3, accepted_at = COALESCE($4, accepted_at) WHERE tenant_id = $1 AND id = $2 AND status = 'pending' RETURNING {{invitation-columns}}

-- After end-invitation-write matched nothing: whether tenant $1 has invitation $2 at all, as one BIGINT count.
-- statement: end-invitation-exists
SELECT COUNT(*) FROM invitations WHERE tenant_id = $1 AND id = $2
