-- Members are listed in e-mail order (fetch_users). The member's e-mail is kept on the membership so that
-- one index serves every page from its cursor: a page costs the same at any depth, whatever the size of
-- the tenant or of the users table. E-mails do not change once a user exists; the trigger keeps the copy
-- right should one ever change.
ALTER TABLE tenant_memberships ADD COLUMN user_email TEXT NOT NULL DEFAULT '';
UPDATE tenant_memberships SET user_email = (SELECT u.email FROM users u WHERE u.id = tenant_memberships.user_id);
CREATE INDEX ix_tenant_memberships_email ON tenant_memberships (tenant_id, user_email, user_id);

CREATE TRIGGER users_email_to_memberships AFTER UPDATE OF email ON users
    FOR EACH ROW WHEN OLD.email IS NOT NEW.email
BEGIN
    UPDATE tenant_memberships SET user_email = NEW.email WHERE user_id = NEW.id;
END;
