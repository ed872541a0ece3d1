//! [`Barrier`], std-flavoured: std's barrier, whose rounds order the race
//! detector's accesses (every arrival happens before every return) and
//! whose arrivals the deadlock detector orders with the locks around them.

use std::fmt;

use crate::detect::{ENABLED, clock, policy};
use crate::facade::maybe_const_fn;
use crate::facade::std_sync::{self, BarrierWaitResult};
#[cfg(any(debug_assertions, feature = "always"))]
use {crate::detect::Meta, crate::report::LockKind, std::any::type_name};

/// Lets a number of threads wait for each other: a drop-in replacement for
/// [`std::sync::Barrier`]. For the race detector, everything a thread did
/// before reaching the barrier happens before everything every party does
/// after leaving it, round by round.
///
/// ```
/// use std::sync::Arc;
/// use lockgraph::sync::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         std::thread::spawn(move || barrier.wait().is_leader())
///     })
///     .collect();
/// let leaders = handles
///     .into_iter()
///     .map(|h| h.join().unwrap())
///     .filter(|&leader| leader)
///     .count();
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    inner: std_sync::Barrier,
    parties: Parties,
}

/// The number of parties (std's barrier does not say) and the barrier's
/// record in the lock-order graph, kept only when detection is compiled
/// in, so that otherwise this is std's barrier alone.
#[cfg(any(debug_assertions, feature = "always"))]
type Parties = (usize, Meta);
#[cfg(not(any(debug_assertions, feature = "always")))]
type Parties = ();

#[cfg(any(debug_assertions, feature = "always"))]
maybe_const_fn! {
    #[track_caller]
    fn parties(n: usize) -> Parties {
        (n, Meta::new(type_name::<()>))
    }
}
#[cfg(not(any(debug_assertions, feature = "always")))]
const fn parties(_n: usize) -> Parties {}

impl Barrier {
    maybe_const_fn! {
        /// Creates a barrier for `n` threads (`n` of 0 or 1 never blocks).
        /// Its creation site names it in reports, and when the watchdog
        /// finds a thread blocked in it.
        #[must_use]
        #[track_caller]
        pub fn new(n: usize) -> Barrier {
            Barrier {
                inner: std_sync::Barrier::new(n),
                parties: parties(n),
            }
        }
    }

    /// Blocks until all `n` threads have called `wait`; exactly one of them
    /// gets a result whose `is_leader()` is true.
    ///
    /// For the deadlock detector an arrival signals the other parties and
    /// waits for them: the locks a thread took (and released) on its way
    /// to the barrier are ordered after it, those it holds while waiting
    /// before it. A party waiting while holding a lock another party needs
    /// before it arrives is reported, before anything hangs:
    ///
    /// ```should_panic
    /// use std::sync::Arc;
    /// use lockgraph::sync::{Barrier, Mutex};
    /// # if !lockgraph::ENABLED { panic!("detection is off in this build") }
    ///
    /// let barrier = Arc::new(Barrier::new(2));
    /// let log = Arc::new(Mutex::new(Vec::<&str>::new()));
    /// let _party = {
    ///     let (barrier, log) = (barrier.clone(), log.clone());
    ///     // This party logs, then arrives: Barrier -> log.
    ///     std::thread::spawn(move || {
    ///         log.lock().unwrap().push("ready");
    ///         barrier.wait();
    ///     })
    /// };
    /// while log.lock().unwrap().is_empty() {} // the party logged, and
    /// std::thread::sleep(std::time::Duration::from_millis(50)); // arrived
    /// // This party arrives holding the log: log -> Barrier.
    /// let _log = log.lock().unwrap();
    /// barrier.wait(); // panics: "a thread waits at a Barrier holding a lock ..."
    /// ```
    ///
    /// A party that took the log on its way to one round is taken to need
    /// it on its way to the next, as a loop of rounds does: the order is
    /// the party's, not one round's. (What a party did before a round does
    /// happen before what every party does after it: a thread joined after
    /// such a round is not taken to need what it took before it.)
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        #[cfg(any(debug_assertions, feature = "always"))]
        if policy::active() {
            let (parties, ref meta) = self.parties;
            // An arrival signals the other parties (what this party took on
            // its way here is ordered after the barrier) and waits for them
            // (what it holds now is ordered before it); every arrival of a
            // round happens before every party's leaving.
            let stamp = if parties > 1 {
                meta.signal_event(LockKind::Barrier, false);
                let stamp = Meta::arrive();
                meta.wait_event(LockKind::Barrier, None);
                stamp
            } else {
                Default::default()
            };
            let round = clock::barrier_arrive(self.key(), parties, &stamp);
            let blocked = crate::detect::publish::begin_blocked(
                "Barrier::wait",
                meta.created(),
                std::panic::Location::caller(),
            );
            let result = self.inner.wait();
            drop(blocked);
            Meta::absorb(&clock::barrier_leave(self.key(), parties, round));
            return result;
        }
        self.inner.wait()
    }

    /// The key of this barrier's clocks.
    fn key(&self) -> usize {
        self as *const Barrier as usize
    }
}

impl Drop for Barrier {
    fn drop(&mut self) {
        if ENABLED && policy::active() {
            clock::forget_barrier(self.key());
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
