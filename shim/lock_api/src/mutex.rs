//! `Mutex<R, T>` over any [`RawMutex`], and its guards.

use core::cell::UnsafeCell;
use core::fmt;
use core::marker::PhantomData;
use core::mem;
use core::ops::{Deref, DerefMut};

#[cfg(feature = "arc_lock")]
use std::mem::ManuallyDrop;
#[cfg(feature = "arc_lock")]
use std::sync::Arc;

use lockgraph::hooks::{Access, LockKind, Owner, Record};
#[cfg(feature = "owning_ref")]
use owning_ref::StableAddress;
#[cfg(feature = "serde")]
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{LockedPlaceholder, unlocked_with};

const KIND: LockKind = LockKind::LockApiMutex;

/// Basic operations for a mutex.
///
/// Types implementing this trait can be used by [`Mutex`] to form a safe and
/// fully-functioning mutex type.
///
/// # Safety
///
/// Implementations of this trait must ensure that the mutex is actually
/// exclusive: a lock can't be acquired while the mutex is already locked.
pub unsafe trait RawMutex {
    /// Initial value for an unlocked mutex.
    // A “non-constant” const item is a legacy way to supply an initialized
    // value to downstream static items. Can hopefully be replaced with
    // `const fn new() -> Self` at some point.
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self;

    /// Marker type which determines whether a lock guard should be `Send`.
    /// Use one of the `GuardSend` or `GuardNoSend` helper types here.
    type GuardMarker;

    /// Acquires this mutex, blocking the current thread until it is able to
    /// do so.
    fn lock(&self);

    /// Attempts to acquire this mutex without blocking. Returns `true` if the
    /// lock was successfully acquired and `false` otherwise.
    fn try_lock(&self) -> bool;

    /// Unlocks this mutex.
    ///
    /// # Safety
    ///
    /// This method may only be called if the mutex is held in the current
    /// context, i.e. it must be paired with a successful call to
    /// [`lock`](RawMutex::lock), [`try_lock`](RawMutex::try_lock),
    /// [`try_lock_for`](RawMutexTimed::try_lock_for) or
    /// [`try_lock_until`](RawMutexTimed::try_lock_until).
    unsafe fn unlock(&self);

    /// Checks whether the mutex is currently locked.
    #[inline]
    fn is_locked(&self) -> bool {
        let acquired = self.try_lock();
        if acquired {
            // SAFETY: the lock was just acquired.
            unsafe { self.unlock() };
        }
        !acquired
    }
}

/// Additional methods for mutexes which support fair unlocking.
///
/// Fair unlocking means that a lock is handed directly over to the next
/// waiting thread if there is one, without giving other threads the
/// opportunity to "steal" the lock in the meantime.
///
/// # Safety
///
/// As for [`RawMutex`].
pub unsafe trait RawMutexFair: RawMutex {
    /// Unlocks this mutex using a fair unlock protocol.
    ///
    /// # Safety
    ///
    /// This method may only be called if the mutex is held in the current
    /// context, see the documentation of [`unlock`](RawMutex::unlock).
    unsafe fn unlock_fair(&self);

    /// Temporarily yields the mutex to a waiting thread if there is one.
    ///
    /// This method is functionally equivalent to calling `unlock_fair`
    /// followed by `lock`, however it can be much more efficient in the
    /// case where there are no waiting threads.
    ///
    /// # Safety
    ///
    /// This method may only be called if the mutex is held in the current
    /// context, see the documentation of [`unlock`](RawMutex::unlock).
    unsafe fn bump(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.unlock_fair() };
        self.lock();
    }
}

/// Additional methods for mutexes which support locking with timeouts.
///
/// The `Duration` and `Instant` types are specified as associated types so
/// that this trait is usable even in `no_std` environments.
///
/// # Safety
///
/// As for [`RawMutex`].
pub unsafe trait RawMutexTimed: RawMutex {
    /// Duration type used for `try_lock_for`.
    type Duration;

    /// Instant type used for `try_lock_until`.
    type Instant;

    /// Attempts to acquire this lock until a timeout is reached.
    fn try_lock_for(&self, timeout: Self::Duration) -> bool;

    /// Attempts to acquire this lock until a timeout is reached.
    fn try_lock_until(&self, timeout: Self::Instant) -> bool;
}

