//! Which pins this process logged a read of in the last hour: lets a read skip the memory access log's
//! write when the log's own throttle (one read per pin and hour) would drop it anyway. Bounded; the
//! database's throttle stays the authority (another process, or an entry forgotten here, only costs an
//! `INSERT … WHERE NOT EXISTS` that writes nothing).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Mutex;

/// How many pins are remembered at most (16 bytes each).
const CAPACITY: usize = 65_536;

/// A keyed hash of (tenant, key) → when its read was logged (microseconds, the calls' clock).
pub struct RecentReads {
    /// Random per process, so that no one can choose keys whose hashes collide.
    hasher: RandomState,
    logged: Mutex<HashMap<u64, i64>>,
}

impl Default for RecentReads {
    fn default() -> Self {
        RecentReads { hasher: RandomState::new(), logged: Mutex::new(HashMap::new()) }
    }
}

impl RecentReads {
    fn slot(&self, tenant: &impl Hash, key: &str) -> u64 {
        self.hasher.hash_one((tenant, key))
    }

    /// Whether a read of the pin was logged within `interval` before `now`.
    pub fn logged_within(&self, tenant: &impl Hash, key: &str, now: i64, interval: i64) -> bool {
        let slot = self.slot(tenant, key);
        let logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        logged.get(&slot).is_some_and(|&at| at <= now && now - at < interval)
    }

    /// Notes that a read of the pin was logged at `now`. When full, the entries older than `interval`
    /// go, and all of them if that leaves more than half (so that a full map is swept at most once per
    /// half of its capacity of new pins).
    pub fn note(&self, tenant: &impl Hash, key: &str, now: i64, interval: i64) {
        let slot = self.slot(tenant, key);
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        if logged.len() >= CAPACITY && !logged.contains_key(&slot) {
            logged.retain(|_, &mut at| at <= now && now - at < interval);
            if logged.len() > CAPACITY / 2 {
                logged.clear();
            }
        }
        logged.insert(slot, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn a_read_is_remembered_for_the_interval_only() {
        let recent = RecentReads::default();
        assert!(!recent.logged_within(&"t", "k", 10, HOUR));
        recent.note(&"t", "k", 10, HOUR);
        assert!(recent.logged_within(&"t", "k", 10 + HOUR - 1, HOUR));
        assert!(!recent.logged_within(&"t", "k", 10 + HOUR, HOUR), "an hour later it is logged again");
        assert!(!recent.logged_within(&"t", "k", 9, HOUR), "a clock that went back logs again");
        assert!(!recent.logged_within(&"u", "k", 10, HOUR), "another tenant's pin");
        assert!(!recent.logged_within(&"t", "l", 10, HOUR), "another key");
    }

    #[test]
    fn it_stays_bounded() {
        let recent = RecentReads::default();
        for i in 0..(CAPACITY + 10) {
            recent.note(&"t", &i.to_string(), 0, HOUR);
        }
        assert!(recent.logged.lock().unwrap().len() <= CAPACITY);
        assert!(recent.logged_within(&"t", &(CAPACITY + 9).to_string(), 0, HOUR), "the newest is kept");
    }
}
