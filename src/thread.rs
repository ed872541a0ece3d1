//! `std::thread` with the ordering the race detector needs: what a parent
//! did before `spawn` happens before the child runs, and what a thread did
//! happens before `join` returns (for scoped threads, before `scope`
//! returns). Swap `use std::thread;` for `use lockgraph::thread;` where
//! threads share [`Tracked`](crate::race::Tracked) data.
//!
//! ```
//! use lockgraph::race::Tracked;
//! use lockgraph::thread;
//!
//! let total = std::sync::Arc::new(Tracked::new(0));
//! total.set(1); // before the spawn: ordered before the child's read
//! let child = {
//!     let total = total.clone();
//!     thread::spawn(move || total.get())
//! };
//! assert_eq!(child.join().unwrap(), 1);
//! total.set(2); // after the join: ordered after the child's read
//! ```
//!
//! Everything else is std's own.

use std::io;
use std::panic::Location;
use std::sync::Arc;

pub use std::thread::{
    AccessError, LocalKey, Result, Thread, ThreadId, available_parallelism, current, panicking,
    park, park_timeout, sleep, yield_now,
};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::detect::Meta;
use crate::detect::clock::{self, VClock};
use crate::detect::waits::{Event, Stamp};
use crate::facade as sync;
use crate::report::LockKind;

/// What a spawned thread shares with its `JoinHandle`: the event its end
/// is (joins wait for it; the thread's locks come before it), what it
/// leaves behind — its final clocks (race detection, waits) — and, while a
/// watchdog runs, its publication.
struct Exit {
    event: Arc<Event>,
    clock: sync::Mutex<Option<VClock>>,
    stamp: sync::Mutex<Stamp>,
    thread: crate::detect::publish::Joined,
    /// Joined through its handle (a scope's end then waits for it no more).
    joined: AtomicBool,
}

type ExitClock = Arc<Exit>;

#[track_caller]
fn new_exit() -> ExitClock {
    Arc::new(Exit {
        event: Event::shared(LockKind::Thread),
        clock: sync::Mutex::new(None),
        stamp: sync::Mutex::new(Stamp::default()),
        thread: Default::default(),
        joined: AtomicBool::new(false),
    })
}

/// Runs `f` in the child with the parent's clocks and its end as the
/// child's root event, and leaves the child's final clocks in `exit` (also
/// when `f` panics).
fn instrument<F, T>(f: F, exit: ExitClock) -> impl FnOnce() -> T
where
    F: FnOnce() -> T,
{
    struct Publish(ExitClock);
    impl Drop for Publish {
        fn drop(&mut self) {
            *self.0.clock.lock() = clock::hand_over();
            *self.0.stamp.lock() = Meta::stamp();
            Meta::end_root(&self.0.event);
        }
    }
    let start = clock::hand_over();
    let stamp = Meta::stamp();
    move || {
        if let Some(start) = &start {
            clock::absorb(start);
        }
        Meta::absorb(&stamp);
        Meta::begin_root(&exit.event);
        *exit.thread.lock() = crate::detect::publish::this_thread();
        let _publish = Publish(exit);
        f()
    }
}

/// A join of the thread behind `exit` begins at `site`: the locks held now
/// are ordered before its end (a cycle is reported before blocking), and
/// while a watchdog runs the wait names the spawn site unless the thread
/// has finished already.
fn joining(
    finished: bool,
    spawned: &'static Location<'static>,
    exit: &ExitClock,
    site: &'static Location<'static>,
) -> Option<crate::detect::publish::WaitGuard> {
    exit.joined.store(true, Ordering::Relaxed);
    exit.event.wait_end_at(site);
    if finished {
        return None;
    }
    crate::detect::publish::begin_join("join of the thread spawned", spawned, site, &exit.thread)
}

fn absorb_exit(exit: &ExitClock) {
    if let Some(final_clock) = exit.clock.lock().take() {
        clock::absorb(&final_clock);
    }
    Meta::absorb(&exit.stamp.lock().take());
}

