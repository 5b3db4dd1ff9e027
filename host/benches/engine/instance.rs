//! The price of isolation alone: a fresh store and sandboxed instance of the engine, created and torn
//! down without calling anything, exactly as every engine call starts and ends — for each interface's
//! component, as a call instantiates the one of its operation's interface. A call also looks up its
//! operation's function in the instance, type-checked (measured for `accounts.list-users`); calls used to
//! load their whole interface, type-checking every function of it (measured for the largest, `accounts`,
//! 19 functions).

use std::time::{Duration, Instant};

use account_host::Caller;
use account_host::bindings::{CallContext, EngineError, PageRequest, Role, UserStatus, accounts};

use crate::setup::Backend;

pub struct InstanceCost {
    /// Each interface's component, in the contract's order.
    pub bare: Vec<(&'static str, Duration)>,
    pub one_function: Duration,
    pub accounts: Duration,
}

pub async fn instantiate_and_teardown(b: &Backend) -> InstanceCost {
    let rt = &b.runtime;
    let caller = Caller::system(None);
    let mut bare = Vec::new();
    for &(interface, _) in account_host::runtime::ACCOUNT_ENGINE_INTERFACE_COMPONENTS {
        let cost = best_of(async || {
            let (mut store, _) = rt.store(&caller);
            rt.instantiate(&mut store, interface).await.expect("instantiate");
        })
        .await;
        bare.push((interface, cost));
    }
    let list_users = rt.exports().functions.iter().find(|f| f.interface == "accounts" && f.name == "list-users");
    let list_users = list_users.expect("accounts.list-users").index();
    let one_function = best_of(async || {
        let (mut store, _) = rt.store(&caller);
        let instance = rt.instantiate(&mut store, "accounts").await.expect("instantiate");
        type Params<'a> = (&'a CallContext, Option<Role>, Option<UserStatus>, &'a PageRequest);
        type Results = (Result<accounts::UserList, EngineError>,);
        instance.get_typed_func::<Params, Results>(&mut store, &list_users).expect("list-users");
    })
    .await;
    let accounts = best_of(async || {
        let (mut store, _) = rt.store(&caller);
        let instance = rt.instantiate(&mut store, "accounts").await.expect("instantiate");
        rt.exports().accounts.load(&mut store, &instance).expect("load");
    })
    .await;
    InstanceCost { bare, one_function, accounts }
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

impl InstanceCost {
    /// Instantiate + teardown of `interface`'s component.
    pub fn of(&self, interface: &str) -> Duration {
        self.bare
            .iter()
            .find(|(name, _)| *name == interface)
            .map(|(_, cost)| *cost)
            .expect("an interface of the engine")
    }

    /// The dearest interface's instantiate + teardown.
    pub fn worst(&self) -> (&'static str, Duration) {
        self.bare.iter().copied().max_by_key(|(_, cost)| *cost).expect("the engine has interfaces")
    }
}
