//! The clock of an engine's CPU deadlines: a thread that advances the engine's epoch every tick while a
//! store of that engine may run guest code, and waits without waking while none may.
//!
//! A store's epoch deadline counts ticks from the store's creation; guest code that runs past it traps.
//! Only a store that holds a [`Ticking`] (kept in its data, so it goes with the store) keeps the clock
//! going: an idle runtime costs no wake-ups (it used to wake 700 times a second, about 2% of a core on
//! this machine, with nothing to do).

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use wasmtime::Engine;

/// A tick is this fraction of the deadline it measures: a guest stops at most 2% after its deadline.
const TICKS_PER_DEADLINE: u32 = 50;
/// Bounds on a tick: a short deadline is not measured in wake-ups of less than this…
const SHORTEST_TICK: Duration = Duration::from_millis(2);
/// … and a long one not in ticks longer than this.
const LONGEST_TICK: Duration = Duration::from_millis(100);

/// What the ticking thread and the stores share.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Stores that hold a [`Ticking`].
    running: usize,
    /// The ticker was dropped: the thread ends.
    stop: bool,
    /// Ticks made so far.
    ticks: u64,
    /// The thread waits to be woken: only then does a new hold wake it (a wake-up is a system call,
    /// not to be paid by every call that finds the clock stopped between two ticks).
    waiting: bool,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The lock guards plain counters, which a panic cannot leave half-written.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Advances an engine's epoch every tick on a thread of its own while any [`Ticking`] is held; the thread
/// ends when the ticker or the engine is dropped.
pub(crate) struct EpochTicker {
    shared: Arc<Shared>,
    tick: Duration,
}

impl EpochTicker {
    /// Starts the clock of `engine`'s stores, whose deadlines are about `deadline` long; its thread is
    /// called `name`.
    pub(crate) fn start(engine: &Engine, deadline: Duration, name: &str) -> Self {
        let tick = (deadline / TICKS_PER_DEADLINE).clamp(SHORTEST_TICK, LONGEST_TICK);
        let shared = Arc::new(Shared::default());
        let weak = engine.weak();
        let on_thread = shared.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                loop {
                    {
                        let mut state = on_thread.state();
                        while state.running == 0 && !state.stop {
                            state.waiting = true;
                            state = on_thread.wake.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
                            state.waiting = false;
                        }
                        if state.stop {
                            break;
                        }
                    }
                    std::thread::sleep(tick);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                    on_thread.state().ticks += 1;
                }
            })
            .expect("spawning an epoch thread");
        EpochTicker { shared, tick }
    }

    /// How many ticks make `deadline` (at least one).
    pub(crate) fn ticks_in(&self, deadline: Duration) -> u64 {
        (deadline.as_nanos() / self.tick.as_nanos()).max(1) as u64
    }

    /// Keeps the clock going until the returned value is dropped: every store of the engine holds one
    /// for its whole life, or guest code in it would never reach its deadline.
    pub(crate) fn running(&self) -> Ticking {
        let mut state = self.shared.state();
        state.running += 1;
        if state.waiting {
            self.shared.wake.notify_one();
        }
        Ticking(self.shared.clone())
    }

    /// Ticks made so far.
    #[cfg(test)]
    fn ticks(&self) -> u64 {
        self.shared.state().ticks
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.shared.state().stop = true;
        self.shared.wake.notify_one();
    }
}

/// A store's hold on its engine's clock ([`EpochTicker::running`]).
pub(crate) struct Ticking(Arc<Shared>);

impl Drop for Ticking {
    fn drop(&mut self) {
        self.0.state().running -= 1;
    }
}

impl std::fmt::Debug for Ticking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticking")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(wasmtime::Config::new().epoch_interruption(true)).unwrap()
    }

    /// Waits until `ticker` has made more than `after` ticks (a bounded wait: it fails rather than hangs).
    fn wait_past(ticker: &EpochTicker, after: u64) -> u64 {
        for _ in 0..2_000 {
            if ticker.ticks() > after {
                return ticker.ticks();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("the clock did not tick in 2 s while a store held it");
    }

    #[test]
    fn the_clock_ticks_only_while_a_store_holds_it() {
        let engine = engine();
        let ticker = EpochTicker::start(&engine, Duration::ZERO, "test-epoch");
        assert_eq!(ticker.tick, SHORTEST_TICK);
        // Idle: fifty ticks' time without a tick.
        std::thread::sleep(SHORTEST_TICK * 50);
        assert_eq!(ticker.ticks(), 0, "an idle clock ticked");

        // Two stores hold it; it ticks while either does.
        let (first, second) = (ticker.running(), ticker.running());
        let seen = wait_past(&ticker, 0);
        drop(first);
        wait_past(&ticker, seen);
        drop(second);

        // Idle again: at most the tick that was under way when the last store went.
        let stopped = ticker.ticks();
        std::thread::sleep(SHORTEST_TICK * 50);
        assert!(ticker.ticks() <= stopped + 1, "{} ticks after the last store went", ticker.ticks() - stopped);

        // And it starts again for the next store.
        let again = ticker.running();
        wait_past(&ticker, ticker.ticks());
        drop(again);
    }

    #[test]
    fn a_tick_is_a_fiftieth_of_the_deadline_within_bounds() {
        let engine = engine();
        let of = |deadline| EpochTicker::start(&engine, deadline, "test-epoch");
        assert_eq!(of(Duration::from_millis(300)).tick, Duration::from_millis(6));
        assert_eq!(of(Duration::from_millis(50)).tick, SHORTEST_TICK);
        assert_eq!(of(Duration::from_secs(10)).tick, LONGEST_TICK);
        let ticker = of(Duration::from_millis(300));
        assert_eq!(ticker.ticks_in(Duration::from_millis(300)), 50);
        assert_eq!(ticker.ticks_in(Duration::from_millis(1)), 1);
    }
}
