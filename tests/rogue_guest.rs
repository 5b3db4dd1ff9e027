//! A deliberately misbehaving guest component, run by the real host against the real databases: its
//! cross-tenant driver calls are refused, the call is rolled back whatever the guest answers, and a trap
//! in the middle of its writes leaves nothing behind, and a call that only reads logs only a few reads.

use account_host::Caller;
use account_host::RuntimeConfig;
use account_host::bindings::{Actor, CallContext, EngineError, ErrorCode, IdentityPrincipal, MemoryAuditOperation};
use account_host::drivers::DriverView;
use account_host::runtime::{ROGUE_GUEST_COMPONENT, Settled, load_component};
use suite::{Harness, each_backend, each_backend_with, expect_code, test_config};

/// The arguments of a rogue export after its call context.
#[derive(Clone, Copy)]
enum Args<'a> {
    None,
    Victim(&'a str),
    LogAccesses { operation: MemoryAuditOperation, count: u32, read_first: bool, then_fail: bool },
}

/// Runs one export of the rogue guest as an engine call that may write.
async fn attack(h: &Harness, caller: &Caller, export: &str, victim: Option<&str>) -> Result<String, EngineError> {
    let args = victim.map_or(Args::None, Args::Victim);
    attack_with(h, caller, export, args, false).await
}

/// Runs one export of the rogue guest as an engine call (in a read-only snapshot when `read_only`), and
/// settles it as the runtime does: committed or rolled back, then the access log the runtime hands on.
async fn attack_with(
    h: &Harness,
    caller: &Caller,
    export: &str,
    args: Args<'_>,
    read_only: bool,
) -> Result<String, EngineError> {
    let component = load_component(h.runtime.engine(), ROGUE_GUEST_COMPONENT, None).expect("compile rogue guest");
    let pre = h.runtime.linker().instantiate_pre(&component).expect("link rogue guest");
    let (mut store, ctx) = h.runtime.store(caller);
    store.data_mut().drivers().set_read_only(read_only);
    // The transaction begun before the guest runs, as `Runtime::run` begins it.
    let begun = store.data_mut().drivers().begin().await;
    store.data_mut().drivers().begun(begun);
    let outcome = async {
        let instance = pre.instantiate_async(&mut store).await?;
        let iface = instance.get_export_index(&mut store, None, "aos:rogue/attacks@0.1.0").expect("attacks");
        let func = instance.get_export_index(&mut store, Some(&iface), export).expect("export");
        type Answer = (Result<String, String>,);
        let answer = match args {
            Args::Victim(victim) => {
                let f = instance.get_typed_func::<(CallContext, String), Answer>(&mut store, &func)?;
                f.call_async(&mut store, (ctx, victim.to_string())).await?.0
            }
            Args::LogAccesses { operation, count, read_first, then_fail } => {
                type Params = (CallContext, MemoryAuditOperation, u32, bool, bool);
                let f = instance.get_typed_func::<Params, Answer>(&mut store, &func)?;
                f.call_async(&mut store, (ctx, operation, count, read_first, then_fail)).await?.0
            }
            Args::None => {
                let f = instance.get_typed_func::<(CallContext,), Answer>(&mut store, &func)?;
                f.call_async(&mut store, (ctx,)).await?.0
            }
        };
        wasmtime::Result::Ok(answer.map_err(|message| EngineError { code: ErrorCode::Internal, message }))
    }
    .await;
    match h.runtime.settle(&mut store, outcome, 1).await {
        Settled::Answered(answer, read_log) => {
            drop(store);
            read_log.write(tokio::time::Instant::now() + std::time::Duration::from_secs(5)).await;
            Ok(answer)
        }
        Settled::Failed(error) => Err(error),
        Settled::Retry | Settled::RunAsWriter => panic!("no second attempt expected"),
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

/// A call that only reads runs in a read-only snapshot, so its access log waits until it has committed:
/// the host keeps only `get` rows (a read logs reads, nothing else) and at most 16 of them (what it keeps
/// is bounded before it is spent). A refused row is not written; the rows taken are, once the snapshot
/// has committed — never when the call fails, nor when it read nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_call_logs_only_a_bounded_number_of_reads() {
    each_backend(async |h| {
        let mine = h.tenant("mine").await;
        let caller = customer(&mine.id);
        let logged = async || h.count("SELECT COUNT(*) FROM memory_audit").await;
        let before = logged().await;
        let log = |operation, count| Args::LogAccesses { operation, count, read_first: true, then_fail: false };

        let answer = attack_with(h, &caller, "log-accesses", log(MemoryAuditOperation::Upsert, 1), true).await;
        assert_eq!(
            answer.unwrap(),
            "took 0, refused: DriverErrorCode::Invalid: a call that only reads logs only reads"
        );
        assert_eq!(logged().await, before, "a refused row was written");

        let answer = attack_with(h, &caller, "log-accesses", log(MemoryAuditOperation::Get, 17), true).await;
        assert_eq!(answer.unwrap(), "took 16, refused: DriverErrorCode::Invalid: too many access log rows in one call");
        assert_eq!(logged().await, before + 16, "the 16 rows taken are written after the commit, the 17th is not");

        // A call that fails after logging rolls back: its reads go unlogged.
        let failing =
            Args::LogAccesses { operation: MemoryAuditOperation::Get, count: 3, read_first: true, then_fail: true };
        let message = expect_code(attack_with(h, &caller, "log-accesses", failing, true).await, ErrorCode::Internal);
        assert_eq!(message, "failing after logging: took 3");
        assert_eq!(logged().await, before + 16, "a failed call's reads were logged");

        // A call that read nothing committed no snapshot: a log row without its read is not kept (another
        // tenant's pins, whose reads were not logged within the hour).
        let unread =
            Args::LogAccesses { operation: MemoryAuditOperation::Get, count: 3, read_first: false, then_fail: false };
        let fresh = h.tenant("fresh").await;
        let answer = attack_with(h, &customer(&fresh.id), "log-accesses", unread, true).await;
        assert_eq!(answer.unwrap(), "took 3");
        assert_eq!(logged().await, before + 16, "rows of a call that read nothing were logged");

        // A call that may write logs in its own transaction: the bound is a read's.
        let answer = attack_with(h, &caller, "log-accesses", log(MemoryAuditOperation::Upsert, 17), false).await;
        assert_eq!(answer.unwrap(), "took 17");
        assert_eq!(logged().await, before + 16 + 17);
    })
    .await;
}
