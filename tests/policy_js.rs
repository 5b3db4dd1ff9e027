//! A tenant policy written in JavaScript (`examples/policies/email-domain-js`), built by the test from
//! the npm registry's componentize-js, installed and run under the same limits as a Rust policy (with
//! the size cap raised: the component carries its JavaScript engine). What it costs is printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use account_host::bindings::policies::NewPolicy;
use account_host::bindings::{ErrorCode, Role};
use account_host::{PolicyLimits, RuntimeConfig};
use suite::*;

/// Builds the JavaScript policy once per test binary (`build.sh`: npm ci when needed, componentize-js).
fn js_policy() -> Vec<u8> {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let path = BUILT.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies/email-domain-js/build.sh");
        let out = Path::new(account_host::runtime::TEST_POLICIES_DIR).join("email-domain-js.wasm");
        let started = Instant::now();
        let built = Command::new("sh").arg(&script).arg(&out).status().expect("sh");
        assert!(built.success(), "building the JavaScript policy ({})", script.display());
        eprintln!("javascript policy: built in {:.1} s", started.elapsed().as_secs_f64());
        out
    });
    std::fs::read(path).expect("the built JavaScript policy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_policy_allows_and_denies_like_the_rust_one() {
    let component = js_policy();
    // The component carries its JavaScript engine: a larger size cap, and more time to compile it (on one
    // core: the policy engine never compiles in parallel).
    let limits = PolicyLimits {
        max_component_bytes: 16 << 20,
        compile_timeout: Duration::from_secs(180),
        ..PolicyLimits::default()
    };
    each_backend_with(RuntimeConfig { policies: limits, ..test_config() }, async |h| {
        let (_, owner) = h.owned_tenant("Acme JS", "owner-js").await;
        let started = Instant::now();
        let installed = h
            .runtime
            .policies()
            .install(
                &owner,
                &NewPolicy { component: component.clone(), config: r#"{"domains": ["acme.com"]}"#.into(), note: None },
            )
            .await
            .expect("install the JavaScript policy");
        let install = started.elapsed();
        assert_eq!(installed.size_bytes as usize, component.len());
        h.runtime.policies().activate(&owner, installed.version).await.expect("activate");

        let denied = h.runtime.accounts().invite_user(&owner, "eve@evil.example", Role::Member).await;
        assert!(expect_code(denied, ErrorCode::PolicyDenied).contains("@acme.com"));
        assert_eq!(h.count("SELECT COUNT(*) FROM invitations").await, 0);
        let started = Instant::now();
        h.runtime.accounts().invite_user(&owner, "bob@acme.com", Role::Member).await.expect("allowed");
        let call = started.elapsed();
        let s = h.runtime.policies().status(&owner).await.unwrap();
        assert_eq!((s.calls, s.denials, s.failures), (2, 1, 0));
        eprintln!(
            "javascript policy on {:?}: {} bytes; install (compile included) {:.0} ms; an allowed invitation {:.1} ms",
            h.backend,
            component.len(),
            install.as_secs_f64() * 1e3,
            call.as_secs_f64() * 1e3
        );
    })
    .await;
}
