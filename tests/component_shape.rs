//! Inspects the built component: it imports exactly the seven driver interfaces, the policy gate (and
//! the type-only interfaces they use) plus `wasi:random/random`, and exports exactly the six engine
//! interfaces, with every driver method and engine operation of the contract.

use account_host::runtime::{ACCOUNT_ENGINE_COMPONENT, InterfaceShape, component_shape};

fn find<'a>(shapes: &'a [InterfaceShape], name: &str) -> &'a InterfaceShape {
    shapes.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("{name} missing from {shapes:?}"))
}

#[test]
fn the_component_imports_the_drivers_and_randomness_only_and_exports_the_engine() {
    let engine = wasmtime_engine();
    let (imports, exports) = component_shape(&engine, ACCOUNT_ENGINE_COMPONENT).expect("inspect component");

    let mut import_names: Vec<&str> = imports.iter().map(|s| s.name.as_str()).collect();
    import_names.sort();
    assert_eq!(
        import_names,
        [
            "aos:accounts/accounts-facade-driver@0.3.0",
            "aos:accounts/memory-pins-driver@0.3.0",
            "aos:accounts/onboarding-driver@0.3.0",
            "aos:accounts/policy-driver@0.3.0",
            "aos:accounts/policy-gate@0.3.0",
            "aos:accounts/policy-types@0.3.0",
            "aos:accounts/tenant-driver@0.3.0",
            "aos:accounts/tenant-lifecycle-driver@0.3.0",
            "aos:accounts/types@0.3.0",
            "aos:accounts/user-write-driver@0.3.0",
            "wasi:random/random@0.2.0",
        ]
    );
    // The types interface carries only types: no function reaches the host through it.
    assert!(find(&imports, "aos:accounts/types@0.3.0").functions.is_empty());
    assert!(find(&imports, "aos:accounts/policy-types@0.3.0").functions.is_empty());
    // Randomness for key and token material, nothing else of WASI (the component imports only the
    // functions it calls).
    let random = find(&imports, "wasi:random/random@0.2.0");
    assert_eq!(random.functions, ["get-random-bytes"]);

    // Every imported driver function is one the contract declares.
    let contract = contract_functions();
    for import in imports.iter().filter(|i| i.name.starts_with("aos:")) {
        let declared = &contract[&import.name];
        for f in &import.functions {
            assert!(declared.contains(f), "{} imports {f}, which wit/ does not declare", import.name);
        }
    }

    let mut export_names: Vec<&str> = exports.iter().map(|s| s.name.as_str()).collect();
    export_names.sort();
    assert_eq!(
        export_names,
        [
            "aos:accounts/accounts@0.3.0",
            "aos:accounts/lifecycle@0.3.0",
            "aos:accounts/memory-pins@0.3.0",
            "aos:accounts/onboarding@0.3.0",
            "aos:accounts/policies@0.3.0",
            "aos:accounts/tenants@0.3.0",
        ]
    );
    let operations: usize = exports.iter().map(|s| s.functions.len()).sum();
    // The seed's 48 engine operations, plus `revoke-invitation` and (0.3.0) the eight of `policies`.
    assert_eq!(operations, 57);
    assert_eq!(find(&exports, "aos:accounts/policies@0.3.0").functions.len(), 8);
    assert_eq!(find(&exports, "aos:accounts/accounts@0.3.0").functions.len(), 19);
    assert_eq!(find(&exports, "aos:accounts/tenants@0.3.0").functions.len(), 17);
    assert_eq!(find(&exports, "aos:accounts/memory-pins@0.3.0").functions.len(), 5);
    assert_eq!(find(&exports, "aos:accounts/onboarding@0.3.0").functions.len(), 2);
    assert_eq!(find(&exports, "aos:accounts/lifecycle@0.3.0").functions.len(), 6);
}

#[test]
fn the_published_component_file_is_the_embedded_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/guest/account-engine.wasm");
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let alt = std::path::Path::new(&dir).join("guest/account-engine.wasm");
        assert_eq!(std::fs::read(alt).expect("component file"), ACCOUNT_ENGINE_COMPONENT);
        return;
    }
    assert_eq!(std::fs::read(path).expect("component file"), ACCOUNT_ENGINE_COMPONENT);
}

