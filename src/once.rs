//! [`OnceLock`], [`LazyLock`] and [`Once`], std-flavoured: std's one-time
//! initialisation, whose initialisation the detector treats as a lock.
//!
//! While an initialiser runs, other threads asking for the value wait for
//! it, as for a lock its initialising thread holds. So every
//! `get_or_init`, deref or `call_once` — on a cell already initialised too,
//! since in another run it could have been the one waiting — orders the
//! locks held before it before the cell, and the initialiser's own
//! acquisitions after it: an initialiser taking `L` while another thread
//! holds `L` and asks for the same cell is a lock-order inversion, reported
//! before it hangs. An initialiser that asks for its own cell is a
//! self-deadlock report instead of std's hang or panic. For the race
//! detector, the initialisation happens before every later access through
//! the cell.

use std::any::type_name;
use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::{RefUnwindSafe, UnwindSafe};

use crate::detect::Meta;
use crate::facade::{maybe_const_fn, std_sync};
use crate::report::{Access, LockKind};

/// Runs `f` holding the cell's pseudo-lock: exclusively when it may
/// initialise, shared when the value is there (so readers of one cell do
/// not order each other).
#[inline]
#[track_caller]
fn ordered<R>(meta: &Meta, kind: LockKind, initialising: bool, f: impl FnOnce() -> R) -> R {
    let access = if initialising {
        Access::Exclusive
    } else {
        Access::Shared
    };
    if meta.acquire(kind, access) {
        // A watchdog or race detection runs: publish, take the clock.
        meta.watched(access, || true, || {});
    }
    struct Release<'a>(&'a Meta);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            self.0.release();
        }
    }
    let _release = Release(meta);
    let value = f();
    // Waiting for another thread's initialiser ends when its value is
    // there: the initialiser published its history just before.
    meta.take_clock();
    value
}

/// After reading an initialised value without blocking: ordered after the
/// initialisation, adding no lock-order edge (it cannot wait).
#[inline]
#[track_caller]
fn observed(meta: &Meta, kind: LockKind) {
    meta.acquired(kind, Access::Shared);
    meta.release();
}

/// A cell written once: a drop-in replacement for [`std::sync::OnceLock`]
/// whose initialisation the deadlock detector treats as a lock (see the
/// [`lockgraph::sync`](crate::sync)).
///
/// ```
/// use lockgraph::sync::OnceLock;
///
/// static CONFIG: OnceLock<String> = OnceLock::new();
/// let value = CONFIG.get_or_init(|| "ready".to_owned());
/// assert_eq!(value, "ready");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("ready"));
/// ```
///
/// An initialiser taking a lock that a caller holds while it asks for the
/// cell is an inversion:
///
/// ```should_panic
/// use lockgraph::sync::{Mutex, OnceLock};
///
/// let registry = Mutex::new(Vec::<u32>::new());
/// let cell = OnceLock::new();
/// // The initialiser locks the registry: cell -> registry.
/// cell.get_or_init(|| registry.lock().unwrap().len());
/// // Holding the registry, ask for the cell: registry -> cell.
/// let _guard = registry.lock().unwrap();
/// cell.get_or_init(|| 0); // panics: "potential deadlock: lock order inversion"
/// # if !lockgraph::ENABLED { panic!("detection is off in this build") }
/// ```
pub struct OnceLock<T> {
    inner: std_sync::OnceLock<T>,
    meta: Meta,
}

const ONCE_LOCK: LockKind = LockKind::OnceLock;

impl<T> OnceLock<T> {
    maybe_const_fn! {
        /// Creates a new, uninitialised cell; its creation site names it in
        /// reports.
        #[inline]
        #[track_caller]
        #[must_use]
        pub fn new() -> OnceLock<T> {
            OnceLock { inner: std_sync::OnceLock::new(), meta: Meta::new(type_name::<T>) }
        }
    }

    /// The value, if initialised. Never blocks.
    #[track_caller]
    pub fn get(&self) -> Option<&T> {
        let value = self.inner.get();
        if value.is_some() {
            observed(&self.meta, ONCE_LOCK);
        }
        value
    }

    /// The value, mutably, if initialised.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Blocks until the cell is initialised (by another thread), then
    /// returns the value.
    #[track_caller]
    pub fn wait(&self) -> &T {
        let pending = self.inner.get().is_none();
        ordered(&self.meta, ONCE_LOCK, false, || {
            let _waiting = self.meta.blocked_in("OnceLock::wait", pending);
            self.inner.wait()
        })
    }

