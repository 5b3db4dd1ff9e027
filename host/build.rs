//! Builds the engine component from `guest/` so that a fresh clone needs nothing but `cargo run` or
//! `cargo test`.
//!
//! The guest is compiled for `wasm32-unknown-unknown` by a nested cargo into its own target directory,
//! `target/guest` (the outer build holds the lock on the usual one; the directory is the nested build's
//! cache, shared by every profile and feature set of the host, so the guest is compiled once). The nested
//! cargo joins the outer build's jobserver, so together they use no more cores than `cargo` was given.
//! `wit-component` then wraps the core module into a component whose imports are exactly what
//! `wit/world.wit` names: the seven drivers, the policy gate and `wasi:random`.
//!
//! Everything this script makes goes to `OUT_DIR` and is embedded into the host: the component, the
//! contract it implements (`wit/` with its documentation) and the types of its functions. Publishing is
//! an explicit step: `account-service contract --out DIR` writes all three from the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

#[path = "build/api_model.rs"]
mod api_model;
#[path = "build/contract_types.rs"]
mod contract_types;
#[path = "build/one_call.rs"]
mod one_call;
#[path = "build/operations_check.rs"]
mod operations_check;
// The description of every operation, checked against the contract's exports below.
#[path = "../guest/src/operations.rs"]
#[allow(dead_code)]
mod operations;
#[path = "../guest/src/permission.rs"]
#[allow(dead_code)]
mod permission;

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

/// The web console's files (`host/console/`), embedded in the binary: `(name, content type, bytes)`.
fn embed_console(dir: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).context("console file names are UTF-8")?.to_string();
        let content_type = match path.extension().and_then(|e| e.to_str()) {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            _ => continue,
        };
        println!("cargo:rerun-if-changed={}", path.display());
        entries.push(format!("    ({name:?}, {content_type:?}, include_bytes!({:?})),\n", path.display().to_string()));
    }
    entries.sort();
    let text = format!("pub const FILES: &[(&str, &str, &[u8])] = &[\n{}];\n", entries.concat());
    std::fs::write(out, text)?;
    Ok(())
}

/// The contract's version, as `wit/world.wit` declares its package (`package aos:accounts@X;`): the host's
/// names of the contract's interfaces follow it.
fn contract_version(world: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(world)?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("package aos:accounts@")?.strip_suffix(';').map(str::to_string))
        .context("wit/world.wit declares `package aos:accounts@<version>;`")
}

