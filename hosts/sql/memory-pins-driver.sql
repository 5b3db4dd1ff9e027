-- memory-pins-driver: the per-tenant JSON key/value store and its access log. Expiry is decided by the
-- call's `now`, passed as a parameter: a pin with `expires_at <= now` is expired.

-- Inserts or replaces tenant $1's pin $2 (value $3, source $4, $5 now, $6 ttl seconds, $7 expiry, $8 value size in bytes): the pin-columns row.
-- statement: upsert-pin
INSERT INTO memory_pins (tenant_id, key, value, source, created_at, updated_at, ttl_seconds, expires_at, value_bytes) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, source = excluded.source, ttl_seconds = excluded.ttl_seconds, expires_at = excluded.expires_at, updated_at = excluded.updated_at, value_bytes = excluded.value_bytes RETURNING {{pin-columns}}

-- Tenant $1's plan, pin count, stored bytes and the size of pin $2 (NULL: none): one (plan, pins, bytes, value_bytes) row, or no row for an unknown tenant.
-- statement: fetch-pin-storage
SELECT t.plan, s.pins, s.bytes, (SELECT p.value_bytes FROM memory_pins p WHERE p.tenant_id = $1 AND p.key = $2) FROM tenants t LEFT JOIN tenant_pin_storage s ON s.tenant_id = t.id WHERE t.id = $1

-- Tenant $1's pin $2 unless expired at $3: a pin-columns row, or no row.
-- statement: get-pin
SELECT {{pin-columns}} FROM memory_pins WHERE tenant_id = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)

-- The rows list-pins-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: list-pins-filter
FROM memory_pins WHERE tenant_id = $1 AND ($2 IS NULL OR substr(key, 1, length($2)) = $2) AND ($3 OR expires_at IS NULL OR expires_at > $4)

-- fragment: list-pins-order
ORDER BY created_at DESC, id DESC LIMIT $5

-- First page of tenant $1's pins, newest first ($2 literal key prefix or NULL, $3 true: expired too, $4 now, $5 limit): pin-columns rows.
-- statement: list-pins-first-page
SELECT {{pin-columns}} {{list-pins-filter}} {{list-pins-order}}

-- Next page of list-pins-first-page, after the cursor's (created_at $6, id $7): pin-columns rows.
-- statement: list-pins-next-page
SELECT {{pin-columns}} {{list-pins-filter}} AND (created_at, id) < ($6, $7) {{list-pins-order}}

-- The number of pins list-pins-first-page selects over all pages ($1..$4 as there), counting no further than $5: one BIGINT.
-- statement: list-pins-count
SELECT COUNT(*) FROM (SELECT 1 {{list-pins-filter}} LIMIT $5) AS counted

-- Deletes tenant $1's pin $2; returns nothing (rows affected: whether it existed).
-- statement: delete-pin
DELETE FROM memory_pins WHERE tenant_id = $1 AND key = $2

-- Deletes the pins expired at $1 of tenant $2 (NULL: every tenant); returns nothing (rows affected: how many).
-- statement: cleanup-expired-pins
DELETE FROM memory_pins WHERE expires_at IS NOT NULL AND expires_at <= $1 AND ($2 IS NULL OR tenant_id = $2)

-- The platform's sweep only: deletes the access log older than $1 (the retention horizon); returns nothing.
-- statement: cleanup-expired-audit
DELETE FROM memory_audit WHERE ts < $1

-- Appends an access log entry ($1 now), inside a savepoint (SQLite); with $15 true (a read) it is skipped when pin $4 had a logged read after $14. Returns nothing.
-- statement: write-audit [sqlite]
INSERT INTO memory_audit (ts, operation, tenant_id, key, agent_id, source, cache_hit, latency_ms, success, error_message, old_value_hash, new_value_hash, extra) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 WHERE NOT ($15 AND EXISTS (SELECT 1 FROM memory_audit WHERE tenant_id = $3 AND key = $4 AND ts > $14 AND operation = 'get'))

-- The same on PostgreSQL, in one round trip: the function (migrations/postgres/0021) runs the INSERT in its own subtransaction instead of a savepoint around it. Returns one row: NULL when written or skipped, else why the row could not be written.
-- statement: write-audit [postgres]
SELECT write_memory_audit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)

-- The rows fetch-access-log-first-page and -next-page select (the next page adds its cursor), and their order.
-- fragment: fetch-access-log-filter
FROM memory_audit WHERE tenant_id = $1 AND ($2 IS NULL OR key = $2) AND ($3 IS NULL OR operation = $3) AND ($4 IS NULL OR ts >= $4) AND ($5 IS NULL OR ts < $5)

-- fragment: fetch-access-log-order
ORDER BY ts DESC, id DESC LIMIT $6

-- First page of tenant $1's memory access log, newest first; each filter matches any row when NULL ($2 key, $3 operation, $4 written at or after, $5 written before; $6 limit): access-columns rows.
-- statement: fetch-access-log-first-page
SELECT {{access-columns}} {{fetch-access-log-filter}} {{fetch-access-log-order}}

-- Next page of fetch-access-log-first-page, after the cursor's (ts $7, id $8): access-columns rows.
-- statement: fetch-access-log-next-page
SELECT {{access-columns}} {{fetch-access-log-filter}} AND (ts, id) < ($7, $8) {{fetch-access-log-order}}
