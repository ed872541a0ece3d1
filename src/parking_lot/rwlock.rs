//! `RwLock<R, T>` and its guards with lock_api 0.4's API (parking_lot's
//! `RwLock`: read, write, recursive read, upgradable read, timed variants).

use std::any::type_name;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

#[cfg(feature = "arc_lock")]
use std::sync::Arc;

use super::{GuardNoSend, LockedPlaceholder, RawRwLock, sealed};
use crate::facade::maybe_const_fn;
use crate::raw;
use crate::report::LockKind;

/// The engine behind an [`RwLock<R, T>`]: [`RawRwLock`].
pub trait RwLockKind: sealed::Sealed + Send + Sync + 'static {
    #[doc(hidden)]
    const KIND: LockKind;
}

impl RwLockKind for RawRwLock {
    const KIND: LockKind = LockKind::ParkingLotRwLock;
}

/// A reader-writer lock with lock_api's `RwLock<R, T>` API, checked by the
/// deadlock detector; use it as [`parking_lot::RwLock<T>`](super::RwLock).
///
/// Every acquisition that can block orders the locks held before it.
/// Re-entering a read with `read()` is reported (a queued writer blocks it);
/// with `read_recursive()` it is not.
pub struct RwLock<R, T: ?Sized> {
    raw: raw::RawRwLock,
    marker: PhantomData<R>,
    data: UnsafeCell<T>,
}

// SAFETY: moving the lock moves the `T`.
unsafe impl<R: RwLockKind, T: ?Sized + Send> Send for RwLock<R, T> {}
// SAFETY: readers share `&T` (needs `T: Sync`), writers get `&mut T` (needs
// `T: Send`).
unsafe impl<R: RwLockKind, T: ?Sized + Send + Sync> Sync for RwLock<R, T> {}

/// Declares a guard holding `&'a RwLock` (`Sync` when `T: Sync`, `!Send`).
macro_rules! rwlock_guard {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[clippy::has_significant_drop]
        #[must_use = "if unused the RwLock will immediately unlock"]
        pub struct $name<'a, R: RwLockKind, T: ?Sized> {
            rwlock: &'a RwLock<R, T>,
            marker: PhantomData<(&'a mut T, GuardNoSend)>,
        }

        // SAFETY: a shared guard gives only `&T`.
        unsafe impl<R: RwLockKind, T: ?Sized + Sync> Sync for $name<'_, R, T> {}

        impl<R: RwLockKind, T: ?Sized> Deref for $name<'_, R, T> {
            type Target = T;
            #[inline(always)]
            fn deref(&self) -> &T {
                // SAFETY: the guard holds the lock, so no writer but itself.
                unsafe { &*self.rwlock.data.get() }
            }
        }

        super::guard_fmt!(impl[R: RwLockKind,] $name<'_, R, T>);
    };
}

rwlock_guard! {
    /// Shared read access to an [`RwLock`].
    RwLockReadGuard
}
rwlock_guard! {
    /// Exclusive write access to an [`RwLock`].
    RwLockWriteGuard
}
rwlock_guard! {
    /// Upgradable read access to an [`RwLock`]: shared with readers,
    /// exclusive with other upgradable readers and writers, and upgradable to
    /// write access without a deadlock.
    RwLockUpgradableReadGuard
}

