-- Keys made by keys remember their parent: revoking a key revokes what it made, and a child can never
-- outlive or outrank its parent (the engine checks the child's scopes and restrictions at creation).
ALTER TABLE api_keys ADD COLUMN parent_key_id TEXT REFERENCES api_keys (id) ON DELETE SET NULL;
CREATE INDEX ix_api_keys_parent ON api_keys (parent_key_id) WHERE parent_key_id IS NOT NULL;

-- Keys minted by keys before scopes were bounded by their creator (contract 0.1) recorded no person and
-- may hold more than the key that made them: they are revoked (the audit log says which they are).
UPDATE api_keys SET status = 'revoked',
    revoked_at = (CAST(strftime('%s', 'now') AS INTEGER) * 1000000 + CAST(substr(strftime('%f', 'now'), 4) AS INTEGER) * 1000),
    revoked_reason = 'minted by an API key before keys were bounded by their creator'
WHERE revoked_at IS NULL AND user_id IS NULL AND id IN (
    SELECT resource_id FROM audit_log WHERE action = 'create_api_key' AND api_key_id IS NOT NULL
);

-- A person's keys end with the person: deleting a user revokes the keys they made (the foreign key then
-- clears `user_id`, which would otherwise leave a key with no one to bound it).
CREATE TRIGGER users_delete_revokes_keys BEFORE DELETE ON users
BEGIN
    UPDATE api_keys SET status = 'revoked',
        revoked_at = (CAST(strftime('%s', 'now') AS INTEGER) * 1000000 + CAST(substr(strftime('%f', 'now'), 4) AS INTEGER) * 1000),
        revoked_reason = 'its creator was deleted'
    WHERE user_id = OLD.id AND revoked_at IS NULL;
END;
