//! `Mutex<R, T>` and its guards with lock_api 0.4's API, for both
//! [`RawMutex`] (parking_lot's `Mutex`) and [`RawFairMutex`] (`FairMutex`).

use std::any::type_name;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

#[cfg(feature = "arc_lock")]
use std::sync::Arc;

use super::{GuardNoSend, LockedPlaceholder, RawFairMutex, RawMutex, sealed};
use crate::facade::maybe_const_fn;
use crate::raw;
use crate::report::LockKind;

/// The engine behind a [`Mutex<R, T>`]: [`RawMutex`] or [`RawFairMutex`].
pub trait MutexKind: sealed::Sealed + Send + Sync + 'static {
    #[doc(hidden)]
    const KIND: LockKind;
    #[doc(hidden)]
    const FAIR: bool;
}

impl MutexKind for RawMutex {
    const KIND: LockKind = LockKind::ParkingLotMutex;
    const FAIR: bool = false;
}

impl MutexKind for RawFairMutex {
    const KIND: LockKind = LockKind::ParkingLotFairMutex;
    const FAIR: bool = true;
}

/// Releases `raw` the way `R` unlocks by default.
///
/// # Safety
/// The current thread must hold `raw`.
#[inline(always)]
unsafe fn unlock<R: MutexKind>(raw: &raw::RawMutex) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if R::FAIR {
            raw.unlock_fair()
        } else {
            raw.unlock()
        }
    }
}

/// Releases `raw` (with the fair protocol, or the way `R` unlocks by
/// default) while `f` runs, then takes it again: a blocking acquisition,
/// checked against the locks this thread holds then.
///
/// # Safety
/// The current thread must hold `raw` through a guard that is not used
/// while `f` runs.
#[inline(always)]
#[track_caller]
unsafe fn unlocked<R: MutexKind, U>(raw: &raw::RawMutex, fair: bool, f: impl FnOnce() -> U) -> U {
    // SAFETY: forwarded from the caller.
    unsafe {
        if fair {
            raw.unlock_fair()
        } else {
            unlock::<R>(raw)
        }
    }
    let result = f();
    raw.lock(R::KIND);
    result
}

/// A mutual exclusion primitive with lock_api's `Mutex<R, T>` API, checked by
/// the deadlock detector. Use it through the aliases
/// [`parking_lot::Mutex<T>`](super::Mutex) and
/// [`parking_lot::FairMutex<T>`](super::FairMutex).
///
/// No poisoning: `lock()` returns the guard itself, as in parking_lot.
pub struct Mutex<R, T: ?Sized> {
    raw: raw::RawMutex,
    marker: PhantomData<R>,
    data: UnsafeCell<T>,
}

// SAFETY: one thread at a time gets `&mut T`, so `T: Send` suffices.
unsafe impl<R: MutexKind, T: ?Sized + Send> Send for Mutex<R, T> {}
// SAFETY: as above.
unsafe impl<R: MutexKind, T: ?Sized + Send> Sync for Mutex<R, T> {}