/// `unlocked`, `unlock_fair`, `unlocked_fair` and `bump` of a guard holding
/// `s.rwlock` in one mode: `$unlock` and `$fair` release that mode and
/// `$relock` takes it again.
macro_rules! unlock_methods {
    ($unlock:ident, $fair:ident, $relock:ident) => {
        /// Releases the lock while `f` runs, then takes it again in the same
        /// mode (a blocking acquisition, checked like any other).
        #[inline(always)]
        #[track_caller]
        pub fn unlocked<F: FnOnce() -> U, U>(s: &mut Self, f: F) -> U {
            // SAFETY: the guard holds the lock in this mode; it is taken
            // again before the guard is used.
            unsafe { s.rwlock.raw.$unlock() };
            let result = f();
            s.rwlock.raw.$relock(R::KIND);
            result
        }

        /// Releases the lock with the fair protocol (to a waiter, if any).
        #[inline(always)]
        pub fn unlock_fair(s: Self) {
            // SAFETY: the guard holds the lock in this mode and is forgotten
            // right after.
            unsafe { s.rwlock.raw.$fair() };
            mem::forget(s);
        }

        /// `unlocked` with a fair release.
        #[inline(always)]
        #[track_caller]
        pub fn unlocked_fair<F: FnOnce() -> U, U>(s: &mut Self, f: F) -> U {
            // SAFETY: as in `unlocked`.
            unsafe { s.rwlock.raw.$fair() };
            let result = f();
            s.rwlock.raw.$relock(R::KIND);
            result
        }

        /// Yields the lock to a waiting thread, if any, then takes it again.
        #[inline(always)]
        #[track_caller]
        pub fn bump(s: &mut Self) {
            Self::unlocked_fair(s, || ());
        }
    };
}

/// Declares a mapped guard holding the raw lock and a pointer into the data.
macro_rules! mapped_guard {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[clippy::has_significant_drop]
        #[must_use = "if unused the RwLock will immediately unlock"]
        pub struct $name<'a, R: RwLockKind, T: ?Sized> {
            raw: &'a raw::RawRwLock,
            data: *mut T,
            marker: PhantomData<(&'a mut T, R, GuardNoSend)>,
        }

        // SAFETY: a shared guard gives only `&T`.
        unsafe impl<R: RwLockKind, T: ?Sized + Sync> Sync for $name<'_, R, T> {}

        impl<'a, R: RwLockKind, T: ?Sized> $name<'a, R, T> {
            fn from_parts(raw: &'a raw::RawRwLock, data: *mut T) -> Self {
                $name { raw, data, marker: PhantomData }
            }

            fn data(s: &Self) -> *mut T {
                s.data
            }

            fn into_raw(s: Self) -> &'a raw::RawRwLock {
                let raw = s.raw;
                mem::forget(s);
                raw
            }
        }

        impl<R: RwLockKind, T: ?Sized> Deref for $name<'_, R, T> {
            type Target = T;
            #[inline(always)]
            fn deref(&self) -> &T {
                // SAFETY: the guard holds the lock; `data` points into it.
                unsafe { &*self.data }
            }
        }

        super::guard_fmt!(impl[R: RwLockKind,] $name<'_, R, T>);
    };
}

mapped_guard! {
    /// Shared read access to part of an [`RwLock`]'s data.
    MappedRwLockReadGuard
}
mapped_guard! {
    /// Exclusive write access to part of an [`RwLock`]'s data.
    MappedRwLockWriteGuard
}

impl<R: RwLockKind, T> RwLock<R, T> {
    maybe_const_fn! {
        /// Creates a new unlocked `RwLock`; `const`, so it works in a `static`.
        #[inline(always)]
        #[track_caller]
        pub fn new(val: T) -> RwLock<R, T> {
            RwLock { raw: raw::RawRwLock::new(type_name::<T>), marker: PhantomData, data: UnsafeCell::new(val) }
        }
    }

    /// Creates a new `RwLock` with a name for reports (a lockgraph extra).
    #[track_caller]
    pub fn named(name: impl Into<std::borrow::Cow<'static, str>>, val: T) -> RwLock<R, T> {
        RwLock {
            raw: raw::RawRwLock::named(R::KIND, type_name::<T>, name.into()),
            marker: PhantomData,
            data: UnsafeCell::new(val),
        }
    }

    /// Puts this lock in the lock class `class` (a lockgraph extra; see
    /// [`crate::classes`]): locks given one class name share one class
    /// wherever they are created, and locks of one constructor given
    /// different names are told apart. Call it on a fresh lock.
    ///
    /// ```
    /// let idle = lockgraph::parking_lot::RwLock::new(Vec::<u32>::new()).with_class("pool.idle");
    /// assert!(idle.read().is_empty());
    /// ```
    #[must_use]
    pub fn with_class(self, class: &str) -> Self {
        self.raw.meta.set_class(R::KIND, class);
        self
    }