/// A mutual exclusion primitive useful for protecting shared data
///
/// This mutex will block threads waiting for the lock to become available.
/// The mutex can also be statically initialized or created via a `new`
/// constructor. Each mutex has a type parameter which represents the data
/// that it is protecting. The data can only be accessed through the RAII
/// guards returned from `lock` and `try_lock`, which guarantees that the
/// data is only ever accessed when the mutex is locked.
///
/// Under lockgraph every acquisition is checked against the locks the
/// thread holds: a relock or an acquisition that closes a cycle in the
/// lock order is reported before it blocks.
pub struct Mutex<R, T: ?Sized> {
    raw: R,
    record: Record,
    data: UnsafeCell<T>,
}

// SAFETY: as lock_api's: the data moves with the mutex; the record is
// atomics and a creation site.
unsafe impl<R: RawMutex + Send, T: ?Sized + Send> Send for Mutex<R, T> {}
// SAFETY: as lock_api's: the raw lock makes access to the data exclusive.
unsafe impl<R: RawMutex + Sync, T: ?Sized + Send> Sync for Mutex<R, T> {}

impl<R: RawMutex, T> Mutex<R, T> {
    /// Creates a new mutex in an unlocked state ready for use.
    #[inline]
    #[track_caller]
    pub const fn new(val: T) -> Mutex<R, T> {
        Mutex {
            raw: R::INIT,
            record: Record::new(core::any::type_name::<T>),
            data: UnsafeCell::new(val),
        }
    }

    /// Consumes this mutex, returning the underlying data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<R, T> Mutex<R, T> {
    /// Creates a new mutex based on a pre-existing raw mutex.
    #[inline]
    #[track_caller]
    pub const fn from_raw(raw_mutex: R, val: T) -> Mutex<R, T> {
        Mutex {
            raw: raw_mutex,
            record: Record::new(core::any::type_name::<T>),
            data: UnsafeCell::new(val),
        }
    }

    /// Creates a new mutex based on a pre-existing raw mutex.
    ///
    /// This allows creating a mutex in a constant context on stable Rust.
    ///
    /// This method is a legacy alias for [`from_raw`](Self::from_raw).
    #[inline]
    #[track_caller]
    pub const fn const_new(raw_mutex: R, val: T) -> Mutex<R, T> {
        Self::from_raw(raw_mutex, val)
    }
}

impl<R: RawMutex, T: ?Sized> Mutex<R, T> {
    /// A blocking acquisition, checked before it blocks.
    #[inline]
    #[track_caller]
    fn acquire(&self) -> Owner {
        self.record.lock(
            KIND,
            Access::Exclusive,
            || self.raw.try_lock(),
            || self.raw.lock(),
        )
    }

