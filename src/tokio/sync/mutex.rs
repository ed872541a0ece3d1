//! [`Mutex`]: tokio's async mutex, checked. Built only with detection on;
//! otherwise `lockgraph::tokio::sync::Mutex` is tokio's own.

use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use super::extend;
use crate::detect::Meta;
use crate::facade::tokio_sync as tokio;
use crate::report::{Access, LockKind};

pub use tokio::TryLockError;

const KIND: LockKind = LockKind::TokioMutex;

/// An acquisition in progress: its held entry is pushed before the lock is
/// awaited (so an inversion is reported before it waits), and while a
/// watchdog runs the wait is registered; dropped before it completes — a
/// cancelled `lock()` future, a `select!` branch that lost, a panic in
/// `blocking_lock` — it takes the entry back out and withdraws the wait.
pub(super) struct Pending<'a> {
    meta: &'a Meta,
    owner: u64,
    access: Access,
    site: &'static Location<'static>,
    /// The wait registered while a watchdog runs; it ends with the
    /// acquisition.
    wait: Option<WaitGuard>,
    /// The deferred verdict, when the lock was already held by this
    /// context (see `tokio::stuck`); it ends with the acquisition.
    suspect: Option<Arc<Suspect>>,
}

type WaitGuard = crate::detect::publish::WaitGuard;
use crate::detect::local::{Deferred, Place};
use crate::tokio::stuck::Suspect;

impl<'a> Pending<'a> {
    /// `place`: where the `lock()` future lives, at its first poll
    /// (`Place::NONE` for `blocking_lock`): a relock of a lock its context
    /// holds waits for a verdict.
    #[inline(always)]
    pub(super) fn start(
        meta: &'a Meta,
        kind: LockKind,
        access: Access,
        site: &'static Location<'static>,
        place: Place,
    ) -> Pending<'a> {
        let (owner, hooks, deferred) = meta.acquire_async(kind, access, site, place);
        Pending {
            meta,
            owner,
            access,
            site,
            wait: if hooks {
                meta.begin_async_wait(site)
            } else {
                None
            },
            suspect: match deferred {
                Deferred::No => None,
                deferred => Some(Pending::suspect(meta, (owner, site), deferred)),
            },
        }
    }

    #[cold]
    #[inline(never)]
    fn suspect(
        meta: &Meta,
        (owner, site): (u64, &'static Location<'static>),
        deferred: Deferred,
    ) -> Arc<Suspect> {
        let stuck = match deferred {
            Deferred::SameFlow => crate::tokio::stuck::same_flow_after(),
            _ => crate::tokio::stuck_after(),
        };
        Suspect::new(meta.watch_releases(), (owner, meta.lock_id(), site), stuck)
    }

    /// [`Pending::start`] of a blocking acquisition (`blocking_lock`,
    /// `blocking_read`, ...): never deferred, since no poll can follow.
    #[inline(always)]
    pub(super) fn blocking(
        meta: &'a Meta,
        kind: LockKind,
        access: Access,
        site: &'static Location<'static>,
    ) -> Pending<'a> {
        Pending::start(meta, kind, access, site, Place::NONE)
    }

    /// The lock was busy at this poll: a deferred relock may be stuck now.
    #[inline(always)]
    fn waiting(&self, cx: &Context<'_>) {
        if let Some(suspect) = &self.suspect {
            self.check_stuck(suspect, cx);
        }
    }

    #[cold]
    #[inline(never)]
    fn check_stuck(&self, suspect: &Suspect, cx: &Context<'_>) {
        if suspect.poll(cx, self.meta.releases()) {
            let sibling = crate::tokio::stuck::stuck_sibling(self.owner, self.meta.lock_id());
            self.meta.report_stuck(self.access, self.site, sibling);
        }
    }

    /// Acquired: the wait ends, the entry stays (published for a running
    /// watchdog), owned by the returned context.
    #[inline(always)]
    pub(super) fn done(self) -> u64 {
        let mut this = mem::ManuallyDrop::new(self);
        drop(this.wait.take());
        // Asks the policy again: race detection that started during the
        // wait must take in the lock's clock.
        this.meta.acquired_async(this.access, this.site);
        this.owner
    }
}

impl Drop for Pending<'_> {
    // Small enough to inline, so an acquisition's drop glue costs a test
    // when it completed.
    #[inline]
    fn drop(&mut self) {
        self.cancel();
    }
}

