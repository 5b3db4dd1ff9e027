//! The price of isolation alone: a fresh store and sandboxed instance of the engine, created and torn
//! down without calling anything, exactly as every engine call starts and ends. A call also loads its
//! interface's functions from the instance (type-checked): measured for the smallest interface
//! (`memory-pins`, 5 functions) and the largest (`accounts`, 19).

use std::time::{Duration, Instant};

use account_host::Caller;

use crate::setup::Backend;

pub struct InstanceCost {
    pub bare: Duration,
    pub memory_pins: Duration,
    pub accounts: Duration,
}

pub async fn instantiate_and_teardown(b: &Backend) -> InstanceCost {
    let rt = &b.runtime;
    let caller = Caller::system(None);
    let bare = best_of(async || {
        let (mut store, _) = rt.store(&caller);
        rt.instantiate(&mut store).await.expect("instantiate");
    })
    .await;
    let memory_pins = best_of(async || {
        let (mut store, _) = rt.store(&caller);
        let instance = rt.instantiate(&mut store).await.expect("instantiate");
        rt.exports().memory_pins.load(&mut store, &instance).expect("load");
    })
    .await;
    let accounts = best_of(async || {
        let (mut store, _) = rt.store(&caller);
        let instance = rt.instantiate(&mut store).await.expect("instantiate");
        rt.exports().accounts.load(&mut store, &instance).expect("load");
    })
    .await;
    InstanceCost { bare, memory_pins, accounts }
}

/// The best of five rounds of 4,000 after 500 warm-up rounds: the cost of the work itself, not of the
/// neighbours on a shared machine.
async fn best_of(mut once: impl AsyncFnMut()) -> Duration {
    for _ in 0..500 {
        once().await;
    }
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let n = 4000;
        let start = Instant::now();
        for _ in 0..n {
            once().await;
        }
        best = best.min(start.elapsed() / n);
    }
    best
}