    /// A guard of the lock, which `owner` holds.
    ///
    /// # Safety
    /// The lock must be held (and recorded for `owner`).
    #[inline]
    unsafe fn guard(&self, owner: Owner) -> MutexGuard<'_, R, T> {
        MutexGuard {
            mutex: self,
            owner,
            marker: PhantomData,
        }
    }

    /// Creates a new `MutexGuard` without checking if the mutex is locked.
    ///
    /// # Safety
    ///
    /// This method must only be called if the thread logically holds the
    /// lock.
    ///
    /// Calling this function when a guard has already been produced is
    /// undefined behaviour unless the guard was forgotten with `mem::forget`.
    #[inline]
    #[track_caller]
    pub unsafe fn make_guard_unchecked(&self) -> MutexGuard<'_, R, T> {
        let owner = self.record.locked(KIND, Access::Exclusive);
        // SAFETY: the caller holds the lock.
        unsafe { self.guard(owner) }
    }

    /// Acquires a mutex, blocking the current thread until it is able to do
    /// so.
    ///
    /// This function will block the local thread until it is available to
    /// acquire the mutex. Upon returning, the thread is the only thread with
    /// the mutex held. An RAII guard is returned to allow scoped unlock of
    /// the lock. When the guard goes out of scope, the mutex will be
    /// unlocked.
    ///
    /// Attempts to lock a mutex in the thread which already holds the lock
    /// will result in a deadlock: under lockgraph, in a report instead.
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, R, T> {
        let owner = self.acquire();
        // SAFETY: the lock was just acquired.
        unsafe { self.guard(owner) }
    }

    /// Attempts to acquire this lock.
    ///
    /// If the lock could not be acquired at this time, then `None` is
    /// returned. Otherwise, an RAII guard is returned. The lock will be
    /// unlocked when the guard is dropped.
    ///
    /// This function does not block.
    #[inline]
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, R, T>> {
        if self.raw.try_lock() {
            let owner = self.record.locked(KIND, Access::Exclusive);
            // SAFETY: the lock was just acquired.
            Some(unsafe { self.guard(owner) })
        } else {
            None
        }
    }

    /// Returns a mutable reference to the underlying data.
    ///
    /// Since this call borrows the `Mutex` mutably, no actual locking needs
    /// to take place---the mutable borrow statically guarantees no locks
    /// exist.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Checks whether the mutex is currently locked.
    #[inline]
    #[track_caller]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Forcibly unlocks the mutex.
    ///
    /// This is useful when combined with `mem::forget` to hold a lock
    /// without the need to maintain a `MutexGuard` object alive, for example
    /// when dealing with FFI.
    ///
    /// # Safety
    ///
    /// This method must only be called if the current thread logically owns
    /// a `MutexGuard` but that guard has been discarded using `mem::forget`.
    /// Behavior is undefined if a mutex is unlocked when not locked.
    #[inline]
    #[track_caller]
    pub unsafe fn force_unlock(&self) {
        self.record.unlock(Owner::NONE);
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock() };
    }

    /// Returns the underlying raw mutex object.
    ///
    /// Note that you will most likely need to import the `RawMutex` trait
    /// from `lock_api` to be able to call functions on the raw mutex.
    ///
    /// # Safety
    ///
    /// This method is unsafe because it allows unlocking a mutex while still
    /// holding a reference to a `MutexGuard`. Locking or unlocking through
    /// it bypasses lockgraph's checks.
    #[inline]
    pub unsafe fn raw(&self) -> &R {
        &self.raw
    }

    /// Returns a raw pointer to the underlying data.
    ///
    /// This is useful when combined with `mem::forget` to hold a lock
    /// without the need to maintain a `MutexGuard` object alive, for example
    /// when dealing with FFI.
    ///
    /// # Safety
    ///
    /// You must ensure that there are no data races when dereferencing the
    /// returned pointer, for example if the current thread logically owns
    /// a `MutexGuard` but that guard has been discarded using `mem::forget`.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.data.get()
    }

    /// Creates a new `ArcMutexGuard` without checking if the mutex is locked.
    ///
    /// # Safety
    ///
    /// This method must only be called if the thread logically holds the
    /// lock.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    unsafe fn make_arc_guard_unchecked(self: &Arc<Self>, owner: Owner) -> ArcMutexGuard<R, T> {
        ArcMutexGuard {
            mutex: self.clone(),
            owner,
            marker: PhantomData,
        }
    }

    /// Acquires a lock through an `Arc`.
    ///
    /// This method is similar to the `lock` method; however, it requires the
    /// `Mutex` to be inside of an `Arc` and the resulting mutex guard has no
    /// lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn lock_arc(self: &Arc<Self>) -> ArcMutexGuard<R, T> {
        let owner = self.acquire();
        // SAFETY: the lock was just acquired.
        unsafe { self.make_arc_guard_unchecked(owner) }
    }

    /// Attempts to acquire a lock through an `Arc`.
    ///
    /// This method is similar to the `try_lock` method; however, it requires
    /// the `Mutex` to be inside of an `Arc` and the resulting mutex guard
    /// has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_lock_arc(self: &Arc<Self>) -> Option<ArcMutexGuard<R, T>> {
        if self.raw.try_lock() {
            let owner = self.record.locked(KIND, Access::Exclusive);
            // SAFETY: the lock was just acquired.
            Some(unsafe { self.make_arc_guard_unchecked(owner) })
        } else {
            None
        }
    }
}

impl<R: RawMutexFair, T: ?Sized> Mutex<R, T> {
    /// Forcibly unlocks the mutex using a fair unlock protocol.
    ///
    /// This is useful when combined with `mem::forget` to hold a lock
    /// without the need to maintain a `MutexGuard` object alive, for example
    /// when dealing with FFI.
    ///
    /// # Safety
    ///
    /// This method must only be called if the current thread logically owns
    /// a `MutexGuard` but that guard has been discarded using `mem::forget`.
    /// Behavior is undefined if a mutex is unlocked when not locked.
    #[inline]
    #[track_caller]
    pub unsafe fn force_unlock_fair(&self) {
        self.record.unlock(Owner::NONE);
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_fair() };
    }
}

