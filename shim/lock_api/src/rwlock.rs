//! `RwLock<R, T>` over any [`RawRwLock`], and its guards.

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

const KIND: LockKind = LockKind::LockApiRwLock;

/// The raw reader-writer locks known to make new readers wait behind a
/// waiting writer, so that a thread reading a lock it already reads can
/// deadlock (the crate documentation lists them).
const QUEUES_READERS: &[&str] = &["parking_lot::raw_rwlock::RawRwLock"];

/// The access of a `read()` of a lock whose raw lock is `R`: a plain read
/// where `R` queues readers behind writers; elsewhere a second read by the
/// same thread cannot block, which the detector knows as a recursive read.
#[inline]
fn read_access<R>() -> Access {
    let name = core::any::type_name::<R>();
    if QUEUES_READERS.contains(&name) {
        Access::Shared
    } else {
        Access::SharedRecursive
    }
}

/// Basic operations for a reader-writer lock.
///
/// Types implementing this trait can be used by [`RwLock`] to form a safe
/// and fully-functioning `RwLock` type.
///
/// # Safety
///
/// Implementations of this trait must ensure that the `RwLock` is actually
/// exclusive: an exclusive lock can't be acquired while an exclusive or
/// shared lock exists, and a shared lock can't be acquire while an
/// exclusive lock exists.
pub unsafe trait RawRwLock {
    /// Initial value for an unlocked `RwLock`.
    // A “non-constant” const item is a legacy way to supply an initialized
    // value to downstream static items. Can hopefully be replaced with
    // `const fn new() -> Self` at some point.
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self;

    /// Marker type which determines whether a lock guard should be `Send`.
    /// Use one of the `GuardSend` or `GuardNoSend` helper types here.
    type GuardMarker;

    /// Acquires a shared lock, blocking the current thread until it is able
    /// to do so.
    fn lock_shared(&self);

    /// Attempts to acquire a shared lock without blocking.
    fn try_lock_shared(&self) -> bool;

    /// Releases a shared lock.
    ///
    /// # Safety
    ///
    /// This method may only be called if a shared lock is held in the
    /// current context.
    unsafe fn unlock_shared(&self);

    /// Acquires an exclusive lock, blocking the current thread until it is
    /// able to do so.
    fn lock_exclusive(&self);

    /// Attempts to acquire an exclusive lock without blocking.
    fn try_lock_exclusive(&self) -> bool;

    /// Releases an exclusive lock.
    ///
    /// # Safety
    ///
    /// This method may only be called if an exclusive lock is held in the
    /// current context.
    unsafe fn unlock_exclusive(&self);

    /// Checks if this `RwLock` is currently locked in any way.
    #[inline]
    fn is_locked(&self) -> bool {
        let acquired = self.try_lock_exclusive();
        if acquired {
            // SAFETY: the lock was just acquired.
            unsafe { self.unlock_exclusive() };
        }
        !acquired
    }

    /// Check if this `RwLock` is currently exclusively locked.
    fn is_locked_exclusive(&self) -> bool {
        let acquired = self.try_lock_shared();
        if acquired {
            // SAFETY: the shared lock was just acquired.
            unsafe { self.unlock_shared() };
        }
        !acquired
    }
}

/// Additional methods for `RwLock`s which support fair unlocking.
///
/// Fair unlocking means that a lock is handed directly over to the next
/// waiting thread if there is one, without giving other threads the
/// opportunity to "steal" the lock in the meantime.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockFair: RawRwLock {
    /// Releases a shared lock using a fair unlock protocol.
    ///
    /// # Safety
    ///
    /// This method may only be called if a shared lock is held in the
    /// current context.
    unsafe fn unlock_shared_fair(&self);

    /// Releases an exclusive lock using a fair unlock protocol.
    ///
    /// # Safety
    ///
    /// This method may only be called if an exclusive lock is held in the
    /// current context.
    unsafe fn unlock_exclusive_fair(&self);

    /// Temporarily yields a shared lock to a waiting thread if there is one.
    ///
    /// This method is functionally equivalent to calling
    /// `unlock_shared_fair` followed by `lock_shared`, however it can be
    /// much more efficient in the case where there are no waiting threads.
    ///
    /// # Safety
    ///
    /// This method may only be called if a shared lock is held in the
    /// current context.
    unsafe fn bump_shared(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.unlock_shared_fair() };
        self.lock_shared();
    }

    /// Temporarily yields an exclusive lock to a waiting thread if there is
    /// one.
    ///
    /// This method is functionally equivalent to calling
    /// `unlock_exclusive_fair` followed by `lock_exclusive`, however it can
    /// be much more efficient in the case where there are no waiting
    /// threads.
    ///
    /// # Safety
    ///
    /// This method may only be called if an exclusive lock is held in the
    /// current context.
    unsafe fn bump_exclusive(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.unlock_exclusive_fair() };
        self.lock_exclusive();
    }
}

/// Additional methods for `RwLock`s which support atomically downgrading an
/// exclusive lock to a shared lock.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockDowngrade: RawRwLock {
    /// Atomically downgrades an exclusive lock into a shared lock without
    /// allowing any thread to take an exclusive lock in the meantime.
    ///
    /// # Safety
    ///
    /// This method may only be called if an exclusive lock is held in the
    /// current context.
    unsafe fn downgrade(&self);
}

/// Additional methods for `RwLock`s which support locking with timeouts.
///
/// The `Duration` and `Instant` types are specified as associated types so
/// that this trait is usable even in `no_std` environments.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockTimed: RawRwLock {
    /// Duration type used for `try_lock_for`.
    type Duration;

    /// Instant type used for `try_lock_until`.
    type Instant;

    /// Attempts to acquire a shared lock until a timeout is reached.
    fn try_lock_shared_for(&self, timeout: Self::Duration) -> bool;

    /// Attempts to acquire a shared lock until a timeout is reached.
    fn try_lock_shared_until(&self, timeout: Self::Instant) -> bool;

    /// Attempts to acquire an exclusive lock until a timeout is reached.
    fn try_lock_exclusive_for(&self, timeout: Self::Duration) -> bool;

    /// Attempts to acquire an exclusive lock until a timeout is reached.
    fn try_lock_exclusive_until(&self, timeout: Self::Instant) -> bool;
}

/// Additional methods for `RwLock`s which support recursive read locks.
///
/// These are guaranteed to succeed without blocking if another read lock is
/// held at the time of the call. This allows a thread to recursively lock a
/// `RwLock`. However using this method can cause writers to starve since
/// readers no longer block if a writer is waiting for the lock.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockRecursive: RawRwLock {
    /// Acquires a shared lock without deadlocking in case of a recursive
    /// lock.
    fn lock_shared_recursive(&self);

    /// Attempts to acquire a shared lock without deadlocking in case of a
    /// recursive lock.
    fn try_lock_shared_recursive(&self) -> bool;
}

/// Additional methods for `RwLock`s which support recursive read locks and
/// timeouts.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockRecursiveTimed: RawRwLockRecursive + RawRwLockTimed {
    /// Attempts to acquire a shared lock until a timeout is reached, without
    /// deadlocking in case of a recursive lock.
    fn try_lock_shared_recursive_for(&self, timeout: Self::Duration) -> bool;

    /// Attempts to acquire a shared lock until a timeout is reached, without
    /// deadlocking in case of a recursive lock.
    fn try_lock_shared_recursive_until(&self, timeout: Self::Instant) -> bool;
}

/// Additional methods for `RwLock`s which support atomically upgrading a
/// shared lock to an exclusive lock.
///
/// This requires acquiring a special "upgradable read lock" instead of a
/// normal shared lock. There may only be one upgradable lock at any time,
/// otherwise deadlocks could occur when upgrading.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockUpgrade: RawRwLock {
    /// Acquires an upgradable lock, blocking the current thread until it is
    /// able to do so.
    fn lock_upgradable(&self);

    /// Attempts to acquire an upgradable lock without blocking.
    fn try_lock_upgradable(&self) -> bool;

    /// Releases an upgradable lock.
    ///
    /// # Safety
    ///
    /// This method may only be called if an upgradable lock is held in the
    /// current context.
    unsafe fn unlock_upgradable(&self);

    /// Upgrades an upgradable lock to an exclusive lock.
    ///
    /// # Safety
    ///
    /// This method may only be called if an upgradable lock is held in the
    /// current context.
    unsafe fn upgrade(&self);

    /// Attempts to upgrade an upgradable lock to an exclusive lock without
    /// blocking.
    ///
    /// # Safety
    ///
    /// This method may only be called if an upgradable lock is held in the
    /// current context.
    unsafe fn try_upgrade(&self) -> bool;
}

/// Additional methods for `RwLock`s which support upgradable locks and fair
/// unlocking.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockUpgradeFair: RawRwLockUpgrade + RawRwLockFair {
    /// Releases an upgradable lock using a fair unlock protocol.
    ///
    /// # Safety
    ///
    /// This method may only be called if an upgradable lock is held in the
    /// current context.
    unsafe fn unlock_upgradable_fair(&self);

    /// Temporarily yields an upgradable lock to a waiting thread if there is
    /// one.
    ///
    /// This method is functionally equivalent to calling
    /// `unlock_upgradable_fair` followed by `lock_upgradable`, however it
    /// can be much more efficient in the case where there are no waiting
    /// threads.
    ///
    /// # Safety
    ///
    /// This method may only be called if an upgradable lock is held in the
    /// current context.
    unsafe fn bump_upgradable(&self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.unlock_upgradable_fair() };
        self.lock_upgradable();
    }
}

/// Additional methods for `RwLock`s which support upgradable locks and lock
/// downgrading.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockUpgradeDowngrade: RawRwLockUpgrade + RawRwLockDowngrade {
    /// Downgrades an upgradable lock to a shared lock.
    ///
    /// # Safety
    ///
    /// This method may only be called if an upgradable lock is held in the
    /// current context.
    unsafe fn downgrade_upgradable(&self);

    /// Downgrades an exclusive lock to an upgradable lock.
    ///
    /// # Safety
    ///
    /// This method may only be called if an exclusive lock is held in the
    /// current context.
    unsafe fn downgrade_to_upgradable(&self);
}

/// Additional methods for `RwLock`s which support upgradable locks and
/// locking with timeouts.
///
/// # Safety
///
/// As for [`RawRwLock`].
pub unsafe trait RawRwLockUpgradeTimed: RawRwLockUpgrade + RawRwLockTimed {
    /// Attempts to acquire an upgradable lock until a timeout is reached.
    fn try_lock_upgradable_for(&self, timeout: Self::Duration) -> bool;

    /// Attempts to acquire an upgradable lock until a timeout is reached.
    fn try_lock_upgradable_until(&self, timeout: Self::Instant) -> bool;

    /// Attempts to upgrade an upgradable lock to an exclusive lock until a
    /// timeout is reached.
    ///
    /// # Safety
    ///
    /// This method may only be called if an upgradable lock is held in the
    /// current context.
    unsafe fn try_upgrade_for(&self, timeout: Self::Duration) -> bool;

    /// Attempts to upgrade an upgradable lock to an exclusive lock until a
    /// timeout is reached.
    ///
    /// # Safety
    ///
    /// This method may only be called if an upgradable lock is held in the
    /// current context.
    unsafe fn try_upgrade_until(&self, timeout: Self::Instant) -> bool;
}

/// A reader-writer lock
///
/// This type of lock allows a number of readers or at most one writer at any
/// point in time. The write portion of this lock typically allows
/// modification of the underlying data (exclusive access) and the read
/// portion of this lock typically allows for read-only access (shared
/// access).
///
/// The type parameter `T` represents the data that this lock protects. It
/// is required that `T` satisfies `Send` to be shared across threads and
/// `Sync` to allow concurrent access through readers. The RAII guards
/// returned from the locking methods implement `Deref` (and `DerefMut` for
/// the `write` methods) to allow access to the content of the lock.
///
/// Under lockgraph every acquisition is checked against the locks the
/// thread holds (see the crate documentation for what each mode means).
pub struct RwLock<R, T: ?Sized> {
    raw: R,
    record: Record,
    data: UnsafeCell<T>,
}

#[cfg(feature = "serde")]
impl<R, T> Serialize for RwLock<R, T>
where
    R: RawRwLock,
    T: Serialize + ?Sized,
{
    fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
    {
        self.read().serialize(serializer)
    }
}

