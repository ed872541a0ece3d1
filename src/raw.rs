//! Checked raw locks: an engine lock plus its detector record. Both API
//! flavours (std's in `mutex.rs`, `rwlock.rs`, `reentrant.rs`, `condvar.rs`;
//! parking_lot's in `parking_lot/`) are thin skins over these, so the
//! acquire/release bookkeeping is written once.
//!
//! Every blocking acquisition calls the detector *before* blocking (so a
//! deadlock becomes a report instead of a hang); a `try_` acquisition calls
//! it only after success and adds no edge; a timed one adds edges but never
//! reports.

use std::any::type_name;
use std::borrow::Cow;
use std::time::{Duration, Instant};

use crate::detect::{Meta, TypeName, clock};
use crate::facade::{self as sync, AtomicU64, Ordering, maybe_const_fn};
use crate::report::{Access, LockKind};

/// A blocking, non-blocking and timed acquisition of one access mode: the
/// mutex's, and each of the reader-writer lock's.
macro_rules! acquire_methods {
    ($lock:ident, $try:ident, $until:ident, $for:ident, $access:expr,
     $e_lock:ident, $e_try:ident, $e_until:ident, $e_for:ident) => {
        // Inlined into the skins' generic methods in optimised builds; in a
        // dev-profile build a call, so that the check runs as lockgraph was
        // compiled (`[profile.dev.package.lockgraph] opt-level`), not at
        // the user's opt-level 0.
        #[cfg_attr(not(debug_assertions), inline(always))]
        #[track_caller]
        pub(crate) fn $lock(&self, kind: LockKind) {
            if self.meta.acquire(kind, $access) {
                self.meta
                    .watched($access, || self.engine.$e_try(), || self.engine.$e_lock());
            } else {
                self.engine.$e_lock();
            }
        }

        #[cfg_attr(not(debug_assertions), inline(always))]
        #[track_caller]
        pub(crate) fn $try(&self, kind: LockKind) -> bool {
            let locked = self.engine.$e_try();
            if locked {
                self.meta.acquired(kind, $access);
            }
            locked
        }

        #[track_caller]
        pub(crate) fn $until(&self, kind: LockKind, deadline: Instant) -> bool {
            self.meta.before_timed(kind, $access);
            let locked = self.engine.$e_until(deadline);
            if locked {
                self.meta.acquired(kind, $access);
            }
            locked
        }

        #[track_caller]
        pub(crate) fn $for(&self, kind: LockKind, timeout: Duration) -> bool {
            self.meta.before_timed(kind, $access);
            let locked = self.engine.$e_for(timeout);
            if locked {
                self.meta.acquired(kind, $access);
            }
            locked
        }
    };
}

/// A mutex: [`sync::RawMutex`] checked by the detector.
pub(crate) struct RawMutex {
    engine: sync::RawMutex,
    pub(crate) meta: Meta,
}

impl RawMutex {
    maybe_const_fn! {
        #[track_caller]
        #[inline(always)]
        pub(crate) fn new(data: TypeName) -> RawMutex {
            RawMutex { engine: sync::RawMutex::new(), meta: Meta::new(data) }
        }
    }

    #[track_caller]
    pub(crate) fn named(kind: LockKind, data: TypeName, name: Cow<'static, str>) -> RawMutex {
        RawMutex {
            meta: Meta::named(kind, data, name),
            ..RawMutex::new(data)
        }
    }

    acquire_methods!(
        lock,
        try_lock,
        try_lock_until,
        try_lock_for,
        Access::Exclusive,
        lock,
        try_lock,
        try_lock_until,
        try_lock_for
    );

    /// # Safety
    /// The current thread must hold the lock.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) unsafe fn unlock(&self) {
        self.meta.release();
        // SAFETY: forwarded from the caller.
        unsafe { self.engine.unlock() }
    }

    /// # Safety
    /// The current thread must hold the lock.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) unsafe fn unlock_fair(&self) {
        self.meta.release();
        // SAFETY: forwarded from the caller.
        unsafe { self.engine.unlock_fair() }
    }

    /// Hands the lock to a waiter, if any, and takes it back: a release and a
    /// blocking re-acquisition for the detector.
    ///
    /// # Safety
    /// The current thread must hold the lock.
    #[track_caller]
    pub(crate) unsafe fn bump(&self, kind: LockKind) {
        self.meta.release();
        let watched = self.meta.acquire(kind, Access::Exclusive);
        // SAFETY: forwarded from the caller.
        let bump = || unsafe { self.engine.bump() };
        if watched {
            // A bump may park while a waiter runs: a wait like any other.
            self.meta.watched(Access::Exclusive, || false, bump);
        } else {
            bump();
        }
    }

    /// Releases the lock, waits on `condvar`, re-acquires. Returns whether
    /// the wait timed out.
    ///
    /// # Safety
    /// The current thread must hold the lock.
    #[track_caller]
    unsafe fn wait(
        &self,
        condvar: &sync::Condvar,
        kind: LockKind,
        deadline: Option<Instant>,
    ) -> bool {
        // Waking up re-acquires the lock while this thread holds whatever else
        // it held: check those edges now, before blocking.
        self.meta.release();
        let watched = self.meta.acquire(kind, Access::Exclusive);
        // SAFETY: forwarded from the caller.
        let wait = || unsafe { condvar.wait(&self.engine, deadline) };
        if watched {
            self.meta.watched_wait(deadline.is_some(), wait)
        } else {
            wait()
        }
    }

    #[inline(always)]
    pub(crate) fn is_locked(&self) -> bool {
        self.engine.is_locked()
    }
}

