//! A deliberately misbehaving guest component, run by the real host against the real databases: its
//! cross-tenant driver calls are refused, the call is rolled back whatever the guest answers, and a trap
//! in the middle of its writes leaves nothing behind.

use account_host::Caller;
use account_host::RuntimeConfig;
use account_host::bindings::{Actor, CallContext, EngineError, ErrorCode, IdentityPrincipal};
use account_host::runtime::{ROGUE_GUEST_COMPONENT, Settled, load_component};
use suite::{Harness, each_backend, each_backend_with, expect_code, test_config};

/// Runs one export of the rogue guest as an engine call, and settles it like the runtime does.
async fn attack(h: &Harness, caller: &Caller, export: &str, victim: Option<&str>) -> Result<String, EngineError> {
    let component = load_component(h.runtime.engine(), ROGUE_GUEST_COMPONENT, None).expect("compile rogue guest");
    let pre = h.runtime.linker().instantiate_pre(&component).expect("link rogue guest");
    let (mut store, ctx) = h.runtime.store(caller);
    let outcome = async {
        let instance = pre.instantiate_async(&mut store).await?;
        let iface = instance.get_export_index(&mut store, None, "aos:rogue/attacks@0.1.0").expect("attacks");
        let func = instance.get_export_index(&mut store, Some(&iface), export).expect("export");
        let answer = match victim {
            Some(victim) => {
                let f =
                    instance.get_typed_func::<(CallContext, String), (Result<String, String>,)>(&mut store, &func)?;
                f.call_async(&mut store, (ctx, victim.to_string())).await?.0
            }
            None => {
                let f = instance.get_typed_func::<(CallContext,), (Result<String, String>,)>(&mut store, &func)?;
                f.call_async(&mut store, (ctx,)).await?.0
            }
        };
        wasmtime::Result::Ok(answer.map_err(|message| EngineError { code: ErrorCode::Internal, message }))
    }
    .await;
    match h.runtime.settle(&mut store, outcome, 1).await {
        Settled::Done(result) => result,
        Settled::Retry => panic!("no retry expected"),
    }
}

fn customer(tenant: &str) -> Caller {
    Caller::new(
        Actor::Identity(IdentityPrincipal {
            external_id: "ext-rogue".into(),
            email: "r@example.com".into(),
            user_id: None,
            name: None,
            email_verified: true,
        }),
        Some(tenant),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_tenant_writes_are_refused_and_roll_back_the_whole_call() {
    each_backend(async |h| {
        let mine = h.tenant("mine").await;
        let victim = h.tenant("victim").await;
        let pins_before = h.count("SELECT COUNT(*) FROM memory_pins").await;

        // The guest ignores the refusal and answers ok: the host still rolls back its own-tenant write.
        let result = attack(h, &customer(&mine.id), "write-across", Some(&victim.id)).await;
        expect_code(result, ErrorCode::Forbidden);
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, pins_before);

        // Reading another tenant's row is refused too.
        let read = attack(h, &customer(&mine.id), "read-across", Some(&victim.id)).await;
        expect_code(read, ErrorCode::Forbidden);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_between_writes_leaves_no_partial_write() {
    each_backend(async |h| {
        let mine = h.tenant("mine").await;
        let result = attack(h, &customer(&mine.id), "write-then-trap", None).await;
        let message = expect_code(result, ErrorCode::Internal);
        assert!(message.contains("nothing was written"), "{message}");
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_guest_is_stopped_at_its_deadline_and_writes_nothing() {
    let config = RuntimeConfig { call_deadline: std::time::Duration::from_millis(300), ..test_config() };
    each_backend_with(config, async |h| {
        let mine = h.tenant("mine").await;
        let started = std::time::Instant::now();
        let result = attack(h, &customer(&mine.id), "write-then-spin", None).await;
        let message = expect_code(result, ErrorCode::Unavailable);
        assert!(message.contains("deadline") && message.contains("nothing was written"), "{message}");
        // Stopped by the deadline, not by anything slower (generous bound for a shared machine).
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_hoarding_memory_hits_its_cap_writes_nothing_and_leaves_the_pool_usable() {
    let config = RuntimeConfig { max_memory_bytes: 16 << 20, ..test_config() };
    each_backend_with(config, async |h| {
        let mine = h.tenant("mine").await;
        let result = attack(h, &customer(&mine.id), "write-then-hoard-memory", None).await;
        let message = expect_code(result, ErrorCode::Internal);
        assert!(message.contains("nothing was written"), "{message}");
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 0);
        // The next calls get fresh instances from the same pool and work.
        let sys = Caller::system(Some(&mine.id));
        for i in 0..3 {
            h.runtime
                .memory_pins()
                .upsert_pin(&sys, &format!("after-{i}"), r#"{"ok":true}"#, None, None)
                .await
                .unwrap();
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 3);
    })
    .await;
}