#[cfg(feature = "serde")]
impl<'de, R, T> Deserialize<'de> for RwLock<R, T>
where
    R: RawRwLock,
    T: Deserialize<'de>,
{
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        Deserialize::deserialize(deserializer).map(RwLock::new)
    }
}

// SAFETY: as lock_api's: the data moves with the lock.
unsafe impl<R: RawRwLock + Send, T: ?Sized + Send> Send for RwLock<R, T> {}
// SAFETY: as lock_api's: readers share `&T`, a writer is alone.
unsafe impl<R: RawRwLock + Sync, T: ?Sized + Send + Sync> Sync for RwLock<R, T> {}

impl<R: RawRwLock, T> RwLock<R, T> {
    /// Creates a new instance of an `RwLock<T>` which is unlocked.
    #[inline]
    #[track_caller]
    pub const fn new(val: T) -> RwLock<R, T> {
        RwLock {
            raw: R::INIT,
            record: Record::new(core::any::type_name::<T>),
            data: UnsafeCell::new(val),
        }
    }

    /// Consumes this `RwLock`, returning the underlying data.
    #[inline]
    #[allow(unused_unsafe)]
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<R, T> RwLock<R, T> {
    /// Creates a new new instance of an `RwLock<T>` based on a pre-existing
    /// `RawRwLock<T>`.
    #[inline]
    #[track_caller]
    pub const fn from_raw(raw_rwlock: R, val: T) -> RwLock<R, T> {
        RwLock {
            raw: raw_rwlock,
            record: Record::new(core::any::type_name::<T>),
            data: UnsafeCell::new(val),
        }
    }

    /// Creates a new new instance of an `RwLock<T>` based on a pre-existing
    /// `RawRwLock<T>`.
    ///
    /// This allows creating a `RwLock<T>` in a constant context on stable
    /// Rust.
    ///
    /// This method is a legacy alias for [`from_raw`](Self::from_raw).
    #[inline]
    #[track_caller]
    pub const fn const_new(raw_rwlock: R, val: T) -> RwLock<R, T> {
        Self::from_raw(raw_rwlock, val)
    }
}

impl<R: RawRwLock, T: ?Sized> RwLock<R, T> {
    /// A blocking acquisition in mode `access`, checked before it blocks.
    #[inline]
    #[track_caller]
    fn acquire(
        &self,
        access: Access,
        try_now: impl FnOnce(&R) -> bool,
        block: impl FnOnce(&R),
    ) -> Owner {
        let raw = &self.raw;
        self.record
            .lock(KIND, access, || try_now(raw), || block(raw))
    }

    #[inline]
    #[track_caller]
    fn acquire_read(&self) -> Owner {
        self.acquire(read_access::<R>(), R::try_lock_shared, R::lock_shared)
    }

    #[inline]
    #[track_caller]
    fn acquire_write(&self) -> Owner {
        self.acquire(Access::Exclusive, R::try_lock_exclusive, R::lock_exclusive)
    }

    /// A non-blocking acquisition: recorded if `attempt` succeeds.
    #[inline]
    #[track_caller]
    fn try_acquire(&self, access: Access, attempt: impl FnOnce(&R) -> bool) -> Option<Owner> {
        if attempt(&self.raw) {
            Some(self.record.locked(KIND, access))
        } else {
            None
        }
    }

    /// A timed acquisition: its edges are added, it is never reported.
    #[inline]
    #[track_caller]
    fn timed_acquire(&self, access: Access, attempt: impl FnOnce(&R) -> bool) -> Option<Owner> {
        self.record.before_timed(KIND, access);
        self.try_acquire(access, attempt)
    }

    /// # Safety
    /// A shared lock must be held (and recorded for `owner`).
    #[inline]
    unsafe fn read_guard(&self, owner: Owner) -> RwLockReadGuard<'_, R, T> {
        RwLockReadGuard {
            rwlock: self,
            owner,
            marker: PhantomData,
        }
    }

    /// # Safety
    /// The exclusive lock must be held (and recorded for `owner`).
    #[inline]
    unsafe fn write_guard(&self, owner: Owner) -> RwLockWriteGuard<'_, R, T> {
        RwLockWriteGuard {
            rwlock: self,
            owner,
            marker: PhantomData,
        }
    }

    /// Creates a new `RwLockReadGuard` without checking if the lock is held.
    ///
    /// # Safety
    ///
    /// This method must only be called if the thread logically holds a read
    /// lock.
    ///
    /// This function does not increment the read count of the lock. Calling
    /// this function when a guard has already been produced is undefined
    /// behaviour unless the guard was forgotten with `mem::forget`.
    #[inline]
    #[track_caller]
    pub unsafe fn make_read_guard_unchecked(&self) -> RwLockReadGuard<'_, R, T> {
        let owner = self.record.locked(KIND, read_access::<R>());
        // SAFETY: the caller holds a shared lock.
        unsafe { self.read_guard(owner) }
    }

    /// Creates a new `RwLockReadGuard` without checking if the lock is held.
    ///
    /// # Safety
    ///
    /// This method must only be called if the thread logically holds a write
    /// lock.
    ///
    /// Calling this function when a guard has already been produced is
    /// undefined behaviour unless the guard was forgotten with
    /// `mem::forget`.
    #[inline]
    #[track_caller]
    pub unsafe fn make_write_guard_unchecked(&self) -> RwLockWriteGuard<'_, R, T> {
        let owner = self.record.locked(KIND, Access::Exclusive);
        // SAFETY: the caller holds the exclusive lock.
        unsafe { self.write_guard(owner) }
    }

    /// Locks this `RwLock` with shared read access, blocking the current
    /// thread until it can be acquired.
    ///
    /// The calling thread will be blocked until there are no more writers
    /// which hold the lock. There may be other readers currently inside the
    /// lock when this method returns.
    ///
    /// Note that attempts to recursively acquire a read lock on a `RwLock`
    /// when the current thread already holds one may result in a deadlock
    /// (reported by lockgraph where the raw lock queues readers).
    ///
    /// Returns an RAII guard which will release this thread's shared access
    /// once it is dropped.
    #[inline]
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, R, T> {
        let owner = self.acquire_read();
        // SAFETY: a shared lock was just acquired.
        unsafe { self.read_guard(owner) }
    }

    /// Attempts to acquire this `RwLock` with shared read access.
    ///
    /// If the access could not be granted at this time, then `None` is
    /// returned. Otherwise, an RAII guard is returned which will release the
    /// shared access when it is dropped.
    ///
    /// This function does not block.
    #[inline]
    #[track_caller]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, R, T>> {
        let owner = self.try_acquire(read_access::<R>(), R::try_lock_shared)?;
        // SAFETY: a shared lock was just acquired.
        Some(unsafe { self.read_guard(owner) })
    }

    /// Locks this `RwLock` with exclusive write access, blocking the current
    /// thread until it can be acquired.
    ///
    /// This function will not return while other writers or other readers
    /// currently have access to the lock.
    ///
    /// Returns an RAII guard which will drop the write access of this
    /// `RwLock` when dropped.
    #[inline]
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, R, T> {
        let owner = self.acquire_write();
        // SAFETY: the exclusive lock was just acquired.
        unsafe { self.write_guard(owner) }
    }

    /// Attempts to lock this `RwLock` with exclusive write access.
    ///
    /// If the lock could not be acquired at this time, then `None` is
    /// returned. Otherwise, an RAII guard is returned which will release the
    /// lock when it is dropped.
    ///
    /// This function does not block.
    #[inline]
    #[track_caller]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, R, T>> {
        let owner = self.try_acquire(Access::Exclusive, R::try_lock_exclusive)?;
        // SAFETY: the exclusive lock was just acquired.
        Some(unsafe { self.write_guard(owner) })
    }

    /// Returns a mutable reference to the underlying data.
    ///
    /// Since this call borrows the `RwLock` mutably, no actual locking needs
    /// to take place---the mutable borrow statically guarantees no locks
    /// exist.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Checks whether this `RwLock` is currently locked in any way.
    #[inline]
    #[track_caller]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Check if this `RwLock` is currently exclusively locked.
    #[inline]
    #[track_caller]
    pub fn is_locked_exclusive(&self) -> bool {
        self.raw.is_locked_exclusive()
    }

    /// Forcibly unlocks a read lock.
    ///
    /// This is useful when combined with `mem::forget` to hold a lock
    /// without the need to maintain a `RwLockReadGuard` object alive, for
    /// example when dealing with FFI.
    ///
    /// # Safety
    ///
    /// This method must only be called if the current thread logically owns
    /// a `RwLockReadGuard` but that guard has be discarded using
    /// `mem::forget`. Behavior is undefined if a rwlock is read-unlocked when
    /// not read-locked.
    #[inline]
    #[track_caller]
    pub unsafe fn force_unlock_read(&self) {
        self.record.unlock(Owner::NONE);
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_shared() };
    }

    /// Forcibly unlocks a write lock.
    ///
    /// This is useful when combined with `mem::forget` to hold a lock
    /// without the need to maintain a `RwLockWriteGuard` object alive, for
    /// example when dealing with FFI.
    ///
    /// # Safety
    ///
    /// This method must only be called if the current thread logically owns
    /// a `RwLockWriteGuard` but that guard has be discarded using
    /// `mem::forget`. Behavior is undefined if a rwlock is write-unlocked
    /// when not write-locked.
    #[inline]
    #[track_caller]
    pub unsafe fn force_unlock_write(&self) {
        self.record.unlock(Owner::NONE);
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_exclusive() };
    }

    /// Returns the underlying raw reader-writer lock object.
    ///
    /// Note that you will most likely need to import the `RawRwLock` trait
    /// from `lock_api` to be able to call functions on the raw
    /// reader-writer lock.
    ///
    /// # Safety
    ///
    /// This method is unsafe because it allows unlocking a mutex while still
    /// holding a reference to a lock guard. Locking or unlocking through it
    /// bypasses lockgraph's checks.
    pub unsafe fn raw(&self) -> &R {
        &self.raw
    }

    /// Returns a raw pointer to the underlying data.
    ///
    /// This is useful when combined with `mem::forget` to hold a lock
    /// without the need to maintain a `RwLockReadGuard` or
    /// `RwLockWriteGuard` object alive, for example when dealing with FFI.
    ///
    /// # Safety
    ///
    /// You must ensure that there are no data races when dereferencing the
    /// returned pointer, for example if the current thread logically owns a
    /// `RwLockReadGuard` or `RwLockWriteGuard` but that guard has been
    /// discarded using `mem::forget`.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.data.get()
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLock, T: ?Sized> RwLock<R, T> {
    fn arc_read_guard(self: &Arc<Self>, owner: Owner) -> ArcRwLockReadGuard<R, T> {
        ArcRwLockReadGuard {
            rwlock: self.clone(),
            owner,
            marker: PhantomData,
        }
    }

    fn arc_write_guard(self: &Arc<Self>, owner: Owner) -> ArcRwLockWriteGuard<R, T> {
        ArcRwLockWriteGuard {
            rwlock: self.clone(),
            owner,
            marker: PhantomData,
        }
    }

    /// Creates a new `ArcRwLockReadGuard` without checking if the lock is
    /// held.
    ///
    /// # Safety
    ///
    /// This method must only be called if the thread logically holds a read
    /// lock.
    ///
    /// This function does not increment the read count of the lock. Calling
    /// this function when a guard has already been produced is undefined
    /// behaviour unless the guard was forgotten with `mem::forget`.
    #[inline]
    #[track_caller]
    pub unsafe fn make_arc_read_guard_unchecked(self: &Arc<Self>) -> ArcRwLockReadGuard<R, T> {
        let owner = self.record.locked(KIND, read_access::<R>());
        self.arc_read_guard(owner)
    }

    /// Creates a new `ArcRwLockWriteGuard` without checking if the lock is
    /// held.
    ///
    /// # Safety
    ///
    /// This method must only be called if the thread logically holds a write
    /// lock.
    ///
    /// Calling this function when a guard has already been produced is
    /// undefined behaviour unless the guard was forgotten with
    /// `mem::forget`.
    #[inline]
    #[track_caller]
    pub unsafe fn make_arc_write_guard_unchecked(self: &Arc<Self>) -> ArcRwLockWriteGuard<R, T> {
        let owner = self.record.locked(KIND, Access::Exclusive);
        self.arc_write_guard(owner)
    }

    /// Locks this `RwLock` with read access, through an `Arc`.
    ///
    /// This method is similar to the `read` method; however, it requires the
    /// `RwLock` to be inside of an `Arc` and the resulting read guard has no
    /// lifetime requirements.
    #[inline]
    #[track_caller]
    pub fn read_arc(self: &Arc<Self>) -> ArcRwLockReadGuard<R, T> {
        let owner = self.acquire_read();
        self.arc_read_guard(owner)
    }

    /// Attempts to lock this `RwLock` with read access, through an `Arc`.
    ///
    /// This method is similar to the `try_read` method; however, it requires
    /// the `RwLock` to be inside of an `Arc` and the resulting read guard
    /// has no lifetime requirements.
    #[inline]
    #[track_caller]
    pub fn try_read_arc(self: &Arc<Self>) -> Option<ArcRwLockReadGuard<R, T>> {
        let owner = self.try_acquire(read_access::<R>(), R::try_lock_shared)?;
        Some(self.arc_read_guard(owner))
    }

    /// Locks this `RwLock` with write access, through an `Arc`.
    ///
    /// This method is similar to the `write` method; however, it requires
    /// the `RwLock` to be inside of an `Arc` and the resulting write guard
    /// has no lifetime requirements.
    #[inline]
    #[track_caller]
    pub fn write_arc(self: &Arc<Self>) -> ArcRwLockWriteGuard<R, T> {
        let owner = self.acquire_write();
        self.arc_write_guard(owner)
    }

    /// Attempts to lock this `RwLock` with writ access, through an `Arc`.
    ///
    /// This method is similar to the `try_write` method; however, it
    /// requires the `RwLock` to be inside of an `Arc` and the resulting
    /// write guard has no lifetime requirements.
    #[inline]
    #[track_caller]
    pub fn try_write_arc(self: &Arc<Self>) -> Option<ArcRwLockWriteGuard<R, T>> {
        let owner = self.try_acquire(Access::Exclusive, R::try_lock_exclusive)?;
        Some(self.arc_write_guard(owner))
    }
}

