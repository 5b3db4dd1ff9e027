//! Running the tools the tests drive (Python, Node, npm, pip), bounded in time, with their output kept
//! for the failure message. Plain `std`, so that both test packages include it (`#[path]`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The workspace's `target/` (where the host's build script writes the component).
pub fn target_dir(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"))
}

/// Runs `command` to completion within `limit`, and returns its output; panics with it on failure.
pub fn run(what: &str, command: &mut Command, limit: Duration) -> String {
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

/// Whether `node_modules` was installed from the package's current lockfile (npm writes its own copy,
/// `node_modules/.package-lock.json`, after an install).
pub fn installed_from_lockfile(package: &Path) -> bool {
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(package.join("node_modules/.package-lock.json")), modified(package.join("package-lock.json"))) {
        (Some(installed), Some(locked)) => installed >= locked,
        _ => false,
    }
}

/// `npm ci` in `package`, unless its `node_modules` already comes from its lockfile.
pub fn npm_ci(package: &Path) {
    if !installed_from_lockfile(package) {
        run(
            &format!("npm ci in {}", package.display()),
            Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(package),
            Duration::from_secs(900),
        );
    }
}

/// A Python virtual environment at `venv` holding exactly `requirements` (pip's requirement lines): made
/// and installed from PyPI when missing or when the requirements changed. Returns its `bin/`. Tests that
/// ask for the same one at once take turns (a lock file beside it): the second one finds it made, where
/// both used to make it and one failed ("File exists", seen in a clean clone's run).
pub fn python_venv(venv: &Path, requirements: &[&str]) -> PathBuf {
    std::fs::create_dir_all(venv.parent().expect("a venv's directory")).expect("the venv's directory");
    let lock = std::fs::File::create(venv.with_extension("lock")).expect("the venv's lock file");
    lock.lock().expect("lock the venv");
    let wanted = requirements.join("\n");
    let stamp = venv.join("installed");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return venv.join("bin");
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run("python3 -m venv", Command::new(&python).args(["-m", "venv", "--clear"]).arg(venv), Duration::from_secs(120));
    run(
        &format!("pip install {}", requirements.join(" ")),
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(requirements),
        Duration::from_secs(900),
    );
    std::fs::write(&stamp, &wanted).expect("write the venv's stamp");
    venv.join("bin")
}
