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
            "aos:accounts/accounts-facade-driver@0.5.0",
            "aos:accounts/memory-pins-driver@0.5.0",
            "aos:accounts/onboarding-driver@0.5.0",
            "aos:accounts/policy-driver@0.5.0",
            "aos:accounts/policy-gate@0.5.0",
            "aos:accounts/policy-types@0.5.0",
            "aos:accounts/tenant-driver@0.5.0",
            "aos:accounts/tenant-lifecycle-driver@0.5.0",
            "aos:accounts/types@0.5.0",
            "aos:accounts/user-write-driver@0.5.0",
            "wasi:random/random@0.2.0",
        ]
    );
    // The types interface carries only types: no function reaches the host through it.
    assert!(find(&imports, "aos:accounts/types@0.5.0").functions.is_empty());
    assert!(find(&imports, "aos:accounts/policy-types@0.5.0").functions.is_empty());
    // Randomness for key and token material, nothing else of WASI (the component imports only the
    // functions it calls).
    let random = find(&imports, "wasi:random/random@0.2.0");
    assert_eq!(random.functions, ["get-random-bytes"]);

    // A host implements exactly what the contract declares, and the component calls all of it: every
    // declared function of every imported interface is imported (none is there for nothing), and nothing
    // else is.
    let contract = contract_functions();
    for import in imports.iter().filter(|i| i.name.starts_with("aos:")) {
        let mut declared = contract[&import.name].clone();
        let mut imported = import.functions.clone();
        declared.sort();
        imported.sort();
        assert_eq!(imported, declared, "{}: what the component imports is not what wit/ declares", import.name);
    }

    let mut export_names: Vec<&str> = exports.iter().map(|s| s.name.as_str()).collect();
    export_names.sort();
    assert_eq!(
        export_names,
        [
            "aos:accounts/accounts@0.5.0",
            "aos:accounts/lifecycle@0.5.0",
            "aos:accounts/memory-pins@0.5.0",
            "aos:accounts/onboarding@0.5.0",
            "aos:accounts/policies@0.5.0",
            "aos:accounts/tenants@0.5.0",
        ]
    );
    let operations: usize = exports.iter().map(|s| s.functions.len()).sum();
    // The seed's 48 engine operations, plus `revoke-invitation` and (0.3.0) the eight of `policies`.
    assert_eq!(operations, 59);
    assert_eq!(find(&exports, "aos:accounts/policies@0.5.0").functions.len(), 8);
    assert_eq!(find(&exports, "aos:accounts/accounts@0.5.0").functions.len(), 19);
    assert_eq!(find(&exports, "aos:accounts/tenants@0.5.0").functions.len(), 18);
    assert_eq!(find(&exports, "aos:accounts/memory-pins@0.5.0").functions.len(), 6);
    assert_eq!(find(&exports, "aos:accounts/onboarding@0.5.0").functions.len(), 2);
    assert_eq!(find(&exports, "aos:accounts/lifecycle@0.5.0").functions.len(), 6);
}

