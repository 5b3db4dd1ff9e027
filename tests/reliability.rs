//! Reliability through the real component and host (issue 13): writers of one tenant queue instead of
//! failing each other, a connection lost in the middle of a call is `unavailable` wherever it happens,
//! a database known to be down is refused fast and probed back, and fuzzed arguments for every
//! operation never make the service fail or write.

use std::sync::Arc;
use std::time::{Duration, Instant};

use account_host::bindings::{ErrorCode, MemoryAuditOperation, Plan};
use account_host::runtime::Settled;
use suite::{Harness, each_backend, key, operator};

/// The review's load: writers of one tenant creating and revoking API keys at once. On PostgreSQL
/// 17% of the creations used to answer "too much contention"; now they queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_of_one_tenant_queue_instead_of_failing() {
    suite::each_backend_owned(async |h| {
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        h.runtime.tenants().update_plan(&operator(Some(&t)), Plan::Enterprise).await.unwrap();
        let h = Arc::new(h);
        for writers in [16, 64] {
            let mut tasks = tokio::task::JoinSet::new();
            for w in 0..writers {
                let (h, owner) = (h.clone(), owner.clone());
                tasks.spawn(async move {
                    let mut failures = Vec::new();
                    for i in 0..2 {
                        match h.runtime.tenants().create_api_key(&owner, &key(&format!("w{w}-{i}"))).await {
                            Ok(created) => {
                                if let Err(e) =
                                    h.runtime.tenants().revoke_api_key(&owner, &created.api_key.id, None).await
                                {
                                    failures.push(e);
                                }
                            }
                            Err(e) => failures.push(e),
                        }
                    }
                    failures
                });
            }
            let failures: Vec<_> = tasks.join_all().await.into_iter().flatten().collect();
            assert!(
                failures.is_empty(),
                "{writers} writers: {} failed: {:?}",
                failures.len(),
                &failures[..failures.len().min(3)]
            );
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM api_keys WHERE status = 'revoked'").await, 2 * (16 + 64));
        assert_eq!(h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'revoke_api_key'").await, 2 * (16 + 64));
        Arc::try_unwrap(h).ok().expect("all tasks done").close().await;
    })
    .await;
}

/// A connection lost in the middle of a write — here at the best-effort memory audit's statement — is
/// `unavailable`, not `internal`, and nothing is written. (PostgreSQL: the test ends its
/// own call's server process, not the server.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_mid_call_is_unavailable_and_writes_nothing() {
    let Some(url) = suite::postgres_url() else { return };
    let h = Harness::postgres(&url).await;
    let (t, owner) = h.owned_tenant("Acme", "ann").await;
    let (mut store, _) = h.runtime.store(&owner);
    store.data_mut().set_read_only(false);
    let state = store.data_mut();
    use account_host::bindings::memory_pins_driver::{Host as Pins, MemoryAuditEntry};
    Pins::upsert_pin(state, t.clone(), "k".into(), "{}".into(), "api".into(), None).await.unwrap();
    let pid: i32 = {
        let tx = state.tx().await.unwrap();
        account_host::on_tx!(tx, |c| sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(c)).unwrap()
    };
    h.execute(&format!("SELECT pg_terminate_backend({pid})")).await;
    let entry = MemoryAuditEntry {
        operation: MemoryAuditOperation::Upsert,
        tenant_id: t.clone(),
        key: "k".into(),
        success: true,
        agent_id: None,
        source: None,
        cache_hit: false,
        error_message: None,
        old_value_hash: None,
        new_value_hash: None,
        extra: None,
    };
    // The guest ignores a failed memory audit and answers ok; the host must not call that a success or
    // an internal failure.
    let _ = Pins::write_audit(state, entry).await;
    match h.runtime.settle(&mut store, Ok(Ok(())), 1).await {
        Settled::Failed(e) => assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}"),
        Settled::Answered(..) => panic!("a call whose connection was lost answered ok"),
        Settled::Retry | Settled::RunAsWriter => panic!("a lost connection asks for no second attempt"),
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 0, "nothing was written");
    // The runtime learned that the database may be down; the next call finds it back (after a probe).
    tokio::time::sleep(account_host::health::PROBE_EVERY).await;
    h.runtime.memory_pins().upsert_pin(&owner, "k", "{}", None, None).await.expect("the database is back");
    h.close().await;
}

