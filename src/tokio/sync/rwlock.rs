//! [`RwLock`]: tokio's async reader-writer lock, checked. Built only with
//! detection on; otherwise `lockgraph::tokio::sync::RwLock` is tokio's own.
//!
//! tokio's lock is write-preferring and fair: a `read()` queues behind a
//! waiting writer. So a `read()` orders the locks held before it like a
//! `write()` does, and a second `read()` by a task that already reads is a
//! report (it hangs as soon as a writer arrives between the two).

use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::Arc;

use super::extend;
use super::mutex::{Acquire, Owner, Pending};
use crate::detect::Meta;
use crate::facade::tokio_sync as tokio;
use crate::report::{Access, LockKind};

pub use tokio::TryLockError;

const KIND: LockKind = LockKind::TokioRwLock;

/// An asynchronous reader-writer lock: a drop-in replacement for
/// [`tokio::sync::RwLock`](https://docs.rs/tokio/latest/tokio/sync/struct.RwLock.html)
/// whose acquisitions are recorded in lockgraph's lock-order graph, per
/// task (see the [module docs](crate::tokio)).
///
/// ```
/// use lockgraph::tokio::sync::RwLock;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().await;
///     assert_eq!(*r1, 5);
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    meta: Meta,
    inner: tokio::RwLock<T>,
}

impl<T: ?Sized> RwLock<T> {
    /// Creates a new unlocked lock; its creation site names it in reports.
    #[track_caller]
    pub fn new(value: T) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            meta: Meta::new(type_name::<T>),
            inner: tokio::RwLock::new(value),
        }
    }

    /// Creates a lock that admits at most `max_reads` concurrent readers.
    /// Panics if `max_reads` is more than `u32::MAX >> 3`, as tokio's.
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            meta: Meta::new(type_name::<T>),
            inner: tokio::RwLock::with_max_readers(value, max_reads),
        }
    }

    /// [`RwLock::new`] in a `const` context.
    #[track_caller]
    pub const fn const_new(value: T) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            meta: Meta::new(type_name::<T>),
            inner: tokio::RwLock::const_new(value),
        }
    }

    /// [`RwLock::with_max_readers`] in a `const` context.
    #[track_caller]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            meta: Meta::new(type_name::<T>),
            inner: tokio::RwLock::const_with_max_readers(value, max_reads),
        }
    }

    /// Locks for reading, waiting while a writer holds the lock or waits
    /// for it. Checked at the first poll, before waiting.
    #[track_caller]
    pub fn read(&self) -> impl Future<Output = RwLockReadGuard<'_, T>> {
        self.acquire_read(Location::caller(), move |guard, owner| {
            RwLockReadGuard::new(&self.meta, owner, guard)
        })
    }

    /// The acquisition behind `read()` and `read_owned()`: `finish` gets
    /// tokio's guard and the context that acquired.
    #[inline(always)]
    fn acquire_read<'a, O>(
        &'a self,
        site: &'static Location<'static>,
        finish: impl FnOnce(tokio::RwLockReadGuard<'a, T>, u64) -> O,
    ) -> impl Future<Output = O> {
        Acquire::new(
            &self.meta,
            KIND,
            Access::Shared,
            site,
            (|| self.inner.try_read().ok(), || self.inner.read()),
            finish,
        )
    }

    /// Locks for reading from synchronous code. Panics inside an
    /// asynchronous execution context, as tokio's does.
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        let pending = Pending::blocking(&self.meta, KIND, Access::Shared, Location::caller());
        let guard = self.inner.blocking_read();
        RwLockReadGuard::new(&self.meta, pending.done(), guard)
    }

    /// [`RwLock::read`] for an `Arc`-held lock: the guard owns the `Arc`.
    #[track_caller]
    pub fn read_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockReadGuard<T>>
    where
        T: 'static,
    {
        let site = Location::caller();
        async move {
            let (guard, owner) = self.acquire_read(site, |guard, owner| (guard, owner)).await;
            let owner = Owner::new(owner, site);
            // SAFETY: the guard borrows the lock inside `self`, which the
            // new guard keeps (and drops after it).
            let guard = unsafe { extend(guard) };
            OwnedRwLockReadGuard::from_parts(self, owner, guard)
        }
    }

    /// Locks for reading if no writer holds or waits for the lock.
    #[track_caller]
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let guard = self.inner.try_read()?;
        self.meta.acquired(KIND, Access::Shared);
        Ok(RwLockReadGuard::new(&self.meta, self.meta.context(), guard))
    }

    /// [`RwLock::try_read`] for an `Arc`-held lock.
    #[track_caller]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError>
    where
        T: 'static,
    {
        let guard = self.inner.try_read()?;
        self.meta.acquired(KIND, Access::Shared);
        let owner = Owner::new(self.meta.context(), Location::caller());
        // SAFETY: as in `read_owned`.
        let guard = unsafe { extend(guard) };
        Ok(OwnedRwLockReadGuard::from_parts(self, owner, guard))
    }

    /// Locks for writing, waiting until no reader or writer holds it.
    /// Checked at the first poll, before waiting.
    #[track_caller]
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> {
        self.acquire_write(Location::caller(), move |guard, owner| {
            RwLockWriteGuard::new(&self.meta, owner, guard)
        })
    }

    /// The acquisition behind `write()` and `write_owned()`: `finish` gets
    /// tokio's guard and the context that acquired.
    #[inline(always)]
    fn acquire_write<'a, O>(
        &'a self,
        site: &'static Location<'static>,
        finish: impl FnOnce(tokio::RwLockWriteGuard<'a, T>, u64) -> O,
    ) -> impl Future<Output = O> {
        Acquire::new(
            &self.meta,
            KIND,
            Access::Exclusive,
            site,
            (|| self.inner.try_write().ok(), || self.inner.write()),
            finish,
        )
    }

    /// Locks for writing from synchronous code. Panics inside an
    /// asynchronous execution context, as tokio's does.
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        let pending = Pending::blocking(&self.meta, KIND, Access::Exclusive, Location::caller());
        let guard = self.inner.blocking_write();
        RwLockWriteGuard::new(&self.meta, pending.done(), guard)
    }

    /// [`RwLock::write`] for an `Arc`-held lock: the guard owns the `Arc`.
    #[track_caller]
    pub fn write_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockWriteGuard<T>>
    where
        T: 'static,
    {
        let site = Location::caller();
        async move {
            let (guard, owner) = self
                .acquire_write(site, |guard, owner| (guard, owner))
                .await;
            let owner = Owner::new(owner, site);
            // SAFETY: as in `read_owned`.
            let guard = unsafe { extend(guard) };
            OwnedRwLockWriteGuard::from_parts(self, owner, guard)
        }
    }

    /// Locks for writing if the lock is free right now.
    #[track_caller]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let guard = self.inner.try_write()?;
        self.meta.acquired(KIND, Access::Exclusive);
        Ok(RwLockWriteGuard::new(
            &self.meta,
            self.meta.context(),
            guard,
        ))
    }

    /// [`RwLock::try_write`] for an `Arc`-held lock.
    #[track_caller]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError>
    where
        T: 'static,
    {
        let guard = self.inner.try_write()?;
        self.meta.acquired(KIND, Access::Exclusive);
        let owner = Owner::new(self.meta.context(), Location::caller());
        // SAFETY: as in `read_owned`.
        let guard = unsafe { extend(guard) };
        Ok(OwnedRwLockWriteGuard::from_parts(self, owner, guard))
    }

    /// The data, mutably: `&mut self` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        self.inner.into_inner()
    }
}

