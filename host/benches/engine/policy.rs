//! What a tenant's policy costs an operation, side by side in one run (issue 11): upsert pin by the
//! tenant's owner with no policy, with an active policy that does not handle `write-pin`, and with a
//! Rust policy that handles it and allows (a fresh policy instance per call, as always). And the hook
//! alone — a fresh instance plus the call — for the Rust policy and the JavaScript one
//! (componentize-js; built with `examples/policies/email-domain-js/build.sh` when missing).

use std::path::Path;
use std::time::{Duration, Instant};

use account_host::bindings::aos::accounts::policy_types::{
    ActorKind, InviteEvent, PinEvent, PolicyActor, PolicyContext,
};
use account_host::bindings::policies::NewPolicy;
use account_host::bindings::policy_gate::PolicyEvent;
use account_host::bindings::{Actor, IdentityPrincipal, Role};
use account_host::db::codec::Id;
use account_host::{Caller, PolicyLimits, Runtime, RuntimeConfig};

use crate::setup::{micros, percentile};

/// Rounds of the side-by-side measurement: each round calls every variant once, in turn.
const ROUNDS: usize = 2000;

pub struct PolicyCosts {
    /// Median upsert pin: (variant, time).
    pub operations: Vec<(&'static str, Duration)>,
    /// Median hook alone (fresh instance + call): (policy, bytes, time).
    pub hooks: Vec<(&'static str, usize, Duration)>,
}

fn component(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(account_host::runtime::TEST_POLICIES_DIR).join(format!("{name}.wasm")))
        .expect("a built policy")
}

/// The JavaScript policy, built when missing (npm and Node needed).
fn javascript_policy() -> Option<Vec<u8>> {
    let out = Path::new(account_host::runtime::TEST_POLICIES_DIR).join("email-domain-js.wasm");
    if !out.exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policies/email-domain-js/build.sh");
        let built = std::process::Command::new("sh").arg(script).arg(&out).status().ok()?;
        if !built.success() {
            return None;
        }
    }
    std::fs::read(out).ok()
}

/// An owner (a person, through `create-project`) of a fresh tenant.
async fn owner(rt: &Runtime, db: &account_host::db::Database, name: &str) -> (String, Caller) {
    let subject = format!("bench-{name}-{}", uuid::Uuid::new_v4().simple());
    let person = |user_id: Option<String>, tenant: Option<&str>| {
        Caller::new(
            Actor::Identity(IdentityPrincipal {
                external_id: subject.clone(),
                email: format!("{subject}@bench.example"),
                user_id,
                name: None,
                email_verified: true,
            }),
            tenant,
        )
    };
    let project = rt.accounts().create_project(&person(None, None), name, None).await.expect("project");
    let user = account_host::identity::user_id_for_subject(db, &subject).await.expect("user");
    (project.project_id.clone(), person(user, Some(&project.project_id)))
}

