//! The Rust host's runner of the language-neutral conformance suite (`tests/conformance/`): every scenario,
//! on SQLite and (with `TEST_POSTGRES_URL`) PostgreSQL, through the real component in the real host. The
//! Python and JavaScript hosts run the same files with their own runners.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use account_host::Caller;
use account_host::bindings::{Actor, IdentityPrincipal, OperatorPrincipal};
use account_host::db::Database;
use serde_json::{Map, Value};
use suite::Harness;

/// Where the scenarios are.
fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/conformance/scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_on_the_rust_host() {
    let mut backends = vec![suite::Backend::Sqlite];
    if suite::postgres_url().is_some() {
        backends.push(suite::Backend::Postgres);
    }
    let mut failures = Vec::new();
    let mut passed = 0;
    for backend in backends {
        for file in scenarios() {
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let scenario: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
                .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
            let h = match backend {
                suite::Backend::Sqlite => Harness::sqlite().await,
                suite::Backend::Postgres => Harness::postgres(&suite::postgres_url().expect("url")).await,
            };
            match run(&h, &scenario).await {
                Ok(()) => passed += 1,
                Err(failure) => failures.push(format!("{backend:?} {name}: {failure}")),
            }
            h.close().await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario run(s) failed ({passed} passed):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs one scenario; the first step that does not do what it says, as text.
async fn run(h: &Harness, scenario: &Value) -> Result<(), String> {
    let steps = scenario["steps"].as_array().ok_or("no steps")?;
    let mut saved: BTreeMap<String, Value> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        let at = |what: String| {
            format!("step {} ({}): {what}", i + 1, step.get("call").and_then(Value::as_str).unwrap_or("-"))
        };
        if let Some(seconds) = step.get("advance_seconds") {
            h.clock.advance_secs(seconds.as_i64().ok_or_else(|| at("advance_seconds: not a number".into()))?);
            continue;
        }
        let call = step["call"].as_str().ok_or_else(|| at("no call".into()))?;
        let (interface, operation) =
            call.split_once('.').ok_or_else(|| at("call is not interface.operation".into()))?;
        let tenant = step.get("tenant").map(|t| resolve(t, &saved)).transpose().map_err(at)?;
        let tenant = match &tenant {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(t.clone()),
            Some(other) => return Err(at(format!("tenant is not a string: {other}"))),
        };
        let principal = resolve(step.get("as").ok_or_else(|| at("no `as`".into()))?, &saved).map_err(at)?;
        let caller = match caller(h, &principal, tenant.as_deref()).await.map_err(at)? {
            Some(caller) => caller,
            None => {
                // The credential does not authenticate: what every host answers before any engine call.
                expect_error(step, "unauthenticated").map_err(at)?;
                continue;
            }
        };
        let args = resolve(step.get("args").unwrap_or(&Value::Null), &saved).map_err(at)?;
        let before = counts(&h.db).await;
        let result = h.runtime.call_json(&caller, interface, operation, &args).await;
        let after = counts(&h.db).await;
        match (step.get("expect"), result) {
            (Some(expect), Err(e)) if expect.get("error").is_some() => {
                let code = account_host::engine::dynamic::error_code_name(e.code);
                let want = expect["error"].as_str().unwrap_or_default();
                if code != want {
                    return Err(at(format!("expected error {want}, got {code} ({})", e.message)));
                }
            }
            (expect, Err(e)) => return Err(at(format!("expected {expect:?}, got error {:?}: {}", e.code, e.message))),
            (Some(expect), Ok(value)) if expect.get("error").is_some() => {
                return Err(at(format!("expected error {}, got ok {value}", expect["error"])));
            }
            (expect, Ok(value)) => {
                if let Some(pattern) = expect.and_then(|e| e.get("ok")) {
                    let pattern = resolve(pattern, &saved).map_err(at)?;
                    matches(&pattern, &value, "").map_err(|m| at(format!("{m}; the result: {value}")))?;
                }
                for (name, path) in step.get("save").and_then(Value::as_object).into_iter().flatten() {
                    let found = lookup(&value, path.as_str().unwrap_or_default())
                        .ok_or_else(|| at(format!("save {name}: no {path} in {value}")))?;
                    saved.insert(name.clone(), found);
                }
            }
        }
        if step.get("expect").and_then(|e| e.get("error")).is_some() && before != after {
            return Err(at(format!("a refused call wrote: before {before:?}, after {after:?}")));
        }
        check_rows(step.get("rows"), &after).map_err(at)?;
    }
    check_rows(scenario.get("rows"), &counts(&h.db).await).map_err(|e| format!("after the last step: {e}"))
}

fn expect_error(step: &Value, code: &str) -> Result<(), String> {
    match step.get("expect").and_then(|e| e.get("error")).and_then(Value::as_str) {
        Some(c) if c == code => Ok(()),
        _ => Err(format!("the credential was refused ({code}), which the step does not expect")),
    }
}

/// The caller of a principal, resolved as the service resolves credentials; none: it does not authenticate.
async fn caller(h: &Harness, principal: &Value, tenant: Option<&str>) -> Result<Option<Caller>, String> {
    Ok(Some(match principal {
        Value::String(s) if s == "system" => Caller::system(tenant),
        Value::String(s) if s == "anonymous" => Caller::new(Actor::Anonymous, tenant),
        Value::Object(p) if p.contains_key("operator") => Caller::new(
            Actor::Operator(OperatorPrincipal { operator_id: p["operator"].as_str().unwrap_or_default().into() }),
            tenant,
        ),
        Value::Object(p) if p.contains_key("person") => {
            let subject = p["person"].as_str().ok_or("person: not a string")?;
            let email =
                p.get("email").and_then(Value::as_str).map_or_else(|| format!("{subject}@example.com"), str::to_string);
            let verified = p.get("email_verified").and_then(Value::as_bool).unwrap_or(true);
            let identity = IdentityPrincipal {
                external_id: subject.into(),
                email,
                user_id: h.user_id(subject).await,
                name: None,
                email_verified: verified,
            };
            Caller::new(Actor::Identity(identity), tenant)
        }
        Value::Object(p) if p.contains_key("key") => {
            if tenant.is_some() {
                return Err("a key's tenant is its own: give no `tenant`".into());
            }
            let secret = p["key"].as_str().ok_or("key: not a string")?;
            return Ok(suite::key_caller(h, secret).await);
        }
        other => return Err(format!("unknown principal {other}")),
    }))
}

/// `$name` and `${name}` replaced by saved values.
fn resolve(value: &Value, saved: &BTreeMap<String, Value>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.starts_with('$') && !s.starts_with("${") && s != "$any" => {
            saved.get(&s[1..]).cloned().ok_or_else(|| format!("nothing saved as {}", &s[1..]))?
        }
        Value::String(s) if s.contains("${") => {
            let mut out = s.clone();
            for (name, v) in saved {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                out = out.replace(&format!("${{{name}}}"), &text);
            }
            if out.contains("${") {
                return Err(format!("unknown name in {s}"));
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, saved)).collect::<Result<_, _>>()?),
        Value::Object(fields) => Value::Object(
            fields.iter().map(|(k, v)| Ok((k.clone(), resolve(v, saved)?))).collect::<Result<Map<_, _>, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Whether `value` matches `pattern` (README: "Values and patterns").
fn matches(pattern: &Value, value: &Value, path: &str) -> Result<(), String> {
    match pattern {
        Value::String(s) if s == "$any" => {
            if value.is_null() {
                Err(format!("{path}: expected a value, got null"))
            } else {
                Ok(())
            }
        }
        Value::Object(p) if p.len() == 1 && p.contains_key("$len") => {
            let len = match value {
                Value::Array(a) => a.len(),
                Value::String(s) => s.chars().count(),
                _ => return Err(format!("{path}: expected a list or string, got {value}")),
            };
            if Some(len as u64) == p["$len"].as_u64() {
                Ok(())
            } else {
                Err(format!("{path}: expected length {}, got {len}", p["$len"]))
            }
        }
        Value::Object(p) => {
            let v = value.as_object().ok_or_else(|| format!("{path}: expected an object, got {value}"))?;
            for (k, pv) in p {
                matches(pv, v.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        Value::Array(p) => {
            let v = value.as_array().ok_or_else(|| format!("{path}: expected a list, got {value}"))?;
            if p.len() != v.len() {
                return Err(format!("{path}: expected {} items, got {}", p.len(), v.len()));
            }
            p.iter().zip(v).enumerate().try_for_each(|(i, (pv, vv))| matches(pv, vv, &format!("{path}.{i}")))
        }
        Value::Number(n) => match (n.as_f64(), value.as_f64()) {
            (Some(a), Some(b)) if a == b => Ok(()),
            _ => Err(format!("{path}: expected {pattern}, got {value}")),
        },
        _ if pattern == value => Ok(()),
        _ => Err(format!("{path}: expected {pattern}, got {value}")),
    }
}

fn lookup(value: &Value, path: &str) -> Option<Value> {
    let mut current = value;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        current = match current {
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            Value::Object(fields) => fields.get(part)?,
            _ => return None,
        };
    }
    Some(current.clone())
}

fn check_rows(expected: Option<&Value>, counts: &BTreeMap<String, i64>) -> Result<(), String> {
    for (table, want) in expected.and_then(Value::as_object).into_iter().flatten() {
        let got = counts.get(table).ok_or_else(|| format!("no table {table}"))?;
        if Some(*got) != want.as_i64() {
            return Err(format!("expected {want} rows in {table}, found {got}"));
        }
    }
    Ok(())
}

/// The row count of every table of the schema (but the migrations' own).
async fn counts(db: &Database) -> BTreeMap<String, i64> {
    let tables_sql = match db.backend() {
        account_host::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
        }
        account_host::Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'"
        }
    };
    let tables: Vec<String> =
        account_host::on_pool!(db, |p| sqlx::query_scalar(tables_sql).fetch_all(p)).expect("tables");
    let mut out = BTreeMap::new();
    for t in tables {
        let count = format!("SELECT COUNT(*) FROM \"{t}\"");
        let n: i64 = account_host::on_pool!(db, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()))
            .fetch_one(p))
        .expect("count");
        out.insert(t, n);
    }
    out
}

/// The suite covers the whole engine: every operation the component exports is called by some scenario.
#[tokio::test]
async fn the_scenarios_call_every_engine_operation() {
    let mut called = std::collections::BTreeSet::new();
    for file in scenarios() {
        let scenario: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for step in scenario["steps"].as_array().into_iter().flatten() {
            if let Some(call) = step.get("call").and_then(Value::as_str) {
                called.insert(call.to_string());
            }
        }
    }
    let h = Harness::sqlite().await;
    let missing: Vec<String> = h
        .runtime
        .operations()
        .iter()
        .map(|o| format!("{}.{}", o.interface, o.name))
        .filter(|op| !called.contains(op))
        .collect();
    h.close().await;
    assert!(missing.is_empty(), "no scenario calls {} operation(s): {}", missing.len(), missing.join(", "));
}