impl<R: RawMutexTimed, T: ?Sized> Mutex<R, T> {
    /// A timed acquisition: its edges are added, it is never reported.
    #[inline]
    #[track_caller]
    fn acquire_timed(&self, attempt: impl FnOnce(&R) -> bool) -> Option<Owner> {
        self.record.before_timed(KIND, Access::Exclusive);
        if attempt(&self.raw) {
            Some(self.record.locked(KIND, Access::Exclusive))
        } else {
            None
        }
    }

    /// Attempts to acquire this lock until a timeout is reached.
    ///
    /// If the lock could not be acquired before the timeout expired, then
    /// `None` is returned. Otherwise, an RAII guard is returned. The lock
    /// will be unlocked when the guard is dropped.
    #[inline]
    #[track_caller]
    pub fn try_lock_for(&self, timeout: R::Duration) -> Option<MutexGuard<'_, R, T>> {
        let owner = self.acquire_timed(|raw| raw.try_lock_for(timeout))?;
        // SAFETY: the lock was just acquired.
        Some(unsafe { self.guard(owner) })
    }

    /// Attempts to acquire this lock until a timeout is reached.
    ///
    /// If the lock could not be acquired before the timeout expired, then
    /// `None` is returned. Otherwise, an RAII guard is returned. The lock
    /// will be unlocked when the guard is dropped.
    #[inline]
    #[track_caller]
    pub fn try_lock_until(&self, timeout: R::Instant) -> Option<MutexGuard<'_, R, T>> {
        let owner = self.acquire_timed(|raw| raw.try_lock_until(timeout))?;
        // SAFETY: the lock was just acquired.
        Some(unsafe { self.guard(owner) })
    }

    /// Attempts to acquire this lock through an `Arc` until a timeout is
    /// reached.
    ///
    /// This method is similar to the `try_lock_for` method; however, it
    /// requires the `Mutex` to be inside of an `Arc` and the resulting mutex
    /// guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_lock_arc_for(self: &Arc<Self>, timeout: R::Duration) -> Option<ArcMutexGuard<R, T>> {
        let owner = self.acquire_timed(|raw| raw.try_lock_for(timeout))?;
        // SAFETY: the lock was just acquired.
        Some(unsafe { self.make_arc_guard_unchecked(owner) })
    }

    /// Attempts to acquire this lock through an `Arc` until a timeout is
    /// reached.
    ///
    /// This method is similar to the `try_lock_until` method; however, it
    /// requires the `Mutex` to be inside of an `Arc` and the resulting mutex
    /// guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_lock_arc_until(
        self: &Arc<Self>,
        timeout: R::Instant,
    ) -> Option<ArcMutexGuard<R, T>> {
        let owner = self.acquire_timed(|raw| raw.try_lock_until(timeout))?;
        // SAFETY: the lock was just acquired.
        Some(unsafe { self.make_arc_guard_unchecked(owner) })
    }
}

impl<R: RawMutex, T: Default> Default for Mutex<R, T> {
    #[inline]
    #[track_caller]
    fn default() -> Mutex<R, T> {
        Mutex::new(Default::default())
    }
}

impl<R: RawMutex, T> From<T> for Mutex<R, T> {
    #[inline]
    #[track_caller]
    fn from(t: T) -> Mutex<R, T> {
        Mutex::new(t)
    }
}

impl<R: RawMutex, T: ?Sized + fmt::Debug> fmt::Debug for Mutex<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => {
                d.field("data", &&*guard);
            }
            None => {
                d.field("data", &LockedPlaceholder);
            }
        }
        d.finish()
    }
}

#[cfg(feature = "serde")]
impl<R, T> Serialize for Mutex<R, T>
where
    R: RawMutex,
    T: Serialize + ?Sized,
{
    fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
    {
        self.lock().serialize(serializer)
    }
}

#[cfg(feature = "serde")]
impl<'de, R, T> Deserialize<'de> for Mutex<R, T>
where
    R: RawMutex,
    T: Deserialize<'de>,
{
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        Deserialize::deserialize(deserializer).map(Mutex::new)
    }
}

