-- Worker runs; an ended run (completed, failed, crashed) is immutable.
CREATE TABLE worker_runs (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    worker_id             TEXT CHECK (length(worker_id) <= 100) NOT NULL REFERENCES worker_registry (id),
    api_key_id            TEXT REFERENCES api_keys (id) ON DELETE SET NULL,
    user_id               TEXT REFERENCES users (id) ON DELETE SET NULL,
    task                  TEXT NOT NULL,
    input_json            TEXT,
    status                TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'completed', 'failed', 'crashed')),
    success               BOOLEAN,
    error                 TEXT,
    output_json           TEXT,
    replay_token_json     TEXT,
    total_tokens          INTEGER,
    total_latency_ms      INTEGER,
    stages_completed      INTEGER,
    recoveries            INTEGER NOT NULL DEFAULT 0,
    policy_violations     INTEGER NOT NULL DEFAULT 0,
    cost_cents            INTEGER,
    created_at            INTEGER NOT NULL,
    started_at            INTEGER,
    completed_at          INTEGER,
    parent_run_id         TEXT REFERENCES worker_runs (id) ON DELETE SET NULL,
    attempt               INTEGER NOT NULL DEFAULT 1,
    is_retry              BOOLEAN NOT NULL DEFAULT false,
    is_synthetic          BOOLEAN NOT NULL DEFAULT false,
    synthetic_scenario_id TEXT CHECK (length(synthetic_scenario_id) <= 100)
);
CREATE INDEX ix_worker_runs_tenant_created ON worker_runs (tenant_id, created_at, id);
CREATE INDEX ix_worker_runs_tenant_status ON worker_runs (tenant_id, status);

CREATE TRIGGER worker_runs_immutable_guard BEFORE UPDATE ON worker_runs
    FOR EACH ROW WHEN OLD.status IN ('completed', 'failed', 'crashed') AND (
        NEW.status IS NOT OLD.status OR NEW.success IS NOT OLD.success
        OR NEW.error IS NOT OLD.error OR NEW.output_json IS NOT OLD.output_json
        OR NEW.total_tokens IS NOT OLD.total_tokens OR NEW.cost_cents IS NOT OLD.cost_cents
        OR NEW.started_at IS NOT OLD.started_at OR NEW.completed_at IS NOT OLD.completed_at
    )
BEGIN
    SELECT RAISE(ABORT, 'TRUTH_VIOLATION: Cannot mutate completed/failed/crashed worker_run');
END;
