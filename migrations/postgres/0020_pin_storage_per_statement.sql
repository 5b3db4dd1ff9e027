-- Pin storage kept by statement, not by row: a statement that writes many pins (a bulk load, the expired
-- pins' sweep, a tenant's deletion) updates each tenant's totals once, from its transition table, where
-- the row trigger of 0016 updated the same row once per pin (a million-pin load updated it a million
-- times, each update walking the row's growing chain of versions). A pin's tenant never changes.
DROP TRIGGER memory_pins_storage ON memory_pins;
DROP FUNCTION memory_pins_storage();

CREATE FUNCTION memory_pins_storage_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tenant_pin_storage AS s (tenant_id, pins, bytes)
        SELECT tenant_id, COUNT(*), SUM(value_bytes) FROM inserted GROUP BY tenant_id
        ON CONFLICT (tenant_id) DO UPDATE SET pins = s.pins + EXCLUDED.pins, bytes = s.bytes + EXCLUDED.bytes;
    RETURN NULL;
END
$$;

CREATE FUNCTION memory_pins_storage_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_pin_storage s SET bytes = s.bytes + d.delta
        FROM (SELECT n.tenant_id, SUM(n.value_bytes - o.value_bytes) AS delta
              FROM updated_new n JOIN updated_old o ON o.id = n.id GROUP BY n.tenant_id) d
        WHERE s.tenant_id = d.tenant_id AND d.delta <> 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION memory_pins_storage_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_pin_storage s SET pins = s.pins - d.pins, bytes = s.bytes - d.bytes
        FROM (SELECT tenant_id, COUNT(*) AS pins, SUM(value_bytes) AS bytes FROM deleted GROUP BY tenant_id) d
        WHERE s.tenant_id = d.tenant_id;
    RETURN NULL;
END
$$;

-- One trigger per event: a trigger with transition tables has one event.
CREATE TRIGGER memory_pins_storage_inserted AFTER INSERT ON memory_pins
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION memory_pins_storage_inserted();
CREATE TRIGGER memory_pins_storage_updated AFTER UPDATE ON memory_pins
    REFERENCING OLD TABLE AS updated_old NEW TABLE AS updated_new
    FOR EACH STATEMENT EXECUTE FUNCTION memory_pins_storage_updated();
CREATE TRIGGER memory_pins_storage_deleted AFTER DELETE ON memory_pins
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION memory_pins_storage_deleted();
