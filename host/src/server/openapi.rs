//! The OpenAPI document of the server, made from two declarations that cannot drift from what the
//! service does: the contract's own description of its operations (`api-model.json`, generated at build
//! from `wit/`: every parameter's type with the contract's named scalars — `id`, `json`, `timestamp`,
//! `cursor` — and its documentation) and the engine's declared limits (`host/src/server/limits.rs`, each
//! checked against the engine by the tests). The routes come from the component's exports; every one
//! must have its description here, or the server does not start.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::limits::{self, Limit};

/// Checks that every rule of the declared limits (`host/src/server/limits.rs`) names an argument of an
/// operation of `document` (a renamed argument must not leave its rule behind, describing nothing).
pub fn check_limits(document: &Value) -> Result<(), String> {
    for (operation, path) in limits::declared() {
        let (interface, name) =
            operation.split_once('.').ok_or_else(|| format!("{operation}: not interface.operation"))?;
        let mut node = &document["paths"][format!("/v1/{interface}/{name}")]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        for field in path.split('.') {
            node = step(node, field).ok_or_else(|| format!("{operation}: no argument {path}"))?;
        }
    }
    Ok(())
}

/// The schema one field (or `*`, a list's item) further down, through options and variants.
fn step<'a>(schema: &'a Value, field: &str) -> Option<&'a Value> {
    if let Some(alternatives) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
        return alternatives.iter().find_map(|s| step(s, field));
    }
    if field == "*" {
        return schema.get("items");
    }
    schema.get("properties")?.get(field)
}
use crate::engine::dynamic::{Operation, default_argument, snake};

/// The contract's operations, as `host/build/api_model.rs` wrote them.
static MODEL: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/api-model.json"))).expect("api-model.json is JSON")
});

/// The statuses every authenticated operation may answer besides 200, and what each means.
const ERRORS: [(&str, &str); 10] = [
    (
        "400",
        "`invalid_argument`: an argument the engine refuses (the message names it), or a body that is not a JSON object",
    ),
    ("401", "`unauthenticated`: no credential (where one is needed), or one that is unknown, revoked or expired"),
    (
        "403",
        "`forbidden` (the caller may not), `lifecycle_blocked` (the tenant's status forbids it) or `policy_denied` (the tenant's own policy said no)",
    ),
    ("404", "`not_found`: what the call names does not exist in the caller's tenant"),
    ("408", "`request_timeout`: the body did not arrive in time"),
    ("409", "`conflict` or `activation_incomplete`: the state of the tenant does not allow it now"),
    ("413", "`payload_too_large`: the body is larger than the server takes"),
    ("424", "`policy_failed`: the tenant's own policy failed; nothing was written"),
    ("429", "`quota_exceeded` (a plan quota) or `rate_limited` (the API key's requests per minute; `Retry-After`)"),
    ("503", "`unavailable` or `feature_disabled`: nothing was done; try again after `Retry-After` seconds"),
];