    /// Consumes the lock, returning the data.
    #[inline(always)]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

/// Acquisition methods returning a borrowed guard: `$raw_method` on the
/// checked raw lock, wrapped as `$guard`.
macro_rules! acquire_methods {
    ($($(#[$m:meta])* fn $name:ident($($arg:ident: $t:ty),*) -> $ret:ident via $raw_method:ident;)*) => {$(
        $(#[$m])*
        #[inline(always)]
        #[track_caller]
        pub fn $name(&self $(, $arg: $t)*) -> acquire_methods!(@ret $ret) {
            acquire_methods!(@wrap $ret, self.raw.$raw_method(R::KIND $(, $arg)*), self)
        }
    )*};
    (@ret Read) => { RwLockReadGuard<'_, R, T> };
    (@ret Write) => { RwLockWriteGuard<'_, R, T> };
    (@ret Upgradable) => { RwLockUpgradableReadGuard<'_, R, T> };
    (@ret OptRead) => { Option<RwLockReadGuard<'_, R, T>> };
    (@ret OptWrite) => { Option<RwLockWriteGuard<'_, R, T>> };
    (@ret OptUpgradable) => { Option<RwLockUpgradableReadGuard<'_, R, T>> };
    (@wrap Read, $call:expr, $s:ident) => {{ $call; RwLockReadGuard { rwlock: $s, marker: PhantomData } }};
    (@wrap Write, $call:expr, $s:ident) => {{ $call; RwLockWriteGuard { rwlock: $s, marker: PhantomData } }};
    (@wrap Upgradable, $call:expr, $s:ident) => {{ $call; RwLockUpgradableReadGuard { rwlock: $s, marker: PhantomData } }};
    (@wrap OptRead, $call:expr, $s:ident) => { $call.then(|| RwLockReadGuard { rwlock: $s, marker: PhantomData }) };
    (@wrap OptWrite, $call:expr, $s:ident) => { $call.then(|| RwLockWriteGuard { rwlock: $s, marker: PhantomData }) };
    (@wrap OptUpgradable, $call:expr, $s:ident) => { $call.then(|| RwLockUpgradableReadGuard { rwlock: $s, marker: PhantomData }) };
}

impl<R: RwLockKind, T: ?Sized> RwLock<R, T> {
    acquire_methods! {
        /// Locks with shared read access, blocking until it can be acquired.
        /// A second `read()` of a lock this thread already reads is reported.
        fn read() -> Read via read;
        /// Attempts shared read access without blocking (no lock-order edge).
        fn try_read() -> OptRead via try_read;
        /// Attempts shared read access until `timeout` has passed (adds
        /// edges, never reported).
        fn try_read_for(timeout: Duration) -> OptRead via try_read_for;
        /// Attempts shared read access until the instant `timeout`.
        fn try_read_until(timeout: Instant) -> OptRead via try_read_until;
        /// Locks with exclusive write access, blocking until it can be
        /// acquired.
        fn write() -> Write via write;
        /// Attempts exclusive write access without blocking.
        fn try_write() -> OptWrite via try_write;
        /// Attempts exclusive write access until `timeout` has passed.
        fn try_write_for(timeout: Duration) -> OptWrite via try_write_for;
        /// Attempts exclusive write access until the instant `timeout`.
        fn try_write_until(timeout: Instant) -> OptWrite via try_write_until;
        /// Shared read access that succeeds at once if this thread (or any)
        /// already reads, even with a writer queued: re-entering a read this
        /// way is not reported.
        fn read_recursive() -> Read via read_recursive;
        /// [`RwLock::read_recursive`] without blocking.
        fn try_read_recursive() -> OptRead via try_read_recursive;
        /// [`RwLock::read_recursive`] until `timeout` has passed.
        fn try_read_recursive_for(timeout: Duration) -> OptRead via try_read_recursive_for;
        /// [`RwLock::read_recursive`] until the instant `timeout`.
        fn try_read_recursive_until(timeout: Instant) -> OptRead via try_read_recursive_until;
        /// Locks with upgradable read access. Taking `write()` or a second
        /// `upgradable_read()` of the same lock while holding it is reported
        /// as a self-deadlock; upgrading the guard is not.
        fn upgradable_read() -> Upgradable via upgradable;
        /// Attempts upgradable read access without blocking.
        fn try_upgradable_read() -> OptUpgradable via try_upgradable;
        /// Attempts upgradable read access until `timeout` has passed.
        fn try_upgradable_read_for(timeout: Duration) -> OptUpgradable via try_upgradable_for;
        /// Attempts upgradable read access until the instant `timeout`.
        fn try_upgradable_read_until(timeout: Instant) -> OptUpgradable via try_upgradable_until;
    }

    /// A mutable reference to the data, without locking.
    #[inline(always)]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether the lock is held in any mode.
    #[inline(always)]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Whether the lock is held exclusively.
    #[inline(always)]
    pub fn is_locked_exclusive(&self) -> bool {
        self.raw.is_locked_exclusive()
    }

    /// Forcibly releases a read lock whose guard was forgotten.
    ///
    /// # Safety
    /// The current thread must hold a read lock through a forgotten guard.
    #[inline(always)]
    pub unsafe fn force_unlock_read(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_read() }
    }

    /// Forcibly releases a write lock whose guard was forgotten.
    ///
    /// # Safety
    /// The current thread must hold the write lock through a forgotten guard.
    #[inline(always)]
    pub unsafe fn force_unlock_write(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_write() }
    }

    /// [`RwLock::force_unlock_read`] with the fair protocol.
    ///
    /// # Safety
    /// As [`RwLock::force_unlock_read`].
    #[inline(always)]
    pub unsafe fn force_unlock_read_fair(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_read_fair() }
    }

    /// [`RwLock::force_unlock_write`] with the fair protocol.
    ///
    /// # Safety
    /// As [`RwLock::force_unlock_write`].
    #[inline(always)]
    pub unsafe fn force_unlock_write_fair(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_write_fair() }
    }

    /// Creates a read guard without locking.
    ///
    /// # Safety
    /// The current thread must logically hold a read lock.
    #[inline(always)]
    pub unsafe fn make_read_guard_unchecked(&self) -> RwLockReadGuard<'_, R, T> {
        RwLockReadGuard {
            rwlock: self,
            marker: PhantomData,
        }
    }

    /// Creates a write guard without locking.
    ///
    /// # Safety
    /// The current thread must logically hold the write lock.
    #[inline(always)]
    pub unsafe fn make_write_guard_unchecked(&self) -> RwLockWriteGuard<'_, R, T> {
        RwLockWriteGuard {
            rwlock: self,
            marker: PhantomData,
        }
    }

    /// Creates an upgradable guard without locking.
    ///
    /// # Safety
    /// The current thread must logically hold the upgradable lock.
    #[inline(always)]
    pub unsafe fn make_upgradable_guard_unchecked(&self) -> RwLockUpgradableReadGuard<'_, R, T> {
        RwLockUpgradableReadGuard {
            rwlock: self,
            marker: PhantomData,
        }
    }

    /// A raw pointer to the data.
    #[inline(always)]
    pub fn data_ptr(&self) -> *mut T {
        self.data.get()
    }

    /// Panics unless the current thread holds this lock in some mode (a
    /// lockgraph extra; does nothing when detection is off).
    #[track_caller]
    pub fn assert_held(&self) {
        crate::detect::assert_held(&self.raw.meta, "RwLock", true);
    }

    /// Panics if the current thread holds this lock (a lockgraph extra).
    #[track_caller]
    pub fn assert_not_held(&self) {
        crate::detect::assert_held(&self.raw.meta, "RwLock", false);
    }
}

impl<R: RwLockKind, T: Default> Default for RwLock<R, T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<R: RwLockKind, T> From<T> for RwLock<R, T> {
    #[track_caller]
    fn from(t: T) -> Self {
        RwLock::new(t)
    }
}

impl<R: RwLockKind, T: ?Sized + fmt::Debug> fmt::Debug for RwLock<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &LockedPlaceholder),
        };
        d.finish()
    }
}

