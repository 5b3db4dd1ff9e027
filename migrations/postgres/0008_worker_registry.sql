-- The worker registry (owned by another domain; seeded here because runs reference it).
CREATE TABLE worker_registry (
    id                      varchar(100) PRIMARY KEY,
    name                    varchar(255) NOT NULL,
    description             text,
    version                 varchar(50) NOT NULL DEFAULT '1.0.0',
    status                  varchar(50) NOT NULL DEFAULT 'available'
                            CHECK (status IN ('available', 'beta', 'coming_soon', 'deprecated')),
    is_public               boolean NOT NULL DEFAULT true,
    moats_json              text,
    default_config_json     text,
    input_schema_json       text,
    output_schema_json      text,
    tokens_per_run_estimate integer,
    cost_per_run_cents      integer,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO worker_registry (id, name, version, status, tokens_per_run_estimate, cost_per_run_cents) VALUES
    ('business-builder', 'Business Builder', '0.2.0', 'available', 50000, 50),
    ('code-debugger', 'Code Debugger', '0.1.0', 'coming_soon', 30000, 30),
    ('repo-fixer', 'Repo Fixer', '0.1.0', 'coming_soon', 40000, 40),
    ('research-analyst', 'Research Analyst', '0.1.0', 'coming_soon', 25000, 25)
ON CONFLICT (id) DO NOTHING;
