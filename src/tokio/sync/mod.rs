//! All of `tokio::sync`, with lockgraph's checked [`Mutex`] and [`RwLock`]
//! and all their guards, tokio's signatures (see the [module
//! docs](crate::tokio)). Deviation: the owned guards and the `*_owned`
//! methods require `T: 'static` (the guard keeps a borrow of the lock inside
//! its `Arc`); tokio's do not.
//!
//! ```
//! use std::sync::Arc;
//! use lockgraph::tokio::sync::Mutex;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let count = Arc::new(Mutex::new(0));
//! let task = {
//!     let count = count.clone();
//!     tokio::spawn(async move { *count.lock().await += 1 })
//! };
//! task.await.unwrap();
//! assert_eq!(*count.lock().await, 1);
//! # });
//! ```

pub use crate::facade::tokio_sync::*;

#[cfg(any(debug_assertions, feature = "always"))]
/// An owned guard: tokio's guard made `'static` over the `Arc` it keeps,
/// the owner (moved to the context that uses the guard), and the `Arc`;
/// released from its owner when dropped.
macro_rules! owned_guard {
    (
        $lock:ident, $access:ident, $must_use:literal, $(#[$m:meta])*
        $name:ident<$($p:ident),*> => $inner:ident<$target:ident> $(, $accessor:ident)?
    ) => {
        $(#[$m])*
        #[must_use = $must_use]
        pub struct $name<T: ?Sized + 'static $(, $p: ?Sized + 'static = T)*> {
            // Declared first: dropped before the `Arc` its borrow points into.
            guard: ManuallyDrop<tokio::$inner<'static, $target>>,
            owner: Owner,
            lock: Arc<$lock<T>>,
        }

        impl<T: ?Sized + 'static $(, $p: ?Sized + 'static)*> $name<T $(, $p)*> {
            /// `guard` must borrow the lock inside `lock`, which keeps it
            /// alive and in place for as long as this guard.
            fn from_parts(
                lock: Arc<$lock<T>>,
                owner: Owner,
                guard: tokio::$inner<'static, $target>,
            ) -> Self {
                $name { guard: ManuallyDrop::new(guard), owner, lock }
            }

            /// The parts (the entry moved to this context first), without
            /// running this guard's `Drop`.
            fn into_parts(self) -> (Arc<$lock<T>>, Owner, tokio::$inner<'static, $target>) {
                self.owner.adopt(&self.lock.meta, Access::$access);
                let mut this = ManuallyDrop::new(self);
                // SAFETY: `this` is never used or dropped again; each field
                // is moved out once.
                unsafe {
                    (
                        std::ptr::read(&this.lock),
                        std::ptr::read(&this.owner),
                        ManuallyDrop::take(&mut this.guard),
                    )
                }
            }

            $(
                /// The `Arc` of the lock this guard holds.
                pub fn $accessor(this: &Self) -> &Arc<$lock<T>> {
                    &this.lock
                }
            )?
        }

        impl<T: ?Sized + 'static $(, $p: ?Sized + 'static)*> Drop for $name<T $(, $p)*> {
            fn drop(&mut self) {
                let owner = self.owner.adopt(&self.lock.meta, Access::$access);
                // SAFETY: dropped once, here, before `lock`.
                let unlock = || unsafe { ManuallyDrop::drop(&mut self.guard) };
                self.lock.meta.release_guard(owner, unlock);
            }
        }

        impl<T: ?Sized + 'static $(, $p: ?Sized + 'static)*> Deref for $name<T $(, $p)*> {
            type Target = $target;
            #[inline]
            fn deref(&self) -> &$target {
                self.owner.adopt(&self.lock.meta, Access::$access);
                &self.guard
            }
        }

        impl<T: ?Sized + 'static $(, $p: ?Sized + 'static)*> fmt::Debug for $name<T $(, $p)*>
        where
            $target: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self.guard, f)
            }
        }

        impl<T: ?Sized + 'static $(, $p: ?Sized + 'static)*> fmt::Display for $name<T $(, $p)*>
        where
            $target: fmt::Display,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self.guard, f)
            }
        }
    };
}

#[cfg(any(debug_assertions, feature = "always"))]
/// Extends a guard's borrow of the lock inside an `Arc` to `'static`.
///
/// # Safety
/// The caller keeps that `Arc` alive, unmoved in its allocation, for as long
/// as the returned guard lives, and drops the guard first.
pub(crate) unsafe fn extend<'a, G: 'a, S>(guard: G) -> S {
    assert_eq!(std::mem::size_of::<G>(), std::mem::size_of::<S>());
    let guard = std::mem::ManuallyDrop::new(guard);
    // SAFETY: `S` is `G` with `'static` in place of `'a` (the callers name
    // both); the referent outlives the guard (forwarded from the caller).
    unsafe { std::mem::transmute_copy::<G, S>(&guard) }
}

#[cfg(any(debug_assertions, feature = "always"))]
pub mod mpsc;
#[cfg(any(debug_assertions, feature = "always"))]
mod mutex;
#[cfg(any(debug_assertions, feature = "always"))]
mod rwlock;
#[cfg(any(debug_assertions, feature = "always"))]
mod waits;
#[cfg(any(debug_assertions, feature = "always"))]
pub use waits::{
    AcquireError, Barrier, BarrierWaitResult, Notify, OwnedSemaphorePermit, Semaphore,
    SemaphorePermit, TryAcquireError, oneshot, watch,
};

/// The named futures of `tokio::sync`: [`Notify`]'s, checked.
#[cfg(any(debug_assertions, feature = "always"))]
pub mod futures {
    pub use super::waits::{Notified, OwnedNotified};
}
#[cfg(any(debug_assertions, feature = "always"))]
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard};
#[cfg(any(debug_assertions, feature = "always"))]
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