impl<'a, R: RwLockKind, T: ?Sized + 'a> RwLockReadGuard<'a, R, T> {
    fn data(s: &Self) -> *mut T {
        s.rwlock.data.get()
    }

    fn into_raw(s: Self) -> &'a raw::RawRwLock {
        let raw = &s.rwlock.raw;
        mem::forget(s);
        raw
    }

    /// The lock this guard reads.
    #[inline(always)]
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    super::map_methods!(ref MappedRwLockReadGuard<'a, R>);

    unlock_methods!(unlock_read, unlock_read_fair, read);
}

impl<R: RwLockKind, T: ?Sized> Drop for RwLockReadGuard<'_, R, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard reads.
        unsafe { self.rwlock.raw.unlock_read() }
    }
}

impl<'a, R: RwLockKind, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    fn data(s: &Self) -> *mut T {
        s.rwlock.data.get()
    }

    fn into_raw(s: Self) -> &'a raw::RawRwLock {
        let raw = &s.rwlock.raw;
        mem::forget(s);
        raw
    }

    /// The lock this guard writes.
    #[inline(always)]
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    super::map_methods!(mut MappedRwLockWriteGuard<'a, R>);

    /// Turns write access into read access without letting a writer in.
    #[inline(always)]
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, R, T> {
        // SAFETY: the guard writes; its lock now reads.
        unsafe { s.rwlock.raw.downgrade() };
        let rwlock = s.rwlock;
        mem::forget(s);
        RwLockReadGuard {
            rwlock,
            marker: PhantomData,
        }
    }

    /// Turns write access into upgradable read access.
    #[inline(always)]
    pub fn downgrade_to_upgradable(s: Self) -> RwLockUpgradableReadGuard<'a, R, T> {
        // SAFETY: the guard writes; its lock is now upgradable.
        unsafe { s.rwlock.raw.downgrade_to_upgradable() };
        let rwlock = s.rwlock;
        mem::forget(s);
        RwLockUpgradableReadGuard {
            rwlock,
            marker: PhantomData,
        }
    }

    unlock_methods!(unlock_write, unlock_write_fair, write);
}

