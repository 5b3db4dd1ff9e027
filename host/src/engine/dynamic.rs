//! JSON calls of any engine operation, for the HTTP server and the command line. Arguments and results
//! are converted with the component's own types, so every operation of the contract is reachable and the
//! JSON shapes cannot drift from `wit/`: field and enum names are the WIT names with `_` for `-`, times
//! are integer microseconds since the Unix epoch, JSON payloads are strings holding JSON.
//!
//! The call context is never read from the arguments: the host builds it from the caller.

use serde_json::{Map, Number, Value};
use wasmtime::component::{Type, Val};

use crate::bindings::{Actor, CallContext, EngineError, ErrorCode};
use crate::drivers::DriverView;
use crate::runtime::{Caller, Runtime, engine_error};

pub use crate::runtime::{PACKAGE, VERSION};

/// The engine interfaces, in the order of the contract.
pub const INTERFACES: [&str; 6] = ["accounts", "tenants", "memory-pins", "onboarding", "lifecycle", "policies"];

/// One operation of the engine, as the component declares it.
pub use crate::runtime::ExportedFunction as Operation;

impl<T: DriverView> Runtime<T> {
    /// Every operation the engine exports (from all its components), with its types.
    pub fn operations(&self) -> &[Operation] {
        &self.exports().functions
    }

    /// Calls `interface.operation` with JSON arguments (an object keyed by parameter name).
    pub async fn call_json(
        &self,
        caller: &Caller,
        interface: &str,
        operation: &str,
        args: &Value,
    ) -> Result<Value, EngineError> {
        if interface == "policies" && operation.replace('_', "-") == "install" {
            return self.install_policy_json(caller, args).await;
        }
        let op = self
            .operations()
            .iter()
            .find(|o| o.interface == interface && o.name == operation.replace('_', "-"))
            .ok_or_else(|| engine_error(ErrorCode::NotFound, format!("no operation {interface}.{operation}")))?;
        let empty = Map::new();
        let args = match args {
            Value::Object(map) => map,
            Value::Null => &empty,
            _ => return Err(engine_error(ErrorCode::InvalidArgument, "the arguments must be a JSON object")),
        };
        for key in args.keys() {
            if !op.params.iter().any(|(p, _)| snake(p) == *key) {
                return Err(engine_error(ErrorCode::InvalidArgument, format!("unknown argument '{key}'")));
            }
        }
        let mut params = Vec::with_capacity(op.params.len() + 1);
        params.push(Val::Bool(false)); // replaced by the context below
        for (name, ty) in &op.params {
            let given = args.get(&snake(name)).filter(|v| !v.is_null()).cloned();
            let value = given.or_else(|| default_argument(name, ty)).unwrap_or(Value::Null);
            params.push(
                from_json(&value, ty)
                    .map_err(|e| engine_error(ErrorCode::InvalidArgument, format!("{}: {e}", snake(name))))?,
            );
        }
        let description = crate::contract::find(&op.interface, &op.name)
            .ok_or_else(|| engine_error(ErrorCode::Internal, format!("{interface}.{operation} has no description")))?;
        let (params, op) = (&params, &op);
        self.run(caller, description, |a| {
            Box::pin(async move {
                let mut params = params.clone();
                params[0] = context(a.ctx);
                let func = a
                    .instance
                    .get_func(&mut *a.store, op.index)
                    .ok_or_else(|| wasmtime::Error::msg("not a function"))?;
                let mut results = [Val::Bool(false)];
                func.call_async(&mut *a.store, &params, &mut results).await?;
                wasmtime::Result::Ok(match &results[0] {
                    Val::Result(Ok(value)) => Ok(value.as_deref().map(to_json).unwrap_or(Value::Null)),
                    Val::Result(Err(Some(error))) => Err(engine_error_of(error)),
                    other => Err(engine_error(ErrorCode::Internal, format!("unexpected result {other:?}"))),
                })
            })
        })
        .await
    }
}