/// A condition variable: [`sync::Condvar`] plus, for both Condvar skins,
/// the race detector's notify→wake ordering and the lock order of its
/// waits and notifications: a wait holding `L` orders `L` before the
/// Condvar, a notification orders the Condvar before the locks its thread
/// took on the way, so a waiter holding a lock its notifier needs closes
/// a cycle.
pub(crate) struct RawCondvar {
    inner: sync::Condvar,
    meta: Meta,
}

impl RawCondvar {
    maybe_const_fn! {
        #[inline(always)]
        #[track_caller]
        pub(crate) fn new() -> RawCondvar {
            RawCondvar { inner: sync::Condvar::new(), meta: Meta::new(type_name::<()>) }
        }
    }

    /// Wakes one waiter; returns whether there was one.
    #[inline]
    #[track_caller]
    pub(crate) fn notify_one(&self) -> bool {
        self.meta.signal_event(LockKind::Condvar, true);
        clock::notify(self.key());
        self.inner.notify_one()
    }

    /// Wakes every waiter; returns how many there were.
    #[inline]
    #[track_caller]
    pub(crate) fn notify_all(&self) -> usize {
        self.meta.signal_event(LockKind::Condvar, true);
        clock::notify(self.key());
        self.inner.notify_all()
    }

    /// Orders the locks held now, but `mutex`, before this Condvar, as a
    /// wait would: `wait_while` calls it before testing its condition, since
    /// in another run the condition could have made it wait.
    ///
    /// Untimed waits only: a timeout ends a wait by itself.
    #[inline]
    #[track_caller]
    pub(crate) fn would_wait(&self, mutex: &RawMutex) {
        self.meta.wait_event(LockKind::Condvar, Some(&mutex.meta));
    }

    /// Releases `mutex`, waits for a notification (or `deadline`), and
    /// re-acquires it; returns whether the wait timed out. Whatever a
    /// notifier did before notifying happens before what this thread does
    /// next, however the wait ended.
    ///
    /// # Safety
    /// The current thread must hold `mutex`.
    #[track_caller]
    pub(crate) unsafe fn wait(
        &self,
        mutex: &RawMutex,
        kind: LockKind,
        deadline: Option<Instant>,
    ) -> bool {
        if deadline.is_none() {
            self.would_wait(mutex);
        }
        // SAFETY: forwarded from the caller.
        let timed_out = unsafe { mutex.wait(&self.inner, kind, deadline) };
        clock::woken(self.key());
        timed_out
    }

    /// The key of this condition variable's clock.
    fn key(&self) -> usize {
        self as *const RawCondvar as usize
    }
}

impl Drop for RawCondvar {
    fn drop(&mut self) {
        clock::forget_condvar(self.key());
    }
}

/// A reader-writer lock: [`sync::RawRwLock`] checked by the detector.
pub(crate) struct RawRwLock {
    engine: sync::RawRwLock,
    pub(crate) meta: Meta,
}