/// RAII guard of a [`Mutex`]; `!Send`, as parking_lot's without `send_guard`.
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, R: MutexKind, T: ?Sized> {
    mutex: &'a Mutex<R, T>,
    marker: PhantomData<(&'a mut T, GuardNoSend)>,
}

// SAFETY: a shared guard gives only `&T`.
unsafe impl<R: MutexKind, T: ?Sized + Sync> Sync for MutexGuard<'_, R, T> {}

/// A guard for a part of a [`Mutex`]'s data, made by [`MutexGuard::map`].
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, R: MutexKind, T: ?Sized> {
    raw: &'a raw::RawMutex,
    data: *mut T,
    marker: PhantomData<(&'a mut T, R, GuardNoSend)>,
}

// SAFETY: a shared guard gives only `&T`.
unsafe impl<R: MutexKind, T: ?Sized + Sync> Sync for MappedMutexGuard<'_, R, T> {}

/// An owned guard of an `Arc<Mutex>`, from [`Mutex::lock_arc`] (feature
/// `arc_lock`).
#[cfg(feature = "arc_lock")]
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct ArcMutexGuard<R: MutexKind, T: ?Sized> {
    mutex: Arc<Mutex<R, T>>,
    marker: PhantomData<GuardNoSend>,
}

impl<R: MutexKind, T> Mutex<R, T> {
    maybe_const_fn! {
        /// Creates a new unlocked mutex; `const`, so it works in a `static`.
        #[inline(always)]
        #[track_caller]
        pub fn new(val: T) -> Mutex<R, T> {
            Mutex { raw: raw::RawMutex::new(type_name::<T>), marker: PhantomData, data: UnsafeCell::new(val) }
        }
    }

    /// Creates a new mutex with a name for reports (a lockgraph extra).
    #[track_caller]
    pub fn named(name: impl Into<std::borrow::Cow<'static, str>>, val: T) -> Mutex<R, T> {
        Mutex {
            raw: raw::RawMutex::named(R::KIND, type_name::<T>, name.into()),
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
    /// let idle = lockgraph::parking_lot::Mutex::new(Vec::<u32>::new()).with_class("pool.idle");
    /// assert!(idle.lock().is_empty());
    /// ```
    #[must_use]
    pub fn with_class(self, class: &str) -> Self {
        self.raw.meta.set_class(R::KIND, class);
        self
    }

    /// Consumes the mutex, returning the data.
    #[inline(always)]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<R: MutexKind, T: ?Sized> Mutex<R, T> {
    #[inline(always)]
    fn guard(&self) -> MutexGuard<'_, R, T> {
        MutexGuard {
            mutex: self,
            marker: PhantomData,
        }
    }

    /// Acquires the mutex, blocking until it is available. Relocking a mutex
    /// this thread holds, or an acquisition that inverts the lock order seen
    /// before, is reported before blocking.
    #[inline(always)]
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, R, T> {
        self.raw.lock(R::KIND);
        self.guard()
    }

    /// Attempts to acquire the mutex without blocking (no lock-order edge).
    #[inline(always)]
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, R, T>> {
        self.raw.try_lock(R::KIND).then(|| self.guard())
    }

    /// Attempts to acquire the mutex until `timeout` has passed. It may
    /// block, so it adds lock-order edges, but it is never reported: a
    /// timeout ends the wait by itself.
    #[inline(always)]
    #[track_caller]
    pub fn try_lock_for(&self, timeout: Duration) -> Option<MutexGuard<'_, R, T>> {
        self.raw
            .try_lock_for(R::KIND, timeout)
            .then(|| self.guard())
    }

    /// Attempts to acquire the mutex until `timeout` (an instant); see
    /// [`Mutex::try_lock_for`].
    #[inline(always)]
    #[track_caller]
    pub fn try_lock_until(&self, timeout: Instant) -> Option<MutexGuard<'_, R, T>> {
        self.raw
            .try_lock_until(R::KIND, timeout)
            .then(|| self.guard())
    }

    /// A mutable reference to the data, without locking.
    #[inline(always)]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether the mutex is locked (by any thread).
    #[inline(always)]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Forcibly unlocks the mutex, e.g. after `mem::forget` of a guard.
    ///
    /// # Safety
    /// The mutex must be locked by the current thread, through a guard that
    /// was discarded with `mem::forget`.
    #[inline(always)]
    pub unsafe fn force_unlock(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock() }
    }

    /// Forcibly unlocks the mutex using a fair unlock protocol.
    ///
    /// # Safety
    /// As [`Mutex::force_unlock`].
    #[inline(always)]
    pub unsafe fn force_unlock_fair(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_fair() }
    }

    /// Creates a guard without locking, for a lock whose guard was forgotten.
    ///
    /// # Safety
    /// The current thread must logically hold the lock.
    #[inline(always)]
    pub unsafe fn make_guard_unchecked(&self) -> MutexGuard<'_, R, T> {
        self.guard()
    }

    /// A raw pointer to the data; dereferencing it is only safe while the
    /// lock is held.
    #[inline(always)]
    pub fn data_ptr(&self) -> *mut T {
        self.data.get()
    }

    /// Panics unless the current thread holds this mutex (a lockgraph extra;
    /// does nothing when detection is off).
    #[track_caller]
    pub fn assert_held(&self) {
        crate::detect::assert_held(&self.raw.meta, R::KIND.type_name(), true);
    }

    /// Panics if the current thread holds this mutex (a lockgraph extra).
    #[track_caller]
    pub fn assert_not_held(&self) {
        crate::detect::assert_held(&self.raw.meta, R::KIND.type_name(), false);
    }

    pub(crate) fn raw(&self) -> &raw::RawMutex {
        &self.raw
    }
}

#[cfg(feature = "arc_lock")]
impl<R: MutexKind, T: ?Sized> Mutex<R, T> {
    #[inline(always)]
    fn arc_guard(self: &Arc<Self>) -> ArcMutexGuard<R, T> {
        ArcMutexGuard {
            mutex: Arc::clone(self),
            marker: PhantomData,
        }
    }