impl Pending<'_> {
    /// Dropped before it completed: the entry leaves, the wait ends.
    #[cold]
    #[inline(never)]
    fn cancel(&mut self) {
        self.meta.release_from(self.owner);
    }
}

pin_project_lite::pin_project! {
    /// The future of an async acquisition (`lock()`, `read()`, `write()`):
    /// its first poll checks the order and pushes the held entry
    /// ([`Pending::start`]), then takes the lock at once if it is free
    /// (`now`: tokio's semaphore hands a released lock to the first waiter
    /// in its queue, so this never jumps the queue), else makes and polls
    /// tokio's future (`make`, `wait`); `finish` makes the guard of the
    /// context that acquired. Dropped before it completes — a cancelled
    /// acquisition — tokio's future leaves the lock's queue, then the entry
    /// leaves the stack.
    ///
    /// Like tokio's, each acquisition spends a unit of the task's
    /// cooperative budget, and yields when the budget is spent: one that
    /// takes the lock at once spends it with `consume_budget` (and lets the
    /// lock go again if the task must yield), one that waits in tokio's
    /// future.
    ///
    /// A future of its own rather than an `async` block: its `poll` is
    /// inlined into the caller's, where an `async` block's is a call that
    /// costs as much as the detector's bookkeeping; and a free lock is
    /// taken without building and polling tokio's future.
    pub(super) struct Acquire<'a, N, M, F, G> {
        #[pin]
        wait: Option<F>,
        pending: Option<Pending<'a>>,
        now: N,
        make: Option<M>,
        meta: &'a Meta,
        kind: LockKind,
        access: Access,
        site: &'static Location<'static>,
        finish: Option<G>,
    }
}

impl<'a, N, M, F, G> Acquire<'a, N, M, F, G> {
    #[inline(always)]
    pub(super) fn new(
        meta: &'a Meta,
        kind: LockKind,
        access: Access,
        site: &'static Location<'static>,
        (now, make): (N, M),
        finish: G,
    ) -> Self {
        Acquire {
            wait: None,
            pending: None,
            now,
            make: Some(make),
            meta,
            kind,
            access,
            site,
            finish: Some(finish),
        }
    }
}

impl<N, M, F, G, O> Future for Acquire<'_, N, M, F, G>
where
    N: FnMut() -> Option<F::Output>,
    M: FnOnce() -> F,
    F: Future,
    G: FnOnce(F::Output, u64) -> O,
{
    type Output = O;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O> {
        // Pinned: its address stays until it is dropped.
        let place = Place::of(&*self);
        let mut this = self.project();
        // Before anything else: a completed acquisition leaves no entry.
        assert!(
            this.finish.is_some(),
            "an acquisition polled after it completed"
        );
        if this.pending.is_none() {
            *this.pending = Some(Pending::start(
                this.meta,
                *this.kind,
                *this.access,
                this.site,
                place,
            ));
        }
        let busy = |pending: &Option<Pending<'_>>, cx: &Context<'_>| {
            if let Some(pending) = pending {
                pending.waiting(cx);
            }
            Poll::Pending
        };
        let guard = match this.wait.as_mut().as_pin_mut() {
            Some(wait) => match wait.poll(cx) {
                Poll::Ready(guard) => guard,
                Poll::Pending => return busy(this.pending, cx),
            },
            None => {
                match (this.now)() {
                    Some(guard) => {
                        // The unit of budget tokio's future would spend; if
                        // it is spent, the lock goes back and the task
                        // yields first, as with tokio's.
                        if crate::facade::poll_budget(cx).is_pending() {
                            drop(guard);
                            return Poll::Pending;
                        }
                        guard
                    }
                    None => {
                        let make = this.make.take().expect("made once");
                        this.wait.set(Some(make()));
                        let wait = this.wait.as_mut().as_pin_mut().expect("just set");
                        match wait.poll(cx) {
                            Poll::Ready(guard) => guard,
                            Poll::Pending => return busy(this.pending, cx),
                        }
                    }
                }
            }
        };
        let owner = this
            .pending
            .take()
            .expect("started at the first poll")
            .done();
        let finish = this.finish.take().expect("checked above");
        Poll::Ready(finish(guard, owner))
    }
}