/// WIT names are kebab-case; JSON names are snake_case.
pub fn snake(name: &str) -> String {
    name.replace('-', "_")
}

fn kebab(name: &str) -> String {
    name.replace('_', "-")
}

fn engine_error_of(value: &Val) -> EngineError {
    let mut error = engine_error(ErrorCode::Internal, "malformed engine error");
    if let Val::Record(fields) = value {
        for (name, v) in fields {
            match (name.as_str(), v) {
                ("code", Val::Enum(code)) => error.code = error_code(code),
                ("message", Val::String(m)) => error.message = m.clone(),
                _ => {}
            }
        }
    }
    error
}

fn error_code(name: &str) -> ErrorCode {
    match name {
        "invalid-argument" => ErrorCode::InvalidArgument,
        "unauthenticated" => ErrorCode::Unauthenticated,
        "forbidden" => ErrorCode::Forbidden,
        "not-found" => ErrorCode::NotFound,
        "conflict" => ErrorCode::Conflict,
        "quota-exceeded" => ErrorCode::QuotaExceeded,
        "lifecycle-blocked" => ErrorCode::LifecycleBlocked,
        "feature-disabled" => ErrorCode::FeatureDisabled,
        "activation-incomplete" => ErrorCode::ActivationIncomplete,
        "unavailable" => ErrorCode::Unavailable,
        "policy-denied" => ErrorCode::PolicyDenied,
        "policy-failed" => ErrorCode::PolicyFailed,
        _ => ErrorCode::Internal,
    }
}

/// The stable name of an error code, as it appears in JSON (`not_found`, `quota_exceeded`, ...).
pub fn error_code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidArgument => "invalid_argument",
        ErrorCode::Unauthenticated => "unauthenticated",
        ErrorCode::Forbidden => "forbidden",
        ErrorCode::NotFound => "not_found",
        ErrorCode::Conflict => "conflict",
        ErrorCode::QuotaExceeded => "quota_exceeded",
        ErrorCode::LifecycleBlocked => "lifecycle_blocked",
        ErrorCode::FeatureDisabled => "feature_disabled",
        ErrorCode::ActivationIncomplete => "activation_incomplete",
        ErrorCode::Unavailable => "unavailable",
        ErrorCode::Internal => "internal",
        ErrorCode::PolicyDenied => "policy_denied",
        ErrorCode::PolicyFailed => "policy_failed",
    }
}

/// The value a JSON call gets for a parameter it leaves out, where there is an obvious one: `false` for a
/// switch (`include_revoked`, `include_expired`) and the first page of [`DEFAULT_PAGE_LIMIT`] items.
pub fn default_argument(name: &str, ty: &Type) -> Option<Value> {
    match ty {
        Type::Bool => Some(Value::Bool(false)),
        Type::Record(_) if name == "page" => Some(serde_json::json!({ "limit": DEFAULT_PAGE_LIMIT })),
        _ => None,
    }
}

/// The page size of a JSON call that names none.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;