/// The document for the operations the server routes.
pub fn document(operations: &[Operation]) -> Value {
    let mut paths = Map::new();
    for op in operations {
        let model = MODEL.get(&op.interface).and_then(|i| i.get(&op.name)).unwrap_or_else(|| {
            panic!("{}.{} is exported by the component but not described by wit/", op.interface, op.name)
        });
        let operation = format!("{}.{}", op.interface, snake(&op.name));
        let mut properties = Map::new();
        let mut required = Vec::new();
        for param in model["params"].as_array().into_iter().flatten().skip(1) {
            let (name, ty) = (param[0].as_str().unwrap_or_default(), &param[1]);
            let property = schema(ty, &Place { operation: &operation, path: snake(name) }, Direction::Request);
            // The default is the JSON call's own (by the component's type of the parameter).
            let (_, component_type) = op
                .params
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{operation} takes {name} in wit/ but not in the component"));
            let property = match default_argument(name, component_type) {
                // Left out or null, an argument with a default takes it.
                Some(default) => defaulted(property, default),
                None if ty.get("option").is_none() => {
                    required.push(Value::String(snake(name)));
                    property
                }
                None => property,
            };
            properties.insert(snake(name), property);
        }
        let public = crate::engine::is_public(&op.interface, &op.name);
        let ok = model["result"]["result"]["ok"].clone();
        let ok = if ok.is_null() {
            json!({ "type": "null" })
        } else {
            schema(&ok, &Place::response(&operation), Direction::Response)
        };
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": "The operation's result",
                "headers": { "X-Request-Id": { "$ref": "#/components/headers/RequestId" } },
                "content": { "application/json": { "schema": ok } },
            }),
        );
        for (status, description) in ERRORS {
            let mut headers = json!({ "X-Request-Id": { "$ref": "#/components/headers/RequestId" } });
            match status {
                "503" => headers["Retry-After"] = json!({ "$ref": "#/components/headers/RetryAfter" }),
                "429" => {
                    headers["Retry-After"] = json!({ "description": "Seconds to wait (`rate_limited` only).", "schema": { "type": "string", "pattern": "^[0-9]+$" } })
                }
                _ => {}
            }
            responses.insert(
                status.into(),
                json!({
                    "description": description,
                    "headers": headers,
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
                }),
            );
        }
        let body = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": properties,
            "required": required,
        });
        paths.insert(
            format!("/v1/{}/{}", op.interface, snake(&op.name)),
            json!({ "post": {
                "operationId": format!("{}.{}", op.interface, snake(&op.name)),
                "summary": first_sentence(model["docs"].as_str().unwrap_or_default()),
                "description": model["docs"],
                "tags": [op.interface],
                // A public operation needs no credential, but one that is sent must be valid (else 401).
                "security": if public { json!([{}, { "bearer": [] }]) } else { json!([{ "bearer": [] }]) },
                // Every argument of some operations has a default or may be left out: their body may be too.
                "requestBody": { "required": !required.is_empty(), "content": { "application/json": { "schema": body } } },
                "responses": responses,
            }}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Account engine",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every operation of the account engine component, `POST /v1/{interface}/{operation}` with a JSON object of its arguments. Authenticate with `Authorization: Bearer` and an API key (`aos_…`), a JWT of the identity provider, or the operator token (with `X-Tenant-Id`). Times are microseconds since the Unix epoch, UTC; bytes (a policy component) are base64 text; `json` values are strings holding JSON text. A tenant's own policy may refuse an operation: `policy_denied` (403) or `policy_failed` (424). String formats beyond JSON Schema's own: `json` (JSON text whose strings hold no NUL), `json-object` (the same, of an object), `cursor` (a page position the service returned).",
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "An API key (`aos_…`), a JWT of the identity provider, or the operator token (then `X-Tenant-Id` names the tenant)." } },
            "headers": {
                "RequestId": { "description": "The request's id: the client's `X-Request-Id` when it is a plain token, else a new one.", "required": true, "schema": { "type": "string" } },
                "RetryAfter": { "description": "Seconds to wait before trying again.", "required": true, "schema": { "type": "string", "pattern": "^[0-9]+$" } },
            },
            "schemas": { "Error": {
                "type": "object",
                "required": ["error"],
                "properties": { "error": {
                    "type": "object",
                    "required": ["code", "message", "request_id"],
                    "properties": {
                        "code": { "type": "string", "description": "What went wrong, e.g. `invalid_argument`, `forbidden`, `not_found`." },
                        "message": { "type": "string" },
                        "request_id": { "type": "string" },
                    },
                }},
            }},
        },
    })
}

/// Which way a value travels: a request's values are held to the engine's limits and refuse unknown
/// fields; a response's are described as the service writes them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// Where a value sits: the operation and the path of field names to it (`key.name`).
struct Place<'a> {
    operation: &'a str,
    path: String,
}

impl<'a> Place<'a> {
    fn response(operation: &'a str) -> Self {
        Place { operation, path: String::new() }
    }

    /// The place of a field (its WIT or JSON name), or of a list's items (`*`).
    fn field(&self, name: &str) -> Place<'a> {
        let name = snake(name);
        let path = if self.path.is_empty() { name } else { format!("{}.{name}", self.path) };
        Place { operation: self.operation, path }
    }
}

/// The schema of an argument with a default: its value, or null (as if left out). An object default is
/// said in words: generators refuse an object default beside null.
fn defaulted(schema: Value, default: Value) -> Value {
    let mut nullable = json!({ "anyOf": [schema, { "type": "null" }] });
    if default.is_object() {
        nullable["description"] = Value::String(format!("Left out or null: {default}."));
    } else {
        nullable["default"] = default;
    }
    nullable
}