impl<R: RwLockKind, T: ?Sized> DerefMut for RwLockWriteGuard<'_, R, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard writes.
        unsafe { &mut *self.rwlock.data.get() }
    }
}

impl<R: RwLockKind, T: ?Sized> Drop for RwLockWriteGuard<'_, R, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard writes.
        unsafe { self.rwlock.raw.unlock_write() }
    }
}

impl<'a, R: RwLockKind, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    fn into_lock(s: Self) -> &'a RwLock<R, T> {
        let rwlock = s.rwlock;
        mem::forget(s);
        rwlock
    }

    /// The lock this guard holds.
    #[inline(always)]
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    /// Upgrades to write access, waiting for readers to leave. This is the
    /// deadlock-free way to go from reading to writing, and is not reported.
    #[inline(always)]
    pub fn upgrade(s: Self) -> RwLockWriteGuard<'a, R, T> {
        // SAFETY: the guard is upgradable.
        unsafe { s.rwlock.raw.upgrade() };
        RwLockWriteGuard {
            rwlock: Self::into_lock(s),
            marker: PhantomData,
        }
    }

    /// Upgrades to write access if no reader is left; otherwise gives the
    /// guard back.
    #[inline(always)]
    pub fn try_upgrade(s: Self) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: the guard is upgradable.
        if unsafe { s.rwlock.raw.try_upgrade() } {
            Ok(RwLockWriteGuard {
                rwlock: Self::into_lock(s),
                marker: PhantomData,
            })
        } else {
            Err(s)
        }
    }

    /// [`RwLockUpgradableReadGuard::try_upgrade`], waiting up to `timeout`.
    #[inline(always)]
    pub fn try_upgrade_for(s: Self, timeout: Duration) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: the guard is upgradable.
        if unsafe { s.rwlock.raw.try_upgrade_for(timeout) } {
            Ok(RwLockWriteGuard {
                rwlock: Self::into_lock(s),
                marker: PhantomData,
            })
        } else {
            Err(s)
        }
    }

    /// [`RwLockUpgradableReadGuard::try_upgrade`], waiting until `timeout`.
    #[inline(always)]
    pub fn try_upgrade_until(
        s: Self,
        timeout: Instant,
    ) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: the guard is upgradable.
        if unsafe { s.rwlock.raw.try_upgrade_until(timeout) } {
            Ok(RwLockWriteGuard {
                rwlock: Self::into_lock(s),
                marker: PhantomData,
            })
        } else {
            Err(s)
        }
    }

    /// Turns upgradable access into plain read access.
    #[inline(always)]
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, R, T> {
        // SAFETY: the guard is upgradable.
        unsafe { s.rwlock.raw.downgrade_upgradable() };
        RwLockReadGuard {
            rwlock: Self::into_lock(s),
            marker: PhantomData,
        }
    }

    /// Runs `f` with write access, then returns to upgradable access.
    #[inline(always)]
    pub fn with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Ret {
        // SAFETY: the guard is upgradable; it is upgradable again after `f`.
        unsafe { self.rwlock.raw.upgrade() };
        // SAFETY: the lock is now held exclusively.
        let result = f(unsafe { &mut *self.rwlock.data.get() });
        // SAFETY: the lock is held exclusively.
        unsafe { self.rwlock.raw.downgrade_to_upgradable() };
        result
    }

    /// [`RwLockUpgradableReadGuard::with_upgraded`] if no reader is left.
    #[inline(always)]
    pub fn try_with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Option<Ret> {
        // SAFETY: the guard is upgradable.
        if !unsafe { self.rwlock.raw.try_upgrade() } {
            return None;
        }
        // SAFETY: the lock is now held exclusively.
        let result = f(unsafe { &mut *self.rwlock.data.get() });
        // SAFETY: the lock is held exclusively.
        unsafe { self.rwlock.raw.downgrade_to_upgradable() };
        Some(result)
    }

    unlock_methods!(unlock_upgradable, unlock_upgradable_fair, upgradable);
}