/// Releases of one mode: the held stack first, then the engine.
macro_rules! rw_release {
    ($($(#[$m:meta])* $name:ident => $engine:ident;)*) => {$(
        $(#[$m])*
        ///
        /// # Safety
        /// The current thread must hold the lock in the mode released.
        #[cfg_attr(not(debug_assertions), inline(always))]
        pub(crate) unsafe fn $name(&self) {
            self.meta.release();
            // SAFETY: forwarded from the caller.
            unsafe { self.engine.$engine() }
        }
    )*};
}

/// Mode changes of a held lock: the engine's, then the held entry's access
/// (for conversions that can fail, only when they succeed).
macro_rules! rw_convert {
    (@done (), $self:ident, $access:expr, $result:ident) => {{
        let () = $result;
        $self.meta.change_access($access);
    }};
    (@done bool, $self:ident, $access:expr, $result:ident) => {{
        if $result {
            $self.meta.change_access($access);
        }
        $result
    }};
    ($($(#[$m:meta])* $name:ident($($arg:ident: $t:ty),*) -> $ret:tt => $access:expr;)*) => {$(
        $(#[$m])*
        ///
        /// # Safety
        /// The current thread must hold the lock in the mode converted from.
        pub(crate) unsafe fn $name(&self $(, $arg: $t)*) -> $ret {
            // SAFETY: forwarded from the caller.
            #[allow(clippy::let_unit_value)]
            let result = unsafe { self.engine.$name($($arg),*) };
            rw_convert!(@done $ret, self, $access, result)
        }
    )*};
}

impl RawRwLock {
    maybe_const_fn! {
        #[track_caller]
        #[inline(always)]
        pub(crate) fn new(data: TypeName) -> RawRwLock {
            RawRwLock { engine: sync::RawRwLock::new(), meta: Meta::new(data) }
        }
    }

    #[track_caller]
    pub(crate) fn named(kind: LockKind, data: TypeName, name: Cow<'static, str>) -> RawRwLock {
        RawRwLock {
            meta: Meta::named(kind, data, name),
            ..RawRwLock::new(data)
        }
    }

    acquire_methods!(
        read,
        try_read,
        try_read_until,
        try_read_for,
        Access::Shared,
        lock_shared,
        try_lock_shared,
        try_lock_shared_until,
        try_lock_shared_for
    );
    acquire_methods!(
        read_recursive,
        try_read_recursive,
        try_read_recursive_until,
        try_read_recursive_for,
        Access::SharedRecursive,
        lock_shared_recursive,
        try_lock_shared_recursive,
        try_lock_shared_recursive_until,
        try_lock_shared_recursive_for
    );
    acquire_methods!(
        write,
        try_write,
        try_write_until,
        try_write_for,
        Access::Exclusive,
        lock_exclusive,
        try_lock_exclusive,
        try_lock_exclusive_until,
        try_lock_exclusive_for
    );
    acquire_methods!(
        upgradable,
        try_upgradable,
        try_upgradable_until,
        try_upgradable_for,
        Access::Upgradable,
        lock_upgradable,
        try_lock_upgradable,
        try_lock_upgradable_until,
        try_lock_upgradable_for
    );

    rw_release! {
        /// Releases a shared lock.
        unlock_read => unlock_shared;
        /// Releases the exclusive lock.
        unlock_write => unlock_exclusive;
        /// Releases the upgradable lock.
        unlock_upgradable => unlock_upgradable;
        /// Releases a shared lock, handing it to a waiter if any.
        unlock_read_fair => unlock_shared_fair;
        /// Releases the exclusive lock, handing it to a waiter if any.
        unlock_write_fair => unlock_exclusive_fair;
        /// Releases the upgradable lock, handing it to a waiter if any.
        unlock_upgradable_fair => unlock_upgradable_fair;
    }

    // Mode changes wait (if at all) only for other readers of this lock,
    // who cannot be waiting for anything this thread holds through it: no
    // edge changes, only the held entry's access.
    rw_convert! {
        /// Upgradable to exclusive, waiting for readers to leave.
        upgrade() -> () => Access::Exclusive;
        /// Upgradable to exclusive if no reader is left.
        try_upgrade() -> bool => Access::Exclusive;
        /// [`RawRwLock::try_upgrade`], waiting until `deadline`.
        try_upgrade_until(deadline: Instant) -> bool => Access::Exclusive;
        /// [`RawRwLock::try_upgrade`], waiting up to `timeout`.
        try_upgrade_for(timeout: Duration) -> bool => Access::Exclusive;
        /// Exclusive to shared.
        downgrade() -> () => Access::Shared;
        /// Exclusive to upgradable.
        downgrade_to_upgradable() -> () => Access::Upgradable;
        /// Upgradable to shared.
        downgrade_upgradable() -> () => Access::Shared;
    }

    #[inline(always)]
    pub(crate) fn is_locked(&self) -> bool {
        self.engine.is_locked()
    }

    #[inline(always)]
    pub(crate) fn is_locked_exclusive(&self) -> bool {
        self.engine.is_locked_exclusive()
    }
}

/// A reentrant mutex: an engine mutex plus an owner and a count, the owner
/// being a never-reused thread id (so a thread that exits cannot pass its
/// ownership to a new thread that happens to get the same id).
pub(crate) struct RawReentrant {
    engine: sync::RawMutex,
    owner: AtomicU64,
    count: sync::UnsafeCell<u32>,
    pub(crate) meta: Meta,
}

// SAFETY: `count` is only touched by the thread that owns the lock (the one
// whose id is in `owner`), which `engine` makes exclusive.
unsafe impl Sync for RawReentrant {}

impl RawReentrant {
    maybe_const_fn! {
        #[track_caller]
        #[inline(always)]
        pub(crate) fn new(data: TypeName) -> RawReentrant {
            RawReentrant {
                engine: sync::RawMutex::new(),
                owner: AtomicU64::new(0),
                count: sync::UnsafeCell::new(0),
                meta: Meta::new(data),
            }
        }
    }

    #[track_caller]
    pub(crate) fn named(kind: LockKind, data: TypeName, name: Cow<'static, str>) -> RawReentrant {
        RawReentrant {
            meta: Meta::named(kind, data, name),
            ..RawReentrant::new(data)
        }
    }

    /// Re-enters if this thread owns the lock. Relaxed is enough: only the
    /// owner ever stores its own id, and a thread always reads its own latest
    /// store, so no thread can mistake itself for the owner.
    #[inline(always)]
    fn reenter(&self, me: u64) -> bool {
        if self.owner.load(Ordering::Relaxed) != me {
            return false;
        }
        self.count.with_mut(|count| {
            // SAFETY: this thread owns the lock, so it alone touches `count`.
            let count = unsafe { &mut *count };
            *count = count
                .checked_add(1)
                .expect("lock count overflow in reentrant mutex");
        });
        true
    }

    #[inline(always)]
    fn take(&self, me: u64) {
        self.owner.store(me, Ordering::Relaxed);
        // SAFETY: the engine lock was just acquired by this thread.
        self.count.with_mut(|count| unsafe { *count = 1 });
    }

    /// Acquires, or re-enters without the detector: a re-entry cannot block
    /// and adds no edge, so the detector sees only the outermost level (the
    /// held stack has one entry per lock, pushed at the first level and
    /// popped at the last).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub(crate) fn lock(&self, kind: LockKind) {
        let me = sync::current_thread_id();
        if !self.reenter(me) {
            self.acquire_engine(kind);
            self.take(me);
        }
    }

    /// The first level: the detector, then the engine lock.
    #[inline(always)]
    #[track_caller]
    fn acquire_engine(&self, kind: LockKind) {
        if self.meta.acquire(kind, Access::Reentrant) {
            self.meta.watched(
                Access::Reentrant,
                || self.engine.try_lock(),
                || self.engine.lock(),
            );
        } else {
            self.engine.lock();
        }
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub(crate) fn try_lock(&self, kind: LockKind) -> bool {
        let me = sync::current_thread_id();
        if self.reenter(me) {
            return true;
        }
        let locked = self.engine.try_lock();
        if locked {
            self.take(me);
            self.meta.acquired(kind, Access::Reentrant);
        }
        locked
    }

    #[track_caller]
    pub(crate) fn try_lock_until(&self, kind: LockKind, deadline: Instant) -> bool {
        let me = sync::current_thread_id();
        if self.reenter(me) {
            return true;
        }
        self.meta.before_timed(kind, Access::Reentrant);
        let locked = self.engine.try_lock_until(deadline);
        if locked {
            self.take(me);
            self.meta.acquired(kind, Access::Reentrant);
        }
        locked
    }

    #[track_caller]
    pub(crate) fn try_lock_for(&self, kind: LockKind, timeout: Duration) -> bool {
        self.try_lock_until(kind, Instant::now() + timeout)
    }

    /// Leaves one level; returns whether the lock is now free (and then
    /// pops it from the held stack).
    #[inline(always)]
    fn leave(&self) -> bool {
        let free = self.count.with_mut(|count| {
            // SAFETY: the caller owns the lock, so it alone touches `count`.
            let count = unsafe { &mut *count };
            *count -= 1;
            *count == 0
        });
        if free {
            self.owner.store(0, Ordering::Relaxed);
            self.meta.release();
        }
        free
    }

    /// # Safety
    /// The current thread must own the lock.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) unsafe fn unlock(&self) {
        if self.leave() {
            // SAFETY: the count reached zero: this thread holds the engine.
            unsafe { self.engine.unlock() }
        }
    }

    /// # Safety
    /// The current thread must own the lock.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) unsafe fn unlock_fair(&self) {
        if self.leave() {
            // SAFETY: the count reached zero: this thread holds the engine.
            unsafe { self.engine.unlock_fair() }
        }
    }

    /// Hands the lock to a waiter if this is the outermost level.
    ///
    /// # Safety
    /// The current thread must own the lock.
    #[track_caller]
    pub(crate) unsafe fn bump(&self, kind: LockKind) {
        // SAFETY: the caller owns the lock, so it alone touches `count`.
        let outermost = self.count.with_mut(|count| unsafe { *count == 1 });
        if outermost {
            let me = sync::current_thread_id();
            // SAFETY: forwarded from the caller.
            unsafe { self.unlock_fair() };
            self.acquire_engine(kind);
            self.take(me);
        }
    }

    #[inline(always)]
    pub(crate) fn is_locked(&self) -> bool {
        self.engine.is_locked()
    }

    /// Whether the current thread owns the lock.
    #[inline(always)]
    pub(crate) fn is_owned_by_current_thread(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == sync::current_thread_id()
    }
}