impl<T> From<T> for RwLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// The guards borrowing the lock: the lock's record, the owning context,
/// tokio's guard; released from the owner when dropped.
macro_rules! borrowed_guard {
    ($(#[$m:meta])* $name:ident => $inner:ident) => {
        $(#[$m])*
        #[must_use = "if unused the RwLock will immediately unlock"]
        pub struct $name<'a, T: ?Sized> {
            meta: &'a Meta,
            owner: u64,
            guard: ManuallyDrop<tokio::$inner<'a, T>>,
        }

        impl<'a, T: ?Sized> $name<'a, T> {
            fn new(meta: &'a Meta, owner: u64, guard: tokio::$inner<'a, T>) -> Self {
                $name { meta, owner, guard: ManuallyDrop::new(guard) }
            }

            /// The parts, without running this guard's `Drop`.
            fn into_parts(self) -> (&'a Meta, u64, tokio::$inner<'a, T>) {
                let mut this = ManuallyDrop::new(self);
                // SAFETY: `this` is never used or dropped again.
                let guard = unsafe { ManuallyDrop::take(&mut this.guard) };
                (this.meta, this.owner, guard)
            }
        }

        impl<T: ?Sized> Drop for $name<'_, T> {
            fn drop(&mut self) {
                // SAFETY: dropped once, here; the field is never used again.
                let unlock = || unsafe { ManuallyDrop::drop(&mut self.guard) };
                self.meta.release_guard(self.owner, unlock);
            }
        }

        impl<T: ?Sized> Deref for $name<'_, T> {
            type Target = T;
            #[inline]
            fn deref(&self) -> &T {
                &self.guard
            }
        }

        impl<T: ?Sized + fmt::Debug> fmt::Debug for $name<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: ?Sized + fmt::Display> fmt::Display for $name<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
}

