//! Throughput and latency under concurrency: `callers` tasks calling one operation through the engine
//! as fast as they can for a fixed window, on PostgreSQL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use account_host::Caller;
use account_host::bindings::PageRequest;

use crate::compare::PINS;
use crate::setup::{Backend, percentile};

/// The operations measured under load, named as the Python peer names them.
pub const OPERATIONS: [&str; 4] = ["get_pin", "upsert_pin", "check_run_quota", "list_members"];

#[derive(Clone, Debug)]
pub struct Load {
    pub operation: String,
    pub callers: usize,
    /// How many tenants the callers act on (the callers take them in turn); the peer's runs act on one.
    pub tenants: usize,
    pub calls_per_second: f64,
    pub median: Duration,
    pub p95: Duration,
    /// Processor time (user + system) of the calling process per call, in the window.
    pub cpu_per_call: Option<Duration>,
    /// Of it, the kernel's (ours only: the peer reports its total).
    pub system_per_call: Option<Duration>,
    /// The process's waits (voluntary context switches) per call (ours only).
    pub waits_per_call: Option<f64>,
    /// The process's peak resident set during the run (KiB).
    pub peak_rss_kib: Option<u64>,
}

impl Load {
    pub fn from_latencies(operation: &str, callers: usize, elapsed: Duration, mut latencies: Vec<Duration>) -> Load {
        Load {
            operation: operation.into(),
            callers,
            tenants: 1,
            calls_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            median: percentile(&mut latencies, 0.5),
            p95: percentile(&mut latencies, 0.95),
            cpu_per_call: None,
            system_per_call: None,
            waits_per_call: None,
            peak_rss_kib: None,
        }
    }
}

/// One engine call of `operation` by caller `caller`, its `n`th; the same keys as the peer's.
async fn call(b: &Backend, sys: &Caller, operation: &str, caller: usize, n: usize) {
    match operation {
        "get_pin" => {
            b.runtime.memory_pins().get_pin(sys, &format!("c{}", n % PINS)).await.unwrap().expect("pin");
        }
        "upsert_pin" => {
            let key = format!("t{caller}-{}", n % 100);
            b.runtime
                .memory_pins()
                .upsert_pin(sys, &key, r#"{"step":1,"note":"benchmark"}"#, None, Some(3600))
                .await
                .unwrap();
        }
        "check_run_quota" => {
            b.runtime.tenants().check_run_quota(sys).await.unwrap();
        }
        "list_members" => {
            b.runtime.accounts().list_users(sys, None, None, &PageRequest { limit: 50, after: None }).await.unwrap();
        }
        other => unreachable!("no operation {other}"),
    }
}

/// `callers` tasks calling `operation` for `window`, caller `c` on `tenants[c % tenants.len()]`.
pub async fn run(
    b: Arc<Backend>,
    tenants: &[String],
    operation: &'static str,
    callers: usize,
    window: Duration,
) -> Load {
    // Warm every caller's path (connections, the instance pool) before the window opens.
    let warm_until = Instant::now() + Duration::from_millis(300);
    let stop = warm_until + window;
    crate::setup::reset_peak_rss();
    // The process's processor time over the window (the calls are the process's only work then).
    let cpu_window = tokio::spawn(async move {
        tokio::time::sleep_until(warm_until.into()).await;
        let began = crate::setup::Usage::now();
        tokio::time::sleep_until(stop.into()).await;
        crate::setup::Usage::now() - began
    });
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..callers {
        let (b, tenant) = (b.clone(), tenants[caller % tenants.len()].clone());
        tasks.spawn(async move {
            let sys = Caller::system(Some(&tenant));
            let mut latencies = Vec::new();
            let mut n = 0;
            loop {
                let start = Instant::now();
                if start >= stop {
                    break;
                }
                call(&b, &sys, operation, caller, n).await;
                if start >= warm_until {
                    latencies.push(start.elapsed());
                }
                n += 1;
            }
            latencies
        });
    }
    let latencies: Vec<Duration> = tasks.join_all().await.into_iter().flatten().collect();
    let usage = cpu_window.await.expect("the CPU sampler");
    let calls = latencies.len().max(1) as u32;
    // Calls that began inside the window count, so the window ends when the last of them ended.
    let mut load = Load::from_latencies(operation, callers, warm_until.elapsed(), latencies);
    load.tenants = tenants.len().min(callers);
    load.cpu_per_call = Some(usage.cpu() / calls);
    load.system_per_call = Some(usage.system / calls);
    load.waits_per_call = Some(usage.waits as f64 / calls as f64);
    load.peak_rss_kib = crate::setup::peak_rss_kib();
    load
}
