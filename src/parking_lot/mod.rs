//! The parking_lot flavour: parking_lot 0.12's API (lock_api 0.4's
//! signatures, no poisoning), on the same detector as the std flavour.
//!
//! Swap `use parking_lot::{Mutex, RwLock};` for
//! `use lockgraph::parking_lot::{Mutex, RwLock};` and change nothing else:
//!
//! ```
//! use lockgraph::parking_lot::{Mutex, RwLock};
//!
//! let m = Mutex::new(1);
//! *m.lock() += 1; // no `.unwrap()`: parking_lot locks do not poison
//! let rw = RwLock::new(vec![1]);
//! rw.write().push(2);
//! assert_eq!(rw.read().len(), 2);
//! ```
//!
//! Both flavours share one lock-order graph, so a std-flavoured `Mutex` and
//! a parking_lot-flavoured one can form a cycle, and it is reported.
//!
//! What differs from the std flavour, as it does in parking_lot:
//! * [`RwLock::read_recursive`] may re-enter a read this thread holds, and is
//!   not reported; a plain `read()` re-entry is (parking_lot's RwLock is
//!   task-fair: a writer queued between the two reads blocks the second).
//! * An upgradable read held while taking `write()` or a second
//!   `upgradable_read()` of the same lock is a self-deadlock;
//!   [`RwLockUpgradableReadGuard::upgrade`] is not.
//! * Timed acquisitions (`try_lock_for`, `try_read_until`, ...) may block, so
//!   they add lock-order edges, but a timeout ends the wait by itself: they
//!   are never reported.
//! * `MutexGuard::unlocked` and `bump` release and re-acquire the lock; the
//!   re-acquisition is checked like any other.
//!
//! Not provided: `Once` (keep parking_lot's), the raw lock types as usable
//! raw locks ([`RawMutex`] and friends here only name the engine in generic
//! types like `ArcMutexGuard<RawMutex, T>` with the `arc_lock` feature),
//! `raw()`, and the `send_guard` / `deadlock_detection` features.

mod condvar;
mod mutex;
mod remutex;
mod rwlock;

use std::fmt;

pub use condvar::{Condvar, WaitTimeoutResult};

/// The generic lock types behind this module's aliases, mirroring
/// `parking_lot::lock_api`.
pub mod lock_api {
    #[cfg(feature = "arc_lock")]
    pub use super::mutex::ArcMutexGuard;
    pub use super::mutex::{MappedMutexGuard, Mutex, MutexGuard, MutexKind};
    #[cfg(feature = "arc_lock")]
    pub use super::remutex::ArcReentrantMutexGuard;
    pub use super::remutex::{MappedReentrantMutexGuard, ReentrantMutex, ReentrantMutexGuard};
    #[cfg(feature = "arc_lock")]
    pub use super::rwlock::{
        ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard,
    };
    pub use super::rwlock::{
        MappedRwLockReadGuard, MappedRwLockWriteGuard, RwLock, RwLockReadGuard,
        RwLockUpgradableReadGuard, RwLockWriteGuard,
    };
}

#[cfg(feature = "arc_lock")]
pub use lock_api::{
    ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
    ArcRwLockWriteGuard,
};

/// Names parking_lot's mutex engine in generic types (`Mutex<RawMutex, T>`).
/// Unlike parking_lot's, it is not a usable raw lock.
#[derive(Debug)]
pub struct RawMutex(());

/// Names parking_lot's fair mutex engine (`Mutex<RawFairMutex, T>`).
#[derive(Debug)]
pub struct RawFairMutex(());

/// Names parking_lot's reader-writer engine (`RwLock<RawRwLock, T>`).
#[derive(Debug)]
pub struct RawRwLock(());

/// Names parking_lot's thread-id source (`ReentrantMutex<RawMutex,
/// RawThreadId, T>`).
#[derive(Debug)]
pub struct RawThreadId(());

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::RawMutex {}
    impl Sealed for super::RawFairMutex {}
    impl Sealed for super::RawRwLock {}
    impl Sealed for super::RawThreadId {}
}

