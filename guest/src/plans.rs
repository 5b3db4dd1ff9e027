//! The plan table (domain.md §3.4.1): the one place its numbers live.

use crate::aos::accounts::types::{Plan, PlanQuotas};

pub fn quotas(plan: Plan) -> PlanQuotas {
    let (workers, runs_per_day, concurrent, tokens, keys) = match plan {
        Plan::Free => (3, 100, 5, 1_000_000, 5),
        Plan::Pro => (10, 1_000, 20, 10_000_000, 20),
        Plan::Enterprise => (100, 100_000, 100, 1_000_000_000, 100),
    };
    PlanQuotas {
        max_workers: workers,
        max_runs_per_day: runs_per_day,
        max_concurrent_runs: concurrent,
        max_tokens_per_month: tokens,
        max_api_keys: keys,
    }
}

/// How many pins a tenant of the plan may keep, and how many bytes of values in all.
pub fn pin_quota(plan: Plan) -> (u64, u64) {
    match plan {
        Plan::Free => (1_000, 64 << 20),
        Plan::Pro => (100_000, 1 << 30),
        Plan::Enterprise => (10_000_000, 100 << 30),
    }
}
