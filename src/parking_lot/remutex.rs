//! `ReentrantMutex<R, G, T>` and its guards with lock_api 0.4's API.

use std::any::type_name;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::ops::Deref;
use std::time::{Duration, Instant};

#[cfg(feature = "arc_lock")]
use std::sync::Arc;

use super::{GuardNoSend, LockedPlaceholder, RawMutex, RawThreadId};
use crate::facade::maybe_const_fn;
use crate::raw;
use crate::report::LockKind;

const KIND: LockKind = LockKind::ParkingLotReentrantMutex;

/// A reentrant mutex with lock_api's `ReentrantMutex<R, G, T>` API, checked
/// by the deadlock detector; use it as
/// [`parking_lot::ReentrantMutex<T>`](super::ReentrantMutex).
///
/// Re-entry by the owning thread adds no edge and is never reported; the
/// lock still takes part in cycles with other locks.
pub struct ReentrantMutex<R, G, T: ?Sized> {
    raw: raw::RawReentrant,
    marker: PhantomData<(R, G)>,
    data: UnsafeCell<T>,
}

// SAFETY: only the owner reaches the data, through `&T`; `T: Send` suffices.
unsafe impl<T: ?Sized + Send> Send for ReentrantMutex<RawMutex, RawThreadId, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for ReentrantMutex<RawMutex, RawThreadId, T> {}

/// A guard of a [`ReentrantMutex`]: `Deref` only; `!Send`.
#[clippy::has_significant_drop]
#[must_use = "if unused the ReentrantMutex will immediately unlock"]
pub struct ReentrantMutexGuard<'a, R, G, T: ?Sized> {
    remutex: &'a ReentrantMutex<R, G, T>,
    marker: PhantomData<(&'a T, GuardNoSend)>,
}

// SAFETY: gives only `&T`.
unsafe impl<R, G, T: ?Sized + Sync> Sync for ReentrantMutexGuard<'_, R, G, T> {}

/// A guard of part of a [`ReentrantMutex`]'s data.
#[clippy::has_significant_drop]
#[must_use = "if unused the ReentrantMutex will immediately unlock"]
pub struct MappedReentrantMutexGuard<'a, R, G, T: ?Sized> {
    raw: &'a raw::RawReentrant,
    data: *const T,
    marker: PhantomData<(&'a T, R, G, GuardNoSend)>,
}

// SAFETY: gives only `&T`.
unsafe impl<R, G, T: ?Sized + Sync> Sync for MappedReentrantMutexGuard<'_, R, G, T> {}

/// An owned guard of an `Arc<ReentrantMutex>` (feature `arc_lock`).
#[cfg(feature = "arc_lock")]
#[clippy::has_significant_drop]
#[must_use = "if unused the ReentrantMutex will immediately unlock"]
pub struct ArcReentrantMutexGuard<R, G, T: ?Sized> {
    remutex: Arc<ReentrantMutex<R, G, T>>,
    marker: PhantomData<GuardNoSend>,
}

impl<T> ReentrantMutex<RawMutex, RawThreadId, T> {
    maybe_const_fn! {
        /// Creates a new unlocked reentrant mutex; `const`, so it works in a
        /// `static`.
        #[inline(always)]
        #[track_caller]
        pub fn new(val: T) -> ReentrantMutex<RawMutex, RawThreadId, T> {
            ReentrantMutex { raw: raw::RawReentrant::new(type_name::<T>), marker: PhantomData, data: UnsafeCell::new(val) }
        }
    }

    /// Creates a new reentrant mutex with a name for reports (a lockgraph
    /// extra).
    #[track_caller]
    pub fn named(name: impl Into<std::borrow::Cow<'static, str>>, val: T) -> Self {
        ReentrantMutex {
            raw: raw::RawReentrant::named(KIND, type_name::<T>, name.into()),
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
    /// let idle = lockgraph::parking_lot::ReentrantMutex::new(Vec::<u32>::new()).with_class("pool.idle");
    /// assert!(idle.lock().is_empty());
    /// ```
    #[must_use]
    pub fn with_class(self, class: &str) -> Self {
        self.raw.meta.set_class(KIND, class);
        self
    }

    /// Consumes the mutex, returning the data.
    #[inline(always)]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> ReentrantMutex<RawMutex, RawThreadId, T> {
    #[inline(always)]
    fn guard(&self) -> ReentrantMutexGuard<'_, RawMutex, RawThreadId, T> {
        ReentrantMutexGuard {
            remutex: self,
            marker: PhantomData,
        }
    }

    /// Acquires the mutex, blocking until it is free, or re-enters it if this
    /// thread holds it.
    #[inline(always)]
    #[track_caller]
    pub fn lock(&self) -> ReentrantMutexGuard<'_, RawMutex, RawThreadId, T> {
        self.raw.lock(KIND);
        self.guard()
    }