/// A connection the server ended while it sat idle in the pool is not the end of a call: the call gets
/// another — whether the connection was idle long enough to be checked before it is handed out
/// (`CHECK_IDLE_AFTER`) or so briefly that it is not, when its `BEGIN` fails before anything of the
/// call ran. The same holds for authentication's lookups, which run on the pool outside any call
/// (`on_pool_idempotent!`). None of it marks the database down. (The test ends its own sessions, not the
/// server.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_ended_while_idle_are_not_the_end_of_a_call() {
    let Some(url) = suite::postgres_url() else { return };
    let h = Harness::postgres(&url).await;
    let (t, owner) = h.owned_tenant("Acme", "ann").await;
    let schema = h.schema().expect("a PostgreSQL harness has a schema").to_string();
    for idle in [Duration::ZERO, account_host::db::kept::KEEP_IDLE + Duration::from_millis(200)] {
        // Several connections in the pool: calls side by side.
        let calls = (0..4).map(|_| async { h.runtime.tenants().get_tenant(&owner).await });
        for got in futures_util::future::join_all(calls).await {
            got.expect("a call before the sessions end");
        }
        // Every session of the pool but the one that ends them, waiting (up to 5 s) until each is gone.
        let ended = h
            .count(&format!(
                "SELECT COUNT(*) FROM (SELECT pid FROM pg_stat_activity WHERE application_name = '{schema}' \
                 AND pid <> pg_backend_pid() OFFSET 0) AS pool WHERE pg_terminate_backend(pool.pid, 5000)"
            ))
            .await;
        assert!(ended >= 1, "the pool had idle connections to end");
        tokio::time::sleep(idle).await;
        // Authentication's lookups run on the pool outside any call, and come first here, while every
        // idle connection but one is dead.
        let user = account_host::identity::user_id_for_subject(&h.db, "ann").await;
        assert!(user.expect("an identity lookup after its idle connection was ended").is_some(), "idle {idle:?}");
        let read = h.runtime.tenants().get_tenant(&owner).await;
        assert_eq!(read.expect("a read after its idle connection was ended").id, t, "idle {idle:?}");
        h.runtime
            .memory_pins()
            .upsert_pin(&owner, &format!("after-{}", idle.as_millis()), "{}", None, None)
            .await
            .expect("a write after its idle connection was ended");
        assert!(!h.runtime.database_down(), "idle {idle:?}: the database was marked down");
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins").await, 2);
    h.close().await;
}