fn main() -> anyhow::Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir.parent().context("host/ has a parent")?.to_path_buf();
    // The root manifest (profiles, lints, dependencies of the nested build), the toolchain, and the
    // migrations (`sqlx::migrate!` embeds them, but does not see a new file by itself).
    for path in [
        "Cargo.toml",
        "rust-toolchain.toml",
        "migrations",
        "guest/src",
        "guest/Cargo.toml",
        "tests/rogue-guest/src",
        "tests/rogue-guest/Cargo.toml",
        "tests/rogue-guest/wit",
        "wit",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    for (_, dir) in POLICIES {
        for path in ["src", "Cargo.toml", "wit"] {
            println!("cargo:rerun-if-changed={}", workspace.join(dir).join(path).display());
        }
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    println!("cargo:rerun-if-changed={}", manifest_dir.join("build").display());

    ensure_target_installed()?;
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("guest"),
        None => workspace.join("target").join("guest"),
    };
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rustc-env=AOS_CONTRACT_VERSION={}", contract_version(&workspace.join("wit").join("world.wit"))?);
    generate_sql_catalogue(&workspace.join("hosts").join("sql"), &out_dir.join("sql_catalogue.rs"))?;
    embed_console(&manifest_dir.join("console"), &out_dir.join("console_files.rs"))?;

    // The rogue guest only for the test suite (feature `rogue-guest`), never in the library users embed.
    let rogue = std::env::var_os("CARGO_FEATURE_ROGUE_GUEST").is_some();
    let mut components = vec![(GUEST_PACKAGE, GUEST_ARTIFACT, "ACCOUNT_ENGINE_COMPONENT", true)];
    if rogue {
        components.push((ROGUE_PACKAGE, ROGUE_ARTIFACT, "ROGUE_GUEST_COMPONENT", false));
    }
    let packages: Vec<String> = components.iter().map(|(package, ..)| package.to_string()).collect();
    // The engine is embedded and published: without DWARF (3.4 of its 4.1 MB), keeping the name section
    // that trap backtraces read.
    build_core_modules(&workspace, &target_dir, &packages, &["--config", "profile.release.strip=\"debuginfo\""])?;
    if rogue {
        // Policies are uploaded by tenants and held to a size cap: built small, without debug info.
        let policies: Vec<String> = POLICIES.iter().map(|(name, _)| format!("{name}-policy")).collect();
        let small = ["--config", "profile.release.strip=\"debuginfo\"", "--config", "profile.release.opt-level=\"s\""];
        build_core_modules(&workspace, &target_dir, &policies, &small)?;
        let dir = target_dir.join("policies");
        std::fs::create_dir_all(&dir)?;
        for (name, _) in POLICIES {
            let core = read_core_module(&target_dir, &format!("{}_policy.wasm", name.replace('-', "_")))?;
            let component =
                componentize(&core).with_context(|| format!("turning the {name} policy into a component"))?;
            std::fs::write(dir.join(format!("{name}.wasm")), &component)?;
            // The core module too: the tests show that a core module is refused at install.
            if name == "hostile" {
                std::fs::write(dir.join("hostile-core.wasm"), &core)?;
            }
        }
        println!("cargo:rustc-env=TEST_POLICIES_DIR={}", dir.display());
    }
    let mut engine_component = None;
    for (package, artifact, env_name, is_engine) in components {
        let core = read_core_module(&target_dir, artifact)?;
        let component = componentize(&core).with_context(|| format!("turning {package} into a component"))?;
        let embedded = out_dir.join(format!("{package}.wasm"));
        std::fs::write(&embedded, &component)?;
        if is_engine {
            engine_component = Some(component.clone());
            let mut parts = String::from("&[\n");
            for (interface, part) in one_call::interface_components(&core, &workspace.join("wit"))? {
                let path = out_dir.join(format!("{package}.{interface}.wasm"));
                std::fs::write(&path, &part)?;
                parts.push_str(&format!("    ({interface:?}, include_bytes!({:?})),\n", path.display().to_string()));
            }
            parts.push(']');
            std::fs::write(out_dir.join("interface_components.rs"), parts)?;
        }
        println!("cargo:rustc-env={env_name}={}", embedded.display());
    }
    let engine_component = engine_component.context("the engine component was built")?;
    embed_contract(&workspace.join("wit"), &engine_component, &out_dir)?;
    let model = api_model::describe(&workspace.join("wit"), "account-engine")?;
    check_operations(&model)?;
    std::fs::write(out_dir.join("api-model.json"), serde_json::to_string(&model)?)?;
    Ok(())
}

/// Every exported function of the contract has exactly one description in `guest/src/operations.rs`.
fn check_operations(model: &serde_json::Value) -> anyhow::Result<()> {
    let exports: Vec<(String, String)> = model
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(interface, functions)| {
            functions.as_object().into_iter().flatten().map(move |(f, _)| (interface.clone(), f.clone()))
        })
        .collect();
    let described: Vec<(&str, &str)> = operations::ALL.iter().map(|op| (op.interface, op.name)).collect();
    operations_check::check(&exports, &described).map_err(anyhow::Error::msg)
}

/// Lists the WIT package's files (documentation included: the component's own embedded WIT has none) for
/// the host to embed as `CONTRACT_WIT`, and writes the types of the component's functions into `out_dir`
/// for it to embed as `CONTRACT_TYPES_JSON` (`contract_wit.rs`).
fn embed_contract(wit: &Path, component: &[u8], out_dir: &Path) -> anyhow::Result<()> {
    let mut files = Vec::new();
    let mut pending = vec![wit.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "wit") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut code = String::from(
        "/// The contract's WIT files (path under `wit/`, text), documentation included.\npub const CONTRACT_WIT: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let relative = file.strip_prefix(wit)?;
        let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        code.push_str(&format!("    ({name:?}, include_str!({:?})),\n", file.display().to_string()));
    }
    code.push_str("];\n");
    // The types of every function, for hosts that convert values by type without runtime reflection.
    let types = serde_json::to_string_pretty(&contract_types::describe(component)?)?;
    let types_file = out_dir.join("account-engine.types.json");
    std::fs::write(&types_file, &types)?;
    code.push_str(&format!(
        "/// The types of every function the component imports and exports, as JSON (`host/build/contract_types.rs`).\npub const CONTRACT_TYPES_JSON: &str = include_str!({:?});\n",
        types_file.display().to_string()
    ));
    std::fs::write(out_dir.join("contract_wit.rs"), code)?;
    Ok(())
}

