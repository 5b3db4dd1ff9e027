//! What the engine accepts of each argument beyond its WIT type — lengths, ranges, formats — declared
//! once, for the OpenAPI document ([`super::openapi`]). The engine enforces these rules itself (its
//! `validate` module and the drivers); this table says them to clients. The OpenAPI test holds the two
//! together: schemathesis sends values at and past every boundary declared here (valid ones must be
//! taken, invalid ones refused), so a table that drifts from the engine fails it.
//!
//! Arguments are named as in JSON: `interface.operation` and a path of field names (`key.name`; `*` is a
//! list's item), `_` for `-`.

use serde_json::{Value, json};

/// One rule of the engine for one argument.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// Text the engine trims, then holds to `min..=max` characters; never NUL (`validate::text`).
    Text { min: usize, max: usize },
    /// Optional text: empty or blank means none; else trimmed, at most `max` characters; never NUL
    /// (`validate::optional_text`).
    OptionalText { max: usize },
    /// An id: a UUID in its canonical form, lowercase and hyphenated.
    Uuid,
    /// An e-mail address: one `@`, something before it, a domain with an inner `.`, no white space
    /// (but around it, which is trimmed), at most 255 characters in all (`validate::email`).
    Email,
    /// A tenant slug (`validate::slug`).
    Slug,
    /// A usage meter's name (`tenants::meter`).
    MeterName,
    /// A pin key: 1..=512 characters, none of `..`, `/`, `\`, NUL (`memory_pins::pin_key`).
    PinKey,
    /// A whole number within `min..=max`.
    Range { min: i64, max: i64 },
    /// A list of at most `max` items.
    Items { max: usize },
    /// One of these texts.
    OneOf(&'static [&'static str]),
    /// JSON text of an object, at most `max_bytes` bytes.
    JsonObject { max_bytes: usize },
    /// JSON text of any value, at most `max_bytes` bytes.
    Json { max_bytes: usize },
}

/// The characters Rust's `str::trim` removes (Unicode `White_Space`), as a regular-expression class body.
/// Spelled out: `\s` means a different set in ECMA-262, Python and Rust.
const WS: &str = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A UUID in its canonical form, lowercase and hyphenated (what the drivers parse).
pub const UUID_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/// Canonical base64 (standard alphabet, padded, no stray bits), which is what the service decodes.
pub const BASE64_PATTERN: &str =
    "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$";

/// Every scope an API key may hold: each permission a key may hold, each family, `read:*` and `admin:*`
/// (the engine's `access::Scope`; the OpenAPI test sends each of them).
pub const KEY_SCOPES: [&str; 38] = [
    "admin:*",
    "read:*",
    "audit:*",
    "audit:read",
    "billing:*",
    "billing:read",
    "invitations:*",
    "invitations:manage",
    "invitations:read",
    "keys:*",
    "keys:create",
    "keys:read",
    "keys:revoke",
    "lifecycle:*",
    "lifecycle:read",
    "memory_pin:*",
    "memory_pin:admin",
    "memory_pin:delete",
    "memory_pin:read",
    "memory_pin:write",
    "onboarding:*",
    "onboarding:read",
    "onboarding:write",
    "profile:*",
    "profile:read",
    "run:*",
    "run:read",
    "run:write",
    "support:*",
    "support:read",
    "support:write",
    "tenant:*",
    "tenant:read",
    "usage:*",
    "usage:read",
    "users:*",
    "users:manage",
    "users:read",
];

/// The largest amount one usage record, increment or run may count (`tenants::MAX_USAGE_AMOUNT`).
const MAX_AMOUNT: i64 = 1_000_000_000_000;
const MIB: usize = 1 << 20;
const KIB_64: usize = 64 << 10;