/// An RAII implementation of a "scoped lock" of a mutex. When this structure
/// is dropped (falls out of scope), the lock will be unlocked.
///
/// The data protected by the mutex can be accessed through this guard via
/// its `Deref` and `DerefMut` implementations.
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, R: RawMutex, T: ?Sized> {
    mutex: &'a Mutex<R, T>,
    owner: Owner,
    marker: PhantomData<(&'a mut T, R::GuardMarker)>,
}

// SAFETY: as lock_api's: a shared guard gives only `&T`.
unsafe impl<'a, R: RawMutex + Sync + 'a, T: ?Sized + Sync + 'a> Sync for MutexGuard<'a, R, T> {}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> MutexGuard<'a, R, T> {
    /// Returns a reference to the original `Mutex` object.
    pub fn mutex(s: &Self) -> &'a Mutex<R, T> {
        s.mutex
    }

    /// The guard's parts, without running its destructor.
    fn into_parts(s: Self) -> (&'a Mutex<R, T>, Owner) {
        let parts = (s.mutex, s.owner);
        mem::forget(s);
        parts
    }

    /// Makes a new `MappedMutexGuard` for a component of the locked data.
    ///
    /// This operation cannot fail as the `MutexGuard` passed in already
    /// locked the mutex.
    ///
    /// This is an associated function that needs to be used as
    /// `MutexGuard::map(...)`. A method would interfere with methods of the
    /// same name on the contents of the locked data.
    #[inline]
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedMutexGuard<'a, R, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        // SAFETY: the guard holds the lock, so the data is this thread's.
        let data = f(unsafe { &mut *s.mutex.data.get() }) as *mut U;
        let (mutex, owner) = Self::into_parts(s);
        MappedMutexGuard::new(mutex, owner, data)
    }

    /// Attempts to make a new `MappedMutexGuard` for a component of the
    /// locked data. The original guard is returned if the closure returns
    /// `None`.
    ///
    /// This operation cannot fail as the `MutexGuard` passed in already
    /// locked the mutex.
    ///
    /// This is an associated function that needs to be used as
    /// `MutexGuard::try_map(...)`. A method would interfere with methods of
    /// the same name on the contents of the locked data.
    #[inline]
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedMutexGuard<'a, R, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: the guard holds the lock, so the data is this thread's.
        let data = match f(unsafe { &mut *s.mutex.data.get() }) {
            Some(data) => data as *mut U,
            None => return Err(s),
        };
        let (mutex, owner) = Self::into_parts(s);
        Ok(MappedMutexGuard::new(mutex, owner, data))
    }

    /// Attempts to make a new `MappedMutexGuard` for a component of the
    /// locked data. The original guard is returned alongside arbitrary user
    /// data if the closure returns `Err`.
    ///
    /// This operation cannot fail as the `MutexGuard` passed in already
    /// locked the mutex.
    ///
    /// This is an associated function that needs to be used as
    /// `MutexGuard::try_map_or_err(...)`. A method would interfere with
    /// methods of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map_or_err<U: ?Sized, F, E>(
        s: Self,
        f: F,
    ) -> Result<MappedMutexGuard<'a, R, U>, (Self, E)>
    where
        F: FnOnce(&mut T) -> Result<&mut U, E>,
    {
        // SAFETY: the guard holds the lock, so the data is this thread's.
        let data = match f(unsafe { &mut *s.mutex.data.get() }) {
            Ok(data) => data as *mut U,
            Err(e) => return Err((s, e)),
        };
        let (mutex, owner) = Self::into_parts(s);
        Ok(MappedMutexGuard::new(mutex, owner, data))
    }

    /// Temporarily unlocks the mutex to execute the given function.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the mutex. The mutex is locked
    /// again, and checked again, when the function returns or unwinds.
    #[inline]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let mutex = s.mutex;
        unlocked_with(
            &mutex.record,
            &mut s.owner,
            // SAFETY: the guard holds the lock.
            || unsafe { mutex.raw.unlock() },
            || mutex.acquire(),
            f,
        )
    }

    /// Leaks the mutex guard and returns a mutable reference to the data
    /// protected by the mutex.
    ///
    /// This will leave the `Mutex` in a locked state, and lockgraph counts
    /// it as held by this thread from then on.
    #[inline]
    pub fn leak(s: Self) -> &'a mut T {
        let (mutex, _) = Self::into_parts(s);
        // SAFETY: the lock stays held for ever, so the data is this thread's.
        unsafe { &mut *mutex.data.get() }
    }
}

