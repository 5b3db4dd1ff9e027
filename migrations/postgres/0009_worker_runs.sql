-- Worker runs; an ended run (completed, failed, crashed) is immutable.
CREATE TABLE worker_runs (
    id                    uuid PRIMARY KEY,
    tenant_id             uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    worker_id             varchar(100) NOT NULL REFERENCES worker_registry (id),
    api_key_id            uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    user_id               uuid REFERENCES users (id) ON DELETE SET NULL,
    task                  text NOT NULL,
    input_json            text,
    status                varchar(50) NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'completed', 'failed', 'crashed')),
    success               boolean,
    error                 text,
    output_json           text,
    replay_token_json     text,
    total_tokens          bigint,
    total_latency_ms      bigint,
    stages_completed      integer,
    recoveries            integer NOT NULL DEFAULT 0,
    policy_violations     integer NOT NULL DEFAULT 0,
    cost_cents            bigint,
    created_at            timestamptz NOT NULL,
    started_at            timestamptz,
    completed_at          timestamptz,
    parent_run_id         uuid REFERENCES worker_runs (id) ON DELETE SET NULL,
    attempt               integer NOT NULL DEFAULT 1,
    is_retry              boolean NOT NULL DEFAULT false,
    is_synthetic          boolean NOT NULL DEFAULT false,
    synthetic_scenario_id varchar(100)
);
CREATE INDEX ix_worker_runs_tenant_created ON worker_runs (tenant_id, created_at, id);
CREATE INDEX ix_worker_runs_tenant_status ON worker_runs (tenant_id, status);

CREATE FUNCTION prevent_worker_run_mutation() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN ('completed', 'failed', 'crashed') AND (
        NEW.status IS DISTINCT FROM OLD.status OR NEW.success IS DISTINCT FROM OLD.success
        OR NEW.error IS DISTINCT FROM OLD.error OR NEW.output_json IS DISTINCT FROM OLD.output_json
        OR NEW.total_tokens IS DISTINCT FROM OLD.total_tokens OR NEW.cost_cents IS DISTINCT FROM OLD.cost_cents
        OR NEW.started_at IS DISTINCT FROM OLD.started_at OR NEW.completed_at IS DISTINCT FROM OLD.completed_at
    ) THEN
        RAISE EXCEPTION 'TRUTH_VIOLATION: Cannot mutate completed/failed/crashed worker_run %', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER worker_runs_immutable_guard BEFORE UPDATE ON worker_runs
    FOR EACH ROW EXECUTE FUNCTION prevent_worker_run_mutation();