/// Publishing is an explicit step (`account-service contract --out DIR`): it writes the embedded component,
/// its documented WIT and its function types.
#[test]
fn the_published_component_file_is_the_embedded_one() {
    let dir = std::env::temp_dir().join(format!("aos-contract-{}", uuid::Uuid::new_v4()));
    let written = account_host::runtime::write_contract(&dir).expect("publish");
    assert_eq!(std::fs::read(dir.join("account-engine.wasm")).expect("component file"), ACCOUNT_ENGINE_COMPONENT);
    let types: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("account-engine.types.json")).unwrap()).unwrap();
    assert!(types.is_object() && !types.as_object().unwrap().is_empty(), "{types}");
    assert!(std::fs::read_to_string(dir.join("wit/world.wit")).unwrap().contains("world account-engine"));
    assert!(written.len() > 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_contract_holds_every_driver_method_and_engine_operation() {
    let contract = contract_functions();
    let count = |name: &str| contract[&format!("aos:accounts/{name}@0.5.0")].len();
    assert_eq!(count("accounts-facade-driver"), 29);
    assert_eq!(count("policy-driver"), 5);
    assert_eq!(count("policy-gate"), 3);
    assert_eq!(count("tenant-driver"), 22);
    assert_eq!(count("memory-pins-driver"), 8);
    assert_eq!(count("onboarding-driver"), 3);
    assert_eq!(count("tenant-lifecycle-driver"), 2);
    assert_eq!(count("user-write-driver"), 1);
    // The seed's 63 driver methods, plus `update-invitation-revoked` and `fetch-activation-evidence`, and
    // (0.2.0) `count-owned-tenants`, `count-running-runs-for-key` and `fetch-pin-storage`, and (0.3.0)
    // `count-pending-invitations` and the five of `policy-driver`; (0.4.0) less the five the engine never
    // called (`insert-user`, `fetch-tenant`, `fetch-tenant-snapshot`, `update-tenant-status`,
    // `update-user-login`, `user-to-summary`); (0.5.0) plus `fetch-audit-log` and `fetch-access-log`.
    let drivers = [
        "accounts-facade-driver",
        "tenant-driver",
        "memory-pins-driver",
        "onboarding-driver",
        "tenant-lifecycle-driver",
        "user-write-driver",
        "policy-driver",
    ];
    assert_eq!(drivers.iter().map(|d| count(d)).sum::<usize>(), 70);
    // The seed's 48 engine operations, plus `revoke-invitation`, the eight of `policies` and (0.5.0)
    // `list-audit-log` and `list-access-log`.
    let engine = ["accounts", "tenants", "memory-pins", "onboarding", "lifecycle", "policies"];
    assert_eq!(engine.iter().map(|d| count(d)).sum::<usize>(), 59);
    assert!(contract["aos:accounts/types@0.5.0"].is_empty());
    assert!(contract["aos:accounts/policy-types@0.5.0"].is_empty());
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

/// The runtime instantiates, for each call, a component of its operation's interface alone: the published
/// component's core module with only that interface's exports, without the post-return functions that
/// free a call's results before the instance's next call, and without what those exports cannot reach — so
/// that an instance wires only the driver functions its interface calls. Each exports its interface as the
/// published one does and imports a part of what it imports; together they export all of it. The
/// published one keeps everything, for hosts that call an instance again (the JavaScript host does).
#[test]
fn the_runtimes_components_are_the_published_one_cut_per_interface() {
    use account_host::runtime::ACCOUNT_ENGINE_INTERFACE_COMPONENTS;
    let engine = wasmtime_engine();
    let (published_imports, published_exports) = component_shape(&engine, ACCOUNT_ENGINE_COMPONENT).unwrap();
    let published = core_module(ACCOUNT_ENGINE_COMPONENT);
    // Every operation returns a result whose error holds a string.
    assert!(published.post_returns > 50, "{}", published.post_returns);
    let driver_functions = |imports: &[InterfaceShape]| imports.iter().map(|i| i.functions.len()).sum::<usize>();
    let mut exported = Vec::new();
    for &(interface, wasm) in ACCOUNT_ENGINE_INTERFACE_COMPONENTS {
        let (imports, exports) = component_shape(&engine, wasm).unwrap();
        assert_eq!(exports, [find(&published_exports, &format!("aos:accounts/{interface}@0.5.0")).clone()]);
        exported.extend(exports);
        for import in &imports {
            let whole = find(&published_imports, &import.name);
            assert!(import.functions.iter().all(|f| whole.functions.contains(f)), "{interface}: {import:?}");
        }
        let part = core_module(wasm);
        assert_eq!(part.post_returns, 0, "{interface}");
        assert!(
            part.bodies.len() < published.bodies.len(),
            "{interface}: {} of {} functions",
            part.bodies.len(),
            published.bodies.len()
        );
        // The same code: each function of the part is a published function of its name, instruction by
        // instruction, calling and referencing the functions of the same names (or the same imports).
        part.same_code_as(&published).unwrap_or_else(|why| panic!("{interface}: {why}"));
        // The driver functions a call of the interface can reach, of the 74 the engine imports.
        let (reached, all) = (driver_functions(&imports), driver_functions(&published_imports));
        assert!(reached < all, "{interface}: {reached} of {all}");
        if interface == "memory-pins" {
            assert!(reached * 3 < all, "a pin call wires {reached} of the {all} driver functions");
        }
    }
    assert_eq!(exported, published_exports, "the parts export the whole contract, in its order");
}

/// What a component's core module (the largest one in it: the engine's code) holds.
struct CoreModule<'a> {
    /// Its post-return functions.
    post_returns: usize,
    /// Its imported functions (`module/name`), the first indices of its function index space.
    imports: Vec<String>,
    /// The code of its defined functions, which follow the imported ones.
    bodies: Vec<wasmparser::FunctionBody<'a>>,
    /// The names of its functions (the name section), by index.
    names: std::collections::HashMap<u32, String>,
}

impl CoreModule<'_> {
    /// What function `index` is, in terms another module can compare: the import it is, or its name.
    fn identity(&self, index: u32) -> Option<String> {
        match self.imports.get(index as usize) {
            Some(import) => Some(format!("import {import}")),
            None => self.names.get(&index).map(|name| format!("function {name}")),
        }
    }

    /// Checks that every function of `self` is a function of `whole` with its name (names repeat: wasm-ld
    /// writes demangled names): the same locals and the same instructions, where a call, tail call or
    /// function reference may name another index but must reach the function of the same identity.
    fn same_code_as(&self, whole: &CoreModule<'_>) -> Result<(), String> {
        let mut by_name: std::collections::HashMap<&str, Vec<u32>> = Default::default();
        for (index, name) in &whole.names {
            by_name.entry(name.as_str()).or_default().push(*index);
        }
        for (defined, body) in self.bodies.iter().enumerate() {
            let index = (self.imports.len() + defined) as u32;
            let name = self.names.get(&index).ok_or_else(|| format!("function {index} has no name"))?;
            let candidates = by_name.get(name.as_str()).map(Vec::as_slice).unwrap_or_default();
            let mut differences = Vec::new();
            for &candidate in candidates {
                let Some(theirs) = whole.bodies.get((candidate as usize).wrapping_sub(whole.imports.len())) else {
                    differences.push(format!("{name} is an import of the published module"));
                    continue;
                };
                match self.same_function(body, whole, theirs) {
                    Ok(()) => break,
                    Err(why) => differences.push(format!("{name}: {why}")),
                }
            }
            if differences.len() == candidates.len() {
                return Err(if candidates.is_empty() {
                    format!("{name} is not a function of the published module")
                } else {
                    differences.join("; ")
                });
            }
        }
        Ok(())
    }

    /// Whether `ours` (a body of `self`) and `theirs` (of `whole`) are the same code.
    fn same_function(
        &self,
        ours: &wasmparser::FunctionBody<'_>,
        whole: &CoreModule<'_>,
        theirs: &wasmparser::FunctionBody<'_>,
    ) -> Result<(), String> {
        use wasmparser::Operator::{Call, RefFunc, ReturnCall};
        let locals = |body: &wasmparser::FunctionBody<'_>| -> Vec<(u32, wasmparser::ValType)> {
            body.get_locals_reader().unwrap().into_iter().map(|l| l.unwrap()).collect()
        };
        if locals(ours) != locals(theirs) {
            return Err("other locals".into());
        }
        let (mut a_ops, mut b_ops) = (ours.get_operators_reader().unwrap(), theirs.get_operators_reader().unwrap());
        while !a_ops.eof() || !b_ops.eof() {
            let (Ok(a), Ok(b)) = (a_ops.read(), b_ops.read()) else { return Err("another length".into()) };
            let same = match (&a, &b) {
                (Call { function_index: x }, Call { function_index: y })
                | (ReturnCall { function_index: x }, ReturnCall { function_index: y })
                | (RefFunc { function_index: x }, RefFunc { function_index: y }) => {
                    self.identity(*x).is_some() && self.identity(*x) == whole.identity(*y)
                }
                _ => a == b,
            };
            if !same {
                return Err(format!("{a:?} where the published function has {b:?}"));
            }
        }
        Ok(())
    }
}