    /// Initialises the cell with `value` unless it already is; `Err(value)`
    /// if it was. Waits while another thread initialises it.
    #[track_caller]
    pub fn set(&self, value: T) -> Result<(), T> {
        let initialising = self.inner.get().is_none();
        ordered(&self.meta, ONCE_LOCK, initialising, || {
            self.meta.publish_clock();
            self.inner.set(value)
        })
    }

    /// The value, initialising it with `f` first if needed. Waits while
    /// another thread initialises it.
    #[track_caller]
    pub fn get_or_init<F>(&self, f: F) -> &T
    where
        F: FnOnce() -> T,
    {
        let initialising = self.inner.get().is_none();
        ordered(&self.meta, ONCE_LOCK, initialising, || {
            let mut waiting = self.meta.blocked_in("OnceLock::get_or_init", initialising);
            let value = self.inner.get_or_init(|| {
                // This thread initialises: it works, it does not wait.
                waiting = None;
                let value = f();
                self.meta.publish_clock();
                value
            });
            drop(waiting);
            value
        })
    }

    /// Consumes the cell, returning its value if initialised.
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Takes the value out, leaving the cell uninitialised.
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }
}

impl<T> Default for OnceLock<T> {
    #[track_caller]
    fn default() -> OnceLock<T> {
        OnceLock::new()
    }
}

impl<T> From<T> for OnceLock<T> {
    #[track_caller]
    fn from(value: T) -> OnceLock<T> {
        OnceLock {
            inner: std_sync::OnceLock::from(value),
            meta: Meta::new(type_name::<T>),
        }
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    #[track_caller]
    fn clone(&self) -> OnceLock<T> {
        OnceLock {
            inner: self.inner.clone(),
            meta: Meta::new(type_name::<T>),
        }
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    fn eq(&self, other: &OnceLock<T>) -> bool {
        self.inner == other.inner
    }
}

impl<T: Eq> Eq for OnceLock<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T: RefUnwindSafe + UnwindSafe> RefUnwindSafe for OnceLock<T> {}
impl<T: UnwindSafe> UnwindSafe for OnceLock<T> {}

/// A value initialised on first access: a drop-in replacement for
/// [`std::sync::LazyLock`] whose initialisation the deadlock detector
/// treats as a lock (see [`lockgraph::sync`](crate::sync)). Built on a
/// `OnceLock`, so that the initialiser's history is published before the
/// value becomes visible; with detection compiled out,
/// `lockgraph::sync::LazyLock` is std's own.
///
/// ```
/// use std::collections::HashMap;
/// use lockgraph::sync::LazyLock;
///
/// static CODES: LazyLock<HashMap<&str, u16>> =
///     LazyLock::new(|| HashMap::from([("ok", 200), ("missing", 404)]));
/// assert_eq!(CODES["missing"], 404);
/// ```
pub struct LazyLock<T, F = fn() -> T> {
    cell: std_sync::OnceLock<T>,
    /// The initialiser, until it runs: taken only inside the cell's
    /// initialisation, or through `&mut self`.
    init: UnsafeCell<Option<F>>,
    meta: Meta,
}

// SAFETY: as std's `LazyLock`: `init` is touched only inside `cell`'s
// initialisation, which `OnceLock` runs on one thread at a time, or through
// `&mut self`; the value is shared like a `OnceLock<T>`'s.
unsafe impl<T: Sync + Send, F: Send> Sync for LazyLock<T, F> {}

const LAZY_LOCK: LockKind = LockKind::LazyLock;
const POISONED: &str = "LazyLock instance has previously been poisoned";

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    maybe_const_fn! {
        /// Creates a lazy value initialised by `f` on first access; its
        /// creation site names it in reports.
        #[inline]
        #[track_caller]
        pub fn new(f: F) -> LazyLock<T, F> {
            LazyLock {
                cell: std_sync::OnceLock::new(),
                init: UnsafeCell::new(Some(f)),
                meta: Meta::new(type_name::<T>),
            }
        }
    }

    /// Forces the evaluation and returns the value; the same as deref.
    /// Panics if an earlier initialisation panicked, as std's does.
    #[track_caller]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        let initialising = this.cell.get().is_none();
        ordered(&this.meta, LAZY_LOCK, initialising, || {
            let mut waiting = this.meta.blocked_in("LazyLock::force", initialising);
            let value = this.cell.get_or_init(|| {
                // This thread initialises: it works, it does not wait.
                waiting = None;
                // SAFETY: inside the cell's initialisation: no other thread
                // touches `init` now (see the `Sync` impl).
                let f = unsafe { (*this.init.get()).take() }.expect(POISONED);
                let value = f();
                this.meta.publish_clock();
                value
            });
            drop(waiting);
            value
        })
    }

