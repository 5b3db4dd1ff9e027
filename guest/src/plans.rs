//! The plan table: what each plan grants (workers, runs, tokens, API keys, pins and their bytes), the one
//! place its numbers live. Setting a tenant's plan copies the plan's quotas onto the tenant's row; pin
//! limits are read from the plan on every write.

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

#[cfg(test)]
mod tests {
    use super::*;

    const PLANS: [Plan; 3] = [Plan::Free, Plan::Pro, Plan::Enterprise];

    #[test]
    fn the_free_plan() {
        let free = quotas(Plan::Free);
        let numbers = (
            free.max_workers,
            free.max_runs_per_day,
            free.max_concurrent_runs,
            free.max_tokens_per_month,
            free.max_api_keys,
        );
        assert_eq!(numbers, (3, 100, 5, 1_000_000, 5));
        assert_eq!(pin_quota(Plan::Free), (1_000, 64 * 1024 * 1024));
    }

    #[test]
    fn a_higher_plan_never_grants_less() {
        for pair in PLANS.windows(2) {
            let (lower, higher) = (quotas(pair[0]), quotas(pair[1]));
            assert!(higher.max_workers > lower.max_workers);
            assert!(higher.max_runs_per_day > lower.max_runs_per_day);
            assert!(higher.max_concurrent_runs > lower.max_concurrent_runs);
            assert!(higher.max_tokens_per_month > lower.max_tokens_per_month);
            assert!(higher.max_api_keys > lower.max_api_keys);
            let ((lower_pins, lower_bytes), (higher_pins, higher_bytes)) = (pin_quota(pair[0]), pin_quota(pair[1]));
            assert!(higher_pins > lower_pins && higher_bytes > lower_bytes);
        }
    }
}