pub async fn costs(url: &str) -> PolicyCosts {
    // A runtime of its own, allowed the JavaScript policy's size.
    let db = account_host::db::Database::connect(url).await.expect("database");
    db.migrate().await.expect("migrate");
    let limits = PolicyLimits { max_component_bytes: 16 << 20, ..PolicyLimits::default() };
    let rt = Runtime::with(
        db.clone(),
        std::sync::Arc::new(account_host::clock::SystemClock),
        RuntimeConfig { policies: limits, ..RuntimeConfig::default() },
    )
    .expect("runtime");

    let (_, none) = owner(&rt, &db, "no-policy").await;
    let (_, unhandled) = owner(&rt, &db, "unhandled").await;
    let (rust_tenant, handled) = owner(&rt, &db, "handled").await;
    let install = async |caller: &Caller, name: &str, config: &str| {
        let policy = NewPolicy { component: component(name), config: config.into(), note: None };
        let v = rt.policies().install(caller, &policy).await.expect("install");
        rt.policies().activate(caller, v.version).await.expect("activate");
        v.version
    };
    install(&unhandled, "email-domain", r#"{"domains": ["bench.example"]}"#).await;
    let rust_version = install(&handled, "pin-schema", r#"{"prefix": "agent:", "required": ["version"]}"#).await;

    let variants: [(&'static str, &Caller); 3] = [
        ("no policy", &none),
        ("a policy that does not handle write-pin", &unhandled),
        ("a Rust policy that handles it and allows", &handled),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(ROUNDS); variants.len()];
    for round in 0..ROUNDS + 200 {
        for (i, (_, caller)) in variants.iter().enumerate() {
            let started = Instant::now();
            rt.memory_pins().upsert_pin(caller, "bench", r#"{"n": 1}"#, None, None).await.expect("upsert pin");
            if round >= 200 {
                times[i].push(started.elapsed());
            }
        }
    }
    let operations = variants.iter().zip(times.iter_mut()).map(|((name, _), t)| (*name, percentile(t, 0.5))).collect();

    // The hook alone: what a handled trigger adds, instance included.
    let mut hooks = Vec::new();
    let policies = rt.policy_runtime();
    let tenant = Id::parse(&rust_tenant).expect("tenant id");
    let invite = PolicyEvent::InviteUser(InviteEvent {
        email: "eve@evil.example".into(),
        role: Role::Member,
        members: 3,
        pending_invitations: 0,
    });
    let pin = PolicyEvent::WritePin(PinEvent { key: "bench".into(), value: r#"{"n":1}"#.into(), ttl_seconds: None });
    // (name, component, event, config, an engine call between hooks: caches as cold as inside a call)
    let mut measured = vec![
        (
            "Rust (pin-schema, the write-pin hook above), back to back",
            component("pin-schema"),
            &pin,
            r#"{"prefix": "agent:"}"#,
            false,
        ),
        ("Rust (pin-schema), each after an upsert pin", component("pin-schema"), &pin, r#"{"prefix": "agent:"}"#, true),
        (
            "Rust (email-domain), back to back",
            component("email-domain"),
            &invite,
            r#"{"domains": ["acme.com"]}"#,
            false,
        ),
    ];
    if let Some(js) = javascript_policy() {
        measured.push((
            "JavaScript (email-domain-js, componentize-js), back to back",
            js,
            &invite,
            r#"{"domains": ["acme.com"]}"#,
            false,
        ));
    }
    for (i, (name, bytes, event, config, after_a_call)) in measured.into_iter().enumerate() {
        let hash = account_host::identity::sha256_hex(&bytes);
        let handles = account_host::policy::set_of_bits(0b111_1111);
        let version = rust_version + 100 + i as u32;
        let loaded = policies
            .prepare(&tenant, version, &hash, &bytes, config.into(), handles, Duration::from_secs(120))
            .await
            .unwrap_or_else(|e| panic!("compiling {name}: {e:?}"));
        let ctx = || PolicyContext {
            tenant_id: rust_tenant.clone(),
            actor: PolicyActor { kind: ActorKind::User, user_id: None, api_key_id: None, role: Some(Role::Owner) },
            now: 0,
            config: loaded.config.clone(),
        };
        let rounds = if bytes.len() > 1 << 20 { 200 } else { ROUNDS };
        let mut t = Vec::with_capacity(rounds);
        for round in 0..rounds + 20 {
            if after_a_call {
                rt.memory_pins().upsert_pin(&none, "bench", r#"{"n": 1}"#, None, None).await.expect("upsert pin");
            }
            let started = Instant::now();
            policies.run(&loaded, ctx(), event).await.expect("the hook runs");
            if round >= 20 {
                t.push(started.elapsed());
            }
        }
        hooks.push((name, bytes.len(), percentile(&mut t, 0.5)));
    }
    PolicyCosts { operations, hooks }
}

/// The rows of the report, and the targets.
pub fn report(report: &mut crate::report::Report, backend: &str, costs: &PolicyCosts) {
    report.line("");
    report.line(format!(
        "### Tenant policies: upsert pin by the tenant's owner on {backend} (median of {ROUNDS}, variants in turn)"
    ));
    report.line("");
    report.line("| variant | µs | added µs |");
    report.line("|---|---:|---:|");
    let base = costs.operations[0].1;
    let added = |d: Duration| micros(d) - micros(base);
    for (name, d) in &costs.operations {
        report.line(format!("| {name} | {:.1} | {:+.1} |", micros(*d), added(*d)));
    }
    report.line("");
    report.line("| hook alone (fresh policy instance + call) | component bytes | µs |");
    report.line("|---|---:|---:|");
    for (name, bytes, d) in &costs.hooks {
        report.line(format!("| {name} | {bytes} | {:.1} |", micros(*d)));
    }
    let unhandled = added(costs.operations[1].1);
    let handled = added(costs.operations[2].1);
    report.target(
        "a policy that does not handle the trigger adds ≤ 1 µs",
        format!("{unhandled:+.1} µs"),
        unhandled <= 1.0,
    );
    report.target(
        "a handled trigger adds ≤ 30 µs (fresh policy instance included)",
        format!("{handled:+.1} µs"),
        handled <= 30.0,
    );
}