fn core_module(component: &[u8]) -> CoreModule<'_> {
    let mut modules = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        use wasmparser::Payload::*;
        let payload = payload.expect("a valid component");
        if let ModuleSection { unchecked_range, .. } = &payload {
            modules.push(&component[unchecked_range.clone()]);
        }
    }
    let engine_code = modules.into_iter().max_by_key(|m| m.len()).expect("a core module");
    let mut module = CoreModule { post_returns: 0, imports: Vec::new(), bodies: Vec::new(), names: Default::default() };
    for payload in wasmparser::Parser::new(0).parse_all(engine_code) {
        use wasmparser::Payload::*;
        match payload.expect("a valid module") {
            ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import.unwrap();
                    if matches!(import.ty, wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)) {
                        module.imports.push(format!("{}/{}", import.module, import.name));
                    }
                }
            }
            ExportSection(section) => {
                let exports = section.into_iter().map(|e| e.unwrap());
                module.post_returns += exports.filter(|e| e.name.starts_with("cabi_post_")).count();
            }
            CodeSectionEntry(body) => module.bodies.push(body),
            CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                    for name in names {
                        if let wasmparser::Name::Function(map) = name.unwrap() {
                            module.names.extend(map.into_iter().map(|n| {
                                let n = n.unwrap();
                                (n.index, n.name.to_string())
                            }));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    module
}

/// The runtime compiles each interface's component (the same artifact as compiling those bytes with its
/// engine, and not the published one). Nothing stops an embedder from calling one of its instances twice:
/// the second call answers right too — its results, strings, are lowered into memory the first call's
/// results still hold, as nothing freed them — on both backends. (With the published component wasmtime
/// would run the post-return between the calls.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_runs_the_component_of_the_interface_and_an_instance_answers_twice() {
    use account_host::bindings::tenants;
    use account_host::contract::operations::tenants as op;
    use account_host::runtime::ACCOUNT_ENGINE_INTERFACE_COMPONENTS;
    use wasmtime::component::Component;
    suite::each_backend(async |h| {
        let engine = h.runtime.engine();
        let compiled = |wasm: &[u8]| Component::new(engine, wasm).unwrap().serialize().unwrap();
        let whole = compiled(ACCOUNT_ENGINE_COMPONENT);
        for &(interface, wasm) in ACCOUNT_ENGINE_INTERFACE_COMPONENTS {
            let running =
                h.runtime.component_of(interface).expect("a component of each interface").serialize().unwrap();
            assert!(running == compiled(wasm), "the runtime runs the component of {interface}");
            assert!(running != whole);
        }
        assert!(h.runtime.component_of("accounts-facade-driver").is_none(), "only exported interfaces have one");

        let tenant = h.tenant("twice").await;
        let caller = account_host::Caller::system(Some(&tenant.id));
        let (first, second) = h
            .runtime
            .run(&caller, &op::GET_TENANT, |mut a| {
                Box::pin(async move {
                    let first = a.call(tenants::Guest::func_get_tenant, (a.ctx,)).await?;
                    let second = a.call(tenants::Guest::func_get_tenant, (a.ctx,)).await?;
                    Ok(first.and_then(|first| second.map(|second| (first, second))))
                })
            })
            .await
            .expect("both calls answer");
        for answer in [first, second] {
            assert_eq!(
                (answer.id, answer.slug, answer.name),
                (tenant.id.clone(), tenant.slug.clone(), tenant.name.clone())
            );
        }
    })
    .await;
}