impl<R: RwLockKind, T: ?Sized> Drop for RwLockUpgradableReadGuard<'_, R, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard is upgradable.
        unsafe { self.rwlock.raw.unlock_upgradable() }
    }
}

impl<'a, R: RwLockKind, T: ?Sized + 'a> MappedRwLockReadGuard<'a, R, T> {
    super::map_methods!(ref MappedRwLockReadGuard<'a, R>);

    /// Releases the read lock with the fair protocol.
    #[inline(always)]
    pub fn unlock_fair(s: Self) {
        // SAFETY: the guard reads; `into_raw` forgets it.
        unsafe { Self::into_raw(s).unlock_read_fair() }
    }
}

impl<R: RwLockKind, T: ?Sized> Drop for MappedRwLockReadGuard<'_, R, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard reads.
        unsafe { self.raw.unlock_read() }
    }
}

impl<'a, R: RwLockKind, T: ?Sized + 'a> MappedRwLockWriteGuard<'a, R, T> {
    super::map_methods!(mut MappedRwLockWriteGuard<'a, R>);

    /// Releases the write lock with the fair protocol.
    #[inline(always)]
    pub fn unlock_fair(s: Self) {
        // SAFETY: the guard writes; `into_raw` forgets it.
        unsafe { Self::into_raw(s).unlock_write_fair() }
    }
}

impl<R: RwLockKind, T: ?Sized> DerefMut for MappedRwLockWriteGuard<'_, R, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard writes; `data` points into the data.
        unsafe { &mut *self.data }
    }
}