/// The rules, by operation and argument.
const LIMITS: &[(&str, &str, Limit)] = &[
    ("accounts.create_project", "name", Limit::Text { min: 1, max: 200 }),
    ("accounts.create_project", "description", Limit::OptionalText { max: 1000 }),
    ("accounts.create_support_ticket", "ticket.subject", Limit::Text { min: 1, max: 200 }),
    ("accounts.create_support_ticket", "ticket.description", Limit::Text { min: 1, max: 4000 }),
    ("accounts.get_project_detail", "project_id", Limit::Uuid),
    ("accounts.get_user_detail", "user_id", Limit::Uuid),
    ("accounts.invite_user", "email", Limit::Email),
    ("accounts.list_projects", "limit", Limit::Range { min: 1, max: 100 }),
    ("accounts.remove_user", "user_id", Limit::Uuid),
    ("accounts.revoke_invitation", "invitation_id", Limit::Uuid),
    ("accounts.update_profile", "update.display_name", Limit::OptionalText { max: 100 }),
    ("accounts.update_profile", "update.timezone", Limit::OptionalText { max: 50 }),
    ("accounts.update_profile", "update.preferences", Limit::JsonObject { max_bytes: KIB_64 }),
    ("accounts.update_user_role", "user_id", Limit::Uuid),
    ("lifecycle.archive", "reason", Limit::OptionalText { max: 1000 }),
    ("lifecycle.resume", "reason", Limit::OptionalText { max: 1000 }),
    ("lifecycle.suspend", "reason", Limit::OptionalText { max: 1000 }),
    ("lifecycle.terminate", "reason", Limit::OptionalText { max: 1000 }),
    ("lifecycle.transition", "reason", Limit::OptionalText { max: 1000 }),
    ("tenants.suspend", "reason", Limit::OptionalText { max: 1000 }),
    ("memory-pins.delete_pin", "key", Limit::PinKey),
    ("memory-pins.get_pin", "key", Limit::PinKey),
    ("memory-pins.list_pins", "prefix", Limit::OptionalText { max: 512 }),
    ("memory-pins.upsert_pin", "key", Limit::PinKey),
    ("memory-pins.list_access_log", "filter.key", Limit::PinKey),
    ("memory-pins.upsert_pin", "value", Limit::JsonObject { max_bytes: MIB }),
    ("memory-pins.upsert_pin", "source", Limit::OptionalText { max: 64 }),
    ("memory-pins.upsert_pin", "ttl_seconds", Limit::Range { min: 1, max: 31_536_000 }),
    ("onboarding.advance", "trigger", Limit::Text { min: 1, max: 200 }),
    ("policies.deactivate", "reason", Limit::OptionalText { max: 500 }),
    ("policies.install", "policy.config", Limit::JsonObject { max_bytes: KIB_64 }),
    ("policies.install", "policy.note", Limit::OptionalText { max: 200 }),
    ("tenants.check_token_quota", "tokens", Limit::Range { min: 0, max: MAX_AMOUNT }),
    ("tenants.increment_usage", "tokens", Limit::Range { min: 0, max: MAX_AMOUNT }),
    ("tenants.complete_run", "run_id", Limit::Uuid),
    ("tenants.complete_run", "completion.total_tokens", Limit::Range { min: 0, max: MAX_AMOUNT }),
    ("tenants.complete_run", "completion.total_latency_ms", Limit::Range { min: 0, max: MAX_AMOUNT }),
    ("tenants.complete_run", "completion.cost_cents", Limit::Range { min: 0, max: MAX_AMOUNT }),
    ("tenants.complete_run", "completion.stages_completed", Limit::Range { min: 0, max: i32::MAX as i64 }),
    ("tenants.complete_run", "completion.recoveries", Limit::Range { min: 0, max: i32::MAX as i64 }),
    ("tenants.complete_run", "completion.policy_violations", Limit::Range { min: 0, max: i32::MAX as i64 }),
    ("tenants.complete_run", "completion.output_json", Limit::Json { max_bytes: MIB }),
    ("tenants.complete_run", "completion.replay_token_json", Limit::Json { max_bytes: MIB }),
    ("tenants.complete_run", "completion.error", Limit::OptionalText { max: 10_000 }),
    ("tenants.create_api_key", "key.name", Limit::Text { min: 1, max: 100 }),
    ("tenants.create_api_key", "key.permissions", Limit::Items { max: 50 }),
    ("tenants.create_api_key", "key.permissions.*", Limit::OneOf(&KEY_SCOPES)),
    ("tenants.create_api_key", "key.allowed_workers", Limit::Items { max: 100 }),
    ("tenants.create_api_key", "key.allowed_workers.*", Limit::Text { min: 1, max: 100 }),
    ("tenants.create_api_key", "key.expires_in_days", Limit::Range { min: 1, max: 365 }),
    ("tenants.create_api_key", "key.rate_limit_rpm", Limit::Range { min: 1, max: 1000 }),
    ("tenants.create_api_key", "key.max_concurrent_runs", Limit::Range { min: 1, max: 100 }),
    ("tenants.create_membership_with_default", "user_id", Limit::Uuid),
    ("tenants.create_run", "run.worker_id", Limit::Text { min: 1, max: 100 }),
    ("tenants.create_run", "run.task", Limit::Text { min: 1, max: 10_000 }),
    ("tenants.create_run", "run.input_json", Limit::Json { max_bytes: MIB }),
    ("tenants.create_tenant", "tenant.name", Limit::Text { min: 1, max: 200 }),
    ("tenants.create_tenant", "tenant.slug", Limit::Slug),
    ("tenants.create_tenant", "tenant.external_org_id", Limit::OptionalText { max: 100 }),
    ("tenants.create_tenant", "tenant.billing_email", Limit::Email),
    ("tenants.list_audit_log", "filter.user_id", Limit::Uuid),
    ("tenants.list_audit_log", "filter.api_key_id", Limit::Uuid),
    ("tenants.list_audit_log", "filter.actor", Limit::OptionalText { max: 200 }),
    ("tenants.list_audit_log", "filter.action", Limit::OptionalText { max: 100 }),
    ("tenants.list_audit_log", "filter.resource_type", Limit::OptionalText { max: 50 }),
    ("tenants.list_audit_log", "filter.resource_id", Limit::OptionalText { max: 100 }),
    ("tenants.list_runs", "worker_id", Limit::OptionalText { max: 100 }),
    ("tenants.record_usage", "usage.meter_name", Limit::MeterName),
    ("tenants.record_usage", "usage.amount", Limit::Range { min: 0, max: MAX_AMOUNT }),
    ("tenants.record_usage", "usage.worker_id", Limit::OptionalText { max: 100 }),
    ("tenants.record_usage", "usage.metadata", Limit::JsonObject { max_bytes: KIB_64 }),
    ("tenants.revoke_api_key", "key_id", Limit::Uuid),
    ("tenants.revoke_api_key", "reason", Limit::OptionalText { max: 1000 }),
];

