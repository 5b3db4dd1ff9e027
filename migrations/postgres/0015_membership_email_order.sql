-- Members are listed in e-mail order (fetch_users). The member's e-mail is kept on the membership so that
-- one index serves every page from its cursor: a page costs the same at any depth, whatever the size of
-- the tenant or of the users table. E-mails do not change once a user exists; the trigger keeps the copy
-- right should one ever change.
ALTER TABLE tenant_memberships ADD COLUMN user_email varchar(255) COLLATE "C" NOT NULL DEFAULT '';
UPDATE tenant_memberships m SET user_email = u.email FROM users u WHERE u.id = m.user_id;
ALTER TABLE tenant_memberships ALTER COLUMN user_email DROP DEFAULT;
CREATE INDEX ix_tenant_memberships_email ON tenant_memberships (tenant_id, user_email, user_id);

CREATE FUNCTION sync_membership_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_memberships SET user_email = NEW.email WHERE user_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_email_to_memberships AFTER UPDATE OF email ON users
    FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email) EXECUTE FUNCTION sync_membership_email();