/// Spawns a thread, as [`std::thread::spawn`].
///
/// # Panics
/// If the OS fails to create a thread, as std's.
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// A thread factory, as [`std::thread::Builder`].
#[derive(Debug)]
pub struct Builder(std::thread::Builder);

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the default configuration.
    pub fn new() -> Builder {
        Builder(std::thread::Builder::new())
    }

    /// Names the thread.
    pub fn name(self, name: String) -> Builder {
        Builder(self.0.name(name))
    }

    /// Sets the stack size.
    pub fn stack_size(self, size: usize) -> Builder {
        Builder(self.0.stack_size(size))
    }

    /// Spawns the thread.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let spawned = Location::caller();
        let exit = new_exit();
        let inner = self.0.spawn(instrument(f, exit.clone()))?;
        Ok(JoinHandle {
            inner,
            exit,
            spawned,
        })
    }

    /// Spawns a scoped thread.
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let spawned = Location::caller();
        let exit = scope.register();
        let inner = self
            .0
            .spawn_scoped(&scope.inner, instrument(f, exit.clone()))?;
        Ok(ScopedJoinHandle {
            inner,
            exit,
            spawned,
        })
    }
}

/// An owned permission to join a thread, as [`std::thread::JoinHandle`].
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
    exit: ExitClock,
    /// Where the thread was spawned, for the watchdog.
    spawned: &'static Location<'static>,
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> std::fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish; what it did happens before what the
    /// caller does next. While a watchdog runs, a join that waits names the
    /// thread's spawn site.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        let _blocked = joining(
            self.inner.is_finished(),
            self.spawned,
            &self.exit,
            Location::caller(),
        );
        let result = self.inner.join();
        absorb_exit(&self.exit);
        result
    }

    /// The thread's handle.
    pub fn thread(&self) -> &Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished running.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

/// A scope for spawning threads that borrow, as [`std::thread::Scope`].
#[repr(transparent)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: std::thread::Scope<'scope, 'env>,
}

/// The exit clocks of the threads of each running scope, by scope address.
type ScopeExits = std::collections::HashMap<usize, Vec<ExitClock>>;

sync::global! {
    static SCOPES: sync::Mutex<ScopeExits> = lazy sync::Mutex::new(ScopeExits::new());
}

impl<'scope, 'env> Scope<'scope, 'env> {
    fn key(&self) -> usize {
        self as *const Self as usize
    }

    #[track_caller]
    fn register(&self) -> ExitClock {
        let exit = new_exit();
        SCOPES
            .lock()
            .entry(self.key())
            .or_default()
            .push(exit.clone());
        exit
    }

    /// Spawns a scoped thread, as [`std::thread::Scope::spawn`].
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Builder::new()
            .spawn_scoped(self, f)
            .expect("failed to spawn thread")
    }
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

/// Creates a scope for spawning borrowing threads, as
/// [`std::thread::scope`]; when it returns, everything the scope's threads
/// did happens before what the caller does next.
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let site = Location::caller();
    let mut key = 0;
    let result = std::thread::scope(|inner| {
        // SAFETY: `Scope` is `repr(transparent)` over `std::thread::Scope`,
        // so the reference keeps its layout, lifetime and validity.
        let scope: &Scope<'_, 'env> =
            unsafe { &*(inner as *const std::thread::Scope<'_, 'env> as *const Scope<'_, 'env>) };
        key = scope.key();
        let result = f(scope);
        // The scope's end joins every thread not joined yet: a join under
        // whatever the caller holds.
        let waiting: Vec<ExitClock> = SCOPES
            .lock()
            .get(&key)
            .map(|exits| {
                exits
                    .iter()
                    .filter(|exit| !exit.joined.load(Ordering::Relaxed))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for exit in &waiting {
            exit.event.wait_end_at(site);
        }
        result
    });
    // Every thread of the scope has finished: take in their histories.
    let exits = SCOPES.lock().remove(&key).unwrap_or_default();
    for exit in &exits {
        absorb_exit(exit);
    }
    result
}

/// An owned permission to join a scoped thread, as
/// [`std::thread::ScopedJoinHandle`].
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
    exit: ExitClock,
    /// Where the thread was spawned, for the watchdog.
    spawned: &'static Location<'static>,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread to finish; what it did happens before what the
    /// caller does next. While a watchdog runs, a join that waits names the
    /// thread's spawn site.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        let _blocked = joining(
            self.inner.is_finished(),
            self.spawned,
            &self.exit,
            Location::caller(),
        );
        let result = self.inner.join();
        absorb_exit(&self.exit);
        result
    }

    /// The thread's handle.
    pub fn thread(&self) -> &Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished running.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}
