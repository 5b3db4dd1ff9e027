-- Tenant policies: versions of a tenant's own policy component, and which one its calls run.
-- A version is immutable but for its counters (calls, denials, failures), which the host adds up outside
-- the calls' transactions (a denied call rolls back; its denial still counts).
CREATE TABLE policy_versions (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL CHECK (version > 0),
    content_hash TEXT NOT NULL CHECK (length(content_hash) = 64),
    component    BLOB NOT NULL,
    size_bytes   INTEGER NOT NULL CHECK (size_bytes > 0),
    handles      INTEGER NOT NULL CHECK (handles >= 0),
    config       TEXT NOT NULL CHECK (json_valid(config)),
    note         TEXT CHECK (length(note) <= 200),
    created_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    calls        INTEGER NOT NULL DEFAULT 0,
    denials      INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, version)
);

-- One row per tenant that ever installed a policy: the active version (none: no policy runs), the one
-- before it, the last version number handed out (never reused, so a cached compiled version is never
-- mistaken for another), who changed it last and why, and the last failure.
CREATE TABLE policy_state (
    tenant_id        TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    active_version   INTEGER,
    previous_version INTEGER,
    last_version     INTEGER NOT NULL DEFAULT 0,
    changed_by       TEXT,
    reason           TEXT,
    changed_at       INTEGER,
    failure_version  INTEGER,
    failure_trigger  TEXT,
    failure_message  TEXT,
    failure_at       INTEGER,
    FOREIGN KEY (tenant_id, active_version) REFERENCES policy_versions (tenant_id, version)
);