impl<R: RawRwLockFair, T: ?Sized> RwLock<R, T> {
    /// Forcibly unlocks a read lock using a fair unlock protocol.
    ///
    /// This is useful when combined with `mem::forget` to hold a lock
    /// without the need to maintain a `RwLockReadGuard` object alive, for
    /// example when dealing with FFI.
    ///
    /// # Safety
    ///
    /// This method must only be called if the current thread logically owns
    /// a `RwLockReadGuard` but that guard has be discarded using
    /// `mem::forget`. Behavior is undefined if a rwlock is read-unlocked when
    /// not read-locked.
    #[inline]
    #[track_caller]
    pub unsafe fn force_unlock_read_fair(&self) {
        self.record.unlock(Owner::NONE);
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_shared_fair() };
    }

    /// Forcibly unlocks a write lock using a fair unlock protocol.
    ///
    /// This is useful when combined with `mem::forget` to hold a lock
    /// without the need to maintain a `RwLockWriteGuard` object alive, for
    /// example when dealing with FFI.
    ///
    /// # Safety
    ///
    /// This method must only be called if the current thread logically owns
    /// a `RwLockWriteGuard` but that guard has be discarded using
    /// `mem::forget`. Behavior is undefined if a rwlock is write-unlocked
    /// when not write-locked.
    #[inline]
    #[track_caller]
    pub unsafe fn force_unlock_write_fair(&self) {
        self.record.unlock(Owner::NONE);
        // SAFETY: forwarded from the caller.
        unsafe { self.raw.unlock_exclusive_fair() };
    }
}

impl<R: RawRwLockTimed, T: ?Sized> RwLock<R, T> {
    /// Attempts to acquire this `RwLock` with shared read access until a
    /// timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned. Otherwise, an RAII guard is returned which will
    /// release the shared access when it is dropped.
    #[inline]
    #[track_caller]
    pub fn try_read_for(&self, timeout: R::Duration) -> Option<RwLockReadGuard<'_, R, T>> {
        let owner =
            self.timed_acquire(read_access::<R>(), |raw| raw.try_lock_shared_for(timeout))?;
        // SAFETY: a shared lock was just acquired.
        Some(unsafe { self.read_guard(owner) })
    }

    /// Attempts to acquire this `RwLock` with shared read access until a
    /// timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned. Otherwise, an RAII guard is returned which will
    /// release the shared access when it is dropped.
    #[inline]
    #[track_caller]
    pub fn try_read_until(&self, timeout: R::Instant) -> Option<RwLockReadGuard<'_, R, T>> {
        let owner =
            self.timed_acquire(read_access::<R>(), |raw| raw.try_lock_shared_until(timeout))?;
        // SAFETY: a shared lock was just acquired.
        Some(unsafe { self.read_guard(owner) })
    }

    /// Attempts to acquire this `RwLock` with exclusive write access until a
    /// timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned. Otherwise, an RAII guard is returned which will
    /// release the exclusive access when it is dropped.
    #[inline]
    #[track_caller]
    pub fn try_write_for(&self, timeout: R::Duration) -> Option<RwLockWriteGuard<'_, R, T>> {
        let owner =
            self.timed_acquire(Access::Exclusive, |raw| raw.try_lock_exclusive_for(timeout))?;
        // SAFETY: the exclusive lock was just acquired.
        Some(unsafe { self.write_guard(owner) })
    }

    /// Attempts to acquire this `RwLock` with exclusive write access until a
    /// timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned. Otherwise, an RAII guard is returned which will
    /// release the exclusive access when it is dropped.
    #[inline]
    #[track_caller]
    pub fn try_write_until(&self, timeout: R::Instant) -> Option<RwLockWriteGuard<'_, R, T>> {
        let owner = self.timed_acquire(Access::Exclusive, |raw| {
            raw.try_lock_exclusive_until(timeout)
        })?;
        // SAFETY: the exclusive lock was just acquired.
        Some(unsafe { self.write_guard(owner) })
    }

    /// Attempts to acquire this `RwLock` with read access until a timeout
    /// is reached, through an `Arc`.
    ///
    /// This method is similar to the `try_read_for` method; however, it
    /// requires the `RwLock` to be inside of an `Arc` and the resulting read
    /// guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_read_arc_for(
        self: &Arc<Self>,
        timeout: R::Duration,
    ) -> Option<ArcRwLockReadGuard<R, T>> {
        let owner =
            self.timed_acquire(read_access::<R>(), |raw| raw.try_lock_shared_for(timeout))?;
        Some(self.arc_read_guard(owner))
    }

    /// Attempts to acquire this `RwLock` with read access until a timeout
    /// is reached, through an `Arc`.
    ///
    /// This method is similar to the `try_read_until` method; however, it
    /// requires the `RwLock` to be inside of an `Arc` and the resulting read
    /// guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_read_arc_until(
        self: &Arc<Self>,
        timeout: R::Instant,
    ) -> Option<ArcRwLockReadGuard<R, T>> {
        let owner =
            self.timed_acquire(read_access::<R>(), |raw| raw.try_lock_shared_until(timeout))?;
        Some(self.arc_read_guard(owner))
    }

    /// Attempts to acquire this `RwLock` with write access until a timeout
    /// is reached, through an `Arc`.
    ///
    /// This method is similar to the `try_write_for` method; however, it
    /// requires the `RwLock` to be inside of an `Arc` and the resulting
    /// write guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_write_arc_for(
        self: &Arc<Self>,
        timeout: R::Duration,
    ) -> Option<ArcRwLockWriteGuard<R, T>> {
        let owner =
            self.timed_acquire(Access::Exclusive, |raw| raw.try_lock_exclusive_for(timeout))?;
        Some(self.arc_write_guard(owner))
    }

    /// Attempts to acquire this `RwLock` with read access until a timeout
    /// is reached, through an `Arc`.
    ///
    /// This method is similar to the `try_write_until` method; however, it
    /// requires the `RwLock` to be inside of an `Arc` and the resulting
    /// read guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_write_arc_until(
        self: &Arc<Self>,
        timeout: R::Instant,
    ) -> Option<ArcRwLockWriteGuard<R, T>> {
        let owner = self.timed_acquire(Access::Exclusive, |raw| {
            raw.try_lock_exclusive_until(timeout)
        })?;
        Some(self.arc_write_guard(owner))
    }
}

impl<R: RawRwLockRecursive, T: ?Sized> RwLock<R, T> {
    #[inline]
    #[track_caller]
    fn acquire_recursive(&self) -> Owner {
        self.acquire(
            Access::SharedRecursive,
            R::try_lock_shared_recursive,
            R::lock_shared_recursive,
        )
    }

    /// Locks this `RwLock` with shared read access, blocking the current
    /// thread until it can be acquired.
    ///
    /// The calling thread will be blocked until there are no more writers
    /// which hold the lock. There may be other readers currently inside the
    /// lock when this method returns.
    ///
    /// Unlike `read`, this method is guaranteed to succeed without blocking
    /// if another read lock is held at the time of the call. This allows a
    /// thread to recursively lock a `RwLock`. However using this method can
    /// cause writers to starve since readers no longer block if a writer is
    /// waiting for the lock.
    ///
    /// Returns an RAII guard which will release this thread's shared access
    /// once it is dropped.
    #[inline]
    #[track_caller]
    pub fn read_recursive(&self) -> RwLockReadGuard<'_, R, T> {
        let owner = self.acquire_recursive();
        // SAFETY: a shared lock was just acquired.
        unsafe { self.read_guard(owner) }
    }

    /// Attempts to acquire this `RwLock` with shared read access.
    ///
    /// If the access could not be granted at this time, then `None` is
    /// returned. Otherwise, an RAII guard is returned which will release the
    /// shared access when it is dropped.
    ///
    /// This method is guaranteed to succeed if another read lock is held at
    /// the time of the call. See the documentation for `read_recursive` for
    /// details.
    ///
    /// This function does not block.
    #[inline]
    #[track_caller]
    pub fn try_read_recursive(&self) -> Option<RwLockReadGuard<'_, R, T>> {
        let owner = self.try_acquire(Access::SharedRecursive, R::try_lock_shared_recursive)?;
        // SAFETY: a shared lock was just acquired.
        Some(unsafe { self.read_guard(owner) })
    }

    /// Locks this `RwLock` with shared read access, through an `Arc`.
    ///
    /// This method is similar to the `read_recursive` method; however, it
    /// requires the `RwLock` to be inside of an `Arc` and the resulting read
    /// guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn read_arc_recursive(self: &Arc<Self>) -> ArcRwLockReadGuard<R, T> {
        let owner = self.acquire_recursive();
        self.arc_read_guard(owner)
    }

    /// Attempts to lock this `RwLock` with shared read access, through an
    /// `Arc`.
    ///
    /// This method is similar to the `try_read_recursive` method; however,
    /// it requires the `RwLock` to be inside of an `Arc` and the resulting
    /// read guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_read_recursive_arc(self: &Arc<Self>) -> Option<ArcRwLockReadGuard<R, T>> {
        let owner = self.try_acquire(Access::SharedRecursive, R::try_lock_shared_recursive)?;
        Some(self.arc_read_guard(owner))
    }
}

