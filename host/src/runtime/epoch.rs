//! The clock of an engine's CPU deadlines: a thread that advances the engine's epoch every tick while
//! stores of that engine may run guest code, and waits without waking once none has for a while.
//!
//! A store's epoch deadline counts ticks from the store's creation; guest code that runs past it traps.
//! Only a store that holds a [`Ticking`] (kept in its data, so it goes with the store) keeps the clock
//! going: an idle runtime costs no wake-ups (it used to wake 700 times a second, about 2% of a core on
//! this machine, with nothing to do). The clock keeps ticking for [`LINGER`] after the last store went,
//! so that a busy process never pays for waking its thread (a system call) on a call's path.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use wasmtime::Engine;

/// A tick is this fraction of the deadline it measures: a guest is stopped within a tick of its deadline
/// (the clock is somewhere in a tick when a store begins, so up to a tick early; later only as the thread
/// is scheduled).
const TICKS_PER_DEADLINE: u32 = 50;
/// Bounds on a tick: a short deadline is not measured in wake-ups of less than this…
const SHORTEST_TICK: Duration = Duration::from_millis(2);
/// … and a long one not in ticks longer than this.
const LONGEST_TICK: Duration = Duration::from_millis(100);
/// How long the clock keeps ticking without a store before its thread waits to be woken.
const LINGER: Duration = Duration::from_secs(1);

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
    /// Holds taken so far: the thread sees a store came and went between two of its ticks.
    held: u64,
    /// Ticks made so far.
    ticks: u64,
    /// The thread waits to be woken: only then does a new hold wake it.
    waiting: bool,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The lock guards plain counters, which a panic cannot leave half-written.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Advances an engine's epoch every tick on a thread of its own while any [`Ticking`] is held; the thread
/// ends when the ticker has been dropped and no store holds the clock, or when the engine is gone.
pub(crate) struct EpochTicker {
    shared: Arc<Shared>,
    tick: Duration,
}

impl EpochTicker {
    /// Starts the clock of `engine`'s stores, whose deadlines are about `deadline` long; its thread is
    /// called `name`.
    pub(crate) fn start(engine: &Engine, deadline: Duration, name: &str) -> Self {
        let tick = (deadline / TICKS_PER_DEADLINE).clamp(SHORTEST_TICK, LONGEST_TICK);
        Self::with_tick(engine, tick, LINGER, name)
    }

    fn with_tick(engine: &Engine, tick: Duration, linger: Duration, name: &str) -> Self {
        let linger_ticks = (linger.as_nanos() / tick.as_nanos()) as u64;
        let shared = Arc::new(Shared::default());
        let weak = engine.weak();
        let on_thread = shared.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                // Ticks in a row with no store held at the tick and none taken since the one before.
                let (mut idle_ticks, mut held_before) = (0, 0);
                loop {
                    {
                        let mut state = on_thread.state();
                        if state.running > 0 || state.held != held_before {
                            idle_ticks = 0;
                        }
                        // Before waiting: the hold that wakes the thread resets the count at the next tick.
                        held_before = state.held;
                        while state.running == 0 && idle_ticks >= linger_ticks && !state.stop {
                            state.waiting = true;
                            state = on_thread.wake.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
                            state.waiting = false;
                        }
                        // A store may outlive the runtime that made it: the clock runs until the last one goes.
                        if state.stop && state.running == 0 {
                            break;
                        }
                    }
                    std::thread::sleep(tick);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                    on_thread.state().ticks += 1;
                    idle_ticks += 1;
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
        state.held += 1;
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

/// A store's hold on its engine's clock: the engine's epoch advances, and the store's deadline with it,
/// only while some store holds one ([`crate::Runtime::hold_epoch_clock`]).
pub struct Ticking(Arc<Shared>);

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

    /// Waits (at most 5 s, then fails) until `done` holds of the ticker.
    fn wait_until(ticker: &EpochTicker, what: &str, done: impl Fn(&State) -> bool) {
        wait_on(&ticker.shared, what, done)
    }

    /// Waits (at most 5 s, then fails) until `done` holds of the clock's shared state.
    fn wait_on(shared: &Shared, what: &str, done: impl Fn(&State) -> bool) {
        for _ in 0..5_000 {
            if done(&shared.state()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("waited 5 s for the clock {what}");
    }

    #[test]
    fn the_clock_ticks_only_while_a_store_holds_it() {
        let engine = engine();
        let ticker = EpochTicker::with_tick(&engine, SHORTEST_TICK, Duration::ZERO, "test-epoch");
        // Idle from the start: its thread waits, and makes no tick in fifty ticks' time.
        wait_until(&ticker, "to wait", |s| s.waiting);
        std::thread::sleep(SHORTEST_TICK * 50);
        assert_eq!(ticker.ticks(), 0, "an idle clock ticked");

        // Two stores hold it; it ticks while either does.
        let (first, second) = (ticker.running(), ticker.running());
        wait_until(&ticker, "to tick", |s| s.ticks > 0);
        drop(first);
        let seen = ticker.ticks();
        wait_until(&ticker, "to tick for the second store", |s| s.ticks > seen);
        drop(second);

        // Idle again: it waits, and does not tick.
        wait_until(&ticker, "to wait again", |s| s.waiting);
        let stopped = ticker.ticks();
        std::thread::sleep(SHORTEST_TICK * 50);
        assert_eq!(ticker.ticks(), stopped, "the clock ticked with no store");

        // And it starts again for the next store.
        let again = ticker.running();
        wait_until(&ticker, "to tick again", |s| s.ticks > stopped);
        drop(again);
    }

    #[test]
    fn after_its_last_store_the_clock_lingers_then_waits() {
        let engine = engine();
        let linger = SHORTEST_TICK * 25;
        let ticker = EpochTicker::with_tick(&engine, SHORTEST_TICK, linger, "test-epoch");
        // It lingers from its start too (25 ticks), then waits.
        wait_until(&ticker, "to wait after its first linger", |s| s.waiting);
        let before = ticker.ticks();
        let store = ticker.running();
        wait_until(&ticker, "to tick", |s| s.ticks > before);
        drop(store);
        let dropped_at = ticker.ticks();
        wait_until(&ticker, "to wait after the store", |s| s.waiting);
        // It ticked on for the linger's 25 ticks (a store coming then would not have had to wake it)…
        // (24: the count starts at the last tick that saw the store, which may be the one before the drop.)
        assert!(ticker.ticks() >= dropped_at + 24, "{} ticks after the store", ticker.ticks() - dropped_at);
        // … and then stopped.
        let stopped = ticker.ticks();
        std::thread::sleep(SHORTEST_TICK * 50);
        assert_eq!(ticker.ticks(), stopped);
    }

    #[test]
    fn a_store_that_outlives_its_ticker_keeps_the_clock_going() {
        let engine = engine();
        let ticker = EpochTicker::with_tick(&engine, SHORTEST_TICK, Duration::ZERO, "test-epoch");
        let store = ticker.running();
        drop(ticker);
        let before = store.0.state().ticks;
        wait_on(&store.0, "to tick on for a store that outlives its ticker", |s| s.ticks > before);
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