/// Every list's page size (`validate::page`).
const PAGE_LIMIT: Limit = Limit::Range { min: 1, max: crate::db::cursor::MAX_PAGE as i64 };

/// The rule for an argument (`accounts.create_project`, `name`), if the engine has one.
pub fn of(operation: &str, path: &str) -> Option<&'static Limit> {
    if path == "page.limit" {
        return Some(&PAGE_LIMIT);
    }
    LIMITS.iter().find(|(o, p, _)| *o == operation && *p == path).map(|(_, _, limit)| limit)
}

/// Every declared rule's operation and argument (the server checks at start that each names one).
pub fn declared() -> impl Iterator<Item = (&'static str, &'static str)> {
    LIMITS.iter().map(|(o, p, _)| (*o, *p))
}

impl Limit {
    /// Narrows the schema of the argument's type to what the engine accepts.
    pub fn narrow(&self, schema: &mut Value) {
        let set = |schema: &mut Value, extra: Value| {
            if let (Some(schema), Value::Object(extra)) = (schema.as_object_mut(), extra) {
                schema.extend(extra);
            }
        };
        match *self {
            Limit::Text { min, max } => set(schema, json!({ "pattern": trimmed_text(min, max, false) })),
            Limit::OptionalText { max } => set(schema, json!({ "pattern": trimmed_text(1, max, true) })),
            Limit::Uuid => set(schema, json!({ "format": "uuid", "pattern": UUID_PATTERN })),
            Limit::Email => {
                let c = format!(r"[^@\u0000{WS}]");
                let edge = format!(r"[^@.\u0000{WS}]");
                let pattern = format!("^[{WS}]*{c}+@{edge}{c}*\\.{c}*{edge}[{WS}]*$");
                set(
                    schema,
                    json!({ "maxLength": 255, "pattern": pattern, "description": "An e-mail address (kept lower-cased)." }),
                )
            }
            Limit::Slug => set(schema, json!({ "pattern": "^[a-z0-9][a-z0-9-]{0,99}$" })),
            Limit::MeterName => set(schema, json!({ "pattern": "^[a-z0-9_.:-]{1,100}$" })),
            // No `..` and no `/`, `\`, NUL: every `.` is followed by another character than `.`, or ends it.
            Limit::PinKey => {
                set(schema, json!({ "minLength": 1, "maxLength": 512, "pattern": r"^(?:\.?[^./\\\u0000])*\.?$" }))
            }
            Limit::Range { min, max } => set(schema, json!({ "minimum": min, "maximum": max })),
            Limit::Items { max } => set(schema, json!({ "maxItems": max })),
            Limit::OneOf(values) => set(schema, json!({ "enum": values })),
            Limit::JsonObject { max_bytes } => set(
                schema,
                json!({
                    "format": "json-object",
                    "contentMediaType": "application/json",
                    "contentSchema": { "type": "object" },
                    "description": format!("JSON text of an object, at most {max_bytes} bytes; no NUL in its strings."),
                }),
            ),
            Limit::Json { max_bytes } => set(
                schema,
                json!({
                    "format": "json",
                    "contentMediaType": "application/json",
                    "description": format!("JSON text, at most {max_bytes} bytes; no NUL in its strings."),
                }),
            ),
        }
    }
}

