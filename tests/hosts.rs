//! The hosts in other languages, run for real: the Python host (`hosts/python/`, wasmtime-py) and the
//! JavaScript host (`hosts/js/`, jco) are installed from the registries into `target/hosts/` and run the
//! conformance suite (`tests/conformance/`) and their own tests. A host passes only if every scenario
//! passes; any failure fails this test with the runner's output.
//!
//! Needs `python3` (with `venv`) and `node`/`npm` on the machine, and the registries (PyPI, npm) the first
//! time; both are there on every machine of this project (`.ci/run` runs this with the rest).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use suite::tools::{self, run};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    tools::target_dir(&root())
}

/// The component the hosts install, published from the host the suite runs (what `account-service
/// contract --out` writes).
fn component_env(command: &mut Command) -> &mut Command {
    let published = target_dir().join("contract");
    account_host::runtime::write_contract(&published).expect("publishing the contract");
    command.env("ACCOUNT_ENGINE_WASM", published.join("account-engine.wasm"))
}

#[test]
fn the_python_host_passes_the_conformance_suite() {
    let venv = target_dir().join("hosts/python-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run("python3 -m venv", Command::new("python3").args(["-m", "venv"]).arg(&venv), Duration::from_secs(120));
    }
    // A fresh install of the package as a user gets it (the component, migrations, catalogue inside).
    run(
        "pip install ./hosts/python",
        component_env(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]))
            .arg(root().join("hosts/python"))
            .current_dir(target_dir()),
        Duration::from_secs(600),
    );
    let output = run(
        "the Python host's conformance run",
        Command::new(&python).arg(root().join("hosts/python/tests/conformance.py")).current_dir(target_dir()),
        Duration::from_secs(900),
    );
    println!("{output}");
    let tests = run(
        "the Python host's own tests",
        Command::new(&python)
            .args(["-m", "unittest", "discover", "-s"])
            .arg(root().join("hosts/python/tests"))
            .args(["-p", "test_*.py"]),
        Duration::from_secs(600),
    );
    println!("{tests}");
}

#[test]
fn the_javascript_host_passes_the_conformance_suite() {
    let package = root().join("hosts/js");
    let npm = |args: &[&str], limit| {
        run(
            &format!("npm {}", args.join(" ")),
            component_env(Command::new("npm").args(args).current_dir(&package)),
            limit,
        )
    };
    // From the lockfile, once: better-sqlite3 compiles from source where its prebuilt binary cannot be
    // fetched (minutes), so a tree installed from the same lockfile is kept.
    tools::npm_ci(&package);
    npm(&["run", "build"], Duration::from_secs(600));
    let output = run(
        "the JavaScript host's conformance run",
        Command::new("node").arg(Path::new("test/conformance.mjs")).current_dir(&package),
        Duration::from_secs(900),
    );
    println!("{output}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(package.join("test"))
        .expect("hosts/js/test")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the JavaScript host has tests of its own");
    let tests = run(
        "the JavaScript host's own tests",
        Command::new("node").arg("--test").args(&files).current_dir(&package),
        Duration::from_secs(600),
    );
    println!("{tests}");
}