/// The call context as a component value.
fn context(ctx: &CallContext) -> Val {
    let opt_string = |s: &Option<String>| Val::Option(s.clone().map(|s| Box::new(Val::String(s))));
    let actor = match &ctx.actor {
        Actor::Anonymous => Val::Variant("anonymous".into(), None),
        Actor::System => Val::Variant("system".into(), None),
        Actor::Identity(p) => Val::Variant(
            "identity".into(),
            Some(Box::new(Val::Record(vec![
                ("external-id".into(), Val::String(p.external_id.clone())),
                ("email".into(), Val::String(p.email.clone())),
                ("user-id".into(), opt_string(&p.user_id)),
                ("name".into(), opt_string(&p.name)),
                ("email-verified".into(), Val::Bool(p.email_verified)),
            ]))),
        ),
        Actor::ApiKey(k) => Val::Variant(
            "api-key".into(),
            Some(Box::new(Val::Record(vec![
                ("key-id".into(), Val::String(k.key_id.clone())),
                ("scopes".into(), Val::List(k.scopes.iter().cloned().map(Val::String).collect())),
                ("created-by".into(), opt_string(&k.created_by)),
                (
                    "creator-role".into(),
                    Val::Option(k.creator_role.map(|r| Box::new(Val::Enum(kebab(crate::db::codec::DbEnum::name(r)))))),
                ),
                (
                    "allowed-workers".into(),
                    Val::Option(
                        k.allowed_workers
                            .as_ref()
                            .map(|w| Box::new(Val::List(w.iter().cloned().map(Val::String).collect()))),
                    ),
                ),
                ("max-concurrent-runs".into(), Val::Option(k.max_concurrent_runs.map(|n| Box::new(Val::S32(n))))),
                ("rate-limit-rpm".into(), Val::Option(k.rate_limit_rpm.map(|n| Box::new(Val::S32(n))))),
                ("expires-at".into(), Val::Option(k.expires_at.map(|t| Box::new(Val::S64(t))))),
            ]))),
        ),
        Actor::Operator(o) => Val::Variant(
            "operator".into(),
            Some(Box::new(Val::Record(vec![("operator-id".into(), Val::String(o.operator_id.clone()))]))),
        ),
    };
    let s = &ctx.settings;
    Val::Record(vec![
        ("actor".into(), actor),
        ("tenant-id".into(), opt_string(&ctx.tenant_id)),
        ("request-id".into(), Val::String(ctx.request_id.clone())),
        ("now".into(), Val::S64(ctx.now)),
        (
            "settings".into(),
            Val::Record(vec![
                ("memory-pins-enabled".into(), Val::Bool(s.memory_pins_enabled)),
                ("support-email".into(), Val::String(s.support_email.clone())),
                ("support-hours".into(), Val::String(s.support_hours.clone())),
                ("support-response-time".into(), Val::String(s.support_response_time.clone())),
                ("max-owned-tenants-per-user".into(), Val::U32(s.max_owned_tenants_per_user)),
            ]),
        ),
    ])
}

/// The simplest JSON value of a type that the engine will accept as well-formed (tests and examples:
/// every operation called with arguments that parse).
pub fn sample_argument(ty: &Type) -> Value {
    match ty {
        Type::Bool => Value::Bool(false),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::S8 | Type::S16 | Type::S32 | Type::S64 => Value::from(1),
        Type::Float32 | Type::Float64 => Value::from(1.0),
        Type::String | Type::Char => Value::String("x".into()),
        Type::List(l) if l.ty() == Type::U8 => Value::String(String::new()),
        Type::List(_) => Value::Array(Vec::new()),
        Type::Option(_) => Value::Null,
        Type::Variant(v) => match v.cases().next() {
            Some(c) => match &c.ty {
                None => Value::String(snake(c.name)),
                Some(ty) => Value::Object(Map::from_iter([(snake(c.name), sample_argument(ty))])),
            },
            None => Value::Null,
        },
        Type::Enum(e) => Value::String(snake(e.names().next().unwrap_or_default())),
        Type::Record(r) => Value::Object(r.fields().map(|f| (snake(f.name), sample_argument(&f.ty))).collect()),
        _ => Value::Null,
    }
}

