//! A client generated from the service's own `/openapi.json` drives one journey (`tests/client/`): the
//! generator (openapi-python-client, pinned) must read the document without a warning, and the typed
//! client it makes must work against the real service. Installed on first use into
//! `target/client-venv`.

#[path = "support.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

use std::process::Command;
use std::time::Duration;

use support::{Running, TempDir, bootstrap, spawn, workspace};

#[test]
fn a_client_generated_from_the_document_drives_a_journey() {
    let client = workspace().join("tests/client");
    let requirements = std::fs::read_to_string(client.join("requirements.txt")).expect("tests/client/requirements.txt");
    let requirements: Vec<&str> =
        requirements.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let bin = tools::python_venv(&tools::target_dir(&workspace()).join("client-venv"), &requirements);

    let dir = TempDir::new("aos-client");
    let (tenant, key) = bootstrap(&dir.0, None);
    let (child, base) = spawn(&dir.0, None, &[], None);
    let _server = Running(child);

    let generated = dir.0.join("client");
    let output = tools::run(
        "openapi-python-client generate",
        Command::new(bin.join("openapi-python-client"))
            .args(["generate", "--url", &format!("{base}/openapi.json"), "--output-path"])
            .arg(generated.join("account_engine_client"))
            .args(["--meta", "none", "--overwrite", "--fail-on-warning", "--config"])
            .arg(client.join("generator.yaml")),
        Duration::from_secs(300),
    );
    println!("{output}");
    let journey = tools::run(
        "the generated client's journey",
        Command::new(bin.join("python"))
            .arg(client.join("journey.py"))
            .env("CLIENT_DIR", &generated)
            .env("BASE_URL", &base)
            .env("API_KEY", &key)
            .env("TENANT_ID", &tenant),
        Duration::from_secs(120),
    );
    println!("{journey}");
    assert!(journey.contains("journey: 1 passed, 0 failed"), "{journey}");
}
