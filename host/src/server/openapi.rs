//! The OpenAPI document of the server, generated from the component's own operation types, so it is in
//! step with the routes (which are generated from the same list).

use serde_json::{Map, Value, json};
use wasmtime::component::Type;

use crate::engine::dynamic::{Operation, default_argument, snake};

pub fn document(operations: &[Operation]) -> Value {
    let mut paths = Map::new();
    for op in operations {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, ty) in &op.params {
            let mut property = schema(ty);
            match default_argument(name, ty) {
                Some(default) => {
                    property["default"] = default;
                }
                None if !matches!(ty, Type::Option(_)) => required.push(Value::String(snake(name))),
                None => {}
            }
            properties.insert(snake(name), property);
        }
        let ok = op.ok.as_ref().map(schema).unwrap_or(json!({ "type": "null" }));
        // Operations anyone may call need no credential; every other one refuses an anonymous caller.
        let security = if crate::engine::is_public(&op.interface, &op.name) { json!([]) } else { json!([{ "bearer": [] }]) };
        paths.insert(
            format!("/v1/{}/{}", op.interface, snake(&op.name)),
            json!({ "post": {
                "security": security,
                "operationId": format!("{}.{}", op.interface, snake(&op.name)),
                "tags": [op.interface],
                "requestBody": { "required": false, "content": { "application/json": { "schema": {
                    "type": "object", "additionalProperties": false, "properties": properties, "required": required,
                }}}},
                "responses": {
                    "200": { "description": "The operation's result", "content": { "application/json": { "schema": ok } } },
                    "default": { "description": "An error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                },
            }}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Account engine",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every operation of the account engine component. Authenticate with `Authorization: Bearer` and an API key (`aos_…`), a JWT of the identity provider, or the operator token (with `X-Tenant-Id`). Times are microseconds since the Unix epoch, UTC; bytes (a policy component) are base64 text. A tenant's own policy may refuse an operation: `policy_denied` (403) or `policy_failed` (424).",
        },
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": { "Error": { "type": "object", "required": ["error"], "properties": { "error": {
                "type": "object", "required": ["code", "message"],
                "properties": { "code": { "type": "string" }, "message": { "type": "string" }, "request_id": { "type": "string" } },
            }}}},
        },
    })
}

fn schema(ty: &Type) -> Value {
    match ty {
        Type::Bool => json!({ "type": "boolean" }),
        Type::S8 | Type::S16 | Type::S32 | Type::U8 | Type::U16 | Type::U32 => json!({ "type": "integer", "format": "int32" }),
        Type::S64 | Type::U64 => json!({ "type": "integer", "format": "int64" }),
        Type::Float32 | Type::Float64 => json!({ "type": "number" }),
        Type::Char | Type::String => json!({ "type": "string" }),
        Type::List(l) if l.ty() == Type::U8 => json!({ "type": "string", "contentEncoding": "base64" }),
        Type::List(l) => json!({ "type": "array", "items": schema(&l.ty()) }),
        Type::Option(o) => json!({ "anyOf": [schema(&o.ty()), { "type": "null" }] }),
        Type::Enum(e) => json!({ "type": "string", "enum": e.names().map(snake).collect::<Vec<_>>() }),
        Type::Record(r) => {
            let properties: Map<String, Value> = r.fields().map(|f| (snake(f.name), schema(&f.ty))).collect();
            let required: Vec<String> = r.fields().filter(|f| !matches!(f.ty, Type::Option(_))).map(|f| snake(f.name)).collect();
            json!({ "type": "object", "properties": properties, "required": required })
        }
        Type::Variant(v) => json!({ "oneOf": v.cases().map(|c| match &c.ty {
            None => json!({ "const": snake(c.name) }),
            Some(t) => json!({ "type": "object", "properties": { snake(c.name): schema(t) }, "required": [snake(c.name)] }),
        }).collect::<Vec<_>>() }),
        _ => json!({}),
    }
}
