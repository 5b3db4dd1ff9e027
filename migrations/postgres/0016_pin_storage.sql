-- What each tenant stores in memory pins, kept exact by triggers so that the plan's pin quotas (count and
-- bytes) are checked without counting the tenant's pins on every write. `value_bytes` is the length of
-- the value in its canonical serialised form, as the engine measured it.
ALTER TABLE memory_pins ADD COLUMN value_bytes bigint NOT NULL DEFAULT 0;
UPDATE memory_pins SET value_bytes = octet_length(value::text);

CREATE TABLE tenant_pin_storage (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    pins      bigint NOT NULL DEFAULT 0,
    bytes     bigint NOT NULL DEFAULT 0
);
INSERT INTO tenant_pin_storage (tenant_id, pins, bytes)
    SELECT tenant_id, COUNT(*), SUM(value_bytes) FROM memory_pins GROUP BY tenant_id;

CREATE FUNCTION memory_pins_storage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tenant_pin_storage AS s (tenant_id, pins, bytes) VALUES (NEW.tenant_id, 1, NEW.value_bytes)
            ON CONFLICT (tenant_id) DO UPDATE SET pins = s.pins + 1, bytes = s.bytes + EXCLUDED.bytes;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.value_bytes IS DISTINCT FROM OLD.value_bytes THEN
            UPDATE tenant_pin_storage SET bytes = bytes - OLD.value_bytes + NEW.value_bytes
                WHERE tenant_id = NEW.tenant_id;
        END IF;
    ELSE
        UPDATE tenant_pin_storage SET pins = pins - 1, bytes = bytes - OLD.value_bytes WHERE tenant_id = OLD.tenant_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER memory_pins_storage AFTER INSERT OR UPDATE OR DELETE ON memory_pins
    FOR EACH ROW EXECUTE FUNCTION memory_pins_storage();

-- Reads are logged at most once per pin and hour (see the memory-pins driver): this index finds the last one.
CREATE INDEX ix_memory_audit_tenant_key ON memory_audit (tenant_id, key, ts);