borrowed_guard! {
    /// A read guard of a [`RwLock`], as tokio's.
    RwLockReadGuard => RwLockReadGuard
}
borrowed_guard! {
    /// A write guard of a [`RwLock`], as tokio's.
    RwLockWriteGuard => RwLockWriteGuard
}
borrowed_guard! {
    /// A write guard of part of a [`RwLock`]'s data ([`RwLockWriteGuard::map`]).
    RwLockMappedWriteGuard => RwLockMappedWriteGuard
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A read guard for a component of the locked data.
    #[inline]
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let (meta, owner, guard) = this.into_parts();
        RwLockReadGuard::new(meta, owner, tokio::RwLockReadGuard::map(guard, f))
    }

    /// As [`RwLockReadGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let (meta, owner, guard) = this.into_parts();
        match tokio::RwLockReadGuard::try_map(guard, f) {
            Ok(guard) => Ok(RwLockReadGuard::new(meta, owner, guard)),
            Err(guard) => Err(RwLockReadGuard::new(meta, owner, guard)),
        }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// A write guard for a component of the locked data.
    #[inline]
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let (meta, owner, guard) = this.into_parts();
        RwLockMappedWriteGuard::new(meta, owner, tokio::RwLockWriteGuard::map(guard, f))
    }

    /// As [`RwLockWriteGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let (meta, owner, guard) = this.into_parts();
        match tokio::RwLockWriteGuard::try_map(guard, f) {
            Ok(guard) => Ok(RwLockMappedWriteGuard::new(meta, owner, guard)),
            Err(guard) => Err(RwLockWriteGuard::new(meta, owner, guard)),
        }
    }

    /// Downgrades to a read guard of a component of the data, without
    /// letting a writer in between.
    #[inline]
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let (meta, owner, guard) = this.into_parts();
        meta.change_access(Access::Shared);
        RwLockReadGuard::new(
            meta,
            owner,
            tokio::RwLockWriteGuard::downgrade_map(guard, f),
        )
    }

    /// As [`RwLockWriteGuard::downgrade_map`], unless `f` returns `None`.
    #[inline]
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let (meta, owner, guard) = this.into_parts();
        match tokio::RwLockWriteGuard::try_downgrade_map(guard, f) {
            Ok(guard) => {
                meta.change_access(Access::Shared);
                Ok(RwLockReadGuard::new(meta, owner, guard))
            }
            Err(guard) => Err(RwLockWriteGuard::new(meta, owner, guard)),
        }
    }

    /// This guard as a mapped write guard of the whole data.
    #[inline]
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        let (meta, owner, guard) = this.into_parts();
        RwLockMappedWriteGuard::new(meta, owner, tokio::RwLockWriteGuard::into_mapped(guard))
    }

    /// Downgrades to a read guard, without letting a writer in between.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let (meta, owner, guard) = self.into_parts();
        meta.change_access(Access::Shared);
        RwLockReadGuard::new(meta, owner, guard.downgrade())
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// A write guard for a component of this guard's data.
    #[inline]
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let (meta, owner, guard) = this.into_parts();
        RwLockMappedWriteGuard::new(meta, owner, tokio::RwLockMappedWriteGuard::map(guard, f))
    }

    /// As [`RwLockMappedWriteGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let (meta, owner, guard) = this.into_parts();
        match tokio::RwLockMappedWriteGuard::try_map(guard, f) {
            Ok(guard) => Ok(RwLockMappedWriteGuard::new(meta, owner, guard)),
            Err(guard) => Err(RwLockMappedWriteGuard::new(meta, owner, guard)),
        }
    }
}

owned_guard! {
    RwLock, Shared, "if unused the RwLock will immediately unlock",
    /// An owned read guard of an `Arc`-held [`RwLock`] ([`RwLock::read_owned`]).
    OwnedRwLockReadGuard<U> => RwLockReadGuard<U>, rwlock
}
owned_guard! {
    RwLock, Exclusive, "if unused the RwLock will immediately unlock",
    /// An owned write guard of an `Arc`-held [`RwLock`] ([`RwLock::write_owned`]).
    OwnedRwLockWriteGuard<> => RwLockWriteGuard<T>, rwlock
}
owned_guard! {
    RwLock, Exclusive, "if unused the RwLock will immediately unlock",
    /// An owned write guard of part of an `Arc`-held [`RwLock`]'s data
    /// ([`OwnedRwLockWriteGuard::map`]).
    OwnedRwLockMappedWriteGuard<U> => RwLockMappedWriteGuard<U>, rwlock
}

impl<T: ?Sized + 'static> DerefMut for OwnedRwLockWriteGuard<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.owner.adopt(&self.lock.meta, Access::Exclusive);
        &mut self.guard
    }
}

