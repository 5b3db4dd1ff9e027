-- What each tenant stores in memory pins, kept exact by triggers so that the plan's pin quotas (count and
-- bytes) are checked without counting the tenant's pins on every write. `value_bytes` is the length of
-- the value in its canonical serialised form, as the engine measured it.
ALTER TABLE memory_pins ADD COLUMN value_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE memory_pins SET value_bytes = length(CAST(value AS BLOB));

CREATE TABLE tenant_pin_storage (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    pins      INTEGER NOT NULL DEFAULT 0,
    bytes     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tenant_pin_storage (tenant_id, pins, bytes)
    SELECT tenant_id, COUNT(*), SUM(value_bytes) FROM memory_pins GROUP BY tenant_id;

CREATE TRIGGER memory_pins_storage_insert AFTER INSERT ON memory_pins
BEGIN
    INSERT OR IGNORE INTO tenant_pin_storage (tenant_id, pins, bytes) VALUES (NEW.tenant_id, 0, 0);
    UPDATE tenant_pin_storage SET pins = pins + 1, bytes = bytes + NEW.value_bytes WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER memory_pins_storage_update AFTER UPDATE OF value_bytes ON memory_pins
    FOR EACH ROW WHEN OLD.value_bytes IS NOT NEW.value_bytes
BEGIN
    UPDATE tenant_pin_storage SET bytes = bytes - OLD.value_bytes + NEW.value_bytes WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER memory_pins_storage_delete AFTER DELETE ON memory_pins
BEGIN
    UPDATE tenant_pin_storage SET pins = pins - 1, bytes = bytes - OLD.value_bytes WHERE tenant_id = OLD.tenant_id;
END;

-- Reads are logged at most once per pin and hour (see the memory-pins driver): this index finds the last one.
CREATE INDEX ix_memory_audit_tenant_key ON memory_audit (tenant_id, key, ts);