impl<R: RwLockKind, T: ?Sized> Drop for MappedRwLockWriteGuard<'_, R, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard writes.
        unsafe { self.raw.unlock_write() }
    }
}

#[cfg(feature = "arc_lock")]
pub use arc::{ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard};

/// Owned guards of an `Arc<RwLock>` (feature `arc_lock`).
#[cfg(feature = "arc_lock")]
mod arc {
    use super::*;

    /// Declares an owned guard; `$unlock` releases its mode.
    macro_rules! arc_guard {
        ($(#[$m:meta])* $name:ident, $unlock:ident) => {
            $(#[$m])*
            #[clippy::has_significant_drop]
            #[must_use = "if unused the RwLock will immediately unlock"]
            pub struct $name<R: RwLockKind, T: ?Sized> {
                rwlock: Arc<RwLock<R, T>>,
                marker: PhantomData<GuardNoSend>,
            }

            impl<R: RwLockKind, T: ?Sized> $name<R, T> {
                /// The `Arc` of the lock this guard holds.
                #[inline(always)]
                pub fn rwlock(s: &Self) -> &Arc<RwLock<R, T>> {
                    &s.rwlock
                }

                /// Releases the lock and returns the `Arc`.
                #[inline(always)]
                pub fn into_arc(s: Self) -> Arc<RwLock<R, T>> {
                    // SAFETY: the guard holds the lock in this mode, and
                    // `into_lock` forgets it.
                    unsafe { s.rwlock.raw.$unlock() };
                    Self::into_lock(s)
                }

                fn into_lock(s: Self) -> Arc<RwLock<R, T>> {
                    let s = mem::ManuallyDrop::new(s);
                    // SAFETY: as in `into_arc`, without unlocking: the caller
                    // hands the held lock to a new guard.
                    unsafe { std::ptr::read(&s.rwlock) }
                }
            }

            impl<R: RwLockKind, T: ?Sized> Deref for $name<R, T> {
                type Target = T;
                #[inline(always)]
                fn deref(&self) -> &T {
                    // SAFETY: the guard holds the lock.
                    unsafe { &*self.rwlock.data.get() }
                }
            }

            impl<R: RwLockKind, T: ?Sized> Drop for $name<R, T> {
                #[inline(always)]
                fn drop(&mut self) {
                    // SAFETY: the guard holds the lock in this mode.
                    unsafe { self.rwlock.raw.$unlock() }
                }
            }

            super::super::guard_fmt!(impl[R: RwLockKind,] $name<R, T>);
        };
    }

    arc_guard! {
        /// Owned shared read access to an `Arc<RwLock>`.
        ArcRwLockReadGuard, unlock_read
    }
    arc_guard! {
        /// Owned exclusive write access to an `Arc<RwLock>`.
        ArcRwLockWriteGuard, unlock_write
    }
    arc_guard! {
        /// Owned upgradable read access to an `Arc<RwLock>`.
        ArcRwLockUpgradableReadGuard, unlock_upgradable
    }

    impl<R: RwLockKind, T: ?Sized> DerefMut for ArcRwLockWriteGuard<R, T> {
        #[inline(always)]
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the guard writes.
            unsafe { &mut *self.rwlock.data.get() }
        }
    }

    impl<R: RwLockKind, T: ?Sized> ArcRwLockWriteGuard<R, T> {
        /// Turns write access into read access.
        #[inline(always)]
        pub fn downgrade(s: Self) -> ArcRwLockReadGuard<R, T> {
            // SAFETY: the guard writes; its lock now reads.
            unsafe { s.rwlock.raw.downgrade() };
            ArcRwLockReadGuard {
                rwlock: Self::into_lock(s),
                marker: PhantomData,
            }
        }
    }

    impl<R: RwLockKind, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
        /// Upgrades to write access, waiting for readers to leave.
        #[inline(always)]
        pub fn upgrade(s: Self) -> ArcRwLockWriteGuard<R, T> {
            // SAFETY: the guard is upgradable.
            unsafe { s.rwlock.raw.upgrade() };
            ArcRwLockWriteGuard {
                rwlock: Self::into_lock(s),
                marker: PhantomData,
            }
        }

        /// Upgrades if no reader is left; otherwise gives the guard back.
        #[inline(always)]
        pub fn try_upgrade(s: Self) -> Result<ArcRwLockWriteGuard<R, T>, Self> {
            // SAFETY: the guard is upgradable.
            if unsafe { s.rwlock.raw.try_upgrade() } {
                Ok(ArcRwLockWriteGuard {
                    rwlock: Self::into_lock(s),
                    marker: PhantomData,
                })
            } else {
                Err(s)
            }
        }

        /// Turns upgradable access into read access.
        #[inline(always)]
        pub fn downgrade(s: Self) -> ArcRwLockReadGuard<R, T> {
            // SAFETY: the guard is upgradable.
            unsafe { s.rwlock.raw.downgrade_upgradable() };
            ArcRwLockReadGuard {
                rwlock: Self::into_lock(s),
                marker: PhantomData,
            }
        }
    }