/// An asynchronous mutex: a drop-in replacement for
/// [`tokio::sync::Mutex`](https://docs.rs/tokio/latest/tokio/sync/struct.Mutex.html)
/// whose acquisitions are recorded in lockgraph's lock-order graph, per
/// task (see the [module docs](crate::tokio)).
///
/// An inversion between two tasks is reported at the first poll of the
/// `lock()` that closes the cycle, before it waits:
///
/// ```should_panic
/// use std::sync::Arc;
/// use lockgraph::tokio::sync::Mutex;
///
/// # if !lockgraph::ENABLED { panic!("detection is off in this build") }
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
///     {
///         let (a, b) = (a.clone(), b.clone());
///         tokio::spawn(async move {
///             let _a = a.lock().await;
///             let _b = b.lock().await; // a -> b
///         })
///         .await
///         .unwrap();
///     }
///     let _b = b.lock().await;
///     let _a = a.lock().await; // panics: "potential deadlock: lock order inversion"
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    meta: Meta,
    inner: tokio::Mutex<T>,
}

impl<T: ?Sized> Mutex<T> {
    /// Creates a new unlocked mutex; its creation site names it in reports.
    #[track_caller]
    pub fn new(t: T) -> Self
    where
        T: Sized,
    {
        Mutex {
            meta: Meta::new(type_name::<T>),
            inner: tokio::Mutex::new(t),
        }
    }

    /// Creates a new unlocked mutex in a `const` context (a `static`).
    #[track_caller]
    pub const fn const_new(t: T) -> Self
    where
        T: Sized,
    {
        Mutex {
            meta: Meta::new(type_name::<T>),
            inner: tokio::Mutex::const_new(t),
        }
    }

    /// Locks the mutex, waiting asynchronously until it is free. The lock
    /// order is checked at the first poll, before waiting; dropping the
    /// future before it completes leaves nothing behind. Cancel safe, as
    /// tokio's.
    #[track_caller]
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T>> {
        self.acquire(Location::caller(), move |guard, owner| {
            MutexGuard::new(self, owner, guard)
        })
    }

    /// The acquisition behind `lock()` and `lock_owned()`: `finish` gets
    /// tokio's guard and the context that acquired.
    #[inline(always)]
    fn acquire<'a, O>(
        &'a self,
        site: &'static Location<'static>,
        finish: impl FnOnce(tokio::MutexGuard<'a, T>, u64) -> O,
    ) -> impl Future<Output = O> {
        Acquire::new(
            &self.meta,
            KIND,
            Access::Exclusive,
            site,
            (|| self.inner.try_lock().ok(), || self.inner.lock()),
            finish,
        )
    }

