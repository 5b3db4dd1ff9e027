//! The reliability battery (issue 13), against the real binary: SIGKILL under concurrent writes, a
//! database outage on a PostgreSQL cluster of the test's own, two service processes on one database,
//! and a bounded soak. Every writer keeps a ledger of what the service acknowledged, refused, or left
//! unknown (the connection dropped), and the database is checked against it afterwards.

#[path = "support.rs"]
mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{
    Cluster, OPERATOR_TOKEN, Running, TempDir, bootstrap, command, drop_schema, jwt, postgres_schema, spawn,
};

/// What the writers were told.
#[derive(Default, Debug)]
struct Ledger {
    acked_pins: Vec<String>,
    refused_pins: Vec<String>,
    acked_usage: i64,
    unknown_usage: i64,
    acked_increments: i64,
    unknown_increments: i64,
    refused: u64,
    unknown: u64,
}

enum Answer {
    Ok,
    Refused(StatusCode),
    Unknown,
}

async fn send(http: &reqwest::Client, base: &str, tenant: &str, op: &str, body: Value) -> Answer {
    let response = http
        .post(format!("{base}/v1/{op}"))
        .bearer_auth(OPERATOR_TOKEN)
        .header("x-tenant-id", tenant)
        .json(&body)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    match response {
        Ok(r) if r.status() == StatusCode::OK => match r.bytes().await {
            Ok(_) => Answer::Ok,
            Err(_) => Answer::Unknown,
        },
        Ok(r) => {
            let status = r.status();
            match r.json::<Value>().await {
                // A commit whose connection was lost says so: its outcome is not known.
                Ok(v) if v["error"]["message"].as_str().is_some_and(|m| m.contains("may or may not")) => {
                    Answer::Unknown
                }
                Ok(v) if v["error"]["code"].is_string() => Answer::Refused(status),
                _ => Answer::Unknown,
            }
        }
        Err(_) => Answer::Unknown,
    }
}

/// Moves the tenant to the enterprise plan, so that the load is not refused by the free plan's quotas.
async fn enterprise(base: &str, tenant: &str) {
    let answer =
        send(&reqwest::Client::new(), base, tenant, "tenants/update_plan", json!({ "plan": "enterprise" })).await;
    assert!(matches!(answer, Answer::Ok));
}

