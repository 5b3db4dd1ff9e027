//! The hosts in other languages, run for real: the Python host (`hosts/python/`, wasmtime-py) and the
//! JavaScript host (`hosts/js/`, jco) are installed from the registries into `target/hosts/` and run the
//! conformance suite (`tests/conformance/`) and their own tests. A host passes only if every scenario
//! passes; any failure fails this test with the runner's output.
//!
//! Needs `python3` (with `venv`) and `node`/`npm` on the machine, and the registries (PyPI, npm) the first
//! time; both are there on every machine of this project (`.ci/run` runs this with the rest).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/` of this build (where the component was written by the host's build script).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Runs `command` to completion within `limit`, and returns its output; panics with it on failure.
fn run(what: &str, command: &mut Command, limit: Duration) -> String {
    let started = Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    // Read both pipes on threads (a full pipe would stall the child), and stop it at the limit.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = format!("{}{}", out.join().unwrap_or_default(), err.join().unwrap_or_default());
    match status {
        Some(s) if s.success() => text,
        Some(s) => panic!("{what} failed ({s}) after {:?}:\n{text}", started.elapsed()),
        None => panic!("{what} ran past {limit:?} and was stopped:\n{text}"),
    }
}

fn component_env(command: &mut Command) -> &mut Command {
    command.env("ACCOUNT_ENGINE_WASM", target_dir().join("guest/account-engine.wasm"))
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
        Command::new(&python).args(["-m", "unittest", "discover", "-s"]).arg(root().join("hosts/python/tests")).args(["-p", "test_*.py"]),
        Duration::from_secs(600),
    );
    println!("{tests}");
}

#[test]
fn the_javascript_host_passes_the_conformance_suite() {
    let package = root().join("hosts/js");
    let npm = |args: &[&str], limit| {
        run(&format!("npm {}", args.join(" ")), component_env(Command::new("npm").args(args).current_dir(&package)), limit)
    };
    // From the lockfile, once: better-sqlite3 compiles from source where its prebuilt binary cannot be
    // fetched (minutes), so a tree installed from the same lockfile is kept.
    if !installed_from_lockfile(&package) {
        npm(&["ci", "--no-audit", "--no-fund"], Duration::from_secs(900));
    }
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

/// Whether `node_modules` was installed from the package's current lockfile (npm writes its own copy,
/// `node_modules/.package-lock.json`, after an install).
fn installed_from_lockfile(package: &Path) -> bool {
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(package.join("node_modules/.package-lock.json")), modified(package.join("package-lock.json"))) {
        (Some(installed), Some(locked)) => installed >= locked,
        _ => false,
    }
}
