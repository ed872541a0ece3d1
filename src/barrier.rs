//! [`Barrier`], std-flavoured: std's barrier, whose rounds order the race
//! detector's accesses (every arrival happens before every return).

use std::fmt;

use crate::detect::{ENABLED, clock, policy};
use crate::facade::std_sync::{self, BarrierWaitResult};

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

/// The number of parties and the creation site, kept only when detection
/// is compiled in (std's barrier does not say the first), so that
/// otherwise this is std's barrier alone.
#[cfg(any(debug_assertions, feature = "always"))]
type Parties = (usize, &'static std::panic::Location<'static>);
#[cfg(not(any(debug_assertions, feature = "always")))]
type Parties = ();

#[cfg(any(debug_assertions, feature = "always"))]
#[track_caller]
const fn parties(n: usize) -> Parties {
    (n, std::panic::Location::caller())
}
#[cfg(not(any(debug_assertions, feature = "always")))]
const fn parties(_n: usize) -> Parties {}

impl Barrier {
    /// Creates a barrier for `n` threads (`n` of 0 or 1 never blocks). Its
    /// creation site names it when the watchdog finds a thread blocked in
    /// it.
    #[must_use]
    #[track_caller]
    pub const fn new(n: usize) -> Barrier {
        Barrier {
            inner: std_sync::Barrier::new(n),
            parties: parties(n),
        }
    }

    /// Blocks until all `n` threads have called `wait`; exactly one of them
    /// gets a result whose `is_leader()` is true.
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        #[cfg(any(debug_assertions, feature = "always"))]
        if policy::active() {
            let (parties, created) = self.parties;
            let round = clock::barrier_arrive(self.key(), parties);
            let blocked = crate::watchdog::begin_blocked(
                "Barrier::wait",
                created,
                std::panic::Location::caller(),
            );
            let result = self.inner.wait();
            drop(blocked);
            clock::barrier_leave(self.key(), parties, round);
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