    /// Acquires the mutex through an `Arc`, returning an owned guard.
    #[inline(always)]
    #[track_caller]
    pub fn lock_arc(self: &Arc<Self>) -> ArcMutexGuard<R, T> {
        self.raw.lock(R::KIND);
        self.arc_guard()
    }

    /// [`Mutex::try_lock`] through an `Arc`.
    #[inline(always)]
    #[track_caller]
    pub fn try_lock_arc(self: &Arc<Self>) -> Option<ArcMutexGuard<R, T>> {
        self.raw.try_lock(R::KIND).then(|| self.arc_guard())
    }

    /// [`Mutex::try_lock_for`] through an `Arc`.
    #[inline(always)]
    #[track_caller]
    pub fn try_lock_arc_for(self: &Arc<Self>, timeout: Duration) -> Option<ArcMutexGuard<R, T>> {
        self.raw
            .try_lock_for(R::KIND, timeout)
            .then(|| self.arc_guard())
    }

    /// [`Mutex::try_lock_until`] through an `Arc`.
    #[inline(always)]
    #[track_caller]
    pub fn try_lock_arc_until(self: &Arc<Self>, timeout: Instant) -> Option<ArcMutexGuard<R, T>> {
        self.raw
            .try_lock_until(R::KIND, timeout)
            .then(|| self.arc_guard())
    }

    /// Creates an owned guard without locking.
    ///
    /// # Safety
    /// The current thread must logically hold the lock.
    #[inline(always)]
    pub unsafe fn make_arc_guard_unchecked(self: &Arc<Self>) -> ArcMutexGuard<R, T> {
        self.arc_guard()
    }
}

impl<R: MutexKind, T: Default> Default for Mutex<R, T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<R: MutexKind, T> From<T> for Mutex<R, T> {
    #[track_caller]
    fn from(t: T) -> Self {
        Mutex::new(t)
    }
}

impl<R: MutexKind, T: ?Sized + fmt::Debug> fmt::Debug for Mutex<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.try_lock() {
            Some(guard) => f.debug_struct("Mutex").field("data", &&*guard).finish(),
            None => f
                .debug_struct("Mutex")
                .field("data", &LockedPlaceholder)
                .finish(),
        }
    }
}

impl<'a, R: MutexKind, T: ?Sized + 'a> MutexGuard<'a, R, T> {
    /// The mutex this guard locks.
    #[inline(always)]
    pub fn mutex(s: &Self) -> &'a Mutex<R, T> {
        s.mutex
    }

    fn data(s: &Self) -> *mut T {
        s.mutex.data.get()
    }

    fn into_raw(s: Self) -> &'a raw::RawMutex {
        let raw = &s.mutex.raw;
        mem::forget(s);
        raw
    }

    super::map_methods!(mut MappedMutexGuard<'a, R>);

    /// Unlocks the mutex while `f` runs, then locks it again (a blocking
    /// acquisition, checked against the locks this thread holds then).
    #[inline(always)]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        // SAFETY: the guard holds the lock and is borrowed while `f` runs.
        unsafe { unlocked::<R, U>(&s.mutex.raw, false, f) }
    }

    /// Leaks the guard: the mutex stays locked forever, and the data is
    /// borrowed for the guard's lifetime.
    #[inline(always)]
    pub fn leak(s: Self) -> &'a mut T {
        // SAFETY: the lock is held and is never released.
        let data = unsafe { &mut *s.mutex.data.get() };
        mem::forget(s);
        data
    }

    /// Unlocks with the fair protocol (the lock goes to a waiter, if any).
    #[inline(always)]
    pub fn unlock_fair(s: Self) {
        // SAFETY: the guard holds the lock and is forgotten right after.
        unsafe { s.mutex.raw.unlock_fair() };
        mem::forget(s);
    }

    /// [`MutexGuard::unlocked`] with a fair unlock.
    #[inline(always)]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        // SAFETY: the guard holds the lock and is borrowed while `f` runs.
        unsafe { unlocked::<R, U>(&s.mutex.raw, true, f) }
    }

    /// Yields the mutex to a waiting thread, if any, then takes it back.
    #[inline(always)]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        // SAFETY: the guard holds the lock.
        unsafe { s.mutex.raw.bump(R::KIND) }
    }
}