/// Compiles the SQL catalogue (`hosts/sql/*.sql`, format in its README) into Rust for `src/catalogue.rs`:
/// one module per file (`tenant-driver.sql` → `tenant_driver`), one `&'static str` constant per statement
/// (`fetch-tenant-by-slug` → `FETCH_TENANT_BY_SLUG`; a statement with backend blocks → `…_SQLITE` and
/// `…_POSTGRES`), fragments expanded, and `ALL` listing every statement by address. Constants, not files
/// read at run time: sqlx takes only static SQL. A malformed file, an unknown or nested fragment or a
/// duplicate name fails the build, so every host finds the catalogue well-formed.
fn generate_sql_catalogue(dir: &Path, out: &Path) -> anyhow::Result<()> {
    /// One block: `-- statement: <name> [<backend>]` or `-- fragment: <name>`, with the comment lines just
    /// above it and its text.
    struct Block {
        fragment: bool,
        name: String,
        backend: Option<&'static str>,
        doc: Vec<String>,
        text: String,
        at: String,
    }

    fn is_kebab(name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .split('-')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    }

    fn parse_marker(rest: &str, fragment: bool, at: &str, doc: Vec<String>) -> anyhow::Result<Block> {
        let mut words = rest.split_whitespace();
        let name = words.next().unwrap_or_default().to_string();
        if !is_kebab(&name) {
            bail!("{at}: a block's name must be kebab-case, not {name:?}");
        }
        let backend = match words.next() {
            None => None,
            Some("[sqlite]") if !fragment => Some("sqlite"),
            Some("[postgres]") if !fragment => Some("postgres"),
            Some(other) => {
                bail!("{at}: unexpected {other:?} after the name (statements may end in [sqlite] or [postgres])")
            }
        };
        if let Some(extra) = words.next() {
            bail!("{at}: unexpected {extra:?} after the marker");
        }
        Ok(Block { fragment, name, backend, doc, text: String::new(), at: at.to_string() })
    }

    /// Ends a block: its lines without comments, trimmed, without a final `;`; never empty.
    fn close(mut block: Block, lines: &mut Vec<&str>) -> anyhow::Result<Block> {
        let text = lines.join("\n");
        lines.clear();
        let text = text.trim();
        block.text = text.strip_suffix(';').unwrap_or(text).trim_end().to_string();
        if block.text.is_empty() {
            bail!("{}: the block {:?} has no text", block.at, block.name);
        }
        Ok(block)
    }

    fn parse_file(path: &Path) -> anyhow::Result<Vec<Block>> {
        let source = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let (mut blocks, mut open, mut lines, mut doc) = (Vec::new(), None::<Block>, Vec::new(), Vec::new());
        for (index, line) in source.lines().enumerate() {
            let at = format!("{}:{}", path.display(), index + 1);
            let trimmed = line.trim();
            if let Some(comment) = trimmed.strip_prefix("--").map(str::trim) {
                let marker = match (comment.strip_prefix("statement:"), comment.strip_prefix("fragment:")) {
                    (Some(rest), _) => Some((rest, false)),
                    (_, Some(rest)) => Some((rest, true)),
                    _ => None,
                };
                match marker {
                    Some((rest, fragment)) => {
                        if let Some(block) = open.take() {
                            blocks.push(close(block, &mut lines)?);
                        }
                        open = Some(parse_marker(rest, fragment, &at, std::mem::take(&mut doc))?);
                    }
                    None => doc.push(comment.to_string()),
                }
                continue;
            }
            // Only comment lines directly above a marker document it.
            doc.clear();
            match open {
                Some(_) => lines.push(line),
                None if trimmed.is_empty() => {}
                None => bail!("{at}: text before the first `-- statement:` or `-- fragment:` marker"),
            }
        }
        if let Some(block) = open.take() {
            blocks.push(close(block, &mut lines)?);
        }
        Ok(blocks)
    }

    /// Replaces every `{{name}}` by its fragment.
    fn expand(block: &Block, fragments: &std::collections::HashMap<String, String>) -> anyhow::Result<String> {
        let (mut text, mut rest) = (String::new(), block.text.as_str());
        while let Some(start) = rest.find("{{") {
            let end = rest[start..]
                .find("}}")
                .with_context(|| format!("{}: `{{{{` without `}}}}` in {:?}", block.at, block.name))?;
            let name = &rest[start + 2..start + end];
            let fragment = fragments
                .get(name)
                .with_context(|| format!("{}: unknown fragment {{{{{name}}}}} in {:?}", block.at, block.name))?;
            text.push_str(&rest[..start]);
            text.push_str(fragment);
            rest = &rest[start + end + 2..];
        }
        text.push_str(rest);
        Ok(text)
    }

    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading the SQL catalogue {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            if !is_kebab(&stem) {
                bail!("{}: catalogue files are named in kebab-case", path.display());
            }
            files.push((stem, parse_file(&path)?));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));

    let mut fragments = std::collections::HashMap::new();
    for block in files.iter().flat_map(|(_, blocks)| blocks).filter(|b| b.fragment) {
        if block.text.contains("{{") {
            bail!("{}: fragments do not nest, but {:?} uses one", block.at, block.name);
        }
        if fragments.insert(block.name.clone(), block.text.clone()).is_some() {
            bail!("{}: a second fragment named {:?}", block.at, block.name);
        }
    }

    let doc_attr =
        |lines: &[String]| lines.iter().map(|l| format!("    #[doc = {:?}]\n", format!(" {l}"))).collect::<String>();
    let mut code = String::from("// Generated by host/build.rs from hosts/sql/*.sql: edit those, not this.\n\n");
    let mut all = String::from(
        "/// Every statement as (`<file>/<name>`, or with ` [backend]` for a backend's block; its text).\npub const ALL: &[(&str, &str)] = &[\n",
    );
    for (stem, blocks) in &files {
        let module = stem.replace('-', "_");
        let statements: Vec<&Block> = blocks.iter().filter(|b| !b.fragment).collect();
        if statements.is_empty() {
            continue;
        }
        code.push_str(&format!(
            "#[doc = {:?}]\npub mod {module} {{\n",
            format!(" The statements of `hosts/sql/{stem}.sql`.")
        ));
        let (mut names, mut constants): (Vec<&str>, Vec<String>) = (Vec::new(), Vec::new());
        for block in &statements {
            if names.contains(&block.name.as_str()) {
                continue;
            }
            names.push(&block.name);
            let variants: Vec<&Block> = statements.iter().copied().filter(|b| b.name == block.name).collect();
            for (i, variant) in variants.iter().enumerate() {
                if variants[..i].iter().any(|b| b.backend == variant.backend) {
                    let backend = variant.backend.map(|b| format!(" [{b}]")).unwrap_or_default();
                    bail!("{}: a second statement named {:?}{backend} in this file", variant.at, variant.name);
                }
            }
            let of = |backend: Option<&str>| variants.iter().copied().find(|b| b.backend == backend);
            let constant = block.name.replace('-', "_").to_uppercase();
            let address = format!("{stem}/{}", block.name);
            // (constant, address in `ALL`, its block): the plain block alone, or the block of each backend.
            let mut emitted = Vec::new();
            if variants.iter().all(|b| b.backend.is_none()) {
                emitted.push((constant, address, *block));
            } else {
                let plain = of(None);
                if let (Some(plain), Some(_), Some(_)) = (plain, of(Some("sqlite")), of(Some("postgres"))) {
                    bail!(
                        "{}: {:?} has a block for each backend, so its plain block is never used",
                        plain.at,
                        plain.name
                    );
                }
                for backend in ["sqlite", "postgres"] {
                    let source = of(Some(backend)).or(plain).with_context(|| {
                        format!(
                            "{}: {:?} has a backend block, but none for {backend} and no plain one",
                            block.at, block.name
                        )
                    })?;
                    emitted.push((
                        format!("{constant}_{}", backend.to_uppercase()),
                        format!("{address} [{backend}]"),
                        source,
                    ));
                }
            }
            for (constant, address, source) in emitted {
                // `x` with backend blocks and a statement `x-sqlite` would both make `X_SQLITE`.
                if constants.contains(&constant) {
                    bail!(
                        "{}: {:?} makes the constant {constant}, which another statement of this file makes too",
                        source.at,
                        source.name
                    );
                }
                constants.push(constant.clone());
                let text = expand(source, &fragments)?;
                // A backend's block without its own comment shares the first block's.
                code.push_str(&doc_attr(if source.doc.is_empty() { &block.doc } else { &source.doc }));
                code.push_str(&format!("    #[doc = \"\"]\n    #[doc = {:?}]\n", format!(" `{address}`")));
                code.push_str(&format!("    pub const {constant}: &str = {text:?};\n"));
                all.push_str(&format!("    ({address:?}, {module}::{constant}),\n"));
            }
        }
        code.push_str("}\n\n");
    }
    all.push_str("];\n");
    code.push_str(&all);
    std::fs::write(out, code).with_context(|| format!("writing {}", out.display()))?;
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
    // The outer build's flags, wrappers (clippy's) and feature variables describe the host, not the guest.
    // The jobserver (`CARGO_MAKEFLAGS`) is kept: the nested cargo takes its jobs from the outer build's,
    // so the two together run no more jobs than the outer `cargo` was given.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_CFG_")
            || matches!(
                &*key,
                "RUSTFLAGS"
                    | "CARGO_ENCODED_RUSTFLAGS"
                    | "CARGO_TARGET_DIR"
                    | "CARGO_BUILD_TARGET"
                    | "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
            )
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