impl<R: RawRwLockRecursiveTimed, T: ?Sized> RwLock<R, T> {
    /// Attempts to acquire this `RwLock` with shared read access until a
    /// timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned. Otherwise, an RAII guard is returned which will
    /// release the shared access when it is dropped.
    ///
    /// This method is guaranteed to succeed without blocking if another read
    /// lock is held at the time of the call. See the documentation for
    /// `read_recursive` for details.
    #[inline]
    #[track_caller]
    pub fn try_read_recursive_for(
        &self,
        timeout: R::Duration,
    ) -> Option<RwLockReadGuard<'_, R, T>> {
        let owner = self.timed_acquire(Access::SharedRecursive, |raw| {
            raw.try_lock_shared_recursive_for(timeout)
        })?;
        // SAFETY: a shared lock was just acquired.
        Some(unsafe { self.read_guard(owner) })
    }

    /// Attempts to acquire this `RwLock` with shared read access until a
    /// timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned. Otherwise, an RAII guard is returned which will
    /// release the shared access when it is dropped.
    #[inline]
    #[track_caller]
    pub fn try_read_recursive_until(
        &self,
        timeout: R::Instant,
    ) -> Option<RwLockReadGuard<'_, R, T>> {
        let owner = self.timed_acquire(Access::SharedRecursive, |raw| {
            raw.try_lock_shared_recursive_until(timeout)
        })?;
        // SAFETY: a shared lock was just acquired.
        Some(unsafe { self.read_guard(owner) })
    }

    /// Attempts to lock this `RwLock` with read access until a timeout is
    /// reached, through an `Arc`.
    ///
    /// This method is similar to the `try_read_recursive_for` method;
    /// however, it requires the `RwLock` to be inside of an `Arc` and the
    /// resulting read guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_read_arc_recursive_for(
        self: &Arc<Self>,
        timeout: R::Duration,
    ) -> Option<ArcRwLockReadGuard<R, T>> {
        let owner = self.timed_acquire(Access::SharedRecursive, |raw| {
            raw.try_lock_shared_recursive_for(timeout)
        })?;
        Some(self.arc_read_guard(owner))
    }

    /// Attempts to lock this `RwLock` with read access until a timeout is
    /// reached, through an `Arc`.
    ///
    /// This method is similar to the `try_read_recursive_until` method;
    /// however, it requires the `RwLock` to be inside of an `Arc` and the
    /// resulting read guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_read_arc_recursive_until(
        self: &Arc<Self>,
        timeout: R::Instant,
    ) -> Option<ArcRwLockReadGuard<R, T>> {
        let owner = self.timed_acquire(Access::SharedRecursive, |raw| {
            raw.try_lock_shared_recursive_until(timeout)
        })?;
        Some(self.arc_read_guard(owner))
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> RwLock<R, T> {
    #[inline]
    #[track_caller]
    fn acquire_upgradable(&self) -> Owner {
        self.acquire(
            Access::Upgradable,
            R::try_lock_upgradable,
            R::lock_upgradable,
        )
    }

    /// # Safety
    /// The upgradable lock must be held (and recorded for `owner`).
    #[inline]
    unsafe fn upgradable_guard(&self, owner: Owner) -> RwLockUpgradableReadGuard<'_, R, T> {
        RwLockUpgradableReadGuard {
            rwlock: self,
            owner,
            marker: PhantomData,
        }
    }

    /// Creates a new `RwLockUpgradableReadGuard` without checking if the
    /// lock is held.
    ///
    /// # Safety
    ///
    /// This method must only be called if the thread logically holds an
    /// upgradable read lock.
    ///
    /// This function does not increment the read count of the lock. Calling
    /// this function when a guard has already been produced is undefined
    /// behaviour unless the guard was forgotten with `mem::forget`.
    #[inline]
    #[track_caller]
    pub unsafe fn make_upgradable_guard_unchecked(&self) -> RwLockUpgradableReadGuard<'_, R, T> {
        let owner = self.record.locked(KIND, Access::Upgradable);
        // SAFETY: the caller holds the upgradable lock.
        unsafe { self.upgradable_guard(owner) }
    }

    /// Locks this `RwLock` with upgradable read access, blocking the current
    /// thread until it can be acquired.
    ///
    /// The calling thread will be blocked until there are no more writers or
    /// other upgradable reads which hold the lock. There may be other
    /// readers currently inside the lock when this method returns.
    ///
    /// Returns an RAII guard which will release this thread's shared access
    /// once it is dropped.
    #[inline]
    #[track_caller]
    pub fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, R, T> {
        let owner = self.acquire_upgradable();
        // SAFETY: the upgradable lock was just acquired.
        unsafe { self.upgradable_guard(owner) }
    }

    /// Attempts to acquire this `RwLock` with upgradable read access.
    ///
    /// If the access could not be granted at this time, then `None` is
    /// returned. Otherwise, an RAII guard is returned which will release the
    /// shared access when it is dropped.
    ///
    /// This function does not block.
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read(&self) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        let owner = self.try_acquire(Access::Upgradable, R::try_lock_upgradable)?;
        // SAFETY: the upgradable lock was just acquired.
        Some(unsafe { self.upgradable_guard(owner) })
    }

    #[cfg(feature = "arc_lock")]
    fn arc_upgradable_guard(self: &Arc<Self>, owner: Owner) -> ArcRwLockUpgradableReadGuard<R, T> {
        ArcRwLockUpgradableReadGuard {
            rwlock: self.clone(),
            owner,
            marker: PhantomData,
        }
    }

    /// Creates a new `ArcRwLockUpgradableReadGuard` without checking if the
    /// lock is held.
    ///
    /// # Safety
    ///
    /// This method must only be called if the thread logically holds an
    /// upgradable read lock.
    ///
    /// This function does not increment the read count of the lock. Calling
    /// this function when a guard has already been produced is undefined
    /// behaviour unless the guard was forgotten with `mem::forget`.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub unsafe fn make_upgradable_arc_guard_unchecked(
        self: &Arc<Self>,
    ) -> ArcRwLockUpgradableReadGuard<R, T> {
        let owner = self.record.locked(KIND, Access::Upgradable);
        self.arc_upgradable_guard(owner)
    }

    /// Locks this `RwLock` with upgradable read access, through an `Arc`.
    ///
    /// This method is similar to the `upgradable_read` method; however, it
    /// requires the `RwLock` to be inside of an `Arc` and the resulting read
    /// guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn upgradable_read_arc(self: &Arc<Self>) -> ArcRwLockUpgradableReadGuard<R, T> {
        let owner = self.acquire_upgradable();
        self.arc_upgradable_guard(owner)
    }

    /// Attempts to lock this `RwLock` with upgradable read access, through
    /// an `Arc`.
    ///
    /// This method is similar to the `try_upgradable_read` method; however,
    /// it requires the `RwLock` to be inside of an `Arc` and the resulting
    /// read guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read_arc(self: &Arc<Self>) -> Option<ArcRwLockUpgradableReadGuard<R, T>> {
        let owner = self.try_acquire(Access::Upgradable, R::try_lock_upgradable)?;
        Some(self.arc_upgradable_guard(owner))
    }
}

impl<R: RawRwLockUpgradeTimed, T: ?Sized> RwLock<R, T> {
    /// Attempts to acquire this `RwLock` with upgradable read access until a
    /// timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned. Otherwise, an RAII guard is returned which will
    /// release the shared access when it is dropped.
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read_for(
        &self,
        timeout: R::Duration,
    ) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        let owner = self.timed_acquire(Access::Upgradable, |raw| {
            raw.try_lock_upgradable_for(timeout)
        })?;
        // SAFETY: the upgradable lock was just acquired.
        Some(unsafe { self.upgradable_guard(owner) })
    }

    /// Attempts to acquire this `RwLock` with upgradable read access until a
    /// timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned. Otherwise, an RAII guard is returned which will
    /// release the shared access when it is dropped.
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read_until(
        &self,
        timeout: R::Instant,
    ) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        let owner = self.timed_acquire(Access::Upgradable, |raw| {
            raw.try_lock_upgradable_until(timeout)
        })?;
        // SAFETY: the upgradable lock was just acquired.
        Some(unsafe { self.upgradable_guard(owner) })
    }

    /// Attempts to lock this `RwLock` with upgradable access until a timeout
    /// is reached, through an `Arc`.
    ///
    /// This method is similar to the `try_upgradable_read_for` method;
    /// however, it requires the `RwLock` to be inside of an `Arc` and the
    /// resulting read guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read_arc_for(
        self: &Arc<Self>,
        timeout: R::Duration,
    ) -> Option<ArcRwLockUpgradableReadGuard<R, T>> {
        let owner = self.timed_acquire(Access::Upgradable, |raw| {
            raw.try_lock_upgradable_for(timeout)
        })?;
        Some(self.arc_upgradable_guard(owner))
    }

    /// Attempts to lock this `RwLock` with upgradable access until a timeout
    /// is reached, through an `Arc`.
    ///
    /// This method is similar to the `try_upgradable_read_until` method;
    /// however, it requires the `RwLock` to be inside of an `Arc` and the
    /// resulting read guard has no lifetime requirements.
    #[cfg(feature = "arc_lock")]
    #[inline]
    #[track_caller]
    pub fn try_upgradable_read_arc_until(
        self: &Arc<Self>,
        timeout: R::Instant,
    ) -> Option<ArcRwLockUpgradableReadGuard<R, T>> {
        let owner = self.timed_acquire(Access::Upgradable, |raw| {
            raw.try_lock_upgradable_until(timeout)
        })?;
        Some(self.arc_upgradable_guard(owner))
    }
}

impl<R: RawRwLock, T: Default> Default for RwLock<R, T> {
    #[inline]
    #[track_caller]
    fn default() -> RwLock<R, T> {
        RwLock::new(Default::default())
    }
}

impl<R: RawRwLock, T> From<T> for RwLock<R, T> {
    #[inline]
    #[track_caller]
    fn from(t: T) -> RwLock<R, T> {
        RwLock::new(t)
    }
}

impl<R: RawRwLock, T: ?Sized + fmt::Debug> fmt::Debug for RwLock<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
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

/// A release of one mode, then the guard's data: the detector first, then
/// the raw lock.
macro_rules! release {
    ($record:expr, $owner:expr, $raw:expr, $unlock:ident) => {{
        $record.unlock($owner);
        // SAFETY: the guard holds the lock in the mode released.
        unsafe { $raw.$unlock() };
    }};
}

/// Deref, Debug, Display (and StableAddress) of a guard whose data is at
/// `$data` (an expression of `self`).
macro_rules! guard_deref {
    ([$($gen:tt)*] $guard:ty, |$s:ident| $data:expr) => {
        impl<$($gen)*> Deref for $guard {
            type Target = T;
            #[inline]
            fn deref(&self) -> &T {
                let $s = self;
                // SAFETY: the guard holds the lock.
                unsafe { &*$data }
            }
        }

        impl<$($gen)*> fmt::Debug for $guard
        where
            T: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($gen)*> fmt::Display for $guard
        where
            T: fmt::Display,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                (**self).fmt(f)
            }
        }
    };
}

/// `StableAddress` (feature `owning_ref`) of a borrowing guard.
macro_rules! stable_address {
    ([$($gen:tt)*] $guard:ty) => {
        #[cfg(feature = "owning_ref")]
        // SAFETY: the data lives in the lock, not in the guard.
        unsafe impl<$($gen)*> StableAddress for $guard {}
    };
}

/// RAII structure used to release the shared read access of a lock when
/// dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, R: RawRwLock, T: ?Sized> {
    rwlock: &'a RwLock<R, T>,
    owner: Owner,
    marker: PhantomData<(&'a T, R::GuardMarker)>,
}

// SAFETY: as lock_api's: a shared guard gives only `&T`.
unsafe impl<R: RawRwLock + Sync, T: Sync + ?Sized> Sync for RwLockReadGuard<'_, R, T> {}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> RwLockReadGuard<'a, R, T> {
    /// Returns a reference to the original reader-writer lock object.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    fn into_parts(s: Self) -> (&'a RwLock<R, T>, Owner) {
        let parts = (s.rwlock, s.owner);
        mem::forget(s);
        parts
    }

    fn mapped<U: ?Sized>(s: Self, data: *const U) -> MappedRwLockReadGuard<'a, R, U> {
        let (rwlock, owner) = Self::into_parts(s);
        MappedRwLockReadGuard {
            raw: &rwlock.raw,
            record: &rwlock.record,
            owner,
            data,
            marker: PhantomData,
        }
    }

    /// Make a new `MappedRwLockReadGuard` for a component of the locked
    /// data.
    ///
    /// This operation cannot fail as the `RwLockReadGuard` passed in already
    /// locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `RwLockReadGuard::map(...)`. A method would interfere with methods of
    /// the same name on the contents of the locked data.
    #[inline]
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedRwLockReadGuard<'a, R, U>
    where
        F: FnOnce(&T) -> &U,
    {
        // SAFETY: the guard holds a shared lock.
        let data = f(unsafe { &*s.rwlock.data.get() }) as *const U;
        Self::mapped(s, data)
    }

    /// Attempts to make a new `MappedRwLockReadGuard` for a component of the
    /// locked data. Returns the original guard if the closure returns
    /// `None`.
    ///
    /// This operation cannot fail as the `RwLockReadGuard` passed in already
    /// locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `RwLockReadGuard::try_map(...)`. A method would interfere with methods
    /// of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedRwLockReadGuard<'a, R, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        // SAFETY: the guard holds a shared lock.
        match f(unsafe { &*s.rwlock.data.get() }) {
            Some(data) => {
                let data = data as *const U;
                Ok(Self::mapped(s, data))
            }
            None => Err(s),
        }
    }

    /// Attempts to make a new `MappedRwLockReadGuard` for a component of the
    /// locked data. The original guard is returned alongside arbitrary user
    /// data if the closure returns `Err`.
    ///
    /// This operation cannot fail as the `RwLockReadGuard` passed in already
    /// locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `RwLockReadGuard::try_map_or_err(...)`. A method would interfere with
    /// methods of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map_or_err<U: ?Sized, F, E>(
        s: Self,
        f: F,
    ) -> Result<MappedRwLockReadGuard<'a, R, U>, (Self, E)>
    where
        F: FnOnce(&T) -> Result<&U, E>,
    {
        // SAFETY: the guard holds a shared lock.
        match f(unsafe { &*s.rwlock.data.get() }) {
            Ok(data) => {
                let data = data as *const U;
                Ok(Self::mapped(s, data))
            }
            Err(e) => Err((s, e)),
        }
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the `RwLock`.
    #[inline]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds a shared lock.
            || unsafe { rwlock.raw.unlock_shared() },
            || rwlock.acquire_read(),
            f,
        )
    }
}