/// A JSON value as a component value of type `ty`.
pub fn from_json(value: &Value, ty: &Type) -> Result<Val, String> {
    fn int<T: TryFrom<i64> + TryFrom<u64>>(value: &Value) -> Result<T, String> {
        let n = value.as_number().ok_or("expected a number")?;
        let out_of_range = || "number out of range".to_string();
        if let Some(i) = n.as_i64() {
            T::try_from(i).map_err(|_| out_of_range())
        } else if let Some(u) = n.as_u64() {
            T::try_from(u).map_err(|_| out_of_range())
        } else {
            // JSON has one kind of number: `5.0` is the integer 5 (as JSON Schema reads it), `5.5` is not
            // an integer. Only below 2^52, where a double still holds halves, so that a fraction is not
            // rounded away into an integer.
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 4_503_599_627_370_496.0 => {
                    T::try_from(f as i64).map_err(|_| out_of_range())
                }
                Some(f) if f.fract() == 0.0 => Err(out_of_range()),
                _ => Err("expected a whole number".into()),
            }
        }
    }
    Ok(match ty {
        Type::Option(o) => match value {
            Value::Null => Val::Option(None),
            v => Val::Option(Some(Box::new(from_json(v, &o.ty())?))),
        },
        _ if value.is_null() => return Err("a value is required".into()),
        Type::Bool => Val::Bool(value.as_bool().ok_or("expected true or false")?),
        Type::U8 => Val::U8(int(value)?),
        Type::S32 => Val::S32(int(value)?),
        Type::U32 => Val::U32(int(value)?),
        Type::S64 => Val::S64(int(value)?),
        Type::U64 => Val::U64(int(value)?),
        Type::Float64 => Val::Float64(value.as_f64().ok_or("expected a number")?),
        Type::String => Val::String(value.as_str().ok_or("expected a string")?.to_string()),
        // Bytes travel as base64 text (a component is megabytes; an array of numbers would be four times that).
        Type::List(l) if l.ty() == Type::U8 => {
            use base64::Engine as _;
            let text = value.as_str().ok_or("expected base64 text")?;
            let bytes =
                base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("not base64: {e}"))?;
            Val::List(bytes.into_iter().map(Val::U8).collect())
        }
        Type::List(l) => {
            let items = value.as_array().ok_or("expected an array")?;
            Val::List(items.iter().map(|v| from_json(v, &l.ty())).collect::<Result<_, _>>()?)
        }
        Type::Enum(e) => {
            let name = kebab(value.as_str().ok_or("expected a string")?);
            if !e.names().any(|n| n == name) {
                let allowed: Vec<String> = e.names().map(snake).collect();
                return Err(format!("expected one of {}", allowed.join(", ")));
            }
            Val::Enum(name)
        }
        Type::Record(r) => {
            let object = value.as_object().ok_or("expected an object")?;
            for key in object.keys() {
                if !r.fields().any(|f| snake(f.name) == *key) {
                    return Err(format!("unknown field '{key}'"));
                }
            }
            let mut fields = Vec::new();
            for field in r.fields() {
                let v = object.get(&snake(field.name)).unwrap_or(&Value::Null);
                fields.push((
                    field.name.to_string(),
                    from_json(v, &field.ty).map_err(|e| format!("{}: {e}", snake(field.name)))?,
                ));
            }
            Val::Record(fields)
        }
        // A case without a payload is its name; one with a payload an object of one field, its name.
        Type::Variant(v) => {
            let (name, payload) = match value {
                Value::String(name) => (kebab(name), None),
                Value::Object(o) if o.len() == 1 => {
                    let (k, v) = o.iter().next().expect("one field");
                    (kebab(k), Some(v))
                }
                _ => return Err("expected a case name, or an object with one field naming the case".into()),
            };
            let case = v.cases().find(|c| c.name == name).ok_or_else(|| {
                format!("expected one of {}", v.cases().map(|c| snake(c.name)).collect::<Vec<_>>().join(", "))
            })?;
            let payload = match (&case.ty, payload) {
                (None, None) => None,
                (Some(ty), Some(p)) => {
                    Some(Box::new(from_json(p, ty).map_err(|e| format!("{}: {e}", snake(case.name)))?))
                }
                (None, Some(_)) => return Err(format!("the case {} carries nothing", snake(case.name))),
                (Some(_), None) => return Err(format!("the case {} needs a value", snake(case.name))),
            };
            Val::Variant(name, payload)
        }
        other => return Err(format!("unsupported parameter type {other:?}")),
    })
}