/// The texts `validate::text` takes: after trimming white space, `min..=max` characters (`min` ≥ 1), none
/// NUL — or, `optional`, also nothing but white space (which means none). Exact, so that both a value
/// the engine takes and one it refuses are told apart by the document.
fn trimmed_text(min: usize, max: usize, optional: bool) -> String {
    let edge = format!(r"[^\u0000{WS}]");
    let any = r"[^\u0000]";
    let core = match (min, max) {
        (_, 1) => edge.clone(),
        (min, max) => {
            format!("{edge}(?:{any}{{{},{}}}{edge}){}", min.saturating_sub(2), max - 2, if min <= 1 { "?" } else { "" })
        }
    };
    let core = if optional { format!("(?:{core})?") } else { core };
    format!("^[{WS}]*{core}[{WS}]*$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_patterns_hold_the_trimmed_length() {
        assert_eq!(trimmed_text(1, 1, false), format!(r"^[{WS}]*[^\u0000{WS}][{WS}]*$"));
        assert_eq!(
            trimmed_text(1, 100, false),
            format!(r"^[{WS}]*[^\u0000{WS}](?:[^\u0000]{{0,98}}[^\u0000{WS}])?[{WS}]*$")
        );
        assert!(trimmed_text(1, 100, true).contains(")?)?["));
    }

    /// The document's list of key scopes is exactly what the engine's permissions make of it: every
    /// permission a key may hold, the family of each, `read:*` and `admin:*`.
    #[test]
    fn key_scopes_are_what_the_permissions_make() {
        use crate::contract::Permission;
        let mut expected: Vec<String> = vec!["admin:*".into(), "read:*".into()];
        for permission in Permission::ALL.into_iter().filter(|p| p.key_may_hold()) {
            expected.push(permission.name().into());
            expected.push(format!("{}:*", permission.family()));
        }
        expected.sort();
        expected.dedup();
        let mut listed: Vec<String> = KEY_SCOPES.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(listed, expected);
    }
}
