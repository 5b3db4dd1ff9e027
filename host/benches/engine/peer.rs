//! The original stack as a peer: `host/benches/peer/peer.py` (SQLAlchemy 2 async ORM on asyncpg) in a
//! virtual environment under `target/bench/venv`, created and filled from the package registry on first
//! use, driven line by line over stdin/stdout against the same PostgreSQL database.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::load::Load;

pub struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").join("peer")
}

pub fn bench_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("bench"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target").join("bench"),
    }
}

/// The virtual environment's python, creating the environment when it is missing or its requirements
/// changed.
fn venv_python() -> anyhow::Result<PathBuf> {
    let venv = bench_dir().join("venv");
    let python = venv.join("bin").join("python");
    let requirements = std::fs::read_to_string(peer_dir().join("requirements.txt"))?;
    let stamp = venv.join("requirements.installed");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&requirements) {
        return Ok(python);
    }
    let interpreter = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    println!("(creating the Python peer's virtual environment in {} with {interpreter})", venv.display());
    run(Command::new(&interpreter).args(["-m", "venv", "--clear"]).arg(&venv))
        .context("creating the virtual environment")?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(peer_dir().join("requirements.txt")))
    .context("installing SQLAlchemy and asyncpg from the package registry")?;
    std::fs::write(&stamp, requirements)?;
    Ok(python)
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status().with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

impl Peer {
    /// Starts the peer on `postgres_url` (a `postgres://` URL), acting on `tenant`.
    pub fn start(postgres_url: &str, tenant: &str, pins: usize) -> anyhow::Result<Peer> {
        let python = venv_python()?;
        let url = match postgres_url.split_once("://") {
            Some((_, rest)) => format!("postgresql+asyncpg://{rest}"),
            None => bail!("not a PostgreSQL URL: {postgres_url}"),
        };
        let mut child = Command::new(python)
            .arg(peer_dir().join("peer.py"))
            .args(["--url", &url, "--tenant", tenant, "--pins", &pins.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the Python peer")?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut ready = String::new();
        stdout.read_line(&mut ready)?;
        if !ready.contains("ready") {
            bail!("the Python peer did not start (it said {ready:?})");
        }
        Ok(Peer { child, stdin, stdout })
    }

    /// `callers` concurrent callers of `operation` for `window`.
    pub fn run(&mut self, operation: &str, callers: usize, window: Duration) -> anyhow::Result<Load> {
        writeln!(self.stdin, "{operation} {callers} {}", window.as_secs_f64())?;
        self.stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let answer: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("the peer answered {line:?}"))?;
        let number = |k: &str| answer[k].as_f64().with_context(|| format!("no {k} in {line:?}"));
        let us = |v: f64| Duration::from_secs_f64(v / 1e6);
        Ok(Load {
            operation: operation.into(),
            callers,
            tenants: 1,
            calls_per_second: number("calls")? / number("seconds")?,
            median: us(number("median_us")?),
            p95: us(number("p95_us")?),
            cpu_per_call: Some(Duration::from_secs_f64(number("cpu_seconds")? / number("calls")?.max(1.0))),
            system_per_call: None,
            waits_per_call: None,
            peak_rss_kib: None,
        })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