impl<T: ?Sized + 'static, U: ?Sized + 'static> DerefMut for OwnedRwLockMappedWriteGuard<T, U> {
    #[inline]
    fn deref_mut(&mut self) -> &mut U {
        self.owner.adopt(&self.lock.meta, Access::Exclusive);
        &mut self.guard
    }
}

impl<T: ?Sized + 'static, U: ?Sized + 'static> OwnedRwLockReadGuard<T, U> {
    /// An owned read guard for a component of this guard's data.
    #[inline]
    pub fn map<F, V: ?Sized + 'static>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let (lock, owner, guard) = this.into_parts();
        OwnedRwLockReadGuard::from_parts(lock, owner, tokio::RwLockReadGuard::map(guard, f))
    }

    /// As [`OwnedRwLockReadGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<F, V: ?Sized + 'static>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let (lock, owner, guard) = this.into_parts();
        match tokio::RwLockReadGuard::try_map(guard, f) {
            Ok(guard) => Ok(OwnedRwLockReadGuard::from_parts(lock, owner, guard)),
            Err(guard) => Err(OwnedRwLockReadGuard::from_parts(lock, owner, guard)),
        }
    }
}

impl<T: ?Sized + 'static> OwnedRwLockWriteGuard<T> {
    /// An owned write guard for a component of the locked data.
    #[inline]
    pub fn map<F, U: ?Sized + 'static>(this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let (lock, owner, guard) = this.into_parts();
        let guard = tokio::RwLockWriteGuard::map(guard, f);
        OwnedRwLockMappedWriteGuard::from_parts(lock, owner, guard)
    }

    /// As [`OwnedRwLockWriteGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<F, U: ?Sized + 'static>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let (lock, owner, guard) = this.into_parts();
        match tokio::RwLockWriteGuard::try_map(guard, f) {
            Ok(guard) => Ok(OwnedRwLockMappedWriteGuard::from_parts(lock, owner, guard)),
            Err(guard) => Err(OwnedRwLockWriteGuard::from_parts(lock, owner, guard)),
        }
    }

    /// Downgrades to an owned read guard of a component of the data.
    #[inline]
    pub fn downgrade_map<F, U: ?Sized + 'static>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let (lock, owner, guard) = this.into_parts();
        lock.meta.change_access(Access::Shared);
        let guard = tokio::RwLockWriteGuard::downgrade_map(guard, f);
        OwnedRwLockReadGuard::from_parts(lock, owner, guard)
    }

    /// As [`OwnedRwLockWriteGuard::downgrade_map`], unless `f` returns
    /// `None`.
    #[inline]
    pub fn try_downgrade_map<F, U: ?Sized + 'static>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let (lock, owner, guard) = this.into_parts();
        match tokio::RwLockWriteGuard::try_downgrade_map(guard, f) {
            Ok(guard) => {
                lock.meta.change_access(Access::Shared);
                Ok(OwnedRwLockReadGuard::from_parts(lock, owner, guard))
            }
            Err(guard) => Err(OwnedRwLockWriteGuard::from_parts(lock, owner, guard)),
        }
    }

    /// This guard as an owned mapped write guard of the whole data.
    #[inline]
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        let (lock, owner, guard) = this.into_parts();
        let guard = tokio::RwLockWriteGuard::into_mapped(guard);
        OwnedRwLockMappedWriteGuard::from_parts(lock, owner, guard)
    }

    /// Downgrades to an owned read guard, without letting a writer in.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let (lock, owner, guard) = self.into_parts();
        lock.meta.change_access(Access::Shared);
        OwnedRwLockReadGuard::from_parts(lock, owner, guard.downgrade())
    }
}

impl<T: ?Sized + 'static, U: ?Sized + 'static> OwnedRwLockMappedWriteGuard<T, U> {
    /// An owned write guard for a component of this guard's data.
    #[inline]
    pub fn map<F, V: ?Sized + 'static>(this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let (lock, owner, guard) = this.into_parts();
        let guard = tokio::RwLockMappedWriteGuard::map(guard, f);
        OwnedRwLockMappedWriteGuard::from_parts(lock, owner, guard)
    }

    /// As [`OwnedRwLockMappedWriteGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<F, V: ?Sized + 'static>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let (lock, owner, guard) = this.into_parts();
        match tokio::RwLockMappedWriteGuard::try_map(guard, f) {
            Ok(guard) => Ok(OwnedRwLockMappedWriteGuard::from_parts(lock, owner, guard)),
            Err(guard) => Err(OwnedRwLockMappedWriteGuard::from_parts(lock, owner, guard)),
        }
    }
}
