//! The facade: the only module that names `std::sync`, `parking_lot`, `tokio` or
//! `loom`.
//!
//! Everything else in the crate imports its atomics, engine locks,
//! thread-locals, lazily-initialised globals and thread ids from here. In a
//! normal build they are std's atomics and parking_lot's locks; under
//! `--cfg loom` they are loom's, so the real library code (not a copy of it)
//! runs inside loom models. A `loom::model` starts every iteration with fresh
//! globals because loom's `lazy_static!` is reset per execution.

pub(crate) use imp::*;

/// Declares a `const fn` in normal builds and a plain `fn` under loom (loom's
/// primitives have no const constructors).
macro_rules! maybe_const_fn {
    ($(#[$m:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$m])* $vis const fn $($rest)*
        #[cfg(loom)]
        $(#[$m])* $vis fn $($rest)*
    };
}
pub(crate) use maybe_const_fn;

/// Declares a global that loom resets between model iterations. In normal
/// builds a `const` initialiser gives a plain `static`; `lazy` gives a
/// `LazyLock`.
macro_rules! global {
    (static $name:ident: $t:ty = const $init:expr;) => {
        #[cfg(not(loom))]
        static $name: $t = $init;
        #[cfg(loom)]
        loom::lazy_static! { static ref $name: $t = $init; }
    };
    (static $name:ident: $t:ty = lazy $init:expr;) => {
        #[cfg(not(loom))]
        static $name: std::sync::LazyLock<$t> = std::sync::LazyLock::new(|| $init);
        #[cfg(loom)]
        loom::lazy_static! { static ref $name: $t = $init; }
    };
}
pub(crate) use global;

/// Declares a thread-local; the initialiser must be a constant expression.
macro_rules! local {
    ($vis:vis static $name:ident: $t:ty = $init:expr;) => {
        #[cfg(not(loom))]
        std::thread_local! { $vis static $name: $t = const { $init }; }
        #[cfg(loom)]
        loom::thread_local! { $vis static $name: $t = $init; }
    };
}
pub(crate) use local;

local! {
    static THREAD_ID: std::cell::Cell<u64> = std::cell::Cell::new(0);
}
global! {
    static NEXT_THREAD_ID: AtomicU64 = const AtomicU64::new(1);
}

/// A small id for the current thread, never reused within the process (or the
/// loom iteration), unlike thread-local addresses.
#[inline(always)]
pub(crate) fn current_thread_id() -> u64 {
    THREAD_ID
        .try_with(|cell| {
            let id = cell.get();
            if id != 0 {
                return id;
            }
            let id = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
            cell.set(id);
            id
        })
        // A `Cell<u64>` has no destructor, so its slot is never torn down;
        // `0` is unreachable in practice and is never a valid owner id.
        .unwrap_or(0)
}

/// Spends a unit of the current task's cooperative budget, as tokio's own
/// acquisitions do: `Pending` (the task woken to run again) when the budget
/// is spent.
#[cfg(feature = "tokio")]
#[inline(always)]
pub(crate) fn poll_budget(cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
    use std::future::Future;
    std::pin::pin!(::tokio::task::consume_budget()).poll(cx)
}

/// tokio's `task` module, for `lockgraph::tokio::task`.
#[cfg(feature = "tokio")]
pub(crate) mod tokio_task {
    pub use ::tokio::task::*;
}

/// tokio's `sync` module, for `lockgraph::tokio::sync`.
#[cfg(feature = "tokio")]
pub(crate) mod tokio_sync {
    pub use ::tokio::sync::*;
}

/// The id of the tokio task being polled on this thread, or 0 outside any
/// task (a `block_on` body included). tokio's `task::Id` shows its number
/// only through `Hash` (`as_u64` is private), which writes it whole.
#[cfg(all(feature = "tokio", not(loom)))]
#[inline(always)]
pub(crate) fn current_task() -> u64 {
    use std::hash::{Hash, Hasher};
    /// Keeps the one `u64` a task id hashes.
    struct Number(u64);
    impl Hasher for Number {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 << 8) | u64::from(b);
            }
        }
        #[inline(always)]
        fn write_u64(&mut self, n: u64) {
            self.0 = n;
        }
    }
    match ::tokio::task::try_id() {
        Some(id) => {
            let mut number = Number(0);
            id.hash(&mut number);
            number.0
        }
        None => 0,
    }
}

