//! [`RwLock`], std-flavoured: `std::sync::RwLock`'s API, poisoning
//! included, checked by the deadlock detector.

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
use crate::raw::RawRwLock;
use crate::report::LockKind;

const KIND: LockKind = LockKind::RwLock;

/// A reader-writer lock: a drop-in replacement for [`std::sync::RwLock`]
/// that reports lock-order inversions and self-deadlocks.
///
/// Every acquisition, read or write, orders the locks this thread holds
/// before it: std's `RwLock` may block a reader behind a queued writer, so a
/// read can deadlock as surely as a write. For the same reason a second
/// `read()` of a lock this thread already reads is reported (std's own
/// documentation warns that a recursive read may deadlock); keep the first
/// guard instead.
///
/// ```
/// use lockgraph::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().unwrap();
///     assert_eq!(*r1, 5);
/// } // read guard dropped here
/// {
///     let mut w = lock.write().unwrap();
///     *w += 1;
/// }
/// assert_eq!(*lock.read().unwrap(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    raw: RawRwLock,
    poison: poison::Flag,
    data: UnsafeCell<T>,
}

// SAFETY: as for std's RwLock: moving the lock moves the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers share `&T` across threads (needs `T: Sync`), writers get
// `&mut T` one at a time (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T: ?Sized> UnwindSafe for RwLock<T> {}
impl<T: ?Sized> RefUnwindSafe for RwLock<T> {}

/// RAII guard of shared read access to an [`RwLock`]; not `Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: shares only `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

/// RAII guard of exclusive write access to an [`RwLock`]; not `Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    poison: poison::Guard,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: a `&RwLockWriteGuard` shares only `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T> RwLock<T> {
    maybe_const_fn! {
        /// Creates a new unlocked `RwLock`; `const`, so it works in a
        /// `static`. Its creation site names it in reports.
        ///
        /// ```
        /// static CONFIG: lockgraph::RwLock<Vec<String>> = lockgraph::RwLock::new(Vec::new());
        /// CONFIG.write().unwrap().push("verbose".into());
        /// assert_eq!(CONFIG.read().unwrap().len(), 1);
        /// ```
        #[inline(always)]
        #[track_caller]
        pub fn new(t: T) -> RwLock<T> {
            RwLock { raw: RawRwLock::new(type_name::<T>), poison: poison::Flag::new(), data: UnsafeCell::new(t) }
        }
    }

    /// Creates a new `RwLock` with a name for reports (a lockgraph extra).
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>, t: T) -> RwLock<T> {
        RwLock {
            raw: RawRwLock::named(KIND, type_name::<T>, name.into()),
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
    /// let idle = lockgraph::RwLock::new(Vec::<u32>::new()).with_class("pool.idle");
    /// assert!(idle.read().unwrap().is_empty());
    /// ```
    #[must_use]
    pub fn with_class(self, class: &str) -> Self {
        self.raw.meta.set_class(KIND, class);
        self
    }

    /// Consumes the lock, returning the data; an error if poisoned.
    pub fn into_inner(self) -> LockResult<T> {
        let data = self.data.into_inner();
        self.poison.result(data)
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks with shared read access, blocking until it can be acquired.
    ///
    /// ```
    /// let lock = lockgraph::RwLock::new(1);
    /// let a = lock.read().unwrap();
    /// let b = std::thread::scope(|s| s.spawn(|| *lock.read().unwrap()).join().unwrap());
    /// assert_eq!(*a + b, 2);
    /// ```
    #[inline(always)]
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        self.raw.read(KIND);
        // SAFETY: the shared lock is held.
        unsafe { RwLockReadGuard::new(self) }
    }

    /// Attempts shared read access without blocking.
    #[inline(always)]
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        if self.raw.try_read(KIND) {
            // SAFETY: the shared lock is held.
            Ok(unsafe { RwLockReadGuard::new(self) }?)
        } else {
            Err(TryLockError::WouldBlock)
        }
    }

    /// Locks with exclusive write access, blocking until it can be acquired.
    ///
    /// ```
    /// let lock = lockgraph::RwLock::new(1);
    /// *lock.write().unwrap() = 2;
    /// assert_eq!(*lock.read().unwrap(), 2);
    /// ```
    #[inline(always)]
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        self.raw.write(KIND);
        // SAFETY: the exclusive lock is held.
        unsafe { RwLockWriteGuard::new(self) }
    }

    /// Attempts exclusive write access without blocking.
    #[inline(always)]
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        if self.raw.try_write(KIND) {
            // SAFETY: the exclusive lock is held.
            Ok(unsafe { RwLockWriteGuard::new(self) }?)
        } else {
            Err(TryLockError::WouldBlock)
        }
    }

    /// Whether the lock is poisoned.
    #[inline(always)]
    pub fn is_poisoned(&self) -> bool {
        self.poison.get()
    }

    /// Clears the poisoned state.
    #[inline(always)]
    pub fn clear_poison(&self) {
        self.poison.clear();
    }

    /// A mutable reference to the data, without locking; an error if
    /// poisoned.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let data = self.data.get_mut();
        self.poison.result(data)
    }

    /// Panics unless the current thread holds this lock (read or write);
    /// does nothing when detection is off. A lockgraph extra.
    #[track_caller]
    pub fn assert_held(&self) {
        crate::detect::assert_held(&self.raw.meta, "RwLock", true);
    }

    /// Panics if the current thread holds this lock; does nothing when
    /// detection is off. A lockgraph extra.
    #[track_caller]
    pub fn assert_not_held(&self) {
        crate::detect::assert_held(&self.raw.meta, "RwLock", false);
    }
}

impl<T: Default> Default for RwLock<T> {
    /// An `RwLock<T>` with `T::default()` inside.
    #[track_caller]
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    /// A new unlocked `RwLock`, as [`RwLock::new`].
    #[track_caller]
    fn from(t: T) -> Self {
        RwLock::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => {
                d.field("data", &&*guard);
            }
            Err(TryLockError::Poisoned(err)) => {
                d.field("data", &&**err.get_ref());
            }
            Err(TryLockError::WouldBlock) => {
                d.field("data", &format_args!("<locked>"));
            }
        }
        d.field("poisoned", &self.poison.get());
        d.finish_non_exhaustive()
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// # Safety
    /// The current thread must hold `lock` shared.
    #[inline(always)]
    unsafe fn new(lock: &'a RwLock<T>) -> LockResult<RwLockReadGuard<'a, T>> {
        lock.poison.result(RwLockReadGuard {
            lock,
            _not_send: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// # Safety
    /// The current thread must hold `lock` exclusively.
    #[inline(always)]
    unsafe fn new(lock: &'a RwLock<T>) -> LockResult<RwLockWriteGuard<'a, T>> {
        let guard = RwLockWriteGuard {
            lock,
            poison: lock.poison.guard(),
            _not_send: PhantomData,
        };
        lock.poison.result(guard)
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock shared: no writer exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock exclusively.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock exclusively.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard holds the lock shared.
        unsafe { self.lock.raw.unlock_read() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        self.lock.poison.done(&self.poison);
        // SAFETY: the guard holds the lock exclusively.
        unsafe { self.lock.raw.unlock_write() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}