#[test]
fn the_contract_holds_every_driver_method_and_engine_operation() {
    let contract = contract_functions();
    let count = |name: &str| contract[&format!("aos:accounts/{name}@0.3.0")].len();
    assert_eq!(count("accounts-facade-driver"), 31);
    assert_eq!(count("policy-driver"), 5);
    assert_eq!(count("policy-gate"), 3);
    assert_eq!(count("tenant-driver"), 23);
    assert_eq!(count("memory-pins-driver"), 7);
    assert_eq!(count("onboarding-driver"), 3);
    assert_eq!(count("tenant-lifecycle-driver"), 2);
    assert_eq!(count("user-write-driver"), 3);
    // The seed's 63 driver methods, plus `update-invitation-revoked` and `fetch-activation-evidence`, and
    // (0.2.0) `count-owned-tenants`, `count-running-runs-for-key` and `fetch-pin-storage`, and (0.3.0)
    // `count-pending-invitations` and the five of `policy-driver`.
    let drivers = [
        "accounts-facade-driver",
        "tenant-driver",
        "memory-pins-driver",
        "onboarding-driver",
        "tenant-lifecycle-driver",
        "user-write-driver",
        "policy-driver",
    ];
    assert_eq!(drivers.iter().map(|d| count(d)).sum::<usize>(), 74);
    // The seed's 48 engine operations, plus `revoke-invitation` and the eight of `policies`.
    let engine = ["accounts", "tenants", "memory-pins", "onboarding", "lifecycle", "policies"];
    assert_eq!(engine.iter().map(|d| count(d)).sum::<usize>(), 57);
    assert!(contract["aos:accounts/types@0.3.0"].is_empty());
    assert!(contract["aos:accounts/policy-types@0.3.0"].is_empty());
    // A tenant's policy exports the hooks: one per trigger, and `handles`.
    assert_eq!(count("hooks"), 8);
}

/// Functions of every interface of the `aos:accounts` package, read from `wit/`.
fn contract_functions() -> std::collections::HashMap<String, Vec<String>> {
    let mut resolve = wit_parser::Resolve::default();
    let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
    let (package, _) = resolve.push_dir(&wit).expect("parse wit/");
    let name = resolve.packages[package].name.clone();
    resolve.packages[package]
        .interfaces
        .iter()
        .map(|(iface, id)| {
            let functions = resolve.interfaces[*id].functions.keys().cloned().collect();
            (format!("{}:{}/{iface}@{}", name.namespace, name.name, name.version.as_ref().unwrap()), functions)
        })
        .collect()
}

fn wasmtime_engine() -> wasmtime::Engine {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    wasmtime::Engine::new(&config).expect("engine")
}

/// Every operation marked read-only (run in a read-only transaction) is one the component exports: a
/// misspelt entry would silently leave an operation serialisable, or mark nothing.
#[tokio::test]
async fn every_read_only_operation_is_an_export() {
    let h = suite::Harness::sqlite().await;
    let exported: Vec<(String, String)> = h.runtime.operations().iter().map(|o| (o.interface.clone(), o.name.clone())).collect();
    for (interface, operation) in account_host::engine::READ_ONLY_OPERATIONS {
        assert!(exported.iter().any(|(i, o)| i == interface && o == operation), "{interface}/{operation} is not an export");
        assert!(account_host::engine::is_read_only(interface, operation));
    }
    assert!(account_host::engine::is_read_only("memory_pins", "list_pins"), "Rust names are accepted");
    assert!(!account_host::engine::is_read_only("memory-pins", "get-pin"), "get pin writes its access log");
    assert!(!account_host::engine::is_read_only("tenants", "check-run-quota"), "a quota check may roll a period over");
    for (interface, operation) in account_host::engine::PUBLIC_OPERATIONS {
        assert!(exported.iter().any(|(i, o)| i == interface && o == operation), "{interface}/{operation} is not an export");
    }
    h.close().await;
}

/// What the HTTP front door lets through without a credential is exactly what the engine serves to
/// nobody: every other operation refuses an anonymous caller inside the engine as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_public_operations_serve_an_anonymous_caller() {
    use account_host::bindings::{Actor, ErrorCode};
    let h = suite::Harness::sqlite().await;
    let t = h.tenant("acme").await;
    let operations: Vec<_> = h.runtime.operations().to_vec();
    for anonymous in [account_host::Caller::new(Actor::Anonymous, None), account_host::Caller::new(Actor::Anonymous, Some(&t.id))] {
        for op in &operations {
            // Arguments that parse: every parameter given the simplest value of its type.
            let args: serde_json::Map<String, serde_json::Value> =
                op.params.iter().map(|(name, ty)| (name.replace('-', "_"), account_host::engine::dynamic::sample_argument(ty))).collect();
            let result = h.runtime.call_json(&anonymous, &op.interface, &op.name, &serde_json::Value::Object(args)).await;
            if account_host::engine::is_public(&op.interface, &op.name) {
                assert!(result.is_ok(), "{}/{}: {result:?}", op.interface, op.name);
            } else {
                let code = result.expect_err(&format!("{}/{} served nobody", op.interface, op.name)).code;
                assert!(
                    matches!(code, ErrorCode::Unauthenticated | ErrorCode::Forbidden | ErrorCode::InvalidArgument),
                    "{}/{}: {code:?}",
                    op.interface,
                    op.name
                );
            }
        }
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM audit_log").await, 1, "only the operator's tenant creation");
    h.close().await;
}