impl<'a, R: RawRwLockFair + 'a, T: ?Sized + 'a> RwLockReadGuard<'a, R, T> {
    /// Unlocks the `RwLock` using a fair unlock protocol.
    ///
    /// By default, `RwLock` is unfair and allow the current thread to
    /// re-lock the `RwLock` before another has the chance to acquire the
    /// lock, even if that thread has been blocked on the `RwLock` for a long
    /// time. This is the default because it allows much higher throughput as
    /// it avoids forcing a context switch on every `RwLock` unlock. This can
    /// result in one thread acquiring a `RwLock` many more times than other
    /// threads.
    ///
    /// However in some cases it can be beneficial to ensure fairness by
    /// forcing the lock to pass on to a waiting thread if there is one. This
    /// is done by using this method instead of dropping the
    /// `RwLockReadGuard` normally.
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        let (rwlock, owner) = Self::into_parts(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_shared_fair);
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// The `RwLock` is unlocked a fair unlock protocol.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the `RwLock`.
    #[inline]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds a shared lock.
            || unsafe { rwlock.raw.unlock_shared_fair() },
            || rwlock.acquire_read(),
            f,
        )
    }

    /// Temporarily yields the `RwLock` to a waiting thread if there is one.
    ///
    /// This method is functionally equivalent to calling `unlock_fair`
    /// followed by `read`, however it can be much more efficient in the case
    /// where there are no waiting threads.
    #[inline]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        let rwlock = s.rwlock;
        // SAFETY: the guard holds a shared lock.
        crate::bump(
            &rwlock.record,
            &mut s.owner,
            KIND,
            read_access::<R>(),
            || unsafe { rwlock.raw.bump_shared() },
        );
    }
}

guard_deref!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] RwLockReadGuard<'a, R, T>, |s| s.rwlock.data.get());
stable_address!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] RwLockReadGuard<'a, R, T>);

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> Drop for RwLockReadGuard<'a, R, T> {
    #[inline]
    fn drop(&mut self) {
        release!(
            self.rwlock.record,
            self.owner,
            self.rwlock.raw,
            unlock_shared
        );
    }
}

/// An RAII rwlock guard returned by the `Arc` locking operations on
/// `RwLock`.
///
/// This is similar to the `RwLockReadGuard` struct, except instead of using
/// a reference to unlock the `RwLock` it uses an `Arc<RwLock>`. This has
/// several advantages, most notably that it has an `'static` lifetime.
#[cfg(feature = "arc_lock")]
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct ArcRwLockReadGuard<R: RawRwLock, T: ?Sized> {
    rwlock: Arc<RwLock<R, T>>,
    owner: Owner,
    marker: PhantomData<R::GuardMarker>,
}

/// Takes an `Arc` guard apart without running its destructor.
#[cfg(feature = "arc_lock")]
macro_rules! arc_parts {
    ($s:expr) => {{
        let s = ManuallyDrop::new($s);
        // SAFETY: `s` is never used or dropped again, so the `Arc` moves
        // out exactly once.
        let rwlock = unsafe { std::ptr::read(&s.rwlock) };
        (rwlock, s.owner)
    }};
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLock, T: ?Sized> ArcRwLockReadGuard<R, T> {
    /// Returns a reference to the rwlock, contained in its `Arc`.
    pub fn rwlock(s: &Self) -> &Arc<RwLock<R, T>> {
        &s.rwlock
    }

    /// Unlocks the `RwLock` and returns the `Arc` that was held by the
    /// [`ArcRwLockReadGuard`].
    #[inline]
    #[track_caller]
    pub fn into_arc(s: Self) -> Arc<RwLock<R, T>> {
        let (rwlock, owner) = arc_parts!(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_shared);
        rwlock
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is functionally identical to the `unlocked` method on
    /// [`RwLockReadGuard`].
    #[inline]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = &*s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds a shared lock.
            || unsafe { rwlock.raw.unlock_shared() },
            || rwlock.acquire_read(),
            f,
        )
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockFair, T: ?Sized> ArcRwLockReadGuard<R, T> {
    /// Unlocks the `RwLock` using a fair unlock protocol.
    ///
    /// This is functionally identical to the `unlock_fair` method on
    /// [`RwLockReadGuard`].
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        drop(Self::into_arc_fair(s));
    }

    /// Unlocks the `RwLock` using a fair unlock protocol and returns the
    /// `Arc` that was held by the [`ArcRwLockReadGuard`].
    #[inline]
    #[track_caller]
    pub fn into_arc_fair(s: Self) -> Arc<RwLock<R, T>> {
        let (rwlock, owner) = arc_parts!(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_shared_fair);
        rwlock
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is functionally identical to the `unlocked_fair` method on
    /// [`RwLockReadGuard`].
    #[inline]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = &*s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds a shared lock.
            || unsafe { rwlock.raw.unlock_shared_fair() },
            || rwlock.acquire_read(),
            f,
        )
    }

    /// Temporarily yields the `RwLock` to a waiting thread if there is one.
    ///
    /// This is functionally identical to the `bump` method on
    /// [`RwLockReadGuard`].
    #[inline]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        let rwlock = &*s.rwlock;
        // SAFETY: the guard holds a shared lock.
        crate::bump(
            &rwlock.record,
            &mut s.owner,
            KIND,
            read_access::<R>(),
            || unsafe { rwlock.raw.bump_shared() },
        );
    }
}

#[cfg(feature = "arc_lock")]
guard_deref!([R: RawRwLock, T: ?Sized] ArcRwLockReadGuard<R, T>, |s| s.rwlock.data.get());

#[cfg(feature = "arc_lock")]
impl<R: RawRwLock, T: ?Sized> Drop for ArcRwLockReadGuard<R, T> {
    #[inline]
    fn drop(&mut self) {
        release!(
            self.rwlock.record,
            self.owner,
            self.rwlock.raw,
            unlock_shared
        );
    }
}

/// RAII structure used to release the exclusive write access of a lock when
/// dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, R: RawRwLock, T: ?Sized> {
    rwlock: &'a RwLock<R, T>,
    owner: Owner,
    marker: PhantomData<(&'a mut T, R::GuardMarker)>,
}

// SAFETY: as lock_api's: a shared guard gives only `&T`.
unsafe impl<R: RawRwLock + Sync, T: Sync + ?Sized> Sync for RwLockWriteGuard<'_, R, T> {}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    /// Returns a reference to the original reader-writer lock object.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    fn into_parts(s: Self) -> (&'a RwLock<R, T>, Owner) {
        let parts = (s.rwlock, s.owner);
        mem::forget(s);
        parts
    }

    fn mapped<U: ?Sized>(s: Self, data: *mut U) -> MappedRwLockWriteGuard<'a, R, U> {
        let (rwlock, owner) = Self::into_parts(s);
        MappedRwLockWriteGuard {
            raw: &rwlock.raw,
            record: &rwlock.record,
            owner,
            data,
            marker: PhantomData,
        }
    }

    /// Make a new `MappedRwLockWriteGuard` for a component of the locked
    /// data.
    ///
    /// This operation cannot fail as the `RwLockWriteGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `RwLockWriteGuard::map(...)`. A method would interfere with methods
    /// of the same name on the contents of the locked data.
    #[inline]
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedRwLockWriteGuard<'a, R, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        // SAFETY: the guard holds the exclusive lock.
        let data = f(unsafe { &mut *s.rwlock.data.get() }) as *mut U;
        Self::mapped(s, data)
    }

    /// Attempts to make a new `MappedRwLockWriteGuard` for a component of
    /// the locked data. The original guard is return if the closure returns
    /// `None`.
    ///
    /// This operation cannot fail as the `RwLockWriteGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `RwLockWriteGuard::try_map(...)`. A method would interfere with
    /// methods of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedRwLockWriteGuard<'a, R, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: the guard holds the exclusive lock.
        match f(unsafe { &mut *s.rwlock.data.get() }) {
            Some(data) => {
                let data = data as *mut U;
                Ok(Self::mapped(s, data))
            }
            None => Err(s),
        }
    }

    /// Attempts to make a new `MappedRwLockWriteGuard` for a component of
    /// the locked data. The original guard is returned alongside arbitrary
    /// user data if the closure returns `Err`.
    ///
    /// This operation cannot fail as the `RwLockWriteGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `RwLockWriteGuard::try_map_or_err(...)`. A method would interfere
    /// with methods of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map_or_err<U: ?Sized, F, E>(
        s: Self,
        f: F,
    ) -> Result<MappedRwLockWriteGuard<'a, R, U>, (Self, E)>
    where
        F: FnOnce(&mut T) -> Result<&mut U, E>,
    {
        // SAFETY: the guard holds the exclusive lock.
        match f(unsafe { &mut *s.rwlock.data.get() }) {
            Ok(data) => {
                let data = data as *mut U;
                Ok(Self::mapped(s, data))
            }
            Err(e) => Err((s, e)),
        }
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the `RwLock`.
    #[inline]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds the exclusive lock.
            || unsafe { rwlock.raw.unlock_exclusive() },
            || rwlock.acquire_write(),
            f,
        )
    }
}

impl<'a, R: RawRwLockDowngrade + 'a, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    /// Atomically downgrades a write lock into a read lock without allowing
    /// any writers to take exclusive access of the lock in the meantime.
    ///
    /// Note that if there are any writers currently waiting to take the
    /// lock then other readers may not be able to acquire the lock even if
    /// it was downgraded.
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, R, T> {
        let (rwlock, owner) = Self::into_parts(s);
        // SAFETY: the guard held the exclusive lock.
        unsafe { rwlock.raw.downgrade() };
        rwlock.record.change_access(read_access::<R>());
        // SAFETY: a shared lock is held now.
        unsafe { rwlock.read_guard(owner) }
    }
}

impl<'a, R: RawRwLockUpgradeDowngrade + 'a, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    /// Atomically downgrades a write lock into an upgradable read lock
    /// without allowing any writers to take exclusive access of the lock in
    /// the meantime.
    ///
    /// Note that if there are any writers currently waiting to take the
    /// lock then other readers may not be able to acquire the lock even if
    /// it was downgraded.
    pub fn downgrade_to_upgradable(s: Self) -> RwLockUpgradableReadGuard<'a, R, T> {
        let (rwlock, owner) = Self::into_parts(s);
        // SAFETY: the guard held the exclusive lock.
        unsafe { rwlock.raw.downgrade_to_upgradable() };
        rwlock.record.change_access(Access::Upgradable);
        // SAFETY: the upgradable lock is held now.
        unsafe { rwlock.upgradable_guard(owner) }
    }
}

impl<'a, R: RawRwLockFair + 'a, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    /// Unlocks the `RwLock` using a fair unlock protocol.
    ///
    /// By default, `RwLock` is unfair and allow the current thread to
    /// re-lock the `RwLock` before another has the chance to acquire the
    /// lock, even if that thread has been blocked on the `RwLock` for a long
    /// time. This is the default because it allows much higher throughput as
    /// it avoids forcing a context switch on every `RwLock` unlock. This can
    /// result in one thread acquiring a `RwLock` many more times than other
    /// threads.
    ///
    /// However in some cases it can be beneficial to ensure fairness by
    /// forcing the lock to pass on to a waiting thread if there is one. This
    /// is done by using this method instead of dropping the
    /// `RwLockWriteGuard` normally.
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        let (rwlock, owner) = Self::into_parts(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_exclusive_fair);
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// The `RwLock` is unlocked a fair unlock protocol.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the `RwLock`.
    #[inline]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds the exclusive lock.
            || unsafe { rwlock.raw.unlock_exclusive_fair() },
            || rwlock.acquire_write(),
            f,
        )
    }

    /// Temporarily yields the `RwLock` to a waiting thread if there is one.
    ///
    /// This method is functionally equivalent to calling `unlock_fair`
    /// followed by `write`, however it can be much more efficient in the
    /// case where there are no waiting threads.
    #[inline]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        let rwlock = s.rwlock;
        // SAFETY: the guard holds the exclusive lock.
        crate::bump(
            &rwlock.record,
            &mut s.owner,
            KIND,
            Access::Exclusive,
            || unsafe { rwlock.raw.bump_exclusive() },
        );
    }
}