impl<'a, R: RawMutexFair + 'a, T: ?Sized + 'a> MutexGuard<'a, R, T> {
    /// Unlocks the mutex using a fair unlock protocol.
    ///
    /// By default, mutexes are unfair and allow the current thread to
    /// re-lock the mutex before another has the chance to acquire the lock,
    /// even if that thread has been blocked on the mutex for a long time.
    /// This is the default because it allows much higher throughput as it
    /// avoids forcing a context switch on every mutex unlock. This can
    /// result in one thread acquiring a mutex many more times than other
    /// threads.
    ///
    /// However in some cases it can be beneficial to ensure fairness by
    /// forcing the lock to pass on to a waiting thread if there is one. This
    /// is done by using this method instead of dropping the `MutexGuard`
    /// normally.
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        let (mutex, owner) = Self::into_parts(s);
        mutex.record.unlock(owner);
        // SAFETY: the guard held the lock.
        unsafe { mutex.raw.unlock_fair() };
    }

    /// Temporarily unlocks the mutex to execute the given function.
    ///
    /// The mutex is unlocked using a fair unlock protocol.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the mutex.
    #[inline]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let mutex = s.mutex;
        unlocked_with(
            &mutex.record,
            &mut s.owner,
            // SAFETY: the guard holds the lock.
            || unsafe { mutex.raw.unlock_fair() },
            || mutex.acquire(),
            f,
        )
    }

    /// Temporarily yields the mutex to a waiting thread if there is one.
    ///
    /// This method is functionally equivalent to calling `unlock_fair`
    /// followed by `lock`, however it can be much more efficient in the
    /// case where there are no waiting threads.
    #[inline]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        let mutex = s.mutex;
        // SAFETY: the guard holds the lock.
        crate::bump(
            &mutex.record,
            &mut s.owner,
            KIND,
            Access::Exclusive,
            || unsafe { mutex.raw.bump() },
        );
    }
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> Deref for MutexGuard<'a, R, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> DerefMut for MutexGuard<'a, R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> Drop for MutexGuard<'a, R, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.record.unlock(self.owner);
        // SAFETY: the guard holds the lock.
        unsafe { self.mutex.raw.unlock() };
    }
}

impl<'a, R: RawMutex + 'a, T: fmt::Debug + ?Sized + 'a> fmt::Debug for MutexGuard<'a, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, R: RawMutex + 'a, T: fmt::Display + ?Sized + 'a> fmt::Display for MutexGuard<'a, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(feature = "owning_ref")]
// SAFETY: the data lives in the mutex, not in the guard.
unsafe impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> StableAddress for MutexGuard<'a, R, T> {}

/// An RAII mutex guard returned by the `Arc` locking operations on `Mutex`.
///
/// This is similar to the `MutexGuard` struct, except instead of using a
/// reference to unlock the `Mutex` it uses an `Arc<Mutex>`. This has
/// several advantages, most notably that it has an `'static` lifetime.
#[cfg(feature = "arc_lock")]
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct ArcMutexGuard<R: RawMutex, T: ?Sized> {
    mutex: Arc<Mutex<R, T>>,
    owner: Owner,
    marker: PhantomData<*const ()>,
}

#[cfg(feature = "arc_lock")]
// SAFETY: as lock_api's: the guard may move where its marker allows.
unsafe impl<R: RawMutex + Send + Sync, T: Send + ?Sized> Send for ArcMutexGuard<R, T> where
    R::GuardMarker: Send
{
}
#[cfg(feature = "arc_lock")]
// SAFETY: as lock_api's: a shared guard gives only `&T`.
unsafe impl<R: RawMutex + Sync, T: Sync + ?Sized> Sync for ArcMutexGuard<R, T> where
    R::GuardMarker: Sync
{
}

#[cfg(feature = "arc_lock")]
impl<R: RawMutex, T: ?Sized> ArcMutexGuard<R, T> {
    /// Returns a reference to the `Mutex` this is guarding, contained in its
    /// `Arc`.
    #[inline]
    pub fn mutex(s: &Self) -> &Arc<Mutex<R, T>> {
        &s.mutex
    }

    /// The guard's parts, without running its destructor.
    fn into_parts(s: Self) -> (Arc<Mutex<R, T>>, Owner) {
        let s = ManuallyDrop::new(s);
        // SAFETY: `s` is never used or dropped again, so the `Arc` moves
        // out exactly once.
        let mutex = unsafe { std::ptr::read(&s.mutex) };
        (mutex, s.owner)
    }