/// Makes guards `!Send`, as parking_lot's are without `send_guard`.
type GuardNoSend = *const ();

/// Prints `<locked>` without quotes, as lock_api's `Debug` does.
struct LockedPlaceholder;

impl fmt::Debug for LockedPlaceholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<locked>")
    }
}

/// `Debug` and `Display` of a guard show the data, as lock_api's do.
macro_rules! guard_fmt {
    (impl[$($p:tt)*] $guard:ty) => {
        impl<$($p)* T: ?Sized + std::fmt::Debug> std::fmt::Debug for $guard {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }
        impl<$($p)* T: ?Sized + std::fmt::Display> std::fmt::Display for $guard {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                (**self).fmt(f)
            }
        }
    };
}
pub(crate) use guard_fmt;

/// `map`, `try_map` and `try_map_or_err` of a guard, written once. The guard
/// type provides `data(&Self) -> *mut T` and `into_raw(Self) -> &'a Raw`
/// (which forgets the guard without unlocking); the mapped guard provides
/// `from_parts(&'a Raw, *mut U)`. `mut` guards map `&mut T`, `ref` guards
/// map `&T`.
macro_rules! map_methods {
    (@ty mut $t:ty) => { &mut $t };
    (@ty ref $t:ty) => { &$t };
    (@borrow mut $e:expr) => { &mut *$e };
    (@borrow ref $e:expr) => { &*$e };
    ($access:ident $mapped:ident<$lt:lifetime $(, $p:ident)*>) => {
        /// Makes a guard for a part of the locked data.
        #[inline]
        pub fn map<U: ?Sized, F>(s: Self, f: F) -> $mapped<$lt, $($p,)* U>
        where
            F: FnOnce($crate::parking_lot::map_methods!(@ty $access T)) -> $crate::parking_lot::map_methods!(@ty $access U),
        {
            // SAFETY: the guard holds the lock for `'a` with this access.
            let data = f(unsafe { $crate::parking_lot::map_methods!(@borrow $access Self::data(&s)) });
            let data = data as *const U as *mut U;
            $mapped::from_parts(Self::into_raw(s), data)
        }

        /// Makes a guard for a part of the locked data, or gives the guard
        /// back if `f` returns `None`.
        #[inline]
        pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<$mapped<$lt, $($p,)* U>, Self>
        where
            F: FnOnce($crate::parking_lot::map_methods!(@ty $access T)) -> Option<$crate::parking_lot::map_methods!(@ty $access U)>,
        {
            // SAFETY: the guard holds the lock for `'a` with this access.
            match f(unsafe { $crate::parking_lot::map_methods!(@borrow $access Self::data(&s)) }) {
                Some(data) => {
                    let data = data as *const U as *mut U;
                    Ok($mapped::from_parts(Self::into_raw(s), data))
                }
                None => Err(s),
            }
        }

        /// As `try_map`, but the closure's error comes back with the guard.
        #[inline]
        pub fn try_map_or_err<U: ?Sized, F, E>(
            s: Self,
            f: F,
        ) -> Result<$mapped<$lt, $($p,)* U>, (Self, E)>
        where
            F: FnOnce($crate::parking_lot::map_methods!(@ty $access T)) -> Result<$crate::parking_lot::map_methods!(@ty $access U), E>,
        {
            // SAFETY: the guard holds the lock for `'a` with this access.
            match f(unsafe { $crate::parking_lot::map_methods!(@borrow $access Self::data(&s)) }) {
                Ok(data) => {
                    let data = data as *const U as *mut U;
                    Ok($mapped::from_parts(Self::into_raw(s), data))
                }
                Err(e) => Err((s, e)),
            }
        }
    };
}
pub(crate) use map_methods;

