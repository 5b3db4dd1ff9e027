-- user-write-driver: users bound to the identity provider, and the user reads the accounts facade shares.

-- Whether user $2 is a member of tenant $1 (the visibility check of user lookups), as one BIGINT count.
-- statement: visible-user-membership
SELECT COUNT(*) FROM tenant_memberships WHERE tenant_id = $1 AND user_id = $2

-- The user with id $1: a user-columns row, or no row.
-- statement: fetch-user-by-id
SELECT {{user-columns}} FROM users u WHERE u.id = $1

-- Inserts a user ($1 new id, $2 identity-provider subject, $7 now); returns nothing (0 rows affected: the subject or e-mail has a user).
-- statement: insert-user-write
INSERT INTO users (id, clerk_user_id, email, name, avatar_url, status, email_verified, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, false, $7, $7) ON CONFLICT DO NOTHING

-- The user just inserted for identity-provider subject $1: one user-columns row.
-- statement: insert-user-read
SELECT {{user-columns}} FROM users u WHERE u.clerk_user_id = $1