fn schema(ty: &Value, place: &Place<'_>, direction: Direction) -> Value {
    let request = direction == Direction::Request;
    let declared = if request { limits::of(place.operation, &place.path) } else { None };
    if let Some(text) = ty.as_str() {
        return match text {
            "bool" => json!({ "type": "boolean" }),
            "u8" => integer(0, u8::MAX.into()),
            "u16" => integer(0, u16::MAX.into()),
            "u32" => with_limit(integer(0, u32::MAX.into()), declared),
            "u64" => with_limit(json!({ "type": "integer", "minimum": 0, "maximum": u64::MAX }), declared),
            "s8" => integer(i8::MIN.into(), i8::MAX.into()),
            "s16" => integer(i16::MIN.into(), i16::MAX.into()),
            "s32" => with_limit(integer(i32::MIN.into(), i32::MAX.into()), declared),
            "s64" => with_limit(integer(i64::MIN, i64::MAX), declared),
            "f32" | "f64" => json!({ "type": "number" }),
            "char" => json!({ "type": "string", "minLength": 1, "maxLength": 1 }),
            _ => with_limit(json!({ "type": "string" }), declared),
        };
    }
    if let Some(alias) = ty.get("alias").and_then(Value::as_str) {
        return match alias {
            "timestamp" => with_limit(
                json!({ "type": "integer", "minimum": i64::MIN, "maximum": i64::MAX, "description": "Microseconds since the Unix epoch, UTC." }),
                declared,
            ),
            "cursor" if request => {
                json!({ "type": "string", "format": "cursor", "minLength": 1, "maxLength": 1024, "description": "The `next` of the page before." })
            }
            "cursor" => json!({ "type": "string", "format": "cursor" }),
            "json" if request => with_limit(
                json!({ "type": "string", "format": "json", "contentMediaType": "application/json" }),
                declared,
            ),
            "json" => json!({ "type": "string", "contentMediaType": "application/json" }),
            _ => schema(&ty["of"], place, direction),
        };
    }
    if let Some(inner) = ty.get("option") {
        return json!({ "anyOf": [schema(inner, place, direction), { "type": "null" }] });
    }
    if let Some(inner) = ty.get("list") {
        if inner.as_str() == Some("u8") {
            return json!({ "type": "string", "contentEncoding": "base64", "pattern": limits::BASE64_PATTERN });
        }
        let item = place.field("*");
        return with_limit(json!({ "type": "array", "items": schema(inner, &item, direction) }), declared);
    }
    if let Some(cases) = ty.get("enum").and_then(Value::as_array) {
        return json!({ "type": "string", "enum": cases.iter().filter_map(Value::as_str).map(snake).collect::<Vec<_>>() });
    }
    if let Some(fields) = ty.get("record").and_then(Value::as_array) {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in fields {
            let (name, fty, docs) =
                (field[0].as_str().unwrap_or_default(), &field[1], field[2].as_str().unwrap_or_default());
            let mut property = schema(fty, &place.field(name), direction);
            if !docs.is_empty() && property.get("description").is_none() {
                property["description"] = Value::String(docs.to_string());
            }
            // A response always carries every field (an empty option as null); a request may leave an
            // option out.
            if !request || fty.get("option").is_none() {
                required.push(Value::String(snake(name)));
            }
            properties.insert(snake(name), property);
        }
        let mut object = json!({ "type": "object", "properties": properties, "required": required });
        if request {
            object["additionalProperties"] = Value::Bool(false);
        }
        return object;
    }
    if let Some(cases) = ty.get("variant").and_then(Value::as_array) {
        let one_of: Vec<Value> = cases
            .iter()
            .map(|case| {
                let name = snake(case[0].as_str().unwrap_or_default());
                if case[1].is_null() {
                    json!({ "type": "string", "const": name })
                } else {
                    json!({
                        "type": "object",
                        "properties": { name.clone(): schema(&case[1], &place.field(&name), direction) },
                        "required": [name],
                        "additionalProperties": false,
                    })
                }
            })
            .collect();
        return json!({ "oneOf": one_of });
    }
    json!({})
}

fn integer(min: i64, max: i64) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max })
}

/// `schema` narrowed by what the engine declares for the value, if anything.
fn with_limit(mut schema: Value, limit: Option<&Limit>) -> Value {
    if let Some(limit) = limit {
        limit.narrow(&mut schema);
    }
    schema
}

fn first_sentence(docs: &str) -> String {
    let text = docs.replace('\n', " ");
    match text.find(". ") {
        Some(end) => text[..=end].trim().to_string(),
        None => text.trim().to_string(),
    }
}
