//! [`ReentrantLock`], std-flavoured: the API of std's (still unstable)
//! `std::sync::ReentrantLock`, checked by the deadlock detector.

use std::any::type_name;
use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::panic::{RefUnwindSafe, UnwindSafe};

use crate::facade::maybe_const_fn;
use crate::raw::RawReentrant;
use crate::report::LockKind;

const KIND: LockKind = LockKind::ReentrantLock;

/// A re-entrant mutual exclusion lock: the thread that holds it may lock it
/// again; other threads block. Its guard gives shared access only (`Deref`),
/// so pair it with a `Cell` or `RefCell` to mutate.
///
/// Re-entry by the owner adds no lock-order edge and is never reported, but
/// the lock still takes part in cycles with other locks.
///
/// ```
/// use std::cell::RefCell;
/// use lockgraph::ReentrantLock;
///
/// let lock = ReentrantLock::new(RefCell::new(Vec::new()));
/// fn push_twice(lock: &ReentrantLock<RefCell<Vec<u32>>>, depth: u32) {
///     let guard = lock.lock();
///     guard.borrow_mut().push(depth);
///     if depth > 0 {
///         push_twice(lock, depth - 1); // re-enters: fine
///     }
/// }
/// push_twice(&lock, 2);
/// assert_eq!(*lock.lock().borrow(), [2, 1, 0]);
/// ```
pub struct ReentrantLock<T: ?Sized> {
    raw: RawReentrant,
    data: UnsafeCell<T>,
}

// SAFETY: the owning thread alone reaches the data; shared access is `&T`
// from one thread at a time, so `T: Send` suffices, as in std.
unsafe impl<T: ?Sized + Send> Send for ReentrantLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for ReentrantLock<T> {}

impl<T: ?Sized + UnwindSafe> UnwindSafe for ReentrantLock<T> {}
impl<T: ?Sized + RefUnwindSafe> RefUnwindSafe for ReentrantLock<T> {}

/// RAII guard of a [`ReentrantLock`]: `Deref` only; not `Send`.
#[must_use = "if unused the ReentrantLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct ReentrantLockGuard<'a, T: ?Sized + 'a> {
    lock: &'a ReentrantLock<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: shares only `&T`.
unsafe impl<T: ?Sized + Sync> Sync for ReentrantLockGuard<'_, T> {}

impl<T> ReentrantLock<T> {
    maybe_const_fn! {
        /// Creates a new unlocked reentrant lock; `const`, so it works in a
        /// `static`.
        #[inline(always)]
        #[track_caller]
        pub fn new(t: T) -> ReentrantLock<T> {
            ReentrantLock { raw: RawReentrant::new(type_name::<T>), data: UnsafeCell::new(t) }
        }
    }

    /// Creates a new reentrant lock with a name for reports (a lockgraph
    /// extra).
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>, t: T) -> ReentrantLock<T> {
        ReentrantLock {
            raw: RawReentrant::named(KIND, type_name::<T>, name.into()),
            data: UnsafeCell::new(t),
        }
    }

    /// Puts this lock in the lock class `class` (a lockgraph extra; see
    /// [`crate::classes`]): locks given one class name share one class
    /// wherever they are created, and locks of one constructor given
    /// different names are told apart. Call it on a fresh lock.
    ///
    /// ```
    /// let idle = lockgraph::ReentrantLock::new(Vec::<u32>::new()).with_class("pool.idle");
    /// assert!(idle.lock().is_empty());
    /// ```
    #[must_use]
    pub fn with_class(self, class: &str) -> Self {
        self.raw.meta.set_class(KIND, class);
        self
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> ReentrantLock<T> {
    /// Acquires the lock, blocking until it is free or re-entering if this
    /// thread holds it.
    ///
    /// # Panics
    /// If the lock count would overflow `u32`.
    #[inline(always)]
    #[track_caller]
    pub fn lock(&self) -> ReentrantLockGuard<'_, T> {
        self.raw.lock(KIND);
        ReentrantLockGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Acquires the lock if it is free or held by this thread; `None` if
    /// another thread holds it.
    #[inline(always)]
    #[track_caller]
    pub fn try_lock(&self) -> Option<ReentrantLockGuard<'_, T>> {
        if self.raw.try_lock(KIND) {
            Some(ReentrantLockGuard {
                lock: self,
                _not_send: PhantomData,
            })
        } else {
            None
        }
    }

    /// A mutable reference to the data, without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Panics unless the current thread holds this lock (a lockgraph extra;
    /// works with detection off too, from the lock's owner).
    #[track_caller]
    pub fn assert_held(&self) {
        assert!(
            self.raw.is_owned_by_current_thread(),
            "assertion failed: ReentrantLock is not held by the current thread"
        );
    }

    /// Panics if the current thread holds this lock (a lockgraph extra).
    #[track_caller]
    pub fn assert_not_held(&self) {
        assert!(
            !self.raw.is_owned_by_current_thread(),
            "assertion failed: ReentrantLock is held by the current thread"
        );
    }
}

impl<T: Default> Default for ReentrantLock<T> {
    #[track_caller]
    fn default() -> Self {
        ReentrantLock::new(T::default())
    }
}

impl<T> From<T> for ReentrantLock<T> {
    #[track_caller]
    fn from(t: T) -> Self {
        ReentrantLock::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ReentrantLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ReentrantLock");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for ReentrantLockGuard<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock; only the owner reaches the data
        // and only through `&T`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for ReentrantLockGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard holds one level of the lock.
        unsafe { self.lock.raw.unlock() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ReentrantLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for ReentrantLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}
