//! Prometheus metrics per engine operation: calls, errors by code, and a latency histogram.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Stats {
    calls: u64,
    errors: BTreeMap<&'static str, u64>,
    buckets: [u64; BUCKETS.len()],
    sum_seconds: f64,
}

/// The counters of every operation called so far, keyed by `interface.operation`; rendered for Prometheus
/// by [`Metrics::render`].
#[derive(Default)]
pub struct Metrics {
    operations: Mutex<BTreeMap<String, Stats>>,
}

impl Metrics {
    /// Counts one call of `operation` that took `elapsed`, with the error code it answered, if any.
    pub fn record(&self, operation: &str, elapsed: Duration, error: Option<&'static str>) {
        let mut ops = self.operations.lock().unwrap_or_else(|e| e.into_inner());
        let stats = ops.entry(operation.to_string()).or_default();
        let seconds = elapsed.as_secs_f64();
        stats.calls += 1;
        stats.sum_seconds += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                stats.buckets[i] += 1;
            }
        }
        if let Some(code) = error {
            *stats.errors.entry(code).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let ops = self.operations.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP account_engine_calls_total Engine operations called.\n# TYPE account_engine_calls_total counter\n",
        );
        for (op, s) in ops.iter() {
            let _ = writeln!(out, "account_engine_calls_total{{operation=\"{op}\"}} {}", s.calls);
        }
        out.push_str("# HELP account_engine_errors_total Engine operations that answered an error, by code.\n# TYPE account_engine_errors_total counter\n");
        for (op, s) in ops.iter() {
            for (code, n) in &s.errors {
                let _ = writeln!(out, "account_engine_errors_total{{operation=\"{op}\",code=\"{code}\"}} {n}");
            }
        }
        out.push_str("# HELP account_engine_call_seconds Latency of engine operations.\n# TYPE account_engine_call_seconds histogram\n");
        for (op, s) in ops.iter() {
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(out, "account_engine_call_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "account_engine_call_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}", s.calls);
            let _ = writeln!(out, "account_engine_call_seconds_sum{{operation=\"{op}\"}} {}", s.sum_seconds);
            let _ = writeln!(out, "account_engine_call_seconds_count{{operation=\"{op}\"}} {}", s.calls);
        }
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        let _ = write!(
            out,
            "# HELP account_engine_retries_total Calls run again after losing a serialisation race.\n\
             # TYPE account_engine_retries_total counter\naccount_engine_retries_total {}\n\
             # HELP account_engine_contention_failures_total Calls refused after losing races until their deadline.\n\
             # TYPE account_engine_contention_failures_total counter\naccount_engine_contention_failures_total {}\n\
             # HELP account_engine_run_as_writers_total Calls of operations that seldom write that wrote, run again as writers.\n\
             # TYPE account_engine_run_as_writers_total counter\naccount_engine_run_as_writers_total {}\n",
            crate::runtime::RETRIES.load(relaxed),
            crate::runtime::CONTENTION_FAILURES.load(relaxed),
            crate::runtime::RUN_AS_WRITERS.load(relaxed),
        );
        out
    }
}
