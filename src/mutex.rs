//! [`Mutex`], std-flavoured: `std::sync::Mutex`'s API, poisoning included,
//! checked by the deadlock detector.

use std::any::type_name;
use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{LockResult, TryLockError, TryLockResult};

use crate::facade::maybe_const_fn;
use crate::poison;
use crate::raw::RawMutex;
use crate::report::LockKind;

const KIND: LockKind = LockKind::Mutex;

/// A mutual exclusion primitive useful for protecting shared data: a drop-in
/// replacement for [`std::sync::Mutex`] that reports lock-order inversions
/// and self-deadlocks.
///
/// Every method has std's signature and behaviour, poisoning included. In
/// builds with detection on, each acquisition is checked against the
/// global lock-order graph before it blocks.
///
/// ```
/// use std::sync::Arc;
/// use std::thread;
/// use lockgraph::Mutex;
///
/// let counter = Arc::new(Mutex::new(0));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = Arc::clone(&counter);
///         thread::spawn(move || *counter.lock().unwrap() += 1)
///     })
///     .collect();
/// for handle in handles {
///     handle.join().unwrap();
/// }
/// assert_eq!(*counter.lock().unwrap(), 4);
/// ```
///
/// Locking two mutexes in opposite orders in two places is reported at the
/// second place, even if the two never run at the same time:
///
/// ```should_panic
/// use lockgraph::Mutex;
///
/// let a = Mutex::named("a", ());
/// let b = Mutex::named("b", ());
/// {
///     let _a = a.lock().unwrap();
///     let _b = b.lock().unwrap(); // records a -> b
/// }
/// let _b = b.lock().unwrap();
/// let _a = a.lock().unwrap(); // panics: "potential deadlock: lock order inversion"
/// # if !lockgraph::ENABLED { panic!("detection is off in this build") }
/// ```
pub struct Mutex<T: ?Sized> {
    raw: RawMutex,
    poison: poison::Flag,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out `&mut T` to one thread at a time, so sharing
// it only requires `T: Send`, exactly as for std's Mutex.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T: ?Sized> UnwindSafe for Mutex<T> {}
impl<T: ?Sized> RefUnwindSafe for Mutex<T> {}

/// An RAII guard of a [`Mutex`]: the data is reachable through it, and the
/// lock is released when it is dropped. Like std's, it is not `Send`.
#[must_use = "if unused the Mutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    lock: &'a Mutex<T>,
    poison: poison::Guard,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: a `&MutexGuard` only gives `&T`, so it may be shared when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T> Mutex<T> {
    maybe_const_fn! {
        /// Creates a new mutex in an unlocked state. Its creation site (this
        /// call's location) names it in reports; `const`, so it works in a
        /// `static`, which is then named by its declaration line.
        ///
        /// ```
        /// use lockgraph::Mutex;
        ///
        /// static COUNT: Mutex<u32> = Mutex::new(0);
        /// *COUNT.lock().unwrap() += 1;
        /// assert_eq!(*COUNT.lock().unwrap(), 1);
        /// ```
        #[inline(always)]
        #[track_caller]
        pub fn new(t: T) -> Mutex<T> {
            Mutex { raw: RawMutex::new(type_name::<T>), poison: poison::Flag::new(), data: UnsafeCell::new(t) }
        }
    }

    /// Creates a new mutex with a name for reports (an extra of lockgraph,
    /// not in std).
    ///
    /// ```
    /// use lockgraph::Mutex;
    ///
    /// let accounts: Vec<Mutex<u64>> =
    ///     (0..4).map(|i| Mutex::named(format!("accounts[{i}]"), 100)).collect();
    /// assert_eq!(*accounts[3].lock().unwrap(), 100);
    /// ```
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>, t: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex::named(KIND, type_name::<T>, name.into()),
            poison: poison::Flag::new(),
            data: UnsafeCell::new(t),
        }
    }

    /// Puts this lock in the lock class `class` (a lockgraph extra; see
    /// [`crate::classes`]): locks given one class name share one class
    /// wherever they are created, and locks of one constructor given
    /// different names are told apart. Call it on a fresh lock.
    ///
    /// ```
    /// let idle = lockgraph::Mutex::new(Vec::<u32>::new()).with_class("pool.idle");
    /// assert!(idle.lock().unwrap().is_empty());
    /// ```
    #[must_use]
    pub fn with_class(self, class: &str) -> Self {
        self.raw.meta.set_class(KIND, class);
        self
    }

    /// Consumes this mutex, returning the underlying data; an error if it is
    /// poisoned.
    ///
    /// ```
    /// let mutex = lockgraph::Mutex::new(0);
    /// assert_eq!(mutex.into_inner().unwrap(), 0);
    /// ```
    pub fn into_inner(self) -> LockResult<T> {
        let data = self.data.into_inner();
        self.poison.result(data)
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Acquires the mutex, blocking the current thread until it is able to do
    /// so; an error if a previous holder panicked (the guard is inside it).
    ///
    /// With detection on, a lock-order inversion this acquisition would
    /// create, or relocking a mutex this thread holds, is reported before
    /// blocking (by default as a panic whose message is the report).
    ///
    /// ```
    /// let mutex = lockgraph::Mutex::new(1);
    /// *mutex.lock().unwrap() += 1;
    /// assert_eq!(*mutex.lock().unwrap(), 2);
    /// ```
    #[inline(always)]
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        self.raw.lock(KIND);
        // SAFETY: the lock is held.
        unsafe { MutexGuard::new(self) }
    }

    /// Attempts to acquire the mutex without blocking: `WouldBlock` if it is
    /// held (by this thread too: that is not reported), `Poisoned` if a
    /// previous holder panicked. A `try_lock` adds no lock-order edge to the
    /// lock it takes, since it cannot block.
    ///
    /// ```
    /// use std::sync::TryLockError;
    ///
    /// let mutex = lockgraph::Mutex::new(());
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(matches!(mutex.try_lock(), Err(TryLockError::WouldBlock)));
    /// drop(guard);
    /// ```
    #[inline(always)]
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        if self.raw.try_lock(KIND) {
            // SAFETY: the lock is held.
            Ok(unsafe { MutexGuard::new(self) }?)
        } else {
            Err(TryLockError::WouldBlock)
        }
    }

    /// Whether the mutex is poisoned.
    #[inline(always)]
    pub fn is_poisoned(&self) -> bool {
        self.poison.get()
    }

    /// Clears the poisoned state.
    #[inline(always)]
    pub fn clear_poison(&self) {
        self.poison.clear();
    }

    /// A mutable reference to the data, without locking (the borrow checker
    /// proves exclusivity); an error if poisoned.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let data = self.data.get_mut();
        self.poison.result(data)
    }

    /// Panics unless the current thread holds this mutex (does nothing when
    /// detection is off). An extra of lockgraph.
    ///
    /// ```
    /// let mutex = lockgraph::Mutex::new(());
    /// let guard = mutex.lock().unwrap();
    /// mutex.assert_held();
    /// drop(guard);
    /// mutex.assert_not_held();
    /// ```
    #[track_caller]
    pub fn assert_held(&self) {
        crate::detect::assert_held(&self.raw.meta, "Mutex", true);
    }

    /// Panics if the current thread holds this mutex (does nothing when
    /// detection is off). An extra of lockgraph.
    #[track_caller]
    pub fn assert_not_held(&self) {
        crate::detect::assert_held(&self.raw.meta, "Mutex", false);
    }

    pub(crate) fn raw(&self) -> &RawMutex {
        &self.raw
    }

    pub(crate) fn poison(&self) -> &poison::Flag {
        &self.poison
    }
}

impl<T: Default> Default for Mutex<T> {
    /// A `Mutex<T>` with `T::default()` inside.
    #[track_caller]
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    /// A new mutex in an unlocked state, as [`Mutex::new`].
    #[track_caller]
    fn from(t: T) -> Self {
        Mutex::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => {
                d.field("data", &&*guard);
            }
            Err(TryLockError::Poisoned(err)) => {
                d.field("data", &&**err.get_ref());
            }
            Err(TryLockError::WouldBlock) => {
                d.field("data", &"<locked>");
            }
        }
        d.field("poisoned", &self.poison.get());
        d.finish_non_exhaustive()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// # Safety
    /// The current thread must hold `lock`'s raw lock.
    #[inline(always)]
    unsafe fn new(lock: &'a Mutex<T>) -> LockResult<MutexGuard<'a, T>> {
        let guard = MutexGuard {
            lock,
            poison: lock.poison.guard(),
            _not_send: PhantomData,
        };
        lock.poison.result(guard)
    }

    pub(crate) fn mutex(&self) -> &'a Mutex<T> {
        self.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        self.lock.poison.done(&self.poison);
        // SAFETY: the guard holds the lock.
        unsafe { self.lock.raw.unlock() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}