    /// Acquires the mutex if it is free or held by this thread.
    #[inline(always)]
    #[track_caller]
    pub fn try_lock(&self) -> Option<ReentrantMutexGuard<'_, RawMutex, RawThreadId, T>> {
        self.raw.try_lock(KIND).then(|| self.guard())
    }

    /// [`ReentrantMutex::try_lock`], waiting up to `timeout` (adds edges,
    /// never reported).
    #[inline(always)]
    #[track_caller]
    pub fn try_lock_for(
        &self,
        timeout: Duration,
    ) -> Option<ReentrantMutexGuard<'_, RawMutex, RawThreadId, T>> {
        self.raw.try_lock_for(KIND, timeout).then(|| self.guard())
    }

    /// [`ReentrantMutex::try_lock`], waiting until the instant `timeout`.
    #[inline(always)]
    #[track_caller]
    pub fn try_lock_until(
        &self,
        timeout: Instant,
    ) -> Option<ReentrantMutexGuard<'_, RawMutex, RawThreadId, T>> {
        self.raw.try_lock_until(KIND, timeout).then(|| self.guard())
    }

    /// A mutable reference to the data, without locking.
    #[inline(always)]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether the mutex is locked by any thread.
    #[inline(always)]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Whether the current thread holds the mutex.
    #[inline(always)]
    pub fn is_owned_by_current_thread(&self) -> bool {
        self.raw.is_owned_by_current_thread()
    }

    /// Forcibly releases one level of a lock whose guard was forgotten.
    ///
    /// # Safety
    /// The current thread must hold the lock through a forgotten guard.
    #[inline(always)]
    pub unsafe fn force_unlock(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock() }
    }

    /// [`ReentrantMutex::force_unlock`] with the fair protocol.
    ///
    /// # Safety
    /// As [`ReentrantMutex::force_unlock`].
    #[inline(always)]
    pub unsafe fn force_unlock_fair(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_fair() }
    }

    /// Creates a guard without locking.
    ///
    /// # Safety
    /// The current thread must logically hold the lock.
    #[inline(always)]
    pub unsafe fn make_guard_unchecked(&self) -> ReentrantMutexGuard<'_, RawMutex, RawThreadId, T> {
        self.guard()
    }

    /// A raw pointer to the data.
    #[inline(always)]
    pub fn data_ptr(&self) -> *mut T {
        self.data.get()
    }
}

#[cfg(feature = "arc_lock")]
impl<T: ?Sized> ReentrantMutex<RawMutex, RawThreadId, T> {
    /// [`ReentrantMutex::lock`] through an `Arc`, returning an owned guard.
    #[inline(always)]
    #[track_caller]
    pub fn lock_arc(self: &Arc<Self>) -> ArcReentrantMutexGuard<RawMutex, RawThreadId, T> {
        self.raw.lock(KIND);
        ArcReentrantMutexGuard {
            remutex: Arc::clone(self),
            marker: PhantomData,
        }
    }

    /// [`ReentrantMutex::try_lock`] through an `Arc`.
    #[inline(always)]
    #[track_caller]
    pub fn try_lock_arc(
        self: &Arc<Self>,
    ) -> Option<ArcReentrantMutexGuard<RawMutex, RawThreadId, T>> {
        self.raw.try_lock(KIND).then(|| ArcReentrantMutexGuard {
            remutex: Arc::clone(self),
            marker: PhantomData,
        })
    }
}

impl<T: Default> Default for ReentrantMutex<RawMutex, RawThreadId, T> {
    #[track_caller]
    fn default() -> Self {
        ReentrantMutex::new(T::default())
    }
}

impl<T> From<T> for ReentrantMutex<RawMutex, RawThreadId, T> {
    #[track_caller]
    fn from(t: T) -> Self {
        ReentrantMutex::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutex<RawMutex, RawThreadId, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.try_lock() {
            Some(guard) => f
                .debug_struct("ReentrantMutex")
                .field("data", &&*guard)
                .finish(),
            None => f
                .debug_struct("ReentrantMutex")
                .field("data", &LockedPlaceholder)
                .finish(),
        }
    }
}

