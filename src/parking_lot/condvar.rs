//! parking_lot's `Condvar`, for [`MutexGuard`](super::MutexGuard)s of this
//! flavour.

use std::fmt;
use std::time::{Duration, Instant};

use super::MutexGuard;
use crate::facade::maybe_const_fn;
use crate::raw::RawCondvar;
use crate::report::LockKind;

/// Whether a timed wait returned because it timed out.
#[derive(Debug, PartialEq, Eq, Copy, Clone)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// Whether the wait timed out.
    #[inline]
    pub fn timed_out(self) -> bool {
        self.0
    }
}

/// A condition variable with parking_lot's API: waits take `&mut
/// MutexGuard`, notifications say how many threads they woke.
///
/// A wait releases the mutex in the detector's held stack and re-acquires
/// it on wake-up, checked against whatever else the thread holds. A timed
/// wait that times out is never reported.
///
/// ```
/// use std::sync::Arc;
/// use lockgraph::parking_lot::{Condvar, Mutex};
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// std::thread::spawn(move || {
///     *pair2.0.lock() = true;
///     pair2.1.notify_one();
/// });
/// let mut started = pair.0.lock();
/// pair.1.wait_while(&mut started, |started| !*started);
/// assert!(*started);
/// ```
pub struct Condvar {
    raw: RawCondvar,
}

impl Condvar {
    maybe_const_fn! {
        /// Creates a new condition variable; `const`.
        #[inline]
        #[track_caller]
        pub fn new() -> Condvar {
            Condvar { raw: RawCondvar::new() }
        }
    }

    /// Wakes up one blocked thread; returns whether one was woken.
    #[inline]
    #[track_caller]
    pub fn notify_one(&self) -> bool {
        self.raw.notify_one()
    }

    /// Wakes up all blocked threads; returns how many were woken.
    #[inline]
    #[track_caller]
    pub fn notify_all(&self) -> usize {
        self.raw.notify_all()
    }

    #[track_caller]
    fn wait_internal<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> bool {
        let mutex = MutexGuard::mutex(guard);
        // SAFETY: the guard proves this thread holds the mutex.
        unsafe {
            self.raw
                .wait(mutex.raw(), LockKind::ParkingLotMutex, deadline)
        }
    }

    /// Blocks until notified, releasing the mutex while waiting.
    #[inline]
    #[track_caller]
    pub fn wait<T: ?Sized>(&self, mutex_guard: &mut MutexGuard<'_, T>) {
        self.wait_internal(mutex_guard, None);
    }

    /// Blocks until notified or until the instant `timeout`.
    #[inline]
    #[track_caller]
    pub fn wait_until<T: ?Sized>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        timeout: Instant,
    ) -> WaitTimeoutResult {
        WaitTimeoutResult(self.wait_internal(mutex_guard, Some(timeout)))
    }

    /// Blocks until notified or until `timeout` has passed.
    #[inline]
    #[track_caller]
    pub fn wait_for<T: ?Sized>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        WaitTimeoutResult(self.wait_internal(mutex_guard, Instant::now().checked_add(timeout)))
    }

    /// Blocks while `condition` returns `true`.
    #[inline]
    #[track_caller]
    pub fn wait_while<T, F>(&self, mutex_guard: &mut MutexGuard<'_, T>, mut condition: F)
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        // Ordered as a wait even when the condition already holds: in
        // another run it could have waited.
        self.raw.would_wait(MutexGuard::mutex(mutex_guard).raw());
        while condition(&mut *mutex_guard) {
            self.wait(mutex_guard);
        }
    }

    /// Blocks while `condition` returns `true`, until the instant `timeout`.
    #[inline]
    #[track_caller]
    pub fn wait_while_until<T, F>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        mut condition: F,
        timeout: Instant,
    ) -> WaitTimeoutResult
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        let mut result = WaitTimeoutResult(false);
        while !result.timed_out() && condition(&mut *mutex_guard) {
            result = self.wait_until(mutex_guard, timeout);
        }
        result
    }

    /// Blocks while `condition` returns `true`, for at most `timeout`.
    #[inline]
    #[track_caller]
    pub fn wait_while_for<T: ?Sized, F>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        condition: F,
        timeout: Duration,
    ) -> WaitTimeoutResult
    where
        F: FnMut(&mut T) -> bool,
    {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.wait_while_until(mutex_guard, condition, deadline),
            None => {
                self.wait_while(mutex_guard, condition);
                WaitTimeoutResult(false)
            }
        }
    }
}

impl Default for Condvar {
    #[inline]
    fn default() -> Condvar {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Condvar { .. }")
    }
}