impl<R: MutexKind, T: ?Sized> Deref for MutexGuard<'_, R, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<R: MutexKind, T: ?Sized> DerefMut for MutexGuard<'_, R, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<R: MutexKind, T: ?Sized> Drop for MutexGuard<'_, R, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard holds the lock.
        unsafe { unlock::<R>(&self.mutex.raw) }
    }
}

impl<'a, R: MutexKind, T: ?Sized + 'a> MappedMutexGuard<'a, R, T> {
    fn from_parts(raw: &'a raw::RawMutex, data: *mut T) -> Self {
        MappedMutexGuard {
            raw,
            data,
            marker: PhantomData,
        }
    }

    fn data(s: &Self) -> *mut T {
        s.data
    }

    fn into_raw(s: Self) -> &'a raw::RawMutex {
        let raw = s.raw;
        mem::forget(s);
        raw
    }

    super::map_methods!(mut MappedMutexGuard<'a, R>);

    /// Unlocks with the fair protocol.
    #[inline(always)]
    pub fn unlock_fair(s: Self) {
        // SAFETY: the guard holds the lock and is forgotten right after.
        unsafe { s.raw.unlock_fair() };
        mem::forget(s);
    }
}

impl<R: MutexKind, T: ?Sized> Deref for MappedMutexGuard<'_, R, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock; `data` points into the data.
        unsafe { &*self.data }
    }
}

impl<R: MutexKind, T: ?Sized> DerefMut for MappedMutexGuard<'_, R, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and the guard is exclusive.
        unsafe { &mut *self.data }
    }
}

impl<R: MutexKind, T: ?Sized> Drop for MappedMutexGuard<'_, R, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard holds the lock.
        unsafe { unlock::<R>(self.raw) }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: MutexKind, T: ?Sized> ArcMutexGuard<R, T> {
    /// The `Arc` of the mutex this guard locks.
    #[inline(always)]
    pub fn mutex(s: &Self) -> &Arc<Mutex<R, T>> {
        &s.mutex
    }

    /// Unlocks and returns the `Arc`.
    #[inline(always)]
    pub fn into_arc(s: Self) -> Arc<Mutex<R, T>> {
        // SAFETY: the guard holds the lock; it is forgotten below.
        unsafe { unlock::<R>(&s.mutex.raw) };
        Self::take_arc(s)
    }

    /// Unlocks fairly and returns the `Arc`.
    #[inline(always)]
    pub fn into_arc_fair(s: Self) -> Arc<Mutex<R, T>> {
        // SAFETY: the guard holds the lock; it is forgotten below.
        unsafe { s.mutex.raw.unlock_fair() };
        Self::take_arc(s)
    }

    fn take_arc(s: Self) -> Arc<Mutex<R, T>> {
        let s = mem::ManuallyDrop::new(s);
        // SAFETY: `s` is never used or dropped again, so the Arc is moved
        // out exactly once.
        unsafe { std::ptr::read(&s.mutex) }
    }

    /// Unlocks the mutex while `f` runs, then locks it again.
    #[inline(always)]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        // SAFETY: the guard holds the lock and is borrowed while `f` runs.
        unsafe { unlocked::<R, U>(&s.mutex.raw, false, f) }
    }

    /// Unlocks with the fair protocol.
    #[inline(always)]
    pub fn unlock_fair(s: Self) {
        drop(Self::into_arc_fair(s));
    }

    /// [`ArcMutexGuard::unlocked`] with a fair unlock.
    #[inline(always)]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        // SAFETY: the guard holds the lock and is borrowed while `f` runs.
        unsafe { unlocked::<R, U>(&s.mutex.raw, true, f) }
    }

    /// Yields the mutex to a waiting thread, if any, then takes it back.
    #[inline(always)]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        // SAFETY: the guard holds the lock.
        unsafe { s.mutex.raw.bump(R::KIND) }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: MutexKind, T: ?Sized> Deref for ArcMutexGuard<R, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: MutexKind, T: ?Sized> DerefMut for ArcMutexGuard<R, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.mutex.data.get() }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: MutexKind, T: ?Sized> Drop for ArcMutexGuard<R, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the guard holds the lock.
        unsafe { unlock::<R>(&self.mutex.raw) }
    }
}

super::guard_fmt!(impl[R: MutexKind,] MutexGuard<'_, R, T>);
super::guard_fmt!(impl[R: MutexKind,] MappedMutexGuard<'_, R, T>);
#[cfg(feature = "arc_lock")]
super::guard_fmt!(impl[R: MutexKind,] ArcMutexGuard<R, T>);