impl<'a, T: ?Sized + 'a> ReentrantMutexGuard<'a, RawMutex, RawThreadId, T> {
    fn data(s: &Self) -> *mut T {
        s.remutex.data.get()
    }

    fn into_raw(s: Self) -> &'a raw::RawReentrant {
        let raw = &s.remutex.raw;
        mem::forget(s);
        raw
    }

    /// The mutex this guard locks.
    #[inline(always)]
    pub fn remutex(s: &Self) -> &'a ReentrantMutex<RawMutex, RawThreadId, T> {
        s.remutex
    }

    super::map_methods!(ref MappedReentrantMutexGuard<'a, RawMutex, RawThreadId>);

    /// Releases one level while `f` runs, then takes it again.
    #[inline(always)]
    #[track_caller]
    pub fn unlocked<F: FnOnce() -> U, U>(s: &mut Self, f: F) -> U {
        // SAFETY: the guard holds one level; it is taken again before use.
        unsafe { s.remutex.raw.unlock() };
        let result = f();
        s.remutex.raw.lock(KIND);
        result
    }

    /// Releases one level with the fair protocol.
    #[inline(always)]
    pub fn unlock_fair(s: Self) {
        // SAFETY: the guard holds one level; `into_raw` forgets it.
        unsafe { Self::into_raw(s).unlock_fair() }
    }

    /// [`ReentrantMutexGuard::unlocked`] with a fair unlock.
    #[inline(always)]
    #[track_caller]
    pub fn unlocked_fair<F: FnOnce() -> U, U>(s: &mut Self, f: F) -> U {
        // SAFETY: the guard holds one level; it is taken again before use.
        unsafe { s.remutex.raw.unlock_fair() };
        let result = f();
        s.remutex.raw.lock(KIND);
        result
    }

    /// Yields the mutex to a waiter if this is its outermost level.
    #[inline(always)]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        // SAFETY: the guard holds the lock.
        unsafe { s.remutex.raw.bump(KIND) }
    }
}

impl<T: ?Sized> Deref for ReentrantMutexGuard<'_, RawMutex, RawThreadId, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock; only the owner reads the data.
        unsafe { &*self.remutex.data.get() }
    }
}

impl<R, G, T: ?Sized> Drop for ReentrantMutexGuard<'_, R, G, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard holds one level of the lock.
        unsafe { self.remutex.raw.unlock() }
    }
}

impl<'a, T: ?Sized + 'a> MappedReentrantMutexGuard<'a, RawMutex, RawThreadId, T> {
    fn from_parts(raw: &'a raw::RawReentrant, data: *mut T) -> Self {
        MappedReentrantMutexGuard {
            raw,
            data,
            marker: PhantomData,
        }
    }

    fn data(s: &Self) -> *mut T {
        s.data as *mut T
    }

    fn into_raw(s: Self) -> &'a raw::RawReentrant {
        let raw = s.raw;
        mem::forget(s);
        raw
    }

    super::map_methods!(ref MappedReentrantMutexGuard<'a, RawMutex, RawThreadId>);

    /// Releases one level with the fair protocol.
    #[inline(always)]
    pub fn unlock_fair(s: Self) {
        // SAFETY: the guard holds one level; `into_raw` forgets it.
        unsafe { Self::into_raw(s).unlock_fair() }
    }
}

impl<T: ?Sized> Deref for MappedReentrantMutexGuard<'_, RawMutex, RawThreadId, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock; `data` points into the data.
        unsafe { &*self.data }
    }
}

impl<R, G, T: ?Sized> Drop for MappedReentrantMutexGuard<'_, R, G, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard holds one level of the lock.
        unsafe { self.raw.unlock() }
    }
}

#[cfg(feature = "arc_lock")]
impl<T: ?Sized> ArcReentrantMutexGuard<RawMutex, RawThreadId, T> {
    /// The `Arc` of the mutex this guard locks.
    #[inline(always)]
    pub fn remutex(s: &Self) -> &Arc<ReentrantMutex<RawMutex, RawThreadId, T>> {
        &s.remutex
    }

    /// Releases one level and returns the `Arc`.
    #[inline(always)]
    pub fn into_arc(s: Self) -> Arc<ReentrantMutex<RawMutex, RawThreadId, T>> {
        let s = mem::ManuallyDrop::new(s);
        // SAFETY: the guard holds one level of the lock.
        unsafe { s.remutex.raw.unlock() };
        // SAFETY: `s` is never used or dropped again: the Arc moves once.
        unsafe { std::ptr::read(&s.remutex) }
    }
}

#[cfg(feature = "arc_lock")]
impl<T: ?Sized> Deref for ArcReentrantMutexGuard<RawMutex, RawThreadId, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock; only the owner reads the data.
        unsafe { &*self.remutex.data.get() }
    }
}

#[cfg(feature = "arc_lock")]
impl<R, G, T: ?Sized> Drop for ArcReentrantMutexGuard<R, G, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard holds one level of the lock.
        unsafe { self.remutex.raw.unlock() }
    }
}

super::guard_fmt!(impl[] ReentrantMutexGuard<'_, RawMutex, RawThreadId, T>);
super::guard_fmt!(impl[] MappedReentrantMutexGuard<'_, RawMutex, RawThreadId, T>);
#[cfg(feature = "arc_lock")]
super::guard_fmt!(impl[] ArcReentrantMutexGuard<RawMutex, RawThreadId, T>);
