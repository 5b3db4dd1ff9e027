//! The OpenAPI document against the real service, by schemathesis (from PyPI, pinned) with **all** its
//! checks: every request the document calls valid is taken (or refused only for the state it finds: a
//! 403, 404, 409, 429), every request it calls invalid is refused, every answer has a documented status,
//! content type, headers and schema, and no request gets a server error. Cases come from the document's
//! examples, its boundaries (coverage) and random data (fuzzing), bounded in count and time
//! (`SCHEMATHESIS_EXAMPLES`, 10 per operation; `SCHEMATHESIS_SECONDS`, 60 per run; `SCHEMATHESIS_SEED`, 1).
//!
//! On SQLite and on PostgreSQL (when `TEST_POSTGRES_URL` names a server). Two runs as an operator, each on a
//! tenant of its own: the lifecycle operations (which suspend,
//! terminate and archive their tenant) apart from the rest, which would otherwise meet an archived tenant.
//! The configuration and hooks are `tests/http/schemathesis/`. Installed on first use into
//! `target/schemathesis-venv`.

#[path = "support.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

use std::path::Path;
use std::process::Command;

use support::{OPERATOR_TOKEN, Running, TempDir, bootstrap, spawn, workspace};

const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// The operations that change their tenant's lifecycle status.
const LIFECYCLE: [&str; 2] = ["--include-tag=lifecycle", "--include-operation-id=tenants.suspend"];
const NOT_LIFECYCLE: [&str; 2] = ["--exclude-tag=lifecycle", "--exclude-operation-id=tenants.suspend"];

/// Runs schemathesis against `base` as the operator acting on `tenant`, on the operations `filter`
/// selects; panics with its report unless every operation passed every check. Returns the report.
fn schemathesis(st: &Path, dir: &Path, base: &str, tenant: &str, filter: &[&str], operations: usize) -> String {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let config = workspace().join("tests/http/schemathesis");
    let out = Command::new(st)
        .current_dir(dir)
        .env("PYTHONPATH", &config)
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(config.join("schemathesis.toml"))
        .args([
            "run",
            &format!("{base}/openapi.json"),
            "--checks",
            "all",
            "--max-examples",
            &env("SCHEMATHESIS_EXAMPLES", "10"),
        ])
        .args(["--phases", "examples,coverage,fuzzing", "--workers", "1", "--no-shrink", "--continue-on-failure"])
        .args(["--max-time", &env("SCHEMATHESIS_SECONDS", "60"), "--seed", &env("SCHEMATHESIS_SEED", "1")])
        .args(["-H", &format!("Authorization: Bearer {OPERATOR_TOKEN}"), "-H", &format!("X-Tenant-Id: {tenant}")])
        .args(filter)
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let summary: Vec<&str> =
        report.lines().filter(|l| l.contains("passed") || l.contains("Tested") || l.contains("generated")).collect();
    eprintln!("schemathesis: {}", summary.join("; "));
    assert!(out.status.success(), "schemathesis found failures:\n{report}");
    assert!(
        report.contains(&format!("{operations} passed")),
        "every one of the {operations} operations was tested and passed:\n{report}"
    );
    report
}

/// A new tenant, made by the operator: its id.
async fn create_tenant(base: &str, slug: &str) -> String {
    let body = serde_json::json!({ "tenant": { "name": slug, "slug": slug, "plan": "free" } });
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/tenants/create_tenant"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&body)
        .send()
        .await
        .expect("create a tenant");
    assert!(response.status().is_success(), "create_tenant: {}", response.status());
    let tenant: serde_json::Value = response.json().await.unwrap();
    tenant["id"].as_str().expect("the tenant's id").to_string()
}

/// Both runs against a fresh service over `database_url` (SQLite in its data directory when none).
async fn fuzz(database_url: Option<&str>) {
    let st = tools::python_venv(&tools::target_dir(&workspace()).join("schemathesis-venv"), &[SCHEMATHESIS]).join("st");
    let dir = TempDir::new("aos-st");
    let (tenant, _) = bootstrap(&dir.0, database_url);
    let (child, base) = spawn(&dir.0, database_url, &[], None);
    let _server = Running(child);
    let other = create_tenant(&base, "lifecycle").await;

    let document: serde_json::Value = reqwest::get(format!("{base}/openapi.json")).await.unwrap().json().await.unwrap();
    let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    let lifecycle =
        paths.iter().filter(|p| p.starts_with("/v1/lifecycle/") || p.as_str() == "/v1/tenants/suspend").count();
    assert_eq!(lifecycle, 7, "the lifecycle operations and tenants.suspend");

    schemathesis(&st, &dir.0, &base, &tenant, &NOT_LIFECYCLE, paths.len() - lifecycle);
    schemathesis(&st, &dir.0, &base, &other, &LIFECYCLE, lifecycle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_on_sqlite() {
    fuzz(None).await;
}

/// The same on PostgreSQL, whose types hold less than SQLite's integers (times far from now).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_on_postgres() {
    support::on_postgres("the OpenAPI test", |url| async move { fuzz(Some(&url)).await }).await;
}
