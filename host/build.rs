//! Builds the engine component from `guest/` so that a fresh clone needs nothing but `cargo run` or
//! `cargo test`.
//!
//! The guest is compiled for `wasm32-unknown-unknown` by a nested cargo into its own target directory (the
//! outer build holds the lock on the usual one), then `wit-component` wraps the core module into a
//! component whose imports are exactly what `wit/world.wit` names: the six drivers and `wasi:random`.
//! The component lands in `target/guest/account-engine.wasm` and is embedded into the host binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const GUEST_TARGET: &str = "wasm32-unknown-unknown";
const GUEST_PACKAGE: &str = "account-engine-guest";
const GUEST_ARTIFACT: &str = "account_engine_guest.wasm";
/// A deliberately misbehaving guest used by the tests of host-side tenant scoping and rollback.
const ROGUE_PACKAGE: &str = "rogue-guest";
const ROGUE_ARTIFACT: &str = "rogue_guest.wasm";
/// Tenant policies for the test suite: the examples of `examples/policies/` and the hostile ones of
/// `tests/policies/`, written to `<target>/guest/policies/<name>.wasm`.
const POLICIES: [(&str, &str); 7] = [
    ("email-domain", "examples/policies/email-domain"),
    ("key-rules", "examples/policies/key-rules"),
    ("pin-schema", "examples/policies/pin-schema"),
    ("office-hours", "examples/policies/office-hours"),
    ("member-cap", "examples/policies/member-cap"),
    ("hostile", "tests/policies/hostile"),
    ("imports-wasi", "tests/policies/imports-wasi"),
];

fn main() -> anyhow::Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir.parent().context("host/ has a parent")?.to_path_buf();
    for path in ["guest/src", "guest/Cargo.toml", "tests/rogue-guest/src", "tests/rogue-guest/Cargo.toml", "tests/rogue-guest/wit", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    for (_, dir) in POLICIES {
        for path in ["src", "Cargo.toml", "wit"] {
            println!("cargo:rerun-if-changed={}", workspace.join(dir).join(path).display());
        }
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    ensure_target_installed()?;
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("guest"),
        None => workspace.join("target").join("guest"),
    };
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    // The rogue guest only for the test suite (feature `rogue-guest`), never in the library users embed.
    let rogue = std::env::var_os("CARGO_FEATURE_ROGUE_GUEST").is_some();
    let mut components = vec![(GUEST_PACKAGE, GUEST_ARTIFACT, "ACCOUNT_ENGINE_COMPONENT", true)];
    if rogue {
        components.push((ROGUE_PACKAGE, ROGUE_ARTIFACT, "ROGUE_GUEST_COMPONENT", false));
    }
    let packages: Vec<String> = components.iter().map(|(package, ..)| package.to_string()).collect();
    build_core_modules(&workspace, &target_dir, &packages, &[])?;
    if rogue {
        // Policies are uploaded by tenants and held to a size cap: built small, without debug info.
        let policies: Vec<String> = POLICIES.iter().map(|(name, _)| format!("{name}-policy")).collect();
        let small = ["--config", "profile.release.strip=\"debuginfo\"", "--config", "profile.release.opt-level=\"s\""];
        build_core_modules(&workspace, &target_dir, &policies, &small)?;
        let dir = target_dir.join("policies");
        std::fs::create_dir_all(&dir)?;
        for (name, _) in POLICIES {
            let core = read_core_module(&target_dir, &format!("{}_policy.wasm", name.replace('-', "_")))?;
            let component = componentize(&core).with_context(|| format!("turning the {name} policy into a component"))?;
            std::fs::write(dir.join(format!("{name}.wasm")), &component)?;
            // The core module too: the tests show that a core module is refused at install.
            if name == "hostile" {
                std::fs::write(dir.join("hostile-core.wasm"), &core)?;
            }
        }
        println!("cargo:rustc-env=TEST_POLICIES_DIR={}", dir.display());
    }
    for (package, artifact, env_name, published) in components {
        let core = read_core_module(&target_dir, artifact)?;
        let component = componentize(&core).with_context(|| format!("turning {package} into a component"))?;
        let embedded = out_dir.join(format!("{package}.wasm"));
        std::fs::write(&embedded, &component)?;
        if published {
            // The file a user takes to another host.
            std::fs::write(target_dir.join("account-engine.wasm"), &component)?;
        }
        println!("cargo:rustc-env={env_name}={}", embedded.display());
    }
    Ok(())
}

/// Rustup's automatic install is off on these machines: add the guest's target when it is missing.
fn ensure_target_installed() -> anyhow::Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    let Ok(installed) = installed else {
        // No rustup (a distribution toolchain): let the nested build say what is missing.
        return Ok(());
    };
    if String::from_utf8_lossy(&installed.stdout).lines().any(|t| t.trim() == GUEST_TARGET) {
        return Ok(());
    }
    let status = Command::new("rustup").args(["target", "add", GUEST_TARGET]).status();
    match status {
        Ok(s) if s.success() => Ok(()),
        _ => bail!(
            "the Rust target {GUEST_TARGET} is missing and could not be added; run `rustup target add {GUEST_TARGET}` and build again"
        ),
    }
}

/// Builds `packages` for the guest target in one nested cargo run.
fn build_core_modules(workspace: &Path, target_dir: &Path, packages: &[String], extra: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace).args(["build", "--release", "--locked", "--target", GUEST_TARGET]).args(extra);
    for package in packages {
        cmd.args(["-p", package]);
    }
    cmd.arg("--target-dir").arg(target_dir);
    // The outer build's flags and feature variables describe the host, not the guest.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_CFG_")
            || matches!(&*key, "RUSTFLAGS" | "CARGO_ENCODED_RUSTFLAGS" | "CARGO_TARGET_DIR" | "CARGO_BUILD_TARGET" | "RUSTC_WRAPPER" | "CARGO_MAKEFLAGS" | "MAKEFLAGS" | "MFLAGS")
        {
            cmd.env_remove(&*key);
        }
    }
    let status = cmd.status().with_context(|| format!("running cargo to build {}", packages.join(", ")))?;
    if !status.success() {
        bail!("building {} for {GUEST_TARGET} failed", packages.join(", "));
    }
    Ok(())
}

fn read_core_module(target_dir: &Path, artifact: &str) -> anyhow::Result<Vec<u8>> {
    let path = target_dir.join(GUEST_TARGET).join("release").join(artifact);
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

fn componentize(core: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default().module(core)?.validate(true).encode()
}