/// Writes pins and usage records until told to stop, against whichever server `base` names now.
async fn writer(
    id: usize,
    base: Arc<Mutex<String>>,
    tenant: String,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
) {
    let http = reqwest::Client::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let current = base.lock().unwrap().clone();
        let key = format!("w{id}-{n}");
        match send(
            &http,
            &current,
            &tenant,
            "memory-pins/upsert_pin",
            json!({ "key": key, "value": format!("{{\"n\":{n}}}") }),
        )
        .await
        {
            Answer::Ok => ledger.lock().unwrap().acked_pins.push(key),
            Answer::Refused(_) => {
                let mut l = ledger.lock().unwrap();
                l.refused_pins.push(key);
                l.refused += 1;
            }
            Answer::Unknown => {
                ledger.lock().unwrap().unknown += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let usage = json!({ "usage": { "meter_name": "ledger", "amount": 1, "unit": "count" } });
        match send(&http, &current, &tenant, "tenants/record_usage", usage).await {
            Answer::Ok => ledger.lock().unwrap().acked_usage += 1,
            Answer::Refused(_) => ledger.lock().unwrap().refused += 1,
            Answer::Unknown => ledger.lock().unwrap().unknown_usage += 1,
        }
        match send(&http, &current, &tenant, "tenants/increment_usage", json!({ "tokens": 1 })).await {
            Answer::Ok => ledger.lock().unwrap().acked_increments += 1,
            Answer::Refused(_) => ledger.lock().unwrap().refused += 1,
            Answer::Unknown => {
                ledger.lock().unwrap().unknown_increments += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Checks the database against the ledger: every acknowledged write is there, nothing refused is, usage
/// sums what was acknowledged (plus at most what was left unknown), one audit row per usage record.
async fn verify(url: &str, ledger: &Ledger) {
    const RECORDS: &str = "SELECT COUNT(*) FROM usage_records WHERE meter_name = 'ledger'";
    const AUDITED: &str = "SELECT COUNT(*) FROM audit_log WHERE action = 'record_usage'";
    const INCREMENTS: &str = "SELECT COUNT(*) FROM audit_log WHERE action = 'increment_usage'";
    const TOKENS: &str = "SELECT CAST(SUM(tokens_this_month) AS BIGINT) FROM tenants";
    let (pins, ledger_records, audited, increments, tokens): (HashSet<String>, i64, i64, i64, i64) =
        if url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
            assert_eq!(integrity, "ok");
            let pins: Vec<String> = sqlx::query_scalar("SELECT key FROM memory_pins").fetch_all(&pool).await.unwrap();
            let count = async |sql: &'static str| -> i64 { sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap() };
            let figures = (count(RECORDS).await, count(AUDITED).await, count(INCREMENTS).await, count(TOKENS).await);
            pool.close().await;
            (pins.into_iter().collect(), figures.0, figures.1, figures.2, figures.3)
        } else {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let pins: Vec<String> = sqlx::query_scalar("SELECT key FROM memory_pins").fetch_all(&pool).await.unwrap();
            let count = async |sql: &'static str| -> i64 { sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap() };
            let figures = (count(RECORDS).await, count(AUDITED).await, count(INCREMENTS).await, count(TOKENS).await);
            pool.close().await;
            (pins.into_iter().collect(), figures.0, figures.1, figures.2, figures.3)
        };
    let lost: Vec<&String> = ledger.acked_pins.iter().filter(|k| !pins.contains(*k)).collect();
    assert!(lost.is_empty(), "acknowledged pins lost: {lost:?}");
    let visible: Vec<&String> = ledger.refused_pins.iter().filter(|k| pins.contains(*k)).collect();
    assert!(visible.is_empty(), "refused pins are visible: {visible:?}");
    assert!(
        ledger.acked_usage <= ledger_records && ledger_records <= ledger.acked_usage + ledger.unknown_usage,
        "usage records {ledger_records}, acknowledged {}, unknown {}",
        ledger.acked_usage,
        ledger.unknown_usage
    );
    assert_eq!(audited, ledger_records, "one audit row per usage record, written in its transaction");
    assert!(
        ledger.acked_increments <= increments && increments <= ledger.acked_increments + ledger.unknown_increments,
        "increments audited {increments}, acknowledged {}, unknown {}",
        ledger.acked_increments,
        ledger.unknown_increments
    );
    // The counter is the sum of the increments that committed (one token each), unless a UTC month
    // began during the run and reset it.
    assert!(tokens <= increments, "tokens_this_month {tokens}, increments {increments}");
    assert!(!ledger.acked_pins.is_empty(), "the load wrote something");
}

fn pseudo_random_millis(lo: u64, hi: u64) -> u64 {
    lo + u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * (hi - lo) / 255
}

async fn crash_battery(database_url: Option<&str>) {
    let dir = TempDir::new("aos-crash");
    let (tenant, _) = bootstrap(&dir.0, database_url);
    let (child, first) = spawn(&dir.0, database_url, &[], None);
    let mut child = Running(child);
    enterprise(&first, &tenant).await;
    let base = Arc::new(Mutex::new(first));
    let (stop, ledger) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Ledger::default())));
    let writers: Vec<_> =
        (0..4).map(|id| tokio::spawn(writer(id, base.clone(), tenant.clone(), stop.clone(), ledger.clone()))).collect();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(pseudo_random_millis(400, 1500))).await;
        child.0.kill().unwrap(); // SIGKILL
        child.0.wait().unwrap();
        let (next, next_base) = spawn(&dir.0, database_url, &[], None);
        child = Running(next);
        *base.lock().unwrap() = next_base;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    drop(child);
    // Every writer has stopped: the ledger is taken out of its lock, which is not held across awaits.
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let url =
        database_url.map(str::to_string).unwrap_or_else(|| format!("sqlite:{}", dir.0.join("accounts.db").display()));
    verify(&url, &ledger).await;
    eprintln!(
        "crash battery: {} pins and {} usage records acknowledged, {} refused, {} unknown",
        ledger.acked_pins.len(),
        ledger.acked_usage,
        ledger.refused,
        ledger.unknown + ledger.unknown_usage as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_writes_loses_nothing_acknowledged_on_sqlite() {
    crash_battery(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_writes_loses_nothing_acknowledged_on_postgres() {
    let Some((url, schema)) = postgres_schema().await else { return };
    crash_battery(Some(&url)).await;
    drop_schema(&schema).await;
}

/// The database goes away in the middle of traffic, twice: readiness and requests answer 503 within a
/// second (after the first calls find out, at worst after the pool's 3 s wait), the log says so once per change, and the service recovers by
/// itself when the database is back, with nothing acknowledged lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_refused_fast_and_recovers() {
    let Some(cluster) = Cluster::start() else { return };
    let url = cluster.url();
    let dir = TempDir::new("aos-outage");
    let log = dir.0.join("service.log");
    let (tenant, key) = bootstrap(&dir.0, Some(&url));
    let (child, first) = spawn(&dir.0, Some(&url), &[("RUST_LOG", "")], Some(&log));
    let child = Running(child);
    enterprise(&first, &tenant).await;
    let base = Arc::new(Mutex::new(first.clone()));
    let (stop, ledger) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Ledger::default())));
    let writers: Vec<_> =
        (0..2).map(|id| tokio::spawn(writer(id, base.clone(), tenant.clone(), stop.clone(), ledger.clone()))).collect();
    let http = reqwest::Client::new();
    let outages = 2;
    for _ in 0..outages {
        tokio::time::sleep(Duration::from_millis(800)).await;
        cluster.down();
        // The first calls find out (at worst after the pool's 3 s wait for a connection and a probe).
        let down = Instant::now();
        while !matches!(
            send(&http, &first, &tenant, "tenants/get_tenant", json!({})).await,
            Answer::Refused(StatusCode::SERVICE_UNAVAILABLE)
        ) {
            assert!(down.elapsed() < Duration::from_secs(10), "the outage was not noticed within 10 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // An API key needs a lookup before the call: it is refused as fast.
        let started = Instant::now();
        let with_key = http
            .post(format!("{first}/v1/tenants/get_tenant"))
            .bearer_auth(&key)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .unwrap();
        assert_eq!(with_key.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_secs(1), "a key's refusal took {:?}", started.elapsed());
        for _ in 0..5 {
            let started = Instant::now();
            let answer = send(&http, &first, &tenant, "tenants/get_tenant", json!({})).await;
            assert!(matches!(answer, Answer::Refused(StatusCode::SERVICE_UNAVAILABLE)), "while the database is down");
            assert!(started.elapsed() < Duration::from_secs(1), "a refusal took {:?}", started.elapsed());
        }
        let started = Instant::now();
        let ready = http.get(format!("{first}/readyz")).timeout(Duration::from_secs(2)).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_secs(1), "readiness took {:?}", started.elapsed());
        cluster.up();
        let back = Instant::now();
        loop {
            if matches!(send(&http, &first, &tenant, "tenants/get_tenant", json!({})).await, Answer::Ok) {
                break;
            }
            assert!(back.elapsed() < Duration::from_secs(10), "no recovery within 10 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!("outage: recovered {:?} after the database was back", back.elapsed());
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    drop(child);
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    verify(&url, &ledger).await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains('\u{1b}'), "colour codes in a log file");
    assert!(!text.contains("no transaction in progress"), "a warning for normal operation:\n{text}");
    let down = text.lines().filter(|l| l.contains("database unavailable")).count();
    let up = text.lines().filter(|l| l.contains("database available again")).count();
    assert!(
        (outages..=2 * outages).contains(&down),
        "{down} 'database unavailable' lines for {outages} outages:\n{text}"
    );
    assert!((outages..=2 * outages).contains(&up), "{up} 'available again' lines for {outages} outages");
}

/// Two service processes on one PostgreSQL database: the races that matter, played against both at
/// once, and migrations run by both at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_on_one_database_keep_every_invariant() {
    let Some((url, schema)) = postgres_schema().await else { return };
    let (dir_a, dir_b) = (TempDir::new("aos-two-a"), TempDir::new("aos-two-b"));
    // Both migrate a fresh database at once (PostgreSQL's advisory lock makes one wait for the other).
    let (a_migrate, b_migrate) = (
        command(&dir_a.0, Some(&url)).arg("migrate").spawn().unwrap(),
        command(&dir_b.0, Some(&url)).arg("migrate").spawn().unwrap(),
    );
    assert!(
        a_migrate.wait_with_output().unwrap().status.success()
            && b_migrate.wait_with_output().unwrap().status.success()
    );
    let (tenant, _) = bootstrap(&dir_a.0, Some(&url));
    let (log_a, log_b) = (dir_a.0.join("service.log"), dir_b.0.join("service.log"));
    let (a, base_a) = spawn(&dir_a.0, Some(&url), &[("RUST_LOG", "")], Some(&log_a));
    let (b, base_b) = spawn(&dir_b.0, Some(&url), &[("RUST_LOG", "")], Some(&log_b));
    let hosts = (Running(a), Running(b));
    let bases = [base_a.clone(), base_b.clone()];
    let http = reqwest::Client::new();
    let call = |base: String, credential: String, op: &'static str, body: Value| {
        let http = http.clone();
        async move {
            let response =
                http.post(format!("{base}/v1/{op}")).bearer_auth(credential).json(&body).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let ann = jwt("ann", "ann@example.com", Some(&tenant));

    // Double accept: six acceptances of one invitation, through both hosts.
    let (_, invited) = call(
        bases[0].clone(),
        ann.clone(),
        "accounts/invite_user",
        json!({ "email": "dan@example.com", "role": "owner" }),
    )
    .await;
    let dan = jwt("dan", "dan@example.com", None);
    let accepts: Vec<_> = (0..6)
        .map(|i| {
            tokio::spawn(call(
                bases[i % 2].clone(),
                dan.clone(),
                "accounts/accept_invitation",
                json!({ "invitation_id": invited["invitation"]["id"], "token": invited["token"] }),
            ))
        })
        .collect();
    let mut accepted = 0;
    for a in accepts {
        let (status, body) = a.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status} {body}"
        );
        if body["accepted"] == json!(true) {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1, "exactly one acceptance wins");

    // Quotas: twelve run creations through both hosts never pass the concurrent-run quota of 5.
    let runs: Vec<_> = (0..12)
        .map(|i| {
            tokio::spawn(call(
                bases[i % 2].clone(),
                ann.clone(),
                "tenants/create_run",
                json!({ "run": { "worker_id": "business-builder", "task": format!("t{i}") } }),
            ))
        })
        .collect();
    let created = futures_count(runs).await;
    assert_eq!(created, 5, "the concurrent-run quota held across hosts");

    // Last owner: the two owners demote each other at once, through different hosts.
    let users = call(bases[0].clone(), ann.clone(), "accounts/list_users", json!({})).await.1;
    let id_of = |email: &str| {
        users["items"].as_array().unwrap().iter().find(|u| u["email"] == email).unwrap()["user_id"].clone()
    };
    let (ann_id, dan_id) = (id_of("ann@example.com"), id_of("dan@example.com"));
    let dan_in = jwt("dan", "dan@example.com", Some(&tenant));
    let demotions = [
        tokio::spawn(call(
            bases[0].clone(),
            ann.clone(),
            "accounts/update_user_role",
            json!({ "user_id": dan_id, "new_role": "member" }),
        )),
        tokio::spawn(call(
            bases[1].clone(),
            dan_in.clone(),
            "accounts/update_user_role",
            json!({ "user_id": ann_id, "new_role": "member" }),
        )),
    ];
    for d in demotions {
        d.await.unwrap();
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let owners: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM tenant_memberships WHERE tenant_id = '{tenant}' AND role = 'owner'"
    )))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(owners >= 1, "the tenant lost its last owner");

    // Lifecycle: transitions raced through both hosts form one valid path, each audited once.
    let steps: Vec<_> = ["suspend", "resume", "suspend", "terminate", "archive", "resume"]
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let (http, base, tenant) = (http.clone(), bases[i % 2].clone(), tenant.clone());
            let op = format!("{}/v1/lifecycle/{op}", base);
            tokio::spawn(async move {
                http.post(op)
                    .bearer_auth(OPERATOR_TOKEN)
                    .header("x-tenant-id", tenant)
                    .json(&json!({ "reason": "race" }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for s in steps {
        let status = s.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}"
        );
    }
    let trail: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT old_value_json, new_value_json FROM audit_log WHERE tenant_id = '{tenant}' AND action IN ('suspend_tenant', 'resume_tenant', 'terminate_tenant', 'archive_tenant')"
    )))
    .fetch_all(&pool)
    .await
    .unwrap();
    // The committed transitions chain from `active`, each starting where one ended (the calls' clocks
    // need not be in commit order, so the chain is followed, not the timestamps).
    let mut edges: Vec<(String, String)> = trail
        .iter()
        .map(|(old, new)| {
            let (old, new): (Value, Value) = (serde_json::from_str(old).unwrap(), serde_json::from_str(new).unwrap());
            (old["status"].as_str().unwrap().to_string(), new["status"].as_str().unwrap().to_string())
        })
        .collect();
    let mut status = "active".to_string();
    while let Some(next) = edges.iter().position(|(from, _)| *from == status) {
        status = edges.remove(next).1;
    }
    assert!(edges.is_empty(), "transitions that do not follow one path: {edges:?} (trail {trail:?})");
    let current: String =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT status FROM tenants WHERE id = '{tenant}'")))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(current, status, "the tenant ends where its audit trail says");
    pool.close().await;
    drop(hosts);
    // Races across processes end in failed commits and retries: normal operation, with no warning for it.
    for log in [&log_a, &log_b] {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(!text.contains("no transaction in progress"), "{text}");
        assert!(!text.contains('\u{1b}'), "colour codes in a log file");
    }
    drop_schema(&schema).await;
}

