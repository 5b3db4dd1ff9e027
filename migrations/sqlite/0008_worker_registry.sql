-- The worker registry (owned by another domain; seeded here because runs reference it).
CREATE TABLE worker_registry (
    id                      TEXT CHECK (length(id) <= 100) PRIMARY KEY,
    name                    TEXT CHECK (length(name) <= 255) NOT NULL,
    description             TEXT,
    version                 TEXT CHECK (length(version) <= 50) NOT NULL DEFAULT '1.0.0',
    status                  TEXT CHECK (length(status) <= 50) NOT NULL DEFAULT 'available'
                            CHECK (status IN ('available', 'beta', 'coming_soon', 'deprecated')),
    is_public               BOOLEAN NOT NULL DEFAULT true,
    moats_json              TEXT,
    default_config_json     TEXT,
    input_schema_json       TEXT,
    output_schema_json      TEXT,
    tokens_per_run_estimate INTEGER,
    cost_per_run_cents      INTEGER,
    created_at              INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER) * 1000000 + CAST(substr(strftime('%f', 'now'), 4) AS INTEGER) * 1000),
    updated_at              INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER) * 1000000 + CAST(substr(strftime('%f', 'now'), 4) AS INTEGER) * 1000)
);
INSERT INTO worker_registry (id, name, version, status, tokens_per_run_estimate, cost_per_run_cents) VALUES
    ('business-builder', 'Business Builder', '0.2.0', 'available', 50000, 50),
    ('code-debugger', 'Code Debugger', '0.1.0', 'coming_soon', 30000, 30),
    ('repo-fixer', 'Repo Fixer', '0.1.0', 'coming_soon', 40000, 40),
    ('research-analyst', 'Research Analyst', '0.1.0', 'coming_soon', 25000, 25)
ON CONFLICT (id) DO NOTHING;