    /// Locks the mutex from synchronous code, blocking the thread. Panics
    /// inside an asynchronous execution context, as tokio's does.
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        let pending = Pending::blocking(&self.meta, KIND, Access::Exclusive, Location::caller());
        let guard = self.inner.blocking_lock();
        MutexGuard::new(self, pending.done(), guard)
    }

    /// [`Mutex::blocking_lock`] for an `Arc`-held mutex: the guard owns the
    /// `Arc`.
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T>
    where
        T: 'static,
    {
        let site = Location::caller();
        let pending = Pending::blocking(&self.meta, KIND, Access::Exclusive, site);
        let guard = self.inner.blocking_lock();
        // SAFETY: the guard borrows the mutex inside `self`, which the new
        // guard keeps (and drops after it).
        let guard = unsafe { extend(guard) };
        let owner = Owner::new(pending.done(), site);
        OwnedMutexGuard::from_parts(self, owner, guard)
    }

    /// [`Mutex::lock`] for an `Arc`-held mutex: the guard owns the `Arc`
    /// (and may be moved into another task, which then owns the lock from
    /// its first use of the guard).
    #[track_caller]
    pub fn lock_owned(self: Arc<Self>) -> impl Future<Output = OwnedMutexGuard<T>>
    where
        T: 'static,
    {
        let site = Location::caller();
        async move {
            let (guard, owner) = self.acquire(site, |guard, owner| (guard, owner)).await;
            let owner = Owner::new(owner, site);
            // SAFETY: the guard borrows the mutex inside `self`, which the new
            // guard keeps (and drops after it).
            let guard = unsafe { extend(guard) };
            OwnedMutexGuard::from_parts(self, owner, guard)
        }
    }

    /// Locks the mutex if it is free right now; tokio's `TryLockError`
    /// otherwise. Never waits, so it adds no lock-order edge.
    #[track_caller]
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        let guard = self.inner.try_lock()?;
        self.meta.acquired(KIND, Access::Exclusive);
        Ok(MutexGuard::new(self, self.meta.context(), guard))
    }

    /// [`Mutex::try_lock`] for an `Arc`-held mutex.
    #[track_caller]
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError>
    where
        T: 'static,
    {
        let guard = self.inner.try_lock()?;
        self.meta.acquired(KIND, Access::Exclusive);
        // SAFETY: the guard borrows the mutex inside `self`, which the new
        // guard keeps (and drops after it).
        let guard = unsafe { extend(guard) };
        let owner = Owner::new(self.meta.context(), Location::caller());
        Ok(OwnedMutexGuard::from_parts(self, owner, guard))
    }

    /// The data, mutably: `&mut self` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        self.inner.into_inner()
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(t: T) -> Self {
        Mutex::new(t)
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// A guard of a [`Mutex`], as tokio's: the lock is released when it drops.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    /// The context whose held stack has the entry.
    owner: u64,
    guard: ManuallyDrop<tokio::MutexGuard<'a, T>>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    fn new(lock: &'a Mutex<T>, owner: u64, guard: tokio::MutexGuard<'a, T>) -> Self {
        MutexGuard {
            lock,
            owner,
            guard: ManuallyDrop::new(guard),
        }
    }

    /// The parts, without running this guard's `Drop`.
    fn into_parts(self) -> (&'a Mutex<T>, u64, tokio::MutexGuard<'a, T>) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again.
        let guard = unsafe { ManuallyDrop::take(&mut this.guard) };
        (this.lock, this.owner, guard)
    }

    /// A guard for a component of the locked data, as tokio's
    /// `MutexGuard::map`.
    #[inline]
    pub fn map<U, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        let (lock, owner, guard) = this.into_parts();
        MappedMutexGuard {
            meta: &lock.meta,
            owner,
            guard: ManuallyDrop::new(tokio::MutexGuard::map(guard, f)),
        }
    }

    /// As [`MutexGuard::map`], unless `f` returns `None`: then the original
    /// guard comes back.
    #[inline]
    pub fn try_map<U, F>(this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let (lock, owner, guard) = this.into_parts();
        match tokio::MutexGuard::try_map(guard, f) {
            Ok(guard) => Ok(MappedMutexGuard {
                meta: &lock.meta,
                owner,
                guard: ManuallyDrop::new(guard),
            }),
            Err(guard) => Err(MutexGuard::new(lock, owner, guard)),
        }
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here; the field is never used again.
        let unlock = || unsafe { ManuallyDrop::drop(&mut self.guard) };
        self.lock.meta.release_guard(self.owner, unlock);
    }
}

/// A guard of part of a [`Mutex`]'s data ([`MutexGuard::map`]).
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    meta: &'a Meta,
    owner: u64,
    guard: ManuallyDrop<tokio::MappedMutexGuard<'a, T>>,
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    fn into_parts(self) -> (&'a Meta, u64, tokio::MappedMutexGuard<'a, T>) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again.
        let guard = unsafe { ManuallyDrop::take(&mut this.guard) };
        (this.meta, this.owner, guard)
    }

    /// A guard for a component of this guard's data.
    #[inline]
    pub fn map<U, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let (meta, owner, guard) = this.into_parts();
        MappedMutexGuard {
            meta,
            owner,
            guard: ManuallyDrop::new(tokio::MappedMutexGuard::map(guard, f)),
        }
    }

    /// As [`MappedMutexGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<U, F>(this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let (meta, owner, guard) = this.into_parts();
        match tokio::MappedMutexGuard::try_map(guard, f) {
            Ok(guard) => Ok(MappedMutexGuard {
                meta,
                owner,
                guard: ManuallyDrop::new(guard),
            }),
            Err(guard) => Err(MappedMutexGuard {
                meta,
                owner,
                guard: ManuallyDrop::new(guard),
            }),
        }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here; the field is never used again.
        let unlock = || unsafe { ManuallyDrop::drop(&mut self.guard) };
        self.meta.release_guard(self.owner, unlock);
    }
}

/// The owner of an owned guard: the context that acquired it until another
/// context uses it (deref, map, drop), which then owns it; and where it was
/// acquired.
pub(super) struct Owner(AtomicU64, &'static Location<'static>);

impl Owner {
    pub(super) fn new(context: u64, site: &'static Location<'static>) -> Owner {
        Owner(AtomicU64::new(context), site)
    }