    /// The value, if initialised. Never blocks.
    #[track_caller]
    pub fn get(this: &LazyLock<T, F>) -> Option<&T> {
        let value = this.cell.get();
        if value.is_some() {
            observed(&this.meta, LAZY_LOCK);
        }
        value
    }

    /// The value, mutably, if initialised.
    pub fn get_mut(this: &mut LazyLock<T, F>) -> Option<&mut T> {
        this.cell.get_mut()
    }

    /// Forces the evaluation and returns the value, mutably.
    pub fn force_mut(this: &mut LazyLock<T, F>) -> &mut T {
        if this.cell.get().is_none() {
            let f = this.init.get_mut().take().expect(POISONED);
            let _ = this.cell.set(f());
        }
        this.cell.get_mut().expect("initialised just now")
    }
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;

    #[track_caller]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T, F: FnOnce() -> T> DerefMut for LazyLock<T, F> {
    fn deref_mut(&mut self) -> &mut T {
        LazyLock::force_mut(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    #[track_caller]
    fn default() -> LazyLock<T> {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut tuple = f.debug_tuple("LazyLock");
        match self.cell.get() {
            Some(value) => tuple.field(value),
            None => tuple.field(&format_args!("<uninit>")),
        };
        tuple.finish()
    }
}

impl<T: RefUnwindSafe + UnwindSafe, F: UnwindSafe> RefUnwindSafe for LazyLock<T, F> {}
impl<T: UnwindSafe, F: UnwindSafe> UnwindSafe for LazyLock<T, F> {}

/// A one-time global initialisation: a drop-in replacement for
/// [`std::sync::Once`] whose `call_once` the deadlock detector treats as a
/// lock (see the [`lockgraph::sync`](crate::sync)).
///
/// ```
/// use lockgraph::sync::Once;
///
/// static INIT: Once = Once::new();
/// let mut runs = 0;
/// INIT.call_once(|| runs += 1);
/// INIT.call_once(|| runs += 1);
/// assert_eq!(runs, 1);
/// assert!(INIT.is_completed());
/// ```
pub struct Once {
    inner: std_sync::Once,
    meta: Meta,
}

const ONCE: LockKind = LockKind::Once;

impl Once {
    maybe_const_fn! {
        /// Creates a new `Once`; its creation site names it in reports.
        // std's `Once` has no `Default` either.
        #[allow(clippy::new_without_default)]
        #[inline]
        #[track_caller]
        #[must_use]
        pub fn new() -> Once {
            Once { inner: std_sync::Once::new(), meta: Meta::new(type_name::<()>) }
        }
    }

    /// Runs `f` the first time it is called on this `Once`; other callers
    /// wait for it to finish.
    #[track_caller]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        let initialising = !self.inner.is_completed();
        ordered(&self.meta, ONCE, initialising, || {
            let mut waiting = self.meta.blocked_in("Once::call_once", initialising);
            self.inner.call_once(|| {
                // This thread initialises: it works, it does not wait.
                waiting = None;
                f();
                self.meta.publish_clock();
            });
            drop(waiting);
        })
    }

    /// As [`call_once`](Once::call_once), also running after an earlier
    /// call panicked (the state says so).
    #[track_caller]
    pub fn call_once_force<F: FnOnce(&std_sync::OnceState)>(&self, f: F) {
        let initialising = !self.inner.is_completed();
        ordered(&self.meta, ONCE, initialising, || {
            let mut waiting = self.meta.blocked_in("Once::call_once_force", initialising);
            self.inner.call_once_force(|state| {
                // This thread initialises: it works, it does not wait.
                waiting = None;
                f(state);
                self.meta.publish_clock();
            });
            drop(waiting);
        })
    }

    /// Whether some `call_once` has completed.
    #[track_caller]
    pub fn is_completed(&self) -> bool {
        let done = self.inner.is_completed();
        if done {
            observed(&self.meta, ONCE);
        }
        done
    }

    /// Blocks until some `call_once` has completed.
    #[track_caller]
    pub fn wait(&self) {
        let pending = !self.inner.is_completed();
        ordered(&self.meta, ONCE, false, || {
            let _waiting = self.meta.blocked_in("Once::wait", pending);
            self.inner.wait()
        })
    }

    /// Blocks until some `call_once` (or `call_once_force`) has completed,
    /// even one that panicked.
    #[track_caller]
    pub fn wait_force(&self) {
        let pending = !self.inner.is_completed();
        ordered(&self.meta, ONCE, false, || {
            let _waiting = self.meta.blocked_in("Once::wait_force", pending);
            self.inner.wait_force()
        })
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl RefUnwindSafe for Once {}
impl UnwindSafe for Once {}
