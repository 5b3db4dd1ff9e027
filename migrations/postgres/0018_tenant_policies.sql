-- Tenant policies: versions of a tenant's own policy component, and which one its calls run.
-- A version is immutable but for its counters (calls, denials, failures), which the host adds up outside
-- the calls' transactions (a denied call rolls back; its denial still counts).
CREATE TABLE policy_versions (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version      integer NOT NULL CHECK (version > 0),
    content_hash char(64) NOT NULL,
    component    bytea NOT NULL,
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    handles      integer NOT NULL CHECK (handles >= 0),
    config       jsonb NOT NULL,
    note         varchar(200),
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL,
    calls        bigint NOT NULL DEFAULT 0,
    denials      bigint NOT NULL DEFAULT 0,
    failures     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, version)
);

-- One row per tenant that ever installed a policy: the active version (none: no policy runs), the one
-- before it, the last version number handed out (never reused, so a cached compiled version is never
-- mistaken for another), who changed it last and why, and the last failure.
CREATE TABLE policy_state (
    tenant_id        uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    active_version   integer,
    previous_version integer,
    last_version     integer NOT NULL DEFAULT 0,
    changed_by       text,
    reason           text,
    changed_at       timestamptz,
    failure_version  integer,
    failure_trigger  text,
    failure_message  text,
    failure_at       timestamptz,
    FOREIGN KEY (tenant_id, active_version) REFERENCES policy_versions (tenant_id, version)
);
