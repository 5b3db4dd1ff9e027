-- The memory access log in one round trip. Its rows are best-effort (docs/DECISIONS.md): a row that cannot
-- be written must not abort the call's transaction, which took three exchanges with the server
-- (SAVEPOINT, INSERT, RELEASE). An exception block is the same subtransaction, run by the server.
--
-- Parameters are those of the catalogue's `memory-pins-driver/write-audit` (its SQLite block is the same
-- INSERT): $1 ts, $2 operation, $3 tenant, $4 key, $5 agent, $6 source, $7 cache hit, $8 latency ms,
-- $9 success, $10 error message, $11 old value hash, $12 new value hash, $13 extra (JSON text, made
-- `jsonb` inside the block, so that a value `jsonb` refuses is caught like any other failure), $14 the
-- start of the hour a read is logged once in, $15 whether the row is a read's.
-- Returns NULL when the row was written (or, for a read logged within the hour, not needed), else why it
-- could not be. What the host runs a call again for is raised, not caught: a serialisation failure, a
-- deadlock, PostgreSQL out of lock memory. So is a cancelled statement (`query_canceled` is not among
-- `OTHERS`): it fails the call. A value refused when the statement is bound (NUL in text) never reaches
-- the block: the host refuses such rows before sending them.
CREATE FUNCTION write_memory_audit(
    timestamptz, text, uuid, text, text, text, boolean, double precision, boolean, text, text, text, text,
    timestamptz, boolean
) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_audit (ts, operation, tenant_id, key, agent_id, source, cache_hit, latency_ms, success,
                              error_message, old_value_hash, new_value_hash, extra)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb
        WHERE NOT ($15 AND EXISTS (SELECT 1 FROM memory_audit m
                                   WHERE m.tenant_id = $3 AND m.key = $4 AND m.ts > $14 AND m.operation = 'get'));
    RETURN NULL;
EXCEPTION
    WHEN serialization_failure OR deadlock_detected OR out_of_memory THEN
        RAISE;
    WHEN OTHERS THEN
        RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