async fn futures_count(tasks: Vec<tokio::task::JoinHandle<(StatusCode, Value)>>) -> usize {
    let mut ok = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("{other} {body}"),
        }
    }
    ok
}

fn process_figures(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss_kib = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);
    (rss_kib, fds)
}

/// A bounded mixed load (`SOAK_SECONDS`, 15 by default) against one server on SQLite: its resident memory
/// and file descriptors at the start (after a warm-up) and at the end may grow only within stated bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_does_not_grow_memory_or_file_descriptors() {
    let seconds: u64 = std::env::var("SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let dir = TempDir::new("aos-soak");
    let (tenant, _) = bootstrap(&dir.0, None);
    let (child, base) = spawn(&dir.0, None, &[], None);
    let child = Running(child);
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (base, tenant, stop, calls, served) =
                (base.clone(), tenant.clone(), stop.clone(), calls.clone(), served.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let (op, body) = match n % 5 {
                        0 => (
                            "memory-pins/upsert_pin",
                            json!({ "key": format!("s{w}-{}", n % 50), "value": "{\"v\":1}" }),
                        ),
                        1 => ("memory-pins/get_pin", json!({ "key": format!("s{w}-{}", n % 50) })),
                        2 => ("memory-pins/list_pins", json!({ "page": { "limit": 20 } })),
                        3 => (
                            "tenants/record_usage",
                            json!({ "usage": { "meter_name": "soak", "amount": 1, "unit": "count" } }),
                        ),
                        _ => ("tenants/get_tenant", json!({})),
                    };
                    if matches!(send(&http, &base, &tenant, op, body).await, Answer::Ok) {
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_start, fds_start) = process_figures(child.0.id());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (rss_end, fds_end) = process_figures(child.0.id());
    let mut child = child;
    assert!(child.0.try_wait().unwrap().is_none(), "the server died during the soak");
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    drop(child);
    eprintln!(
        "soak: {} calls ({} served) in {seconds} s; RSS {} -> {} MiB; file descriptors {fds_start} -> {fds_end}",
        calls.load(Ordering::Relaxed),
        served.load(Ordering::Relaxed),
        rss_start / 1024,
        rss_end / 1024
    );
    let (calls, served) = (calls.load(Ordering::Relaxed), served.load(Ordering::Relaxed));
    assert!(served * 10 >= calls * 9 && served >= 100 * seconds, "{served} of {calls} calls served");
    assert!(rss_end <= rss_start + 64 * 1024, "resident memory grew from {rss_start} KiB to {rss_end} KiB");
    assert!(fds_end <= fds_start + 16, "file descriptors grew from {fds_start} to {fds_end}");
}
