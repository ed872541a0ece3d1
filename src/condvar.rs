//! [`Condvar`], std-flavoured: `std::sync::Condvar`'s API, working with
//! [`crate::MutexGuard`].

use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{LockResult, WaitTimeoutResult};
use std::time::{Duration, Instant};

use crate::facade::{self as sync, maybe_const_fn};
use crate::mutex::MutexGuard;
use crate::raw::RawCondvar;
use crate::report::LockKind;

/// A condition variable: a drop-in replacement for [`std::sync::Condvar`]
/// that works with [`lockgraph::Mutex`](crate::Mutex).
///
/// A wait releases the mutex in the detector's held stack and re-acquires
/// it on wake-up; the re-acquisition is checked like any blocking lock,
/// against whatever else the thread holds.
///
/// ```
/// use std::sync::Arc;
/// use std::thread;
/// use lockgraph::{Condvar, Mutex};
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// thread::spawn(move || {
///     let (lock, cvar) = &*pair2;
///     *lock.lock().unwrap() = true;
///     cvar.notify_one();
/// });
/// let (lock, cvar) = &*pair;
/// let started = cvar.wait_while(lock.lock().unwrap(), |started| !*started).unwrap();
/// assert!(*started);
/// ```
pub struct Condvar {
    raw: RawCondvar,
}

impl UnwindSafe for Condvar {}
impl RefUnwindSafe for Condvar {}

impl Condvar {
    maybe_const_fn! {
        /// Creates a new condition variable; `const`, so it works in a
        /// `static`.
        #[inline]
        #[track_caller]
        pub fn new() -> Condvar {
            Condvar { raw: RawCondvar::new() }
        }
    }

    /// Blocks until notified, releasing the mutex while waiting and
    /// re-acquiring it before returning; an error if the mutex is poisoned
    /// on wake-up. Spurious wake-ups are possible: use [`Condvar::wait_while`]
    /// or loop on a condition.
    #[track_caller]
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let mutex = guard.mutex();
        // SAFETY: the guard proves this thread holds the mutex.
        unsafe { self.raw.wait(mutex.raw(), LockKind::Mutex, None) };
        mutex.poison().result(guard)
    }

    /// Waits while `condition` returns `true`, re-checking it after each
    /// wake-up.
    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        // Ordered as a wait even when the condition already holds: in
        // another run it could have waited.
        self.raw.would_wait(guard.mutex().raw());
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Waits for at most `ms` milliseconds; returns whether it timed out.
    #[deprecated(
        since = "1.6.0",
        note = "replaced by `std::sync::Condvar::wait_timeout`"
    )]
    #[track_caller]
    pub fn wait_timeout_ms<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        ms: u32,
    ) -> LockResult<(MutexGuard<'a, T>, bool)> {
        match self.wait_timeout(guard, Duration::from_millis(ms.into())) {
            Ok((guard, result)) => Ok((guard, result.timed_out())),
            Err(err) => {
                let (guard, result) = err.into_inner();
                Err(std::sync::PoisonError::new((guard, result.timed_out())))
            }
        }
    }

    /// Waits until notified or until `dur` has elapsed. A timeout is never
    /// reported as a deadlock.
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let mutex = guard.mutex();
        let deadline = Instant::now().checked_add(dur);
        // SAFETY: the guard proves this thread holds the mutex.
        let timed_out = unsafe { self.raw.wait(mutex.raw(), LockKind::Mutex, deadline) };
        mutex
            .poison()
            .result((guard, sync::wait_timeout_result(timed_out)))
    }

    /// Waits while `condition` returns `true`, for at most `dur` in total.
    #[track_caller]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let start = Instant::now();
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, sync::wait_timeout_result(false)));
            }
            let Some(left) = dur.checked_sub(start.elapsed()) else {
                return Ok((guard, sync::wait_timeout_result(true)));
            };
            guard = self.wait_timeout(guard, left)?.0;
        }
    }

    /// Wakes up one blocked thread, if any. For the race detector, what
    /// this thread did before notifying happens before what the woken thread
    /// does after waking.
    #[inline]
    #[track_caller]
    pub fn notify_one(&self) {
        self.raw.notify_one();
    }

    /// Wakes up all blocked threads.
    #[inline]
    #[track_caller]
    pub fn notify_all(&self) {
        self.raw.notify_all();
    }
}

impl Default for Condvar {
    fn default() -> Condvar {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}