    /// Moves the held entry to the current context if it is not the owner.
    #[inline]
    pub(super) fn adopt(&self, meta: &Meta, access: Access) -> u64 {
        let owner = self.0.load(Ordering::Relaxed);
        let now = meta.adopt(owner, self.1, access);
        if now != owner {
            self.0.store(now, Ordering::Relaxed);
        }
        now
    }
}

owned_guard! {
    Mutex, Exclusive, "if unused the Mutex will immediately unlock",
    /// An owned guard of an `Arc`-held [`Mutex`] ([`Mutex::lock_owned`]): it
    /// keeps the `Arc`, so it is `'static` and may move into another task,
    /// which owns the lock from its first use of the guard.
    OwnedMutexGuard<> => MutexGuard<T>, mutex
}
owned_guard! {
    Mutex, Exclusive, "if unused the Mutex will immediately unlock",
    /// An owned guard of part of a [`Mutex`]'s data ([`OwnedMutexGuard::map`]).
    OwnedMappedMutexGuard<U> => MappedMutexGuard<U>
}

impl<T: ?Sized + 'static> DerefMut for OwnedMutexGuard<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.owner.adopt(&self.lock.meta, Access::Exclusive);
        &mut self.guard
    }
}

impl<T: ?Sized + 'static, U: ?Sized + 'static> DerefMut for OwnedMappedMutexGuard<T, U> {
    #[inline]
    fn deref_mut(&mut self) -> &mut U {
        self.owner.adopt(&self.lock.meta, Access::Exclusive);
        &mut self.guard
    }
}

impl<T: ?Sized + 'static> OwnedMutexGuard<T> {
    /// An owned guard for a component of the locked data.
    #[inline]
    pub fn map<U, F>(this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        U: ?Sized + 'static,
        F: FnOnce(&mut T) -> &mut U,
    {
        let (lock, owner, guard) = this.into_parts();
        OwnedMappedMutexGuard::from_parts(lock, owner, tokio::MutexGuard::map(guard, f))
    }

    /// As [`OwnedMutexGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<U, F>(this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        U: ?Sized + 'static,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let (lock, owner, guard) = this.into_parts();
        match tokio::MutexGuard::try_map(guard, f) {
            Ok(guard) => Ok(OwnedMappedMutexGuard::from_parts(lock, owner, guard)),
            Err(guard) => Err(OwnedMutexGuard::from_parts(lock, owner, guard)),
        }
    }
}

impl<T: ?Sized + 'static, U: ?Sized + 'static> OwnedMappedMutexGuard<T, U> {
    /// An owned guard for a component of this guard's data.
    #[inline]
    pub fn map<S, F>(this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        S: 'static,
        F: FnOnce(&mut U) -> &mut S,
    {
        let (lock, owner, guard) = this.into_parts();
        OwnedMappedMutexGuard::from_parts(lock, owner, tokio::MappedMutexGuard::map(guard, f))
    }

    /// As [`OwnedMappedMutexGuard::map`], unless `f` returns `None`.
    #[inline]
    pub fn try_map<S, F>(this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        S: 'static,
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let (lock, owner, guard) = this.into_parts();
        match tokio::MappedMutexGuard::try_map(guard, f) {
            Ok(guard) => Ok(OwnedMappedMutexGuard::from_parts(lock, owner, guard)),
            Err(guard) => Err(OwnedMappedMutexGuard::from_parts(lock, owner, guard)),
        }
    }
}

/// `Deref`, `DerefMut`, `Debug` and `Display` through the inner guard.
macro_rules! guard_impls {
    ($([$($g:tt)*] $guard:ty => $target:ident;)*) => {$(
        impl<$($g)*> Deref for $guard {
            type Target = $target;
            #[inline]
            fn deref(&self) -> &$target {
                &self.guard
            }
        }
        impl<$($g)*> DerefMut for $guard {
            #[inline]
            fn deref_mut(&mut self) -> &mut $target {
                &mut self.guard
            }
        }
        impl<$($g)*> fmt::Debug for $guard where $target: fmt::Debug {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self.guard, f)
            }
        }
        impl<$($g)*> fmt::Display for $guard where $target: fmt::Display {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self.guard, f)
            }
        }
    )*};
}

guard_impls! {
    ['a, T: ?Sized] MutexGuard<'a, T> => T;
    ['a, T: ?Sized] MappedMutexGuard<'a, T> => T;
}