/// A mutual exclusion primitive: parking_lot's `Mutex<T>`, checked.
///
/// ```
/// use lockgraph::parking_lot::{Mutex, MutexGuard};
///
/// let m = Mutex::new(vec![1, 2]);
/// let first = MutexGuard::map(m.lock(), |v| &mut v[0]);
/// assert_eq!(*first, 1);
/// ```
pub type Mutex<T> = lock_api::Mutex<RawMutex, T>;
/// A guard of a [`Mutex`].
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawMutex, T>;
/// A guard of part of a [`Mutex`]'s data.
pub type MappedMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawMutex, T>;

/// A fair mutex (unlock hands the lock to the next waiter): parking_lot's
/// `FairMutex<T>`, checked.
pub type FairMutex<T> = lock_api::Mutex<RawFairMutex, T>;
/// A guard of a [`FairMutex`].
pub type FairMutexGuard<'a, T> = lock_api::MutexGuard<'a, RawFairMutex, T>;
/// A guard of part of a [`FairMutex`]'s data.
pub type MappedFairMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawFairMutex, T>;

/// A reader-writer lock: parking_lot's `RwLock<T>`, checked.
///
/// ```
/// use lockgraph::parking_lot::{RwLock, RwLockUpgradableReadGuard};
///
/// let lock = RwLock::new(1);
/// let upgradable = lock.upgradable_read();
/// let mut write = RwLockUpgradableReadGuard::upgrade(upgradable); // not a deadlock
/// *write += 1;
/// drop(write);
/// assert_eq!(*lock.read(), 2);
/// ```
pub type RwLock<T> = lock_api::RwLock<RawRwLock, T>;
/// Shared read access to an [`RwLock`].
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLock, T>;
/// Exclusive write access to an [`RwLock`].
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;
/// Upgradable read access to an [`RwLock`].
pub type RwLockUpgradableReadGuard<'a, T> = lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>;
/// Shared read access to part of an [`RwLock`]'s data.
pub type MappedRwLockReadGuard<'a, T> = lock_api::MappedRwLockReadGuard<'a, RawRwLock, T>;
/// Exclusive write access to part of an [`RwLock`]'s data.
pub type MappedRwLockWriteGuard<'a, T> = lock_api::MappedRwLockWriteGuard<'a, RawRwLock, T>;

/// A reentrant mutex: parking_lot's `ReentrantMutex<T>`, checked.
pub type ReentrantMutex<T> = lock_api::ReentrantMutex<RawMutex, RawThreadId, T>;
/// A guard of a [`ReentrantMutex`].
pub type ReentrantMutexGuard<'a, T> = lock_api::ReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;
/// A guard of part of a [`ReentrantMutex`]'s data.
pub type MappedReentrantMutexGuard<'a, T> =
    lock_api::MappedReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;

crate::facade::maybe_const_fn! {
    /// Creates a new [`Mutex`] in a `const` context.
    #[inline]
    #[track_caller]
    pub fn const_mutex<T>(val: T) -> Mutex<T> {
        Mutex::new(val)
    }
}

crate::facade::maybe_const_fn! {
    /// Creates a new [`FairMutex`] in a `const` context.
    #[inline]
    #[track_caller]
    pub fn const_fair_mutex<T>(val: T) -> FairMutex<T> {
        FairMutex::new(val)
    }
}

crate::facade::maybe_const_fn! {
    /// Creates a new [`RwLock`] in a `const` context.
    #[inline]
    #[track_caller]
    pub fn const_rwlock<T>(val: T) -> RwLock<T> {
        RwLock::new(val)
    }
}

crate::facade::maybe_const_fn! {
    /// Creates a new [`ReentrantMutex`] in a `const` context.
    #[inline]
    #[track_caller]
    pub fn const_reentrant_mutex<T>(val: T) -> ReentrantMutex<T> {
        ReentrantMutex::new(val)
    }
}