guard_deref!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] RwLockWriteGuard<'a, R, T>, |s| s.rwlock.data.get());
stable_address!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] RwLockWriteGuard<'a, R, T>);

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> DerefMut for RwLockWriteGuard<'a, R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the exclusive lock.
        unsafe { &mut *self.rwlock.data.get() }
    }
}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> Drop for RwLockWriteGuard<'a, R, T> {
    #[inline]
    fn drop(&mut self) {
        release!(
            self.rwlock.record,
            self.owner,
            self.rwlock.raw,
            unlock_exclusive
        );
    }
}

/// An RAII rwlock guard returned by the `Arc` locking operations on
/// `RwLock`. This is similar to the `RwLockWriteGuard` struct, except
/// instead of using a reference to unlock the `RwLock` it uses an
/// `Arc<RwLock>`. This has several advantages, most notably that it has an
/// `'static` lifetime.
#[cfg(feature = "arc_lock")]
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct ArcRwLockWriteGuard<R: RawRwLock, T: ?Sized> {
    rwlock: Arc<RwLock<R, T>>,
    owner: Owner,
    marker: PhantomData<R::GuardMarker>,
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLock, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    /// Returns a reference to the rwlock, contained in its `Arc`.
    pub fn rwlock(s: &Self) -> &Arc<RwLock<R, T>> {
        &s.rwlock
    }

    /// Unlocks the `RwLock` and returns the `Arc` that was held by the
    /// [`ArcRwLockWriteGuard`].
    #[inline]
    #[track_caller]
    pub fn into_arc(s: Self) -> Arc<RwLock<R, T>> {
        let (rwlock, owner) = arc_parts!(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_exclusive);
        rwlock
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is functionally equivalent to the `unlocked` method on
    /// [`RwLockWriteGuard`].
    #[inline]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = &*s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds the exclusive lock.
            || unsafe { rwlock.raw.unlock_exclusive() },
            || rwlock.acquire_write(),
            f,
        )
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockDowngrade, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    /// Atomically downgrades a write lock into a read lock without allowing
    /// any writers to take exclusive access of the lock in the meantime.
    ///
    /// This is functionally equivalent to the `downgrade` method on
    /// [`RwLockWriteGuard`].
    pub fn downgrade(s: Self) -> ArcRwLockReadGuard<R, T> {
        let (rwlock, owner) = arc_parts!(s);
        // SAFETY: the guard held the exclusive lock.
        unsafe { rwlock.raw.downgrade() };
        rwlock.record.change_access(read_access::<R>());
        ArcRwLockReadGuard {
            rwlock,
            owner,
            marker: PhantomData,
        }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgradeDowngrade, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    /// Atomically downgrades a write lock into an upgradable read lock
    /// without allowing any writers to take exclusive access of the lock in
    /// the meantime.
    ///
    /// This is functionally identical to the `downgrade_to_upgradable`
    /// method on [`RwLockWriteGuard`].
    pub fn downgrade_to_upgradable(s: Self) -> ArcRwLockUpgradableReadGuard<R, T> {
        let (rwlock, owner) = arc_parts!(s);
        // SAFETY: the guard held the exclusive lock.
        unsafe { rwlock.raw.downgrade_to_upgradable() };
        rwlock.record.change_access(Access::Upgradable);
        ArcRwLockUpgradableReadGuard {
            rwlock,
            owner,
            marker: PhantomData,
        }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockFair, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    /// Unlocks the `RwLock` using a fair unlock protocol.
    ///
    /// This is functionally equivalent to the `unlock_fair` method on
    /// [`RwLockWriteGuard`].
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        drop(Self::into_arc_fair(s));
    }

    /// Unlocks the `RwLock` using a fair unlock protocol and returns the
    /// `Arc` that was held by the [`ArcRwLockWriteGuard`].
    #[inline]
    #[track_caller]
    pub fn into_arc_fair(s: Self) -> Arc<RwLock<R, T>> {
        let (rwlock, owner) = arc_parts!(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_exclusive_fair);
        rwlock
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is functionally equivalent to the `unlocked_fair` method on
    /// [`RwLockWriteGuard`].
    #[inline]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = &*s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds the exclusive lock.
            || unsafe { rwlock.raw.unlock_exclusive_fair() },
            || rwlock.acquire_write(),
            f,
        )
    }

    /// Temporarily yields the `RwLock` to a waiting thread if there is one.
    ///
    /// This method is functionally equivalent to the `bump` method on
    /// [`RwLockWriteGuard`].
    #[inline]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        let rwlock = &*s.rwlock;
        // SAFETY: the guard holds the exclusive lock.
        crate::bump(
            &rwlock.record,
            &mut s.owner,
            KIND,
            Access::Exclusive,
            || unsafe { rwlock.raw.bump_exclusive() },
        );
    }
}

#[cfg(feature = "arc_lock")]
guard_deref!([R: RawRwLock, T: ?Sized] ArcRwLockWriteGuard<R, T>, |s| s.rwlock.data.get());

#[cfg(feature = "arc_lock")]
impl<R: RawRwLock, T: ?Sized> DerefMut for ArcRwLockWriteGuard<R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the exclusive lock.
        unsafe { &mut *self.rwlock.data.get() }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLock, T: ?Sized> Drop for ArcRwLockWriteGuard<R, T> {
    #[inline]
    fn drop(&mut self) {
        release!(
            self.rwlock.record,
            self.owner,
            self.rwlock.raw,
            unlock_exclusive
        );
    }
}

/// RAII structure used to release the upgradable read access of a lock when
/// dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockUpgradableReadGuard<'a, R: RawRwLockUpgrade, T: ?Sized> {
    rwlock: &'a RwLock<R, T>,
    owner: Owner,
    marker: PhantomData<(&'a T, R::GuardMarker)>,
}

// SAFETY: as lock_api's: a shared guard gives only `&T`.
unsafe impl<'a, R: RawRwLockUpgrade + 'a, T: ?Sized + Sync + 'a> Sync
    for RwLockUpgradableReadGuard<'a, R, T>
{
}

/// While alive, the upgradable lock is upgraded; dropped (also when the
/// closure given to `with_upgraded` unwinds), it is downgraded back.
struct Upgraded<'a, R: RawRwLockUpgradeDowngrade, T: ?Sized>(&'a RwLock<R, T>);

impl<'a, R: RawRwLockUpgradeDowngrade, T: ?Sized> Upgraded<'a, R, T> {
    /// # Safety
    /// The upgradable lock must have just been upgraded.
    unsafe fn new(rwlock: &'a RwLock<R, T>) -> Self {
        rwlock.record.change_access(Access::Exclusive);
        Upgraded(rwlock)
    }

    fn data(&mut self) -> &mut T {
        // SAFETY: the exclusive lock is held while `self` lives.
        unsafe { &mut *self.0.data.get() }
    }
}

impl<R: RawRwLockUpgradeDowngrade, T: ?Sized> Drop for Upgraded<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: the lock was upgraded by `new`'s caller.
        unsafe { self.0.raw.downgrade_to_upgradable() };
        self.0.record.change_access(Access::Upgradable);
    }
}

impl<'a, R: RawRwLockUpgrade + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    /// Returns a reference to the original reader-writer lock object.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    fn parts(s: Self) -> (&'a RwLock<R, T>, Owner) {
        let parts = (s.rwlock, s.owner);
        mem::forget(s);
        parts
    }
}

impl<'a, R: RawRwLockUpgrade + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the `RwLock`.
    #[inline]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds the upgradable lock.
            || unsafe { rwlock.raw.unlock_upgradable() },
            || rwlock.acquire_upgradable(),
            f,
        )
    }

    /// Atomically upgrades an upgradable read lock lock into an exclusive
    /// write lock, blocking the current thread until it can be acquired.
    #[track_caller]
    pub fn upgrade(s: Self) -> RwLockWriteGuard<'a, R, T> {
        let (rwlock, owner) = Self::parts(s);
        // SAFETY: the guard held the upgradable lock.
        unsafe { rwlock.raw.upgrade() };
        rwlock.record.change_access(Access::Exclusive);
        // SAFETY: the exclusive lock is held now.
        unsafe { rwlock.write_guard(owner) }
    }

    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock.
    ///
    /// If the access could not be granted at this time, then the current
    /// guard is returned.
    #[track_caller]
    pub fn try_upgrade(s: Self) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { s.rwlock.raw.try_upgrade() } {
            let (rwlock, owner) = Self::parts(s);
            rwlock.record.change_access(Access::Exclusive);
            // SAFETY: the exclusive lock is held now.
            Ok(unsafe { rwlock.write_guard(owner) })
        } else {
            Err(s)
        }
    }
}

impl<'a, R: RawRwLockUpgradeFair + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    /// Unlocks the `RwLock` using a fair unlock protocol.
    ///
    /// By default, `RwLock` is unfair and allow the current thread to
    /// re-lock the `RwLock` before another has the chance to acquire the
    /// lock, even if that thread has been blocked on the `RwLock` for a long
    /// time. This is the default because it allows much higher throughput as
    /// it avoids forcing a context switch on every `RwLock` unlock. This can
    /// result in one thread acquiring a `RwLock` many more times than other
    /// threads.
    ///
    /// However in some cases it can be beneficial to ensure fairness by
    /// forcing the lock to pass on to a waiting thread if there is one. This
    /// is done by using this method instead of dropping the
    /// `RwLockUpgradableReadGuard` normally.
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        let (rwlock, owner) = Self::parts(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_upgradable_fair);
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// The `RwLock` is unlocked a fair unlock protocol.
    ///
    /// This is safe because `&mut` guarantees that there exist no other
    /// references to the data protected by the `RwLock`.
    #[inline]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds the upgradable lock.
            || unsafe { rwlock.raw.unlock_upgradable_fair() },
            || rwlock.acquire_upgradable(),
            f,
        )
    }

    /// Temporarily yields the `RwLock` to a waiting thread if there is one.
    ///
    /// This method is functionally equivalent to calling `unlock_fair`
    /// followed by `upgradable_read`, however it can be much more efficient
    /// in the case where there are no waiting threads.
    #[inline]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        let rwlock = s.rwlock;
        // SAFETY: the guard holds the upgradable lock.
        crate::bump(
            &rwlock.record,
            &mut s.owner,
            KIND,
            Access::Upgradable,
            || unsafe { rwlock.raw.bump_upgradable() },
        );
    }
}

impl<'a, R: RawRwLockUpgradeDowngrade + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    /// Atomically downgrades an upgradable read lock lock into a shared read
    /// lock without allowing any writers to take exclusive access of the
    /// lock in the meantime.
    ///
    /// Note that if there are any writers currently waiting to take the
    /// lock then other readers may not be able to acquire the lock even if
    /// it was downgraded.
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, R, T> {
        let (rwlock, owner) = Self::parts(s);
        // SAFETY: the guard held the upgradable lock.
        unsafe { rwlock.raw.downgrade_upgradable() };
        rwlock.record.change_access(read_access::<R>());
        // SAFETY: a shared lock is held now.
        unsafe { rwlock.read_guard(owner) }
    }

    /// First, atomically upgrades an upgradable read lock lock into an
    /// exclusive write lock, blocking the current thread until it can be
    /// acquired.
    ///
    /// Then, calls the provided closure with an exclusive reference to the
    /// lock's data.
    ///
    /// Finally, atomically downgrades the lock back to an upgradable read
    /// lock. The closure's return value is wrapped in `Some` and returned.
    ///
    /// This function only requires a mutable reference to the guard, unlike
    /// `upgrade` which takes the guard by value.
    pub fn with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Ret {
        // SAFETY: the guard holds the upgradable lock.
        unsafe { self.rwlock.raw.upgrade() };
        // SAFETY: just upgraded.
        let mut upgraded = unsafe { Upgraded::new(self.rwlock) };
        f(upgraded.data())
    }

    /// First, tries to atomically upgrade an upgradable read lock into an
    /// exclusive write lock.
    ///
    /// If the access could not be granted at this time, then `None` is
    /// returned.
    ///
    /// Otherwise, calls the provided closure with an exclusive reference to
    /// the lock's data, and finally downgrades the lock back to an
    /// upgradable read lock. The closure's return value is wrapped in `Some`
    /// and returned.
    ///
    /// This function only requires a mutable reference to the guard, unlike
    /// `try_upgrade` which takes the guard by value.
    pub fn try_with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Option<Ret> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { self.rwlock.raw.try_upgrade() } {
            // SAFETY: just upgraded.
            let mut upgraded = unsafe { Upgraded::new(self.rwlock) };
            Some(f(upgraded.data()))
        } else {
            None
        }
    }
}