/// Without tokio every context is a thread.
#[cfg(not(all(feature = "tokio", not(loom))))]
#[inline(always)]
pub(crate) fn current_task() -> u64 {
    0
}

/// Loads for the hot path that cost no call at opt-level 0. A dev-profile
/// build compiles lockgraph unoptimised too, and there `AtomicU64::load` is
/// two calls (the method, then the intrinsic's `match` on the ordering),
/// ~27 instructions where an x86-64 `mov` is one: a quarter of an
/// uncontended lock/unlock's cost in lockgraph at opt-level 0. So on x86-64
/// with debug assertions the load is that `mov`, written as inline assembly;
/// elsewhere (other targets, release builds, loom) it is the atomic's own
/// `load`.
///
/// Every aligned load on x86-64 is atomic and has acquire ordering; an
/// `asm!` block without `nomem` or `readonly` may read and write any memory,
/// so the compiler moves no memory access across it either.
#[cfg(all(target_arch = "x86_64", debug_assertions, not(loom)))]
macro_rules! hot_load {
    ($(#[$m:meta])* $name:ident: $atomic:ty => $int:ty, $order:ident, $reg:ty, $mov:literal) => {
        $(#[$m])*
        #[inline(always)]
        pub(crate) fn $name(atomic: &$atomic) -> $int {
            let value: $reg;
            // SAFETY: the atomic has the size and alignment of `$int` (as
            // std documents), so this is one aligned load from it (zero-
            // extended into a wider register for a byte): an atomic load
            // with acquire ordering on x86-64 (stronger than a relaxed one).
            unsafe {
                std::arch::asm!(
                    $mov,
                    at = in(reg) atomic as *const $atomic as *const $int,
                    value = out(reg) value,
                    options(nostack, preserves_flags),
                );
            }
            value as $int
        }
    };
}

/// See the x86-64 definition: the atomic's own load.
#[cfg(not(all(target_arch = "x86_64", debug_assertions, not(loom))))]
macro_rules! hot_load {
    ($(#[$m:meta])* $name:ident: $atomic:ty => $int:ty, $order:ident, $reg:ty, $mov:literal) => {
        $(#[$m])*
        #[inline(always)]
        pub(crate) fn $name(atomic: &$atomic) -> $int {
            atomic.load(Ordering::$order)
        }
    };
}

hot_load!(
    /// An acquire load of `atomic` that costs no call at opt-level 0.
    hot_load_u64: AtomicU64 => u64, Acquire, u64, "mov {value}, qword ptr [{at}]"
);
hot_load!(
    /// A relaxed load of `atomic` that costs no call at opt-level 0.
    hot_load_u32_relaxed: std::sync::atomic::AtomicU32 => u32, Relaxed, u32, "mov {value:e}, dword ptr [{at}]"
);
hot_load!(
    /// A relaxed load of `atomic` that costs no call at opt-level 0.
    hot_load_u8_relaxed: AtomicU8 => u8, Relaxed, u32, "movzx {value:e}, byte ptr [{at}]"
);

/// A relaxed load of `flag` that costs no call at opt-level 0 (a lock's
/// poison flag, read on every acquisition).
#[inline(always)]
pub(crate) fn hot_load_bool_relaxed(flag: &AtomicBool) -> bool {
    #[cfg(all(target_arch = "x86_64", debug_assertions, not(loom)))]
    {
        // SAFETY: `AtomicBool` has the size, alignment and bit validity of
        // `bool`, and `AtomicU8` of `u8`: the flag's byte, read as an
        // atomic byte, is 0 or 1.
        let byte = unsafe { &*(flag as *const AtomicBool as *const AtomicU8) };
        hot_load_u8_relaxed(byte) != 0
    }
    #[cfg(not(all(target_arch = "x86_64", debug_assertions, not(loom))))]
    flag.load(Ordering::Relaxed)
}

/// The current thread's name for reports: its name, or `<unnamed>` plus its id.
pub(crate) fn current_thread_name() -> String {
    let thread = imp::thread::current();
    match thread.name() {
        Some(name) => name.to_owned(),
        None => format!("<unnamed {:?}>", thread.id()),
    }
}

#[cfg(not(loom))]
mod imp {
    use std::cell::UnsafeCell as StdUnsafeCell;
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, Ordering};
    pub(crate) use std::thread;

    use parking_lot::lock_api::{
        RawMutex as _, RawMutexFair as _, RawMutexTimed as _, RawRwLock as _,
        RawRwLockDowngrade as _, RawRwLockFair as _, RawRwLockRecursive as _,
        RawRwLockRecursiveTimed as _, RawRwLockTimed as _, RawRwLockUpgrade as _,
        RawRwLockUpgradeDowngrade as _, RawRwLockUpgradeFair as _, RawRwLockUpgradeTimed as _,
    };
    use std::mem::ManuallyDrop;
    use std::time::{Duration, Instant};

    /// A data-carrying mutex for the detector's own state (never poisons).
    pub(crate) type Mutex<T> = parking_lot::Mutex<T>;

    /// `UnsafeCell` with loom's closure API, so code is written once.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(StdUnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(StdUnsafeCell::new(value))
        }
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// The engine mutex behind every mutex flavour.
    pub(crate) struct RawMutex(parking_lot::Mutex<()>);

    impl RawMutex {
        pub(crate) const fn new() -> Self {
            Self(parking_lot::const_mutex(()))
        }
        #[inline(always)]
        fn raw(&self) -> &parking_lot::RawMutex {
            // SAFETY: the raw lock is only locked and unlocked in matched
            // pairs by the checked lock types; no lock_api guard outlives
            // those calls (the Condvar one is never dropped).
            unsafe { self.0.raw() }
        }
        #[inline(always)]
        pub(crate) fn lock(&self) {
            self.raw().lock();
        }
        #[inline(always)]
        pub(crate) fn try_lock(&self) -> bool {
            self.raw().try_lock()
        }
        #[inline(always)]
        pub(crate) fn try_lock_for(&self, timeout: Duration) -> bool {
            self.raw().try_lock_for(timeout)
        }
        #[inline(always)]
        pub(crate) fn try_lock_until(&self, deadline: Instant) -> bool {
            self.raw().try_lock_until(deadline)
        }
        /// # Safety
        /// The current thread must hold the lock.
        #[inline(always)]
        pub(crate) unsafe fn unlock(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.raw().unlock() }
        }
        /// # Safety
        /// The current thread must hold the lock.
        #[inline(always)]
        pub(crate) unsafe fn unlock_fair(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.raw().unlock_fair() }
        }
        /// # Safety
        /// The current thread must hold the lock.
        #[inline(always)]
        pub(crate) unsafe fn bump(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.raw().bump() }
        }
        #[inline(always)]
        pub(crate) fn is_locked(&self) -> bool {
            self.raw().is_locked()
        }
    }

    /// The engine reader-writer lock behind every RwLock flavour.
    pub(crate) struct RawRwLock(parking_lot::RawRwLock);

    /// Generates forwarding methods to the parking_lot raw rwlock. Methods
    /// marked `unsafe` require the caller to hold the lock in the mode the
    /// method releases or converts.
    macro_rules! forward {
        ($($(#[$m:meta])* fn $name:ident($($arg:ident: $t:ty),*) $(-> $ret:ty)?;)*) => {$(
            $(#[$m])* #[inline]
            pub(crate) fn $name(&self $(, $arg: $t)*) $(-> $ret)? { self.0.$name($($arg),*) }
        )*};
        ($(unsafe fn $name:ident($($arg:ident: $t:ty),*) $(-> $ret:ty)?;)*) => {$(
            /// # Safety
            /// The current thread must hold the lock in the mode this
            /// method releases or converts.
            #[inline(always)]
            pub(crate) unsafe fn $name(&self $(, $arg: $t)*) $(-> $ret)? {
                // SAFETY: forwarded from the caller.
                unsafe { self.0.$name($($arg),*) }
            }
        )*};
    }

    impl RawRwLock {
        pub(crate) const fn new() -> Self {
            Self(parking_lot::RawRwLock::INIT)
        }
        forward! {
            fn lock_shared();
            fn try_lock_shared() -> bool;
            fn try_lock_shared_for(timeout: Duration) -> bool;
            fn try_lock_shared_until(deadline: Instant) -> bool;
            fn lock_shared_recursive();
            fn try_lock_shared_recursive() -> bool;
            fn try_lock_shared_recursive_for(timeout: Duration) -> bool;
            fn try_lock_shared_recursive_until(deadline: Instant) -> bool;
            fn lock_exclusive();
            fn try_lock_exclusive() -> bool;
            fn try_lock_exclusive_for(timeout: Duration) -> bool;
            fn try_lock_exclusive_until(deadline: Instant) -> bool;
            fn lock_upgradable();
            fn try_lock_upgradable() -> bool;
            fn try_lock_upgradable_for(timeout: Duration) -> bool;
            fn try_lock_upgradable_until(deadline: Instant) -> bool;
            fn is_locked() -> bool;
            fn is_locked_exclusive() -> bool;
        }
        forward! {
            unsafe fn unlock_shared();
            unsafe fn unlock_exclusive();
            unsafe fn unlock_upgradable();
            unsafe fn unlock_shared_fair();
            unsafe fn unlock_exclusive_fair();
            unsafe fn unlock_upgradable_fair();
            unsafe fn upgrade();
            unsafe fn try_upgrade() -> bool;
            unsafe fn try_upgrade_for(timeout: Duration) -> bool;
            unsafe fn try_upgrade_until(deadline: Instant) -> bool;
            unsafe fn downgrade();
            unsafe fn downgrade_to_upgradable();
            unsafe fn downgrade_upgradable();
        }
    }

    /// The engine condition variable; waits on a [`RawMutex`].
    pub(crate) struct Condvar(parking_lot::Condvar);

    impl Condvar {
        pub(crate) const fn new() -> Self {
            Self(parking_lot::Condvar::new())
        }
        /// Waits until notified or `deadline`; returns whether it timed out.
        ///
        /// # Safety
        /// The current thread must hold `mutex`; it holds it again on return.
        #[inline(always)]
        pub(crate) unsafe fn wait(&self, mutex: &RawMutex, deadline: Option<Instant>) -> bool {
            // SAFETY: the caller holds the lock, which is what a guard
            // asserts. `ManuallyDrop` keeps the guard from unlocking on
            // return or when `wait` panics (wrong mutex), because the checked
            // guard that owns the lock unlocks it.
            let mut guard = ManuallyDrop::new(unsafe { mutex.0.make_guard_unchecked() });
            match deadline {
                None => {
                    self.0.wait(&mut guard);
                    false
                }
                Some(deadline) => self.0.wait_until(&mut guard, deadline).timed_out(),
            }
        }
        #[inline(always)]
        pub(crate) fn notify_one(&self) -> bool {
            self.0.notify_one()
        }
        #[inline(always)]
        pub(crate) fn notify_all(&self) -> usize {
            self.0.notify_all()
        }
    }

    /// Captures an unresolved backtrace (symbols are resolved when printed).
    pub(crate) fn capture_backtrace() -> Option<backtrace::Backtrace> {
        Some(backtrace::Backtrace::new_unresolved())
    }
}

#[cfg(loom)]
mod imp {
    //! Loom builds: engine locks made from loom's Mutex and Condvar, so the
    //! model checker sees (and permutes) every block and wake-up.
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, Ordering};
    pub(crate) use loom::thread;
    use std::time::{Duration, Instant};

    /// A data-carrying mutex for the detector's own state.
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
        #[allow(dead_code)] // its callers are not in the models
        pub(crate) fn try_lock(&self) -> Option<loom::sync::MutexGuard<'_, T>> {
            match self.0.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Self::new(T::default())
        }
    }

    /// A mutex built from a loom `Mutex<bool>` and `Condvar`.
    pub(crate) struct RawMutex {
        locked: loom::sync::Mutex<bool>,
        unlocked: loom::sync::Condvar,
    }

    impl RawMutex {
        pub(crate) fn new() -> Self {
            Self {
                locked: loom::sync::Mutex::new(false),
                unlocked: loom::sync::Condvar::new(),
            }
        }
        fn state(&self) -> loom::sync::MutexGuard<'_, bool> {
            self.locked.lock().unwrap_or_else(|e| e.into_inner())
        }
        fn acquire<'a>(
            &'a self,
            mut state: loom::sync::MutexGuard<'a, bool>,
        ) -> loom::sync::MutexGuard<'a, bool> {
            while *state {
                state = self.unlocked.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            *state = true;
            state
        }
        pub(crate) fn lock(&self) {
            drop(self.acquire(self.state()));
        }
        pub(crate) fn try_lock(&self) -> bool {
            let mut state = self.state();
            !std::mem::replace(&mut *state, true)
        }
        /// Loom cannot model time: a timed attempt is a single try.
        pub(crate) fn try_lock_for(&self, _timeout: Duration) -> bool {
            self.try_lock()
        }
        pub(crate) fn try_lock_until(&self, _deadline: Instant) -> bool {
            self.try_lock()
        }
        pub(crate) unsafe fn unlock(&self) {
            *self.state() = false;
            self.unlocked.notify_one();
        }
        pub(crate) unsafe fn unlock_fair(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.unlock() }
        }
        pub(crate) unsafe fn bump(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.unlock() };
            self.lock();
        }
        pub(crate) fn is_locked(&self) -> bool {
            *self.state()
        }
    }

    #[derive(Default)]
    struct RwState {
        readers: usize,
        writer: bool,
        upgradable: bool,
    }

    /// A reader-writer lock built from a loom `Mutex` and `Condvar`.
    pub(crate) struct RawRwLock {
        state: loom::sync::Mutex<RwState>,
        changed: loom::sync::Condvar,
    }

    impl RawRwLock {
        pub(crate) fn new() -> Self {
            Self {
                state: loom::sync::Mutex::new(RwState::default()),
                changed: loom::sync::Condvar::new(),
            }
        }
        fn wait_until(&self, ready: impl Fn(&RwState) -> bool, then: impl FnOnce(&mut RwState)) {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            while !ready(&state) {
                state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            then(&mut state);
        }
        fn try_now(
            &self,
            ready: impl Fn(&RwState) -> bool,
            then: impl FnOnce(&mut RwState),
        ) -> bool {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let ok = ready(&state);
            if ok {
                then(&mut state);
            }
            ok
        }
        fn change(&self, f: impl FnOnce(&mut RwState)) {
            f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
            self.changed.notify_all();
        }
        pub(crate) fn lock_shared(&self) {
            self.wait_until(|s| !s.writer, |s| s.readers += 1)
        }
        pub(crate) fn try_lock_shared(&self) -> bool {
            self.try_now(|s| !s.writer, |s| s.readers += 1)
        }
        pub(crate) fn try_lock_shared_for(&self, _: Duration) -> bool {
            self.try_lock_shared()
        }
        pub(crate) fn try_lock_shared_until(&self, _: Instant) -> bool {
            self.try_lock_shared()
        }
        pub(crate) fn lock_shared_recursive(&self) {
            self.lock_shared()
        }
        pub(crate) fn try_lock_shared_recursive(&self) -> bool {
            self.try_lock_shared()
        }
        pub(crate) fn try_lock_shared_recursive_for(&self, _: Duration) -> bool {
            self.try_lock_shared()
        }
        pub(crate) fn try_lock_shared_recursive_until(&self, _: Instant) -> bool {
            self.try_lock_shared()
        }
        pub(crate) fn lock_exclusive(&self) {
            self.wait_until(
                |s| !s.writer && !s.upgradable && s.readers == 0,
                |s| s.writer = true,
            )
        }
        pub(crate) fn try_lock_exclusive(&self) -> bool {
            self.try_now(
                |s| !s.writer && !s.upgradable && s.readers == 0,
                |s| s.writer = true,
            )
        }
        pub(crate) fn try_lock_exclusive_for(&self, _: Duration) -> bool {
            self.try_lock_exclusive()
        }
        pub(crate) fn try_lock_exclusive_until(&self, _: Instant) -> bool {
            self.try_lock_exclusive()
        }
        pub(crate) fn lock_upgradable(&self) {
            self.wait_until(|s| !s.writer && !s.upgradable, |s| s.upgradable = true)
        }
        pub(crate) fn try_lock_upgradable(&self) -> bool {
            self.try_now(|s| !s.writer && !s.upgradable, |s| s.upgradable = true)
        }
        pub(crate) fn try_lock_upgradable_for(&self, _: Duration) -> bool {
            self.try_lock_upgradable()
        }
        pub(crate) fn try_lock_upgradable_until(&self, _: Instant) -> bool {
            self.try_lock_upgradable()
        }
        pub(crate) fn is_locked(&self) -> bool {
            self.try_now(|s| s.writer || s.upgradable || s.readers > 0, |_| ())
        }
        pub(crate) fn is_locked_exclusive(&self) -> bool {
            self.try_now(|s| s.writer, |_| ())
        }
        pub(crate) unsafe fn unlock_shared(&self) {
            self.change(|s| s.readers -= 1)
        }
        pub(crate) unsafe fn unlock_exclusive(&self) {
            self.change(|s| s.writer = false)
        }
        pub(crate) unsafe fn unlock_upgradable(&self) {
            self.change(|s| s.upgradable = false)
        }
        pub(crate) unsafe fn unlock_shared_fair(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.unlock_shared() }
        }
        pub(crate) unsafe fn unlock_exclusive_fair(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.unlock_exclusive() }
        }
        pub(crate) unsafe fn unlock_upgradable_fair(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.unlock_upgradable() }
        }
        pub(crate) unsafe fn upgrade(&self) {
            self.wait_until(
                |s| s.readers == 0,
                |s| {
                    s.upgradable = false;
                    s.writer = true;
                },
            )
        }
        pub(crate) unsafe fn try_upgrade(&self) -> bool {
            self.try_now(
                |s| s.readers == 0,
                |s| {
                    s.upgradable = false;
                    s.writer = true;
                },
            )
        }
        pub(crate) unsafe fn try_upgrade_for(&self, _: Duration) -> bool {
            // SAFETY: forwarded from the caller.
            unsafe { self.try_upgrade() }
        }
        pub(crate) unsafe fn try_upgrade_until(&self, _: Instant) -> bool {
            // SAFETY: forwarded from the caller.
            unsafe { self.try_upgrade() }
        }
        pub(crate) unsafe fn downgrade(&self) {
            self.change(|s| {
                s.writer = false;
                s.readers += 1;
            })
        }
        pub(crate) unsafe fn downgrade_to_upgradable(&self) {
            self.change(|s| {
                s.writer = false;
                s.upgradable = true;
            })
        }
        pub(crate) unsafe fn downgrade_upgradable(&self) {
            self.change(|s| {
                s.upgradable = false;
                s.readers += 1;
            })
        }
    }

    /// A condition variable over [`RawMutex`]: releasing the raw mutex and
    /// starting to wait happen under the raw mutex's internal lock, so no
    /// notification can slip in between.
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Self(loom::sync::Condvar::new())
        }
        /// Loom cannot time out: a timed wait is an untimed one (loom reports
        /// a deadlock if nothing ever notifies).
        pub(crate) unsafe fn wait(&self, mutex: &RawMutex, _deadline: Option<Instant>) -> bool {
            let mut state = mutex.state();
            *state = false;
            mutex.unlocked.notify_one();
            let state = self.0.wait(state).unwrap_or_else(|e| e.into_inner());
            drop(mutex.acquire(state));
            false
        }
        pub(crate) fn notify_one(&self) -> bool {
            self.0.notify_one();
            true
        }
        pub(crate) fn notify_all(&self) -> usize {
            self.0.notify_all();
            0
        }
    }

    /// A resolved backtrace overflows loom's coroutine stacks and an
    /// unresolved one is noise in a model: capture none.
    pub(crate) fn capture_backtrace() -> Option<backtrace::Backtrace> {
        None
    }
}

/// A `std::sync::WaitTimeoutResult` (which has no public constructor) with
/// the given value, produced by std's own `Condvar` without blocking: a
/// zero-length `wait_timeout_while` returns `false` at once when its
/// condition is already false, and `true` once the zero timeout has passed.
pub(crate) fn wait_timeout_result(timed_out: bool) -> std::sync::WaitTimeoutResult {
    let mutex = std::sync::Mutex::new(());
    let condvar = std::sync::Condvar::new();
    let guard = mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let waited = condvar.wait_timeout_while(guard, std::time::Duration::ZERO, |_| timed_out);
    let (_guard, result) = waited.unwrap_or_else(std::sync::PoisonError::into_inner);
    debug_assert_eq!(result.timed_out(), timed_out);
    result
}

/// `std::sync` as a whole, for the public `lockgraph::sync` skin to re-export
/// what it does not replace.
pub(crate) mod std_sync {
    pub use std::sync::*;
}