    impl<R: RwLockKind, T: ?Sized> RwLock<R, T> {
        /// [`RwLock::read`] through an `Arc`, returning an owned guard.
        #[inline(always)]
        #[track_caller]
        pub fn read_arc(self: &Arc<Self>) -> ArcRwLockReadGuard<R, T> {
            self.raw.read(R::KIND);
            ArcRwLockReadGuard {
                rwlock: Arc::clone(self),
                marker: PhantomData,
            }
        }

        /// [`RwLock::try_read`] through an `Arc`.
        #[inline(always)]
        #[track_caller]
        pub fn try_read_arc(self: &Arc<Self>) -> Option<ArcRwLockReadGuard<R, T>> {
            self.raw.try_read(R::KIND).then(|| ArcRwLockReadGuard {
                rwlock: Arc::clone(self),
                marker: PhantomData,
            })
        }

        /// [`RwLock::read_recursive`] through an `Arc`.
        #[inline(always)]
        #[track_caller]
        pub fn read_arc_recursive(self: &Arc<Self>) -> ArcRwLockReadGuard<R, T> {
            self.raw.read_recursive(R::KIND);
            ArcRwLockReadGuard {
                rwlock: Arc::clone(self),
                marker: PhantomData,
            }
        }

        /// [`RwLock::write`] through an `Arc`, returning an owned guard.
        #[inline(always)]
        #[track_caller]
        pub fn write_arc(self: &Arc<Self>) -> ArcRwLockWriteGuard<R, T> {
            self.raw.write(R::KIND);
            ArcRwLockWriteGuard {
                rwlock: Arc::clone(self),
                marker: PhantomData,
            }
        }

        /// [`RwLock::try_write`] through an `Arc`.
        #[inline(always)]
        #[track_caller]
        pub fn try_write_arc(self: &Arc<Self>) -> Option<ArcRwLockWriteGuard<R, T>> {
            self.raw.try_write(R::KIND).then(|| ArcRwLockWriteGuard {
                rwlock: Arc::clone(self),
                marker: PhantomData,
            })
        }

        /// [`RwLock::upgradable_read`] through an `Arc`.
        #[inline(always)]
        #[track_caller]
        pub fn upgradable_read_arc(self: &Arc<Self>) -> ArcRwLockUpgradableReadGuard<R, T> {
            self.raw.upgradable(R::KIND);
            ArcRwLockUpgradableReadGuard {
                rwlock: Arc::clone(self),
                marker: PhantomData,
            }
        }

        /// [`RwLock::try_upgradable_read`] through an `Arc`.
        #[inline(always)]
        #[track_caller]
        pub fn try_upgradable_read_arc(
            self: &Arc<Self>,
        ) -> Option<ArcRwLockUpgradableReadGuard<R, T>> {
            self.raw
                .try_upgradable(R::KIND)
                .then(|| ArcRwLockUpgradableReadGuard {
                    rwlock: Arc::clone(self),
                    marker: PhantomData,
                })
        }
    }
}