impl<'a, R: RawRwLockUpgradeTimed + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock, until a timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// the current guard is returned.
    pub fn try_upgrade_for(
        s: Self,
        timeout: R::Duration,
    ) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { s.rwlock.raw.try_upgrade_for(timeout) } {
            let (rwlock, owner) = Self::parts(s);
            rwlock.record.change_access(Access::Exclusive);
            // SAFETY: the exclusive lock is held now.
            Ok(unsafe { rwlock.write_guard(owner) })
        } else {
            Err(s)
        }
    }

    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock, until a timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// the current guard is returned.
    #[inline]
    pub fn try_upgrade_until(
        s: Self,
        timeout: R::Instant,
    ) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { s.rwlock.raw.try_upgrade_until(timeout) } {
            let (rwlock, owner) = Self::parts(s);
            rwlock.record.change_access(Access::Exclusive);
            // SAFETY: the exclusive lock is held now.
            Ok(unsafe { rwlock.write_guard(owner) })
        } else {
            Err(s)
        }
    }
}

impl<'a, R: RawRwLockUpgradeTimed + RawRwLockUpgradeDowngrade + 'a, T: ?Sized + 'a>
    RwLockUpgradableReadGuard<'a, R, T>
{
    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock, until a timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned.
    ///
    /// Otherwise, calls the provided closure with an exclusive reference to
    /// the lock's data, and finally downgrades the lock back to an
    /// upgradable read lock. The closure's return value is wrapped in `Some`
    /// and returned.
    ///
    /// This function only requires a mutable reference to the guard, unlike
    /// `try_upgrade_for` which takes the guard by value.
    pub fn try_with_upgraded_for<Ret, F: FnOnce(&mut T) -> Ret>(
        &mut self,
        timeout: R::Duration,
        f: F,
    ) -> Option<Ret> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { self.rwlock.raw.try_upgrade_for(timeout) } {
            // SAFETY: just upgraded.
            let mut upgraded = unsafe { Upgraded::new(self.rwlock) };
            Some(f(upgraded.data()))
        } else {
            None
        }
    }

    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock, until a timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned.
    ///
    /// Otherwise, calls the provided closure with an exclusive reference to
    /// the lock's data, and finally downgrades the lock back to an
    /// upgradable read lock. The closure's return value is wrapped in `Some`
    /// and returned.
    ///
    /// This function only requires a mutable reference to the guard, unlike
    /// `try_upgrade_until` which takes the guard by value.
    pub fn try_with_upgraded_until<Ret, F: FnOnce(&mut T) -> Ret>(
        &mut self,
        timeout: R::Instant,
        f: F,
    ) -> Option<Ret> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { self.rwlock.raw.try_upgrade_until(timeout) } {
            // SAFETY: just upgraded.
            let mut upgraded = unsafe { Upgraded::new(self.rwlock) };
            Some(f(upgraded.data()))
        } else {
            None
        }
    }
}

guard_deref!(['a, R: RawRwLockUpgrade + 'a, T: ?Sized + 'a] RwLockUpgradableReadGuard<'a, R, T>, |s| s.rwlock.data.get());
stable_address!(['a, R: RawRwLockUpgrade + 'a, T: ?Sized + 'a] RwLockUpgradableReadGuard<'a, R, T>);

impl<'a, R: RawRwLockUpgrade + 'a, T: ?Sized + 'a> Drop for RwLockUpgradableReadGuard<'a, R, T> {
    #[inline]
    fn drop(&mut self) {
        release!(
            self.rwlock.record,
            self.owner,
            self.rwlock.raw,
            unlock_upgradable
        );
    }
}

/// An RAII rwlock guard returned by the `Arc` locking operations on
/// `RwLock`. This is similar to the `RwLockUpgradableReadGuard` struct,
/// except instead of using a reference to unlock the `RwLock` it uses an
/// `Arc<RwLock>`. This has several advantages, most notably that it has an
/// `'static` lifetime.
#[cfg(feature = "arc_lock")]
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct ArcRwLockUpgradableReadGuard<R: RawRwLockUpgrade, T: ?Sized> {
    rwlock: Arc<RwLock<R, T>>,
    owner: Owner,
    marker: PhantomData<R::GuardMarker>,
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgrade, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    /// Returns a reference to the rwlock, contained in its original `Arc`.
    pub fn rwlock(s: &Self) -> &Arc<RwLock<R, T>> {
        &s.rwlock
    }

    /// Unlocks the `RwLock` and returns the `Arc` that was held by the
    /// [`ArcRwLockUpgradableReadGuard`].
    #[inline]
    #[track_caller]
    pub fn into_arc(s: Self) -> Arc<RwLock<R, T>> {
        let (rwlock, owner) = arc_parts!(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_upgradable);
        rwlock
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is functionally identical to the `unlocked` method on
    /// [`RwLockUpgradableReadGuard`].
    #[inline]
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = &*s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds the upgradable lock.
            || unsafe { rwlock.raw.unlock_upgradable() },
            || rwlock.acquire_upgradable(),
            f,
        )
    }

    /// Atomically upgrades an upgradable read lock lock into an exclusive
    /// write lock, blocking the current thread until it can be acquired.
    #[track_caller]
    pub fn upgrade(s: Self) -> ArcRwLockWriteGuard<R, T> {
        let (rwlock, owner) = arc_parts!(s);
        // SAFETY: the guard held the upgradable lock.
        unsafe { rwlock.raw.upgrade() };
        rwlock.record.change_access(Access::Exclusive);
        ArcRwLockWriteGuard {
            rwlock,
            owner,
            marker: PhantomData,
        }
    }

    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock.
    ///
    /// If the access could not be granted at this time, then the current
    /// guard is returned.
    #[track_caller]
    pub fn try_upgrade(s: Self) -> Result<ArcRwLockWriteGuard<R, T>, Self> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { s.rwlock.raw.try_upgrade() } {
            let (rwlock, owner) = arc_parts!(s);
            rwlock.record.change_access(Access::Exclusive);
            Ok(ArcRwLockWriteGuard {
                rwlock,
                owner,
                marker: PhantomData,
            })
        } else {
            Err(s)
        }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgradeFair, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    /// Unlocks the `RwLock` using a fair unlock protocol.
    ///
    /// This is functionally identical to the `unlock_fair` method on
    /// [`RwLockUpgradableReadGuard`].
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        drop(Self::into_arc_fair(s));
    }

    /// Unlocks the `RwLock` using a fair unlock protocol and returns the
    /// `Arc` that was held by the [`ArcRwLockUpgradableReadGuard`].
    #[inline]
    #[track_caller]
    pub fn into_arc_fair(s: Self) -> Arc<RwLock<R, T>> {
        let (rwlock, owner) = arc_parts!(s);
        release!(rwlock.record, owner, rwlock.raw, unlock_upgradable_fair);
        rwlock
    }

    /// Temporarily unlocks the `RwLock` to execute the given function.
    ///
    /// This is functionally equivalent to the `unlocked_fair` method on
    /// [`RwLockUpgradableReadGuard`].
    #[inline]
    #[track_caller]
    pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        let rwlock = &*s.rwlock;
        unlocked_with(
            &rwlock.record,
            &mut s.owner,
            // SAFETY: the guard holds the upgradable lock.
            || unsafe { rwlock.raw.unlock_upgradable_fair() },
            || rwlock.acquire_upgradable(),
            f,
        )
    }

    /// Temporarily yields the `RwLock` to a waiting thread if there is one.
    ///
    /// This method is functionally equivalent to calling `bump` on
    /// [`RwLockUpgradableReadGuard`].
    #[inline]
    #[track_caller]
    pub fn bump(s: &mut Self) {
        let rwlock = &*s.rwlock;
        // SAFETY: the guard holds the upgradable lock.
        crate::bump(
            &rwlock.record,
            &mut s.owner,
            KIND,
            Access::Upgradable,
            || unsafe { rwlock.raw.bump_upgradable() },
        );
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgradeDowngrade, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    /// Atomically downgrades an upgradable read lock lock into a shared read
    /// lock without allowing any writers to take exclusive access of the
    /// lock in the meantime.
    ///
    /// Note that if there are any writers currently waiting to take the
    /// lock then other readers may not be able to acquire the lock even if
    /// it was downgraded.
    pub fn downgrade(s: Self) -> ArcRwLockReadGuard<R, T> {
        let (rwlock, owner) = arc_parts!(s);
        // SAFETY: the guard held the upgradable lock.
        unsafe { rwlock.raw.downgrade_upgradable() };
        rwlock.record.change_access(read_access::<R>());
        ArcRwLockReadGuard {
            rwlock,
            owner,
            marker: PhantomData,
        }
    }

    /// First, atomically upgrades an upgradable read lock lock into an
    /// exclusive write lock, blocking the current thread until it can be
    /// acquired.
    ///
    /// Then, calls the provided closure with an exclusive reference to the
    /// lock's data.
    ///
    /// Finally, atomically downgrades the lock back to an upgradable read
    /// lock. The closure's return value is returned.
    ///
    /// This function only requires a mutable reference to the guard, unlike
    /// `upgrade` which takes the guard by value.
    pub fn with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Ret {
        // SAFETY: the guard holds the upgradable lock.
        unsafe { self.rwlock.raw.upgrade() };
        // SAFETY: just upgraded.
        let mut upgraded = unsafe { Upgraded::new(&self.rwlock) };
        f(upgraded.data())
    }

    /// First, tries to atomically upgrade an upgradable read lock into an
    /// exclusive write lock.
    ///
    /// If the access could not be granted at this time, then `None` is
    /// returned.
    ///
    /// Otherwise, calls the provided closure with an exclusive reference to
    /// the lock's data, and finally downgrades the lock back to an
    /// upgradable read lock. The closure's return value is wrapped in `Some`
    /// and returned.
    ///
    /// This function only requires a mutable reference to the guard, unlike
    /// `try_upgrade` which takes the guard by value.
    pub fn try_with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Option<Ret> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { self.rwlock.raw.try_upgrade() } {
            // SAFETY: just upgraded.
            let mut upgraded = unsafe { Upgraded::new(&self.rwlock) };
            Some(f(upgraded.data()))
        } else {
            None
        }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgradeTimed, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock, until a timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// the current guard is returned.
    pub fn try_upgrade_for(
        s: Self,
        timeout: R::Duration,
    ) -> Result<ArcRwLockWriteGuard<R, T>, Self> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { s.rwlock.raw.try_upgrade_for(timeout) } {
            let (rwlock, owner) = arc_parts!(s);
            rwlock.record.change_access(Access::Exclusive);
            Ok(ArcRwLockWriteGuard {
                rwlock,
                owner,
                marker: PhantomData,
            })
        } else {
            Err(s)
        }
    }

    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock, until a timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// the current guard is returned.
    #[inline]
    pub fn try_upgrade_until(
        s: Self,
        timeout: R::Instant,
    ) -> Result<ArcRwLockWriteGuard<R, T>, Self> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { s.rwlock.raw.try_upgrade_until(timeout) } {
            let (rwlock, owner) = arc_parts!(s);
            rwlock.record.change_access(Access::Exclusive);
            Ok(ArcRwLockWriteGuard {
                rwlock,
                owner,
                marker: PhantomData,
            })
        } else {
            Err(s)
        }
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgradeTimed + RawRwLockUpgradeDowngrade, T: ?Sized>
    ArcRwLockUpgradableReadGuard<R, T>
{
    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock, until a timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned.
    ///
    /// Otherwise, calls the provided closure with an exclusive reference to
    /// the lock's data, and finally downgrades the lock back to an
    /// upgradable read lock. The closure's return value is wrapped in `Some`
    /// and returned.
    ///
    /// This function only requires a mutable reference to the guard, unlike
    /// `try_upgrade_for` which takes the guard by value.
    pub fn try_with_upgraded_for<Ret, F: FnOnce(&mut T) -> Ret>(
        &mut self,
        timeout: R::Duration,
        f: F,
    ) -> Option<Ret> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { self.rwlock.raw.try_upgrade_for(timeout) } {
            // SAFETY: just upgraded.
            let mut upgraded = unsafe { Upgraded::new(&self.rwlock) };
            Some(f(upgraded.data()))
        } else {
            None
        }
    }

    /// Tries to atomically upgrade an upgradable read lock into an exclusive
    /// write lock, until a timeout is reached.
    ///
    /// If the access could not be granted before the timeout expires, then
    /// `None` is returned.
    ///
    /// Otherwise, calls the provided closure with an exclusive reference to
    /// the lock's data, and finally downgrades the lock back to an
    /// upgradable read lock. The closure's return value is wrapped in `Some`
    /// and returned.
    ///
    /// This function only requires a mutable reference to the guard, unlike
    /// `try_upgrade_until` which takes the guard by value.
    pub fn try_with_upgraded_until<Ret, F: FnOnce(&mut T) -> Ret>(
        &mut self,
        timeout: R::Instant,
        f: F,
    ) -> Option<Ret> {
        // SAFETY: the guard holds the upgradable lock.
        if unsafe { self.rwlock.raw.try_upgrade_until(timeout) } {
            // SAFETY: just upgraded.
            let mut upgraded = unsafe { Upgraded::new(&self.rwlock) };
            Some(f(upgraded.data()))
        } else {
            None
        }
    }
}

