-- Members of one role in e-mail order (list-users with a role filter, and the counts beside it): the index
-- seeks the role and holds the list's sort key, so a page reads only its own rows on a tenant of any size
-- (the catalogue's fetch-users-with-role-*). It replaces (tenant_id, role), its prefix.
CREATE INDEX ix_tenant_memberships_role_email ON tenant_memberships (tenant_id, role, user_email, user_id);
DROP INDEX ix_tenant_memberships_role;
-- A database analysed before has statistics for the other indexes and none for this one, which SQLite then
-- takes for far more selective than it is: the list of every member read a whole tenant through it and
-- sorted it (a million members: 0.9 s a page). The table's statistics are taken again, all at once.
ANALYZE tenant_memberships;