/// Waits (up to 5 s) until no session of the harness's pool (its `schema`, in `application_name`) but
/// the one asking is idle inside a transaction — `whose` names the transaction for the failure.
async fn no_session_stays_in_a_transaction(h: &Harness, schema: &str, whose: &str) {
    let in_transaction = format!(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '{schema}' \
         AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.count(&in_transaction).await > 0 {
        assert!(Instant::now() < deadline, "a session left inside {whose} transaction");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A read's transaction is ended without its caller waiting for it (`Tx::finish`), but it is ended: once
/// the calls have answered, no session of the pool stays inside a transaction (an open snapshot would
/// hold back vacuum). PostgreSQL, where the sessions can be seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reads_transaction_is_ended_once_it_has_answered() {
    let Some(url) = suite::postgres_url() else { return };
    let h = Harness::postgres(&url).await;
    let (_, owner) = h.owned_tenant("Acme", "ann").await;
    let schema = h.schema().expect("a PostgreSQL harness has a schema").to_string();
    h.runtime.memory_pins().upsert_pin(&owner, "k", "{}", None, None).await.unwrap();
    let reads = (0..4).map(|_| async {
        h.runtime.tenants().get_tenant(&owner).await.expect("get tenant");
        h.runtime.memory_pins().get_pin(&owner, "k").await.expect("get pin").expect("the pin");
        assert!(h.runtime.memory_pins().get_pin(&owner, "none").await.expect("get pin").is_none());
        h.runtime.tenants().check_run_quota(&owner).await.expect("check run quota");
    });
    futures_util::future::join_all(reads).await;
    no_session_stays_in_a_transaction(&h, &schema, "a read's").await;
    h.close().await;
}

/// A PostgreSQL harness whose connections go through a relay that counts their exchanges
/// (`suite::wire`), and the system acting on a new tenant — as in tests/round_trips.rs, whose counts
/// are the expectation (a person's call also reads their membership). None without PostgreSQL.
async fn through_a_relay() -> Option<(suite::wire::WireCounter, Harness, account_host::Caller)> {
    let wire = suite::wire::WireCounter::start(&suite::postgres_url()?).await;
    let h = Harness::postgres(wire.url()).await;
    let (tenant, _) = h.owned_tenant("Acme", "ann").await;
    Some((wire, h, account_host::Caller::system(Some(&tenant))))
}

/// A call that wrote leaves its connection clean (its `COMMIT` answered), and the next call takes it as it
/// is: nothing crosses the wire after the call. sqlx checks every connection given back to its pool with
/// an exchange of its own, so before, each write cost one more than it counted (issue 14). A read's
/// connection still goes back through that check, which carries its `ROLLBACK` after the call. A kept
/// connection idle for `KEEP_IDLE` goes back to the pool too, through the check. Counted on the wire
/// (`suite::wire`), with the host's own counts (`tests/round_trips.rs`) as the expectation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writes_connection_is_kept_for_the_next_call_without_a_check() {
    let Some((wire, h, system)) = through_a_relay().await else { return };
    let pins = h.runtime.memory_pins();
    pins.upsert_pin(&system, "read", "{}", None, None).await.unwrap();
    // The pin's first read writes its access log row; the reads below are within the hour.
    pins.get_pin(&system, "read").await.unwrap().expect("the pin");
    // Well under KEEP_IDLE: a kept connection stays kept while the test waits for the wire to settle.
    let quiet = Duration::from_millis(100);
    assert!(quiet * 4 < account_host::db::kept::KEEP_IDLE);
    pins.upsert_pin(&system, "w", "{}", None, None).await.unwrap();
    let connections = wire.connections();
    let (mut measured, mut previous_end) = (0, Instant::now());
    for i in 0..12 {
        let before = wire.settled(quiet).await;
        let start = Instant::now();
        pins.upsert_pin(&system, &format!("w{i}"), r#"{"v":1}"#, None, None).await.unwrap();
        let end = Instant::now();
        let after = wire.settled(quiet).await;
        // A machine that stalled for half of KEEP_IDLE around the call may have let the sweeper give the
        // kept connection back (and check it): such a try shows nothing either way.
        let idle_around = (start - previous_end).max(end.elapsed());
        previous_end = end;
        if idle_around >= account_host::db::kept::KEEP_IDLE / 2 {
            continue;
        }
        // BEGIN, status, storage, upsert, access log, COMMIT.
        assert_eq!(after - before, 6, "upsert pin {i}: its exchanges, and none after it");
        measured += 1;
        if measured == 3 {
            break;
        }
    }
    assert_eq!(measured, 3, "the machine stalled around every try");
    assert_eq!(wire.connections(), connections, "the writes took the connection kept before them");
    // A read's ROLLBACK is sent after the call, with sqlx's check of its connection.
    let before = wire.settled(quiet).await;
    pins.get_pin(&system, "read").await.unwrap().expect("the pin");
    // BEGIN, status, pin; then ROLLBACK with the check.
    assert_eq!(wire.settled(quiet).await - before, 3 + 1, "get pin");
    // The last write's connection, idle, goes back to the pool after KEEP_IDLE: checked then.
    let pool = h.db.postgres_pool().expect("PostgreSQL").clone();
    let idle_before = pool.num_idle();
    pins.upsert_pin(&system, "last", "{}", None, None).await.unwrap();
    let before = wire.settled(quiet).await;
    assert_eq!(
        pool.num_idle(),
        idle_before.saturating_sub(1),
        "the write took its connection from the pool and kept it"
    );
    let deadline = Instant::now() + account_host::db::kept::KEEP_IDLE + Duration::from_secs(5);
    while pool.num_idle() < idle_before.max(1) {
        assert!(Instant::now() < deadline, "a kept connection idle for KEEP_IDLE did not go back to the pool");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(wire.settled(quiet).await - before, 1, "the check as the kept connection went back to the pool");
    h.close().await;
}

/// Writes cancelled at every point of their way (a caller that gave up: the call's future dropped), each
/// followed by a write that commits: no cancelled write is committed in part — its pin without the
/// access log row the same transaction writes after it — by a later call that took its connection, and
/// no session is left inside a transaction. A connection is kept for the next call only after its
/// transaction ended; a cancelled call's goes back to sqlx's pool with its `ROLLBACK` queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_write_leaves_nothing_for_the_next_call_on_its_connection() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Acme", "ann").await;
        let pins = h.runtime.memory_pins();
        pins.upsert_pin(&owner, "warm", "{}", None, None).await.unwrap();
        let mut cancelled = 0;
        for i in 0..60u64 {
            let key = format!("c{i}");
            let call = pins.upsert_pin(&owner, &key, r#"{"v":1}"#, None, None);
            if tokio::time::timeout(Duration::from_micros(50 * i), call).await.is_err() {
                cancelled += 1;
            }
            pins.upsert_pin(&owner, &format!("after{i}"), "{}", None, None)
                .await
                .expect("a write after a cancelled one");
        }
        assert!(cancelled > 0, "no call was cancelled: the test proves nothing");
        // Each pin its call wrote has the access log row the call wrote after it, and the other way round.
        let pins_without_log = "SELECT COUNT(*) FROM memory_pins p WHERE p.key LIKE 'c%' \
             AND NOT EXISTS (SELECT 1 FROM memory_audit a WHERE a.key = p.key)";
        let logs_without_pin = "SELECT COUNT(*) FROM memory_audit a WHERE a.key LIKE 'c%' \
             AND NOT EXISTS (SELECT 1 FROM memory_pins p WHERE p.key = a.key)";
        assert_eq!(h.count(pins_without_log).await, 0, "a cancelled write committed in part");
        assert_eq!(h.count(logs_without_pin).await, 0, "a cancelled write committed in part");
        assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins WHERE key LIKE 'after%'").await, 60);
        if let Some(schema) = h.schema() {
            no_session_stays_in_a_transaction(h, schema, "a cancelled call's").await;
        }
    })
    .await;
}

/// A call given up while its `BEGIN` waits for the server's answer (a deadline, a caller gone) leaves no
/// session inside that transaction for a later call. sqlx counts a transaction only once its `BEGIN` is
/// answered: it queued no `ROLLBACK`, and its check gave the connection back to the pool inside the
/// transaction the server had begun (launchbadge/sqlx#2054), where a later call's `BEGIN` was ignored —
/// a write after a given-up read ran in the read's `READ ONLY` transaction, and failed. The lease now
/// closes such a connection. The relay holds the server's answers so that the calls are given up there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_given_up_at_its_begin_leaves_no_session_in_a_transaction() {
    let Some((wire, h, system)) = through_a_relay().await else { return };
    let pins = h.runtime.memory_pins();
    pins.upsert_pin(&system, "warm", "{}", None, None).await.unwrap();
    wire.delay_replies(Duration::from_millis(400));
    for i in 0..3 {
        let (read, key) = (pins.get_pin(&system, "warm"), format!("given-up{i}"));
        assert!(tokio::time::timeout(Duration::from_millis(100), read).await.is_err(), "a read waited for its BEGIN");
        let write = pins.upsert_pin(&system, &key, "{}", None, None);
        assert!(tokio::time::timeout(Duration::from_millis(100), write).await.is_err(), "a write waited for its BEGIN");
    }
    wire.delay_replies(Duration::ZERO);
    let schema = h.schema().expect("a PostgreSQL harness has a schema").to_string();
    no_session_stays_in_a_transaction(&h, &schema, "a given-up call's").await;
    for i in 0..8 {
        pins.upsert_pin(&system, &format!("after{i}"), "{}", None, None).await.expect("a write after given-up calls");
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM memory_pins WHERE key LIKE 'given-up%'").await, 0);
    h.close().await;
}

/// While the database is known to be down, calls are refused at once, and a probe brings them back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_known_to_be_down_is_refused_fast() {
    each_backend(async |h| {
        let (_, owner) = h.owned_tenant("Acme", "ann").await;
        h.db.close().await; // every connection of the pool is gone: the database is unreachable
        let started = Instant::now();
        let first = h.runtime.tenants().get_tenant(&owner).await;
        assert_eq!(first.unwrap_err().code, ErrorCode::Unavailable);
        for _ in 0..20 {
            let t = Instant::now();
            let refused = h.runtime.tenants().get_tenant(&owner).await;
            assert_eq!(refused.unwrap_err().code, ErrorCode::Unavailable);
            assert!(t.elapsed() < Duration::from_secs(1), "a refusal took {:?}", t.elapsed());
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        // (Readiness is checked against a real outage in `tests/http/reliability.rs`: here only the pool
        // is gone, and the server itself would still take a new connection.)
    })
    .await;
}

mod fuzz {
    //! Every operation, called with arguments generated from its own parameter types (valid shapes
    //! with hostile values), by every kind of caller: no trap, no `internal`, and a refused call writes
    //! nothing. Bounded here (`FUZZ_CASES`, default 24 per operation); set it higher for a longer run.
    use std::sync::Arc;

    use account_host::bindings::{ErrorCode, Role};
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::{Map, Value};
    use wasmtime::component::Type;

    fn hostile_string() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("../../etc/passwd".to_string()),
            Just("\0".to_string()),
            Just("x".repeat(70_000)),
            Just("{\"a\":1}".to_string()),
            Just("00000000-0000-0000-0000-000000000000".to_string()),
            Just("'; DROP TABLE tenants; --".to_string()),
            "\\PC{0,40}",
        ]
    }

    fn value(ty: &Type, depth: u32) -> BoxedStrategy<Value> {
        match ty {
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::U8 | Type::U16 | Type::U32 => {
                prop_oneof![Just(0u64), Just(1), Just(1000), Just(1001), Just(u32::MAX as u64)]
                    .prop_map(Value::from)
                    .boxed()
            }
            Type::S32 => prop_oneof![Just(i32::MIN as i64), Just(-1i64), Just(0), Just(1), Just(i32::MAX as i64)]
                .prop_map(Value::from)
                .boxed(),
            Type::S64 | Type::U64 => {
                prop_oneof![Just(i64::MIN), Just(-1i64), Just(0), Just(1), Just(i64::MAX), any::<i64>()]
                    .prop_map(Value::from)
                    .boxed()
            }
            Type::String => hostile_string().prop_map(Value::String).boxed(),
            Type::List(l) if depth < 3 => {
                prop::collection::vec(value(&l.ty(), depth + 1), 0..4).prop_map(Value::Array).boxed()
            }
            Type::Option(o) if depth < 3 => prop_oneof![Just(Value::Null), value(&o.ty(), depth + 1)].boxed(),
            Type::Enum(e) => {
                let names: Vec<Value> = e.names().map(|n| Value::String(n.replace('-', "_"))).collect();
                prop::sample::select(names).boxed()
            }
            Type::Record(r) if depth < 3 => {
                let fields: Vec<(String, BoxedStrategy<Value>)> =
                    r.fields().map(|f| (f.name.replace('-', "_"), value(&f.ty, depth + 1))).collect();
                fields
                    .into_iter()
                    .fold(Just(Map::new()).boxed(), |acc, (name, strategy)| {
                        (acc, strategy)
                            .prop_map(move |(mut m, v)| {
                                m.insert(name.clone(), v);
                                m
                            })
                            .boxed()
                    })
                    .prop_map(Value::Object)
                    .boxed()
            }
            _ => Just(Value::Null).boxed(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fuzzed_arguments_never_fail_the_service_or_write_when_refused() {
        let cases: u32 = std::env::var("FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24);
        let h = Arc::new(suite::Harness::sqlite().await);
        let (t, owner) = h.owned_tenant("Acme", "ann").await;
        let member = h.member(&owner, &t, "bob", Role::Member).await;
        let key = suite::api_key(&t, &uuid::Uuid::new_v4().to_string(), &["read:*"]);
        let callers = [
            owner,
            member,
            key,
            suite::operator(Some(&t)),
            account_host::Caller::new(account_host::bindings::Actor::Anonymous, None),
        ];
        let tables = [
            "tenants",
            "users",
            "tenant_memberships",
            "invitations",
            "api_keys",
            "worker_runs",
            "usage_records",
            "audit_log",
            "support_tickets",
            "memory_pins",
        ];
        let operations = h.runtime.operations().to_vec();
        // A fixed seed: a failure found in CI is the same failure on a developer's machine.
        let mut runner = TestRunner::new_with_rng(
            Config { cases, failure_persistence: None, ..Config::default() },
            proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
        );
        for op in &operations {
            let args = op.params.iter().fold(Just(Map::new()).boxed(), |acc, (name, ty)| {
                let name = name.replace('-', "_");
                (acc, value(ty, 0))
                    .prop_map(move |(mut m, v)| {
                        m.insert(name.clone(), v);
                        m
                    })
                    .boxed()
            });
            let strategy = (args, 0..callers.len());
            let mut samples = Vec::new();
            for _ in 0..cases {
                samples.push(strategy.new_tree(&mut runner).expect("a sample").current());
            }
            for (args, who) in samples {
                let before = counts(&h, &tables).await;
                let result =
                    h.runtime.call_json(&callers[who], &op.interface, &op.name, &Value::Object(args.clone())).await;
                if let Err(e) = &result {
                    assert!(
                        !matches!(e.code, ErrorCode::Internal | ErrorCode::Unavailable),
                        "{}/{} by caller {who} with {}: {e:?}",
                        op.interface,
                        op.name,
                        serde_json::to_string(&args).unwrap().chars().take(300).collect::<String>()
                    );
                    assert_eq!(counts(&h, &tables).await, before, "{}/{} was refused but wrote", op.interface, op.name);
                }
            }
        }
        Arc::try_unwrap(h).ok().expect("done").close().await;
    }

    async fn counts(h: &suite::Harness, tables: &[&str]) -> Vec<i64> {
        let mut out = Vec::new();
        for table in tables {
            out.push(h.count(&format!("SELECT COUNT(*) FROM {table}")).await);
        }
        out.push(h.count("SELECT CAST(COALESCE(SUM(tokens_this_month + runs_today), 0) AS BIGINT) FROM tenants").await);
        out
    }
}

/// A test that fails leaves no PostgreSQL schema behind: the harness drops it when it is dropped while
/// the test unwinds — even when one of the harness's own sessions is inside a transaction then (as the
/// runtime's background tasks, such as the policy cache's warm-up, may be), holding locks the drop needs
/// and waiting for the very thread the drop blocks.
#[tokio::test]
async fn a_failing_test_leaves_no_schema_behind() {
    let Some(url) = suite::postgres_url() else { return };
    let made = Arc::new(std::sync::Mutex::new(None::<String>));
    let seen = made.clone();
    let outcome = tokio::spawn(async move {
        let h = Harness::postgres(&url).await;
        *seen.lock().unwrap() = h.schema().map(str::to_string);
        h.tenant("doomed").await;
        let mut reading = h.db.postgres_pool().unwrap().begin().await.unwrap();
        let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants").fetch_one(&mut *reading).await.unwrap();
        panic!("an assertion fails");
    })
    .await;
    assert!(outcome.unwrap_err().is_panic());
    let schema = made.lock().unwrap().clone().expect("the harness made a schema");
    let admin = account_host::Database::connect(&suite::postgres_url().unwrap()).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1")
        .bind(&schema)
        .fetch_one(admin.postgres_pool().unwrap())
        .await
        .unwrap();
    assert_eq!(left, 0, "schema {schema} was left behind");
    admin.close().await;
}