fn wasmtime_engine() -> wasmtime::Engine {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    wasmtime::Engine::new(&config).expect("engine")
}

/// The component the runtime runs exports exactly the described operations (the build checks the same
/// against `wit/`), and what the host derives from the descriptions holds for the names it is given.
#[tokio::test]
async fn every_export_of_the_running_component_is_described() {
    use account_host::contract::{find, is_public, is_read_only, operations};
    let h = suite::Harness::sqlite().await;
    let exported: Vec<(String, String)> =
        h.runtime.operations().iter().map(|o| (o.interface.clone(), o.name.clone())).collect();
    for (interface, operation) in &exported {
        assert!(find(interface, operation).is_some(), "{interface}.{operation} is exported without a description");
    }
    assert_eq!(exported.len(), operations::ALL.len(), "a description names an operation the component lacks");
    assert!(is_read_only("memory_pins", "list_pins"), "Rust names are accepted");
    assert!(is_read_only("memory-pins", "get-pin"), "get pin's access log is written after its snapshot");
    assert!(!is_read_only("memory-pins", "upsert-pin"));
    assert!(!is_read_only("tenants", "check-run-quota"), "a quota check may roll a period over");
    assert!(is_read_only("accounts", "get-profile"), "reading one's profile writes nothing");
    assert!(is_public("accounts", "get-support-contact"));
    h.close().await;
}