    /// Unlocks the mutex and returns the `Arc` that was held by the
    /// `ArcMutexGuard`.
    #[inline]
    #[track_caller]
    pub fn into_arc(s: Self) -> Arc<Mutex<R, T>> {
        let (mutex, owner) = Self::into_parts(s);
        mutex.record.unlock(owner);
        // SAFETY: the guard held the lock.
        unsafe { mutex.raw.unlock() };
        mutex
    }

    /// Temporarily unlocks the mutex to execute the given function.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the mutex.
    #[inline]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let mutex = &*s.mutex;
        unlocked_with(
            &mutex.record,
            &mut s.owner,
            // SAFETY: the guard holds the lock.
            || unsafe { mutex.raw.unlock() },
            || mutex.acquire(),
            f,
        )
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawMutexFair, T: ?Sized> ArcMutexGuard<R, T> {
    /// Unlocks the mutex using a fair unlock protocol.
    ///
    /// This is functionally identical to the `unlock_fair` method on
    /// [`MutexGuard`].
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        drop(Self::into_arc_fair(s));
    }

    /// Unlocks the mutex using a fair unlock protocol and returns the `Arc`
    /// that was held by the `ArcMutexGuard`.
    #[inline]
    #[track_caller]
    pub fn into_arc_fair(s: Self) -> Arc<Mutex<R, T>> {
        let (mutex, owner) = Self::into_parts(s);
        mutex.record.unlock(owner);
        // SAFETY: the guard held the lock.
        unsafe { mutex.raw.unlock_fair() };
        mutex
    }

    /// Temporarily unlocks the mutex to execute the given function.
    ///
    /// This is functionally identical to the `unlocked_fair` method on
    /// [`MutexGuard`].
    #[inline]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let mutex = &*s.mutex;
        unlocked_with(
            &mutex.record,
            &mut s.owner,
            // SAFETY: the guard holds the lock.
            || unsafe { mutex.raw.unlock_fair() },
            || mutex.acquire(),
            f,
        )
    }

    /// Temporarily yields the mutex to a waiting thread if there is one.
    ///
    /// This is functionally identical to the `bump` method on
    /// [`MutexGuard`].
    #[inline]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        let mutex = &*s.mutex;
        // SAFETY: the guard holds the lock.
        crate::bump(
            &mutex.record,
            &mut s.owner,
            KIND,
            Access::Exclusive,
            || unsafe { mutex.raw.bump() },
        );
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawMutex, T: ?Sized> Deref for ArcMutexGuard<R, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawMutex, T: ?Sized> DerefMut for ArcMutexGuard<R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.mutex.data.get() }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawMutex, T: ?Sized> Drop for ArcMutexGuard<R, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.record.unlock(self.owner);
        // SAFETY: the guard holds the lock.
        unsafe { self.mutex.raw.unlock() };
    }
}