#[cfg(feature = "arc_lock")]
guard_deref!([R: RawRwLockUpgrade, T: ?Sized] ArcRwLockUpgradableReadGuard<R, T>, |s| s.rwlock.data.get());

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgrade, T: ?Sized> Drop for ArcRwLockUpgradableReadGuard<R, T> {
    #[inline]
    fn drop(&mut self) {
        release!(
            self.rwlock.record,
            self.owner,
            self.rwlock.raw,
            unlock_upgradable
        );
    }
}

/// An RAII read lock guard returned by `RwLockReadGuard::map`, which can
/// point to a subfield of the protected data.
///
/// The main difference between `MappedRwLockReadGuard` and
/// `RwLockReadGuard` is that the former doesn't support temporarily
/// unlocking and re-locking, since that could introduce soundness issues if
/// the locked object is modified by another thread.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct MappedRwLockReadGuard<'a, R: RawRwLock, T: ?Sized> {
    raw: &'a R,
    record: &'a Record,
    owner: Owner,
    data: *const T,
    marker: PhantomData<&'a T>,
}

// SAFETY: as lock_api's: a shared guard gives only `&T`.
unsafe impl<'a, R: RawRwLock + 'a, T: ?Sized + Sync + 'a> Sync for MappedRwLockReadGuard<'a, R, T> {}
// SAFETY: as lock_api's: the guard may move where its marker allows.
unsafe impl<'a, R: RawRwLock + 'a, T: ?Sized + Sync + 'a> Send for MappedRwLockReadGuard<'a, R, T> where
    R::GuardMarker: Send
{
}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> MappedRwLockReadGuard<'a, R, T> {
    fn remapped<U: ?Sized>(s: Self, data: *const U) -> MappedRwLockReadGuard<'a, R, U> {
        let (raw, record, owner) = (s.raw, s.record, s.owner);
        mem::forget(s);
        MappedRwLockReadGuard {
            raw,
            record,
            owner,
            data,
            marker: PhantomData,
        }
    }

    /// Make a new `MappedRwLockReadGuard` for a component of the locked
    /// data.
    ///
    /// This operation cannot fail as the `MappedRwLockReadGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedRwLockReadGuard::map(...)`. A method would interfere with
    /// methods of the same name on the contents of the locked data.
    #[inline]
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedRwLockReadGuard<'a, R, U>
    where
        F: FnOnce(&T) -> &U,
    {
        // SAFETY: the guard holds a shared lock.
        let data = f(unsafe { &*s.data }) as *const U;
        Self::remapped(s, data)
    }

    /// Attempts to make a new `MappedRwLockReadGuard` for a component of the
    /// locked data. The original guard is return if the closure returns
    /// `None`.
    ///
    /// This operation cannot fail as the `MappedRwLockReadGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedRwLockReadGuard::try_map(...)`. A method would interfere with
    /// methods of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedRwLockReadGuard<'a, R, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        // SAFETY: the guard holds a shared lock.
        match f(unsafe { &*s.data }) {
            Some(data) => {
                let data = data as *const U;
                Ok(Self::remapped(s, data))
            }
            None => Err(s),
        }
    }

    /// Attempts to make a new `MappedRwLockReadGuard` for a component of the
    /// locked data. The original guard is returned alongside arbitrary user
    /// data if the closure returns `Err`.
    ///
    /// This operation cannot fail as the `MappedRwLockReadGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedRwLockReadGuard::try_map_or_else(...)`. A method would
    /// interfere with methods of the same name on the contents of the locked
    /// data.
    #[inline]
    pub fn try_map_or_else<U: ?Sized, F, E>(
        s: Self,
        f: F,
    ) -> Result<MappedRwLockReadGuard<'a, R, U>, (Self, E)>
    where
        F: FnOnce(&T) -> Result<&U, E>,
    {
        // SAFETY: the guard holds a shared lock.
        match f(unsafe { &*s.data }) {
            Ok(data) => {
                let data = data as *const U;
                Ok(Self::remapped(s, data))
            }
            Err(e) => Err((s, e)),
        }
    }
}

impl<'a, R: RawRwLockFair + 'a, T: ?Sized + 'a> MappedRwLockReadGuard<'a, R, T> {
    /// Unlocks the `RwLock` using a fair unlock protocol.
    ///
    /// By default, `RwLock` is unfair and allow the current thread to
    /// re-lock the `RwLock` before another has the chance to acquire the
    /// lock, even if that thread has been blocked on the `RwLock` for a long
    /// time. This is the default because it allows much higher throughput as
    /// it avoids forcing a context switch on every `RwLock` unlock. This can
    /// result in one thread acquiring a `RwLock` many more times than other
    /// threads.
    ///
    /// However in some cases it can be beneficial to ensure fairness by
    /// forcing the lock to pass on to a waiting thread if there is one. This
    /// is done by using this method instead of dropping the
    /// `MappedRwLockReadGuard` normally.
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        let (raw, record, owner) = (s.raw, s.record, s.owner);
        mem::forget(s);
        release!(record, owner, raw, unlock_shared_fair);
    }
}

guard_deref!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] MappedRwLockReadGuard<'a, R, T>, |s| s.data);
stable_address!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] MappedRwLockReadGuard<'a, R, T>);

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> Drop for MappedRwLockReadGuard<'a, R, T> {
    #[inline]
    fn drop(&mut self) {
        release!(self.record, self.owner, self.raw, unlock_shared);
    }
}

/// An RAII write lock guard returned by `RwLockWriteGuard::map`, which can
/// point to a subfield of the protected data.
///
/// The main difference between `MappedRwLockWriteGuard` and
/// `RwLockWriteGuard` is that the former doesn't support temporarily
/// unlocking and re-locking, since that could introduce soundness issues if
/// the locked object is modified by another thread.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct MappedRwLockWriteGuard<'a, R: RawRwLock, T: ?Sized> {
    raw: &'a R,
    record: &'a Record,
    owner: Owner,
    data: *mut T,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: as lock_api's: a shared guard gives only `&T`.
unsafe impl<'a, R: RawRwLock + 'a, T: ?Sized + Sync + 'a> Sync
    for MappedRwLockWriteGuard<'a, R, T>
{
}
// SAFETY: as lock_api's: the guard may move where its marker allows.
unsafe impl<'a, R: RawRwLock + 'a, T: ?Sized + Send + 'a> Send for MappedRwLockWriteGuard<'a, R, T> where
    R::GuardMarker: Send
{
}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> MappedRwLockWriteGuard<'a, R, T> {
    fn remapped<U: ?Sized>(s: Self, data: *mut U) -> MappedRwLockWriteGuard<'a, R, U> {
        let (raw, record, owner) = (s.raw, s.record, s.owner);
        mem::forget(s);
        MappedRwLockWriteGuard {
            raw,
            record,
            owner,
            data,
            marker: PhantomData,
        }
    }

    /// Make a new `MappedRwLockWriteGuard` for a component of the locked
    /// data.
    ///
    /// This operation cannot fail as the `MappedRwLockWriteGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedRwLockWriteGuard::map(...)`. A method would interfere with
    /// methods of the same name on the contents of the locked data.
    #[inline]
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedRwLockWriteGuard<'a, R, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        // SAFETY: the guard holds the exclusive lock.
        let data = f(unsafe { &mut *s.data }) as *mut U;
        Self::remapped(s, data)
    }

    /// Attempts to make a new `MappedRwLockWriteGuard` for a component of
    /// the locked data. The original guard is return if the closure returns
    /// `None`.
    ///
    /// This operation cannot fail as the `MappedRwLockWriteGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedRwLockWriteGuard::try_map(...)`. A method would interfere with
    /// methods of the same name on the contents of the locked data.
    #[inline]
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedRwLockWriteGuard<'a, R, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: the guard holds the exclusive lock.
        match f(unsafe { &mut *s.data }) {
            Some(data) => {
                let data = data as *mut U;
                Ok(Self::remapped(s, data))
            }
            None => Err(s),
        }
    }

    /// Attempts to make a new `MappedRwLockWriteGuard` for a component of
    /// the locked data. The original guard is returned alongside arbitrary
    /// user data if the closure returns `Err`.
    ///
    /// This operation cannot fail as the `MappedRwLockWriteGuard` passed in
    /// already locked the data.
    ///
    /// This is an associated function that needs to be used as
    /// `MappedRwLockWriteGuard::try_map_or_err(...)`. A method would
    /// interfere with methods of the same name on the contents of the locked
    /// data.
    #[inline]
    pub fn try_map_or_err<U: ?Sized, F, E>(
        s: Self,
        f: F,
    ) -> Result<MappedRwLockWriteGuard<'a, R, U>, (Self, E)>
    where
        F: FnOnce(&mut T) -> Result<&mut U, E>,
    {
        // SAFETY: the guard holds the exclusive lock.
        match f(unsafe { &mut *s.data }) {
            Ok(data) => {
                let data = data as *mut U;
                Ok(Self::remapped(s, data))
            }
            Err(e) => Err((s, e)),
        }
    }
}

impl<'a, R: RawRwLockFair + 'a, T: ?Sized + 'a> MappedRwLockWriteGuard<'a, R, T> {
    /// Unlocks the `RwLock` using a fair unlock protocol.
    ///
    /// By default, `RwLock` is unfair and allow the current thread to
    /// re-lock the `RwLock` before another has the chance to acquire the
    /// lock, even if that thread has been blocked on the `RwLock` for a long
    /// time. This is the default because it allows much higher throughput as
    /// it avoids forcing a context switch on every `RwLock` unlock. This can
    /// result in one thread acquiring a `RwLock` many more times than other
    /// threads.
    ///
    /// However in some cases it can be beneficial to ensure fairness by
    /// forcing the lock to pass on to a waiting thread if there is one. This
    /// is done by using this method instead of dropping the
    /// `MappedRwLockWriteGuard` normally.
    #[inline]
    #[track_caller]
    pub fn unlock_fair(s: Self) {
        let (raw, record, owner) = (s.raw, s.record, s.owner);
        mem::forget(s);
        release!(record, owner, raw, unlock_exclusive_fair);
    }
}

guard_deref!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] MappedRwLockWriteGuard<'a, R, T>, |s| s.data);
stable_address!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] MappedRwLockWriteGuard<'a, R, T>);

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> DerefMut for MappedRwLockWriteGuard<'a, R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the exclusive lock.
        unsafe { &mut *self.data }
    }
}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> Drop for MappedRwLockWriteGuard<'a, R, T> {
    #[inline]
    fn drop(&mut self) {
        release!(self.record, self.owner, self.raw, unlock_exclusive);
    }
}