/// The permission an operation's description names is the one the engine enforces: an API key holding
/// every permission is let through the access check, and the same key without the described permission
/// is refused. A guest that checked another permission than its description says fails here. (Operations
/// only people call, or whose permission no key may hold, refuse both keys.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_enforces_the_permission_each_description_names() {
    use account_host::bindings::ErrorCode;
    use account_host::contract::{Permission, operations};
    let h = suite::Harness::sqlite().await;
    let t = h.tenant("acme").await;
    let all: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
    let functions: Vec<_> = h.runtime.operations().to_vec();
    let (mut flipped, mut never_for_keys) = (Vec::new(), Vec::new());
    for op in operations::ALL {
        let Some(permission) = op.permission() else { continue };
        let function = functions.iter().find(|f| f.interface == op.interface && f.name == op.name).unwrap();
        let args: serde_json::Map<String, serde_json::Value> = function
            .params
            .iter()
            .map(|(name, ty)| (name.replace('-', "_"), account_host::engine::dynamic::sample_argument(ty)))
            .collect();
        let args = serde_json::Value::Object(args);
        let others: Vec<&str> = all.iter().copied().filter(|p| *p != permission.name()).collect();
        let forbidden = |result: Result<serde_json::Value, account_host::bindings::EngineError>| matches!(result, Err(e) if e.code == ErrorCode::Forbidden);
        let with_all = h.runtime.call_json(&suite::api_key(&t.id, "key-all", &all), op.interface, op.name, &args).await;
        let without =
            h.runtime.call_json(&suite::api_key(&t.id, "key-but", &others), op.interface, op.name, &args).await;
        let name = format!("{}.{} ({})", op.interface, op.name, permission.name());
        if forbidden(with_all) {
            assert!(forbidden(without), "{name}: refused with every permission, but not without its own");
            never_for_keys.push(name);
        } else {
            assert!(forbidden(without), "{name}: a key without {} was not refused", permission.name());
            flipped.push(name);
        }
    }
    assert!(flipped.len() >= 34, "only {} operations were checked: {flipped:?}", flipped.len());
    // Refused to every key: what only people do (a project's detail, a profile, a support ticket) and the
    // permissions no key may hold (roles, the tenant's policies).
    assert_eq!(never_for_keys.len(), 13, "refused to a key holding everything: {never_for_keys:?}");
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
    for anonymous in
        [account_host::Caller::new(Actor::Anonymous, None), account_host::Caller::new(Actor::Anonymous, Some(&t.id))]
    {
        for op in &operations {
            // Arguments that parse: every parameter given the simplest value of its type.
            let args: serde_json::Map<String, serde_json::Value> = op
                .params
                .iter()
                .map(|(name, ty)| (name.replace('-', "_"), account_host::engine::dynamic::sample_argument(ty)))
                .collect();
            let result =
                h.runtime.call_json(&anonymous, &op.interface, &op.name, &serde_json::Value::Object(args)).await;
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

/// Hosts with dynamic values (wasmtime-py) pass a `result`, `option` or `variant` without its tag when the
/// cases' payloads have Python classes that do not overlap, and then pick the first case whose classes
/// the value is an instance of. A payload that may be `None` (an `option`, a case without payload) makes
/// every later case unreachable: such a host could never return that case (a driver's error, say). Every
/// value a host hands to the component (the results of imports, the parameters of exports) must be free
/// of that shape.
#[test]
fn every_value_a_host_passes_can_be_told_apart_by_a_dynamic_host() {
    use wasmtime::component::types::ComponentItem;
    let engine = wasmtime_engine();
    let component = wasmtime::component::Component::new(&engine, ACCOUNT_ENGINE_COMPONENT).expect("component");
    let ty = component.component_type();
    let mut problems = Vec::new();
    let mut check = |place: String, value: wasmtime::component::Type| {
        if let Err(why) = dynamic_host::passable(&value) {
            problems.push(format!("{place}: {why}"));
        }
    };
    for (name, item) in ty.imports(&engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        for (function, item) in instance.exports(&engine) {
            if let ComponentItem::ComponentFunc(f) = item.ty {
                f.results().for_each(|r| check(format!("{name}.{function} result"), r));
            }
        }
    }
    for (name, item) in ty.exports(&engine) {
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        for (function, item) in instance.exports(&engine) {
            if let ComponentItem::ComponentFunc(f) = item.ty {
                f.params().for_each(|(p, t)| check(format!("{name}.{function} parameter {p}"), t));
            }
        }
    }
    assert!(problems.is_empty(), "values a dynamic host cannot pass:\n{}", problems.join("\n"));

    // The rule itself: the 0.3.0 shape of `update-lifecycle-status` is refused, today's is not.
    let old = wit_function_result(
        "interface i { enum e { a, b } record err { m: string } f: func() -> result<option<e>, err>; }",
    );
    assert!(dynamic_host::passable(&old).is_err());
    let new =
        wit_function_result("interface i { enum e { a, b } record err { m: string } f: func() -> result<e, err>; }");
    assert!(dynamic_host::passable(&new).is_ok());
    let tagged = wit_function_result(
        "interface i { record r { x: u8 } record err { m: string } f: func() -> result<option<r>, err>; }",
    );
    assert!(dynamic_host::passable(&tagged).is_ok(), "both sides are records: the value carries its tag");
}

/// The type of the result of `f` in a one-interface WIT package, as wasmtime sees it in a component.
fn wit_function_result(interface: &str) -> wasmtime::component::Type {
    use wasmtime::component::types::ComponentItem;
    let mut resolve = wit_parser::Resolve::default();
    let source = format!("package t:t;\n{interface}\nworld w {{ import i; }}");
    let package = resolve.push_str("t.wit", &source).expect("wit");
    let world = resolve.select_world(&[package], Some("w")).expect("world");
    let mut module = wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8)
        .expect("embed");
    let wasm = wit_component::ComponentEncoder::default().module(&module).expect("module").encode().expect("encode");
    let engine = wasmtime_engine();
    let component = wasmtime::component::Component::new(&engine, &wasm).expect("component");
    let component_type = component.component_type();
    let (_, item) = component_type.imports(&engine).next().expect("the interface");
    let ComponentItem::ComponentInstance(instance) = item.ty else { panic!("an instance") };
    let (_, f) = instance.exports(&engine).find(|(n, _)| *n == "f").expect("f");
    let ComponentItem::ComponentFunc(f) = f.ty else { panic!("a function") };
    f.results().next().expect("a result")
}

/// wasmtime-py's rule for untagged values (`wasmtime/component/_types.py`, `VariantLikeType`).
mod dynamic_host {
    use std::collections::BTreeSet;
    use wasmtime::component::Type;

    /// The Python classes a value of `ty` may have (`object`: any, since `None` is a value).
    fn classes(ty: &Type) -> BTreeSet<&'static str> {
        let one = |c| BTreeSet::from([c]);
        match ty {
            Type::Bool => one("bool"),
            Type::S8 | Type::U8 | Type::S16 | Type::U16 | Type::S32 | Type::U32 | Type::S64 | Type::U64 => one("int"),
            Type::Float32 | Type::Float64 => one("float"),
            Type::Char | Type::String | Type::Enum(_) => one("str"),
            Type::List(l) if matches!(l.ty(), Type::U8) => one("bytes"),
            Type::List(_) => one("list"),
            Type::Record(_) => one("Record"),
            Type::Tuple(_) => one("tuple"),
            Type::Flags(_) => one("set"),
            Type::Option(_) | Type::Result(_) | Type::Variant(_) => {
                let cases = cases(ty);
                if tagged(&cases) { one("Variant") } else { cases.iter().flat_map(|c| c.clone()).collect() }
            }
            _ => one("other"),
        }
    }

    /// The classes of each case's payload, in order (a case without payload: `object`).
    fn cases(ty: &Type) -> Vec<BTreeSet<&'static str>> {
        let payload = |t: Option<Type>| t.map(|t| classes(&t)).unwrap_or_else(|| BTreeSet::from(["object"]));
        match ty {
            Type::Option(o) => vec![BTreeSet::from(["object"]), classes(&o.ty())],
            Type::Result(r) => vec![payload(r.ok()), payload(r.err())],
            Type::Variant(v) => v.cases().map(|c| payload(c.ty)).collect(),
            _ => Vec::new(),
        }
    }

    fn tagged(cases: &[BTreeSet<&'static str>]) -> bool {
        let mut seen = BTreeSet::new();
        for case in cases {
            if !case.is_disjoint(&seen) {
                return true;
            }
            seen.extend(case.iter().copied());
        }
        false
    }

    /// Whether a host can pass every case of every value of `ty`.
    pub fn passable(ty: &Type) -> Result<(), String> {
        let cases = cases(ty);
        if !cases.is_empty() && !tagged(&cases) {
            // A case with a payload that may be `None` catches every value, so no case after it is
            // reachable (a case without payload takes only `None`, and is checked first).
            let payloads: Vec<bool> = match ty {
                Type::Option(_) => vec![false, true],
                Type::Result(r) => vec![r.ok().is_some(), r.err().is_some()],
                Type::Variant(v) => v.cases().map(|c| c.ty.is_some()).collect(),
                _ => Vec::new(),
            };
            if let Some(first) = cases.iter().zip(&payloads).position(|(c, has)| *has && c.contains("object"))
                && first + 1 < cases.len()
            {
                return Err(format!("{ty:?}: case {} makes the cases after it unreachable", first + 1));
            }
        }
        match ty {
            Type::Option(o) => passable(&o.ty()),
            Type::Result(r) => r.ok().iter().chain(r.err().iter()).try_for_each(passable),
            Type::Variant(v) => v.cases().filter_map(|c| c.ty).try_for_each(|t| passable(&t)),
            Type::List(l) => passable(&l.ty()),
            Type::Record(r) => r.fields().try_for_each(|f| passable(&f.ty)),
            Type::Tuple(t) => t.types().try_for_each(|t| passable(&t)),
            _ => Ok(()),
        }
    }
}
