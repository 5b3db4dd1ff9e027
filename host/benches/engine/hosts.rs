//! The hosts side by side (issue 12): get pin and upsert pin through the whole host on a SQLite file —
//! the Rust host, the Python host (wasmtime-py) and the JavaScript host (jco) — and what instantiating the
//! component costs in each. Each other host runs its own `bench` script in a subprocess (installed under
//! `target/hosts/` as the test suite installs it) and prints its medians as JSON.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use account_host::Caller;
use serde_json::Value;

use crate::report::Report;
use crate::setup::{Backend, micros};

const CALLS: usize = 300;

/// One host's figures, in µs (none: the host could not run here, with why).
pub struct HostFigures {
    pub host: String,
    pub figures: Result<Value, String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// The engine component, published from this build (`account-service contract --out`'s files).
fn published_component() -> PathBuf {
    let dir = target().join("contract");
    account_host::runtime::write_contract(&dir).expect("publishing the contract");
    dir.join("account-engine.wasm")
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    micros(samples[samples.len() / 2])
}

/// The Rust host, measured like the others: the public API, a fresh instance and transaction per call.
async fn rust(bench_dir: &Path) -> HostFigures {
    let path = bench_dir.join("hosts-rust.db");
    let _ = std::fs::remove_file(&path);
    let b = Backend::open("SQLite on disk (WAL)", &format!("sqlite:{}", path.display())).await;
    let tenant = b.tenant("hosts").await;
    let caller = Caller::system(Some(&tenant));
    let pins = b.runtime.memory_pins();
    pins.upsert_pin(&caller, "k", r#"{"n": 0}"#, None, None).await.expect("pin");
    let mut get = Vec::with_capacity(CALLS);
    let mut upsert = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let t = Instant::now();
        pins.get_pin(&caller, "k").await.expect("get");
        get.push(t.elapsed());
        let t = Instant::now();
        pins.upsert_pin(&caller, "k", r#"{"n": 1}"#, None, None).await.expect("upsert");
        upsert.push(t.elapsed());
    }
    // A pin call instantiates the component of `memory-pins` (the other hosts: the whole engine).
    let instantiate = crate::instance::instantiate_and_teardown(&b).await.of("memory-pins");
    HostFigures {
        host: "Rust (wasmtime 48)".into(),
        figures: Ok(serde_json::json!({
            "instantiate_us": micros(instantiate),
            "get_pin_us": median(get),
            "upsert_pin_us": median(upsert),
        })),
    }
}

fn run_json(command: &mut Command) -> Result<Value, String> {
    let output = command.output().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("")
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.lines().last().unwrap_or("")).map_err(|e| format!("not JSON ({e}): {text}"))
}

fn python(bench_dir: &Path) -> HostFigures {
    let figures = (|| {
        let venv = target().join("hosts/python-venv");
        let python = venv.join("bin/python");
        if !python.exists() {
            run_json(Command::new("python3").args(["-m", "venv"]).arg(&venv)).ok();
        }
        let wasm = published_component();
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .arg(root().join("hosts/python"))
            .env("ACCOUNT_ENGINE_WASM", &wasm)
            .status()
            .map_err(|e| format!("pip: {e}"))?;
        if !installed.success() {
            return Err("pip install ./hosts/python failed".to_string());
        }
        let db = bench_dir.join("hosts-python.db");
        let _ = std::fs::remove_file(&db);
        run_json(Command::new(&python).arg(root().join("hosts/python/bench/bench.py")).arg(&db).arg(CALLS.to_string()))
    })();
    HostFigures { host: "Python (wasmtime-py 50)".into(), figures }
}

fn javascript(bench_dir: &Path) -> HostFigures {
    let figures = (|| {
        let package = root().join("hosts/js");
        // `install` keeps a tree already installed from the lockfile (better-sqlite3 may compile for minutes).
        for args in [&["install", "--no-audit", "--no-fund"][..], &["run", "build"][..]] {
            let status = Command::new("npm")
                .args(args)
                .current_dir(&package)
                .env("ACCOUNT_ENGINE_WASM", published_component())
                .stdout(std::process::Stdio::null())
                .status()
                .map_err(|e| format!("npm: {e}"))?;
            if !status.success() {
                return Err(format!("npm {} failed", args.join(" ")));
            }
        }
        let db = bench_dir.join("hosts-js.db");
        let _ = std::fs::remove_file(&db);
        run_json(Command::new("node").arg(package.join("bench/bench.mjs")).arg(&db).arg(CALLS.to_string()))
    })();
    HostFigures { host: "JavaScript (jco 1.35, Node 20)".into(), figures }
}

pub async fn measure(bench_dir: &Path) -> Vec<HostFigures> {
    vec![rust(bench_dir).await, python(bench_dir), javascript(bench_dir)]
}

pub fn report(report: &mut Report, hosts: &[HostFigures]) {
    report.line("");
    report.line(format!("### The hosts side by side: SQLite file, median of {CALLS} calls, µs"));
    report.line("");
    report.line("Fresh: a new instance (and store) per call; reused: one instance for every call (the JS host's");
    report.line("mode, as jco's instantiation is slow), replaced after a trap. The Rust host instantiates the");
    report.line("component of `memory-pins` alone, as its pin calls do; the other hosts, the whole published engine.");
    report.line("");
    report
        .line("| host | instantiate | get pin (fresh) | upsert pin (fresh) | get pin (reused) | upsert pin (reused) |");
    report.line("|---|---:|---:|---:|---:|---:|");
    for h in hosts {
        match &h.figures {
            Ok(f) => {
                let cell = |k: &str| f.get(k).and_then(Value::as_f64).map_or("–".to_string(), |v| format!("{v:.0}"));
                report.line(format!(
                    "| {} | {} | {} | {} | {} | {} |",
                    h.host,
                    cell("instantiate_us"),
                    cell("get_pin_us"),
                    cell("upsert_pin_us"),
                    cell("get_pin_reused_us"),
                    cell("upsert_pin_reused_us")
                ));
            }
            Err(why) => report.line(format!("| {} | not measured: {} |||||", h.host, why.replace('|', "/"))),
        }
    }
}