/// A component value as JSON.
pub fn to_json(value: &Val) -> Value {
    match value {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(n) => Value::from(*n),
        Val::U8(n) => Value::from(*n),
        Val::S16(n) => Value::from(*n),
        Val::U16(n) => Value::from(*n),
        Val::S32(n) => Value::from(*n),
        Val::U32(n) => Value::from(*n),
        Val::S64(n) => Value::from(*n),
        Val::U64(n) => Value::from(*n),
        Val::Float32(n) => Number::from_f64(f64::from(*n)).map_or(Value::Null, Value::Number),
        Val::Float64(n) => Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        Val::Record(fields) => Value::Object(fields.iter().map(|(k, v)| (snake(k), to_json(v))).collect()),
        Val::Variant(case, payload) => match payload {
            None => Value::String(snake(case)),
            Some(p) => Value::Object(Map::from_iter([(snake(case), to_json(p))])),
        },
        Val::Enum(name) => Value::String(snake(name)),
        Val::Option(v) => v.as_deref().map(to_json).unwrap_or(Value::Null),
        Val::Result(Ok(v)) => v.as_deref().map(to_json).unwrap_or(Value::Null),
        Val::Result(Err(v)) => {
            Value::Object(Map::from_iter([("error".to_string(), v.as_deref().map(to_json).unwrap_or(Value::Null))]))
        }
        Val::Flags(names) => Value::Array(names.iter().map(|n| Value::String(snake(n))).collect()),
        _ => Value::Null,
    }
}

impl<T: DriverView> Runtime<T> {
    /// `policies.install` from JSON, through the typed call: a component of megabytes as a component
    /// value list would take dozens of bytes of host memory per byte, and the typed call also waits
    /// for a large component's compilation (see [`crate::engine::policies::Policies::install`]).
    async fn install_policy_json(&self, caller: &Caller, args: &Value) -> Result<Value, EngineError> {
        use base64::Engine as _;
        let invalid = |m: String| engine_error(ErrorCode::InvalidArgument, m);
        let args = args.as_object().ok_or_else(|| invalid("the arguments must be a JSON object".into()))?;
        if let Some(key) = args.keys().find(|k| *k != "policy") {
            return Err(invalid(format!("unknown argument '{key}'")));
        }
        let policy = args
            .get("policy")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("policy: expected an object".into()))?;
        if let Some(key) = policy.keys().find(|k| !matches!(k.as_str(), "component" | "config" | "note")) {
            return Err(invalid(format!("policy: unknown field '{key}'")));
        }
        let text = |field: &str| policy.get(field).and_then(Value::as_str);
        let component = text("component").ok_or_else(|| invalid("policy: component: expected base64 text".into()))?;
        let component = base64::engine::general_purpose::STANDARD
            .decode(component)
            .map_err(|e| invalid(format!("policy: component: not base64: {e}")))?;
        let config = text("config").ok_or_else(|| invalid("policy: config: expected a string holding JSON".into()))?;
        let note = match policy.get("note") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(invalid("policy: note: expected a string".into())),
        };
        let new = crate::bindings::policies::NewPolicy { component, config: config.to_string(), note };
        let v = self.policies().install(caller, &new).await?;
        let handles: Vec<Value> =
            v.handles.iter().map(|t| Value::String(snake(crate::policy::trigger_name(*t)))).collect();
        Ok(serde_json::json!({
            "version": v.version,
            "content_hash": v.content_hash,
            "size_bytes": v.size_bytes,
            "handles": handles,
            "config": v.config,
            "note": v.note,
            "created_by": v.created_by,
            "created_at": v.created_at,
            "active": v.active,
            "calls": v.calls,
            "denials": v.denials,
            "failures": v.failures,
        }))
    }
}
