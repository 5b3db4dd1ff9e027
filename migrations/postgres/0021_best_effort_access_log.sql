-- The memory access log in one round trip. Its rows are best-effort (docs/DECISIONS.md): a row that cannot
-- be written must not abort the call's transaction, which took three exchanges with the server
-- (SAVEPOINT, INSERT, RELEASE). An exception block is the same subtransaction, run by the server.
--
-- Parameters are those of the catalogue's `memory-pins-driver/write-audit` (its SQLite block is the same
-- INSERT): $1 ts, $2 operation, $3 tenant, $4 key, $5 agent, $6 source, $7 cache hit, $8 latency ms,
-- $9 success, $10 error message, $11 old value hash, $12 new value hash, $13 extra, $14 the start of the
-- hour a read is logged once in, $15 whether the row is a read's.
-- Returns NULL when the row was written (or, for a read logged within the hour, not needed), else why it
-- could not be. A serialisation failure or a deadlock is raised: the call runs again, as after any lost
-- race.
CREATE FUNCTION write_memory_audit(
    timestamptz, text, uuid, text, text, text, boolean, double precision, boolean, text, text, text, jsonb,
    timestamptz, boolean
) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_audit (ts, operation, tenant_id, key, agent_id, source, cache_hit, latency_ms, success,
                              error_message, old_value_hash, new_value_hash, extra)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
        WHERE NOT ($15 AND EXISTS (SELECT 1 FROM memory_audit m
                                   WHERE m.tenant_id = $3 AND m.key = $4 AND m.ts > $14 AND m.operation = 'get'));
    RETURN NULL;
EXCEPTION
    WHEN serialization_failure OR deadlock_detected THEN
        RAISE;
    WHEN OTHERS THEN
        RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