/// An RAII mutex guard returned by `MutexGuard::map`, which can point to a
/// subfield of the protected data.
///
/// The main difference between `MappedMutexGuard` and `MutexGuard` is that
/// the former doesn't support temporarily unlocking and re-locking, since
/// that could introduce soundness issues if the locked object is modified by
/// another thread.
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, R: RawMutex, T: ?Sized> {
    raw: &'a R,
    record: &'a Record,
    owner: Owner,
    data: *mut T,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: as lock_api's: a shared guard gives only `&T`.
unsafe impl<'a, R: RawMutex + Sync + 'a, T: ?Sized + Sync + 'a> Sync
    for MappedMutexGuard<'a, R, T>
{
}
// SAFETY: as lock_api's: the guard may move where its marker allows.
unsafe impl<'a, R: RawMutex + 'a, T: ?Sized + Send + 'a> Send for MappedMutexGuard<'a, R, T> where
    R::GuardMarker: Send
{
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> MappedMutexGuard<'a, R, T> {
    fn new<S: ?Sized>(mutex: &'a Mutex<R, S>, owner: Owner, data: *mut T) -> Self {
        MappedMutexGuard {
            raw: &mutex.raw,
            record: &mutex.record,
            owner,
            data,
            marker: PhantomData,
        }
    }

    /// The guard's parts, without running its destructor.
    fn into_parts(s: Self) -> (&'a R, &'a Record, Owner, *mut T) {
        let parts = (s.raw, s.record, s.owner, s.data);
        mem::forget(s);
        parts
    }

    /// Makes a new `MappedMutexGuard` for a component of the locked data.
    ///
    /// This operation cannot fail as the `MappedMutexGuard` passed in
    /// already locked the mutex.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedMutexGuard::map(...)`. A method would interfere with methods
    /// of the same name on the contents of the locked data.
    #[inline]
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedMutexGuard<'a, R, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        // SAFETY: the guard holds the lock, so the data is this thread's.
        let data = f(unsafe { &mut *s.data }) as *mut U;
        let (raw, record, owner, _) = Self::into_parts(s);
        MappedMutexGuard {
            raw,
            record,
            owner,
            data,
            marker: PhantomData,
        }
    }

    /// Attempts to make a new `MappedMutexGuard` for a component of the
    /// locked data. The original guard is returned if the closure returns
    /// `None`.
    ///
    /// This operation cannot fail as the `MappedMutexGuard` passed in
    /// already locked the mutex.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedMutexGuard::try_map(...)`. A method would interfere with
    /// methods of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedMutexGuard<'a, R, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: the guard holds the lock, so the data is this thread's.
        let data = match f(unsafe { &mut *s.data }) {
            Some(data) => data as *mut U,
            None => return Err(s),
        };
        let (raw, record, owner, _) = Self::into_parts(s);
        Ok(MappedMutexGuard {
            raw,
            record,
            owner,
            data,
            marker: PhantomData,
        })
    }

    /// Attempts to make a new `MappedMutexGuard` for a component of the
    /// locked data. The original guard is returned alongside arbitrary user
    /// data if the closure returns `Err`.
    ///
    /// This operation cannot fail as the `MappedMutexGuard` passed in
    /// already locked the mutex.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedMutexGuard::try_map_or_err(...)`. A method would interfere
    /// with methods of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map_or_err<U: ?Sized, F, E>(
        s: Self,
        f: F,
    ) -> Result<MappedMutexGuard<'a, R, U>, (Self, E)>
    where
        F: FnOnce(&mut T) -> Result<&mut U, E>,
    {
        // SAFETY: the guard holds the lock, so the data is this thread's.
        let data = match f(unsafe { &mut *s.data }) {
            Ok(data) => data as *mut U,
            Err(e) => return Err((s, e)),
        };
        let (raw, record, owner, _) = Self::into_parts(s);
        Ok(MappedMutexGuard {
            raw,
            record,
            owner,
            data,
            marker: PhantomData,
        })
    }
}

impl<'a, R: RawMutexFair + 'a, T: ?Sized + 'a> MappedMutexGuard<'a, R, T> {
    /// Unlocks the mutex using a fair unlock protocol.
    ///
    /// By default, mutexes are unfair and allow the current thread to
    /// re-lock the mutex before another has the chance to acquire the lock,
    /// even if that thread has been blocked on the mutex for a long time.
    /// This is the default because it allows much higher throughput as it
    /// avoids forcing a context switch on every mutex unlock. This can
    /// result in one thread acquiring a mutex many more times than other
    /// threads.
    ///
    /// However in some cases it can be beneficial to ensure fairness by
    /// forcing the lock to pass on to a waiting thread if there is one. This
    /// is done by using this method instead of dropping the `MutexGuard`
    /// normally.
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        let (raw, record, owner, _) = Self::into_parts(s);
        record.unlock(owner);
        // SAFETY: the guard held the lock.
        unsafe { raw.unlock_fair() };
    }
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> Deref for MappedMutexGuard<'a, R, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.data }
    }
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> DerefMut for MappedMutexGuard<'a, R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.data }
    }
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> Drop for MappedMutexGuard<'a, R, T> {
    #[inline]
    fn drop(&mut self) {
        self.record.unlock(self.owner);
        // SAFETY: the guard holds the lock.
        unsafe { self.raw.unlock() };
    }
}

impl<'a, R: RawMutex + 'a, T: fmt::Debug + ?Sized + 'a> fmt::Debug for MappedMutexGuard<'a, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, R: RawMutex + 'a, T: fmt::Display + ?Sized + 'a> fmt::Display
    for MappedMutexGuard<'a, R, T>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(feature = "owning_ref")]
// SAFETY: the data lives in the mutex, not in the guard.
unsafe impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> StableAddress for MappedMutexGuard<'a, R, T> {}
