//! Race conditions on shared data: a [`Tracked`] cell whose reads and writes
//! are checked, and annotations for hand-rolled concurrent structures.
//!
//! Safe Rust has no data races, but it has race conditions: a counter read
//! in one critical section and written in another loses updates; data
//! "protected" by two different locks in two threads is not protected. The
//! detector combines two rules, as Helgrind and ThreadSanitizer do:
//!
//! * **Happens-before** (always on): vector clocks advanced by lockgraph
//!   lock release→acquire, `Condvar` notify→wake, and spawn→start and
//!   exit→join of [`lockgraph::thread`](crate::thread). Two accesses, at
//!   least one a write, by threads with nothing ordering them are a race
//!   (FastTrack-style: the last write is one epoch, reads one epoch per
//!   thread, so the usual check is a comparison or two).
//! * **Lockset** (opt-in per cell with [`Tracked::lockset`] or for all new
//!   cells with [`set_lockset_default`]): Eraser's Virgin → Exclusive →
//!   Shared → Shared-Modified states, so initialisation before sharing is
//!   not reported; data written by several threads with no common lock held
//!   is reported even when this run happened to order the accesses. It may
//!   report what happens-before proves safe (hand-offs through a Condvar or
//!   a join), which is why it is opt-in.
//!
//! ```should_panic
//! use std::sync::Arc;
//! use lockgraph::race::Tracked;
//! use lockgraph::thread;
//!
//! let hits = Arc::new(Tracked::named("hits", 0));
//! let other = {
//!     let hits = hits.clone();
//!     thread::spawn(move || {
//!         let seen = hits.get(); // read ...
//!         hits.set(seen + 1); // ... then write: an update can be lost
//!     })
//! };
//! let seen = hits.get();
//! hits.set(seen + 1); // panics: "race condition: ..." (unless this thread ran first
//!                     // and the spawned one reports instead)
//! other.join().unwrap();
//! # if lockgraph::ENABLED { panic!("race condition") } // the report lands in either thread
//! ```
//!
//! Findings are [`Report`](crate::Report)s with kind
//! [`DataRace`](crate::ReportKind::DataRace) or
//! [`Unprotected`](crate::ReportKind::Unprotected), going through the
//! policy like any other: both accesses with thread, kind, site, held locks
//! and a backtrace (captured once per site and thread).
//!
//! Ordering through `std::thread::spawn`/`join`, std's own locks, atomics
//! or channels is invisible to the detector: share tracked data between
//! threads started with [`lockgraph::thread`](crate::thread) and
//! synchronised with lockgraph's locks or the [`crate::sync`] cells,
//! barriers, channels and atomics, or it will report those accesses.
//!
//! With detection compiled out (release without `always`), a `Tracked` is a
//! mutex-protected cell and the annotations do nothing.

use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

use crate::facade::{self as sync, AtomicBool, AtomicU64, Ordering, maybe_const_fn};

pub(crate) use shadow::Shadow;

sync::global! {
    static LOCKSET_DEFAULT: AtomicBool = const AtomicBool::new(false);
}

/// Whether new [`Tracked`] cells and newly annotated memory check locksets
/// (Eraser) as well as happens-before. Off by default. Cells and memory
/// that exist already keep their setting: a named cell takes the default
/// when it is created, a cell made with the `const` [`Tracked::new`] (which
/// cannot read it) and annotated memory when first accessed.
pub fn set_lockset_default(on: bool) {
    LOCKSET_DEFAULT.store(on, Ordering::Relaxed);
}

fn lockset_default() -> bool {
    LOCKSET_DEFAULT.load(Ordering::Relaxed)
}

/// A cell whose accesses the race detector checks. Share it like a
/// `Mutex`: every access is memory-safe (an internal lock, invisible to the
/// detector, makes it so); what the detector checks is whether *your*
/// synchronisation orders the accesses.
pub struct Tracked<T: ?Sized> {
    lock: sync::RawMutex,
    /// The thread holding a guard, to refuse nested access on one thread.
    owner: AtomicU64,
    shadow: Shadow,
    data: UnsafeCell<T>,
}

// SAFETY: the internal lock gives one thread at a time access to the data,
// so `T: Send` suffices, as for a `Mutex`.
unsafe impl<T: ?Sized + Send> Send for Tracked<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for Tracked<T> {}

/// Read access to a [`Tracked`] cell (one read event); `!Send`.
#[must_use = "the access is recorded when the guard is created"]
#[clippy::has_significant_drop]
pub struct TrackedReadGuard<'a, T: ?Sized> {
    cell: &'a Tracked<T>,
    _not_send: PhantomData<*const ()>,
}

/// Write access to a [`Tracked`] cell (one write event); `!Send`.
#[must_use = "the access is recorded when the guard is created"]
#[clippy::has_significant_drop]
pub struct TrackedWriteGuard<'a, T: ?Sized> {
    cell: &'a Tracked<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Tracked<T> {
    maybe_const_fn! {
        /// A tracked cell; its creation site names it in reports. `const`,
        /// so it works in a `static`.
        #[track_caller]
        pub fn new(value: T) -> Tracked<T> {
            Tracked {
                lock: sync::RawMutex::new(),
                owner: AtomicU64::new(0),
                shadow: Shadow::new_const(),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// A tracked cell with a name for reports.
    #[track_caller]
    pub fn named(name: impl Into<Cow<'static, str>>, value: T) -> Tracked<T> {
        Tracked {
            shadow: Shadow::new(Some(name.into())),
            ..Tracked::new(value)
        }
    }

    /// Also checks locksets for this cell (see the [module docs](self)).
    pub fn lockset(mut self, on: bool) -> Tracked<T> {
        self.shadow.set_lockset(on);
        self
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Tracked<T> {
    /// Takes the internal lock after recording the access.
    #[track_caller]
    fn enter(&self, write: bool) {
        let me = sync::current_thread_id();
        assert!(
            self.owner.load(Ordering::Relaxed) != me,
            "Tracked accessed again by the thread that holds one of its guards"
        );
        self.shadow.access(write, Location::caller());
        self.lock.lock();
        self.owner.store(me, Ordering::Relaxed);
    }

    fn leave(&self) {
        self.owner.store(0, Ordering::Relaxed);
        // SAFETY: `enter` took the lock on this thread.
        unsafe { self.lock.unlock() };
    }

    /// Reads through a guard: one read access.
    #[track_caller]
    pub fn read(&self) -> TrackedReadGuard<'_, T> {
        self.enter(false);
        TrackedReadGuard {
            cell: self,
            _not_send: PhantomData,
        }
    }

    /// Writes through a guard: one write access (reading through it too is
    /// part of the same access).
    #[track_caller]
    pub fn write(&self) -> TrackedWriteGuard<'_, T> {
        self.enter(true);
        TrackedWriteGuard {
            cell: self,
            _not_send: PhantomData,
        }
    }

    /// Runs `f` on the value: one read access.
    #[track_caller]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.read())
    }

    /// Runs `f` on the value mutably: one write access. A read-modify-write
    /// inside `f` is a single access, so it cannot race with itself.
    #[track_caller]
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.write())
    }

    /// The value without recording anything: `&mut self` proves exclusivity.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Copy> Tracked<T> {
    /// A copy of the value: one read access.
    #[track_caller]
    pub fn get(&self) -> T {
        *self.read()
    }

    /// Replaces the value: one write access.
    #[track_caller]
    pub fn set(&self, value: T) {
        *self.write() = value;
    }
}

impl<T: Default> Default for Tracked<T> {
    #[track_caller]
    fn default() -> Self {
        Tracked::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Formatting is not an access of the program's: no event.
        let mut d = f.debug_struct("Tracked");
        if self.lock.try_lock() {
            // SAFETY: the internal lock is held until `unlock` below.
            d.field("data", &unsafe { &*self.data.get() });
            // SAFETY: taken just above.
            unsafe { self.lock.unlock() };
        } else {
            d.field("data", &format_args!("<in use>"));
        }
        d.finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for TrackedReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the internal lock.
        unsafe { &*self.cell.data.get() }
    }
}

impl<T: ?Sized> Drop for TrackedReadGuard<'_, T> {
    fn drop(&mut self) {
        self.cell.leave();
    }
}

impl<T: ?Sized> Deref for TrackedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the internal lock.
        unsafe { &*self.cell.data.get() }
    }
}

impl<T: ?Sized> DerefMut for TrackedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the internal lock.
        unsafe { &mut *self.cell.data.get() }
    }
}

impl<T: ?Sized> Drop for TrackedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.cell.leave();
    }
}

/// Records a read of `len` bytes at `addr` by the current thread, for
/// concurrent structures built on `UnsafeCell`, raw pointers or FFI buffers
/// (like ThreadSanitizer's annotations). Checked per 8-byte word against
/// earlier accesses with the happens-before rule.
///
/// ```
/// let mut slot = 0u64;
/// lockgraph::race::annotate_write((&raw mut slot).cast(), 8);
/// slot = 7;
/// lockgraph::race::annotate_read((&raw const slot).cast(), 8);
/// assert_eq!(slot, 7);
/// # lockgraph::race::annotate_free((&raw const slot).cast(), 8);
/// ```
#[track_caller]
pub fn annotate_read(addr: *const u8, len: usize) {
    shadow::memory(addr as usize, len, false, Location::caller());
}

/// Records a write of `len` bytes at `addr`; see [`annotate_read`].
#[track_caller]
pub fn annotate_write(addr: *const u8, len: usize) {
    shadow::memory(addr as usize, len, true, Location::caller());
}

/// Forgets what was recorded about `len` bytes at `addr`: call it when the
/// memory is freed or reused for a new object, so accesses to the new one
/// are not compared with the old one's.
pub fn annotate_free(addr: *const u8, len: usize) {
    shadow::forget(addr as usize, len);
}

#[cfg(any(debug_assertions, feature = "always"))]
mod shadow {
    //! The shadow state of tracked data and the two checks.

    use std::borrow::Cow;
    use std::collections::HashMap;
    use std::panic::Location;
    use std::sync::Arc;

    use crate::detect::clock::{self, ThreadClock};
    use crate::detect::local::{self, Local, LockId};
    use crate::detect::{graph, policy};
    use crate::facade as sync;
    use crate::report::{Access, AccessInfo, LockInfo, Report, ReportKind, Spans, Trace, Variable};

    /// One access, as remembered for comparison with later ones.
    #[derive(Clone)]
    struct Rec {
        tid: usize,
        epoch: u32,
        thread: Arc<str>,
        write: bool,
        site: &'static Location<'static>,
        /// Locks held: (id, slot, held exclusively).
        locks: Vec<(LockId, u32, bool)>,
        trace: Option<Trace>,
        spans: Spans,
    }

    #[derive(Clone, Copy, Default, PartialEq, Eq)]
    enum Eraser {
        #[default]
        Virgin,
        Exclusive(usize),
        Shared,
        SharedModified,
    }

    /// What is known about one variable (a cell, or a word of memory).
    #[derive(Default)]
    pub(super) struct VarState {
        write: Option<Rec>,
        /// The last read of each thread since the last write.
        reads: Vec<Rec>,
        eraser: Eraser,
        /// Eraser's candidate locks.
        candidates: Vec<(LockId, u32)>,
        /// The last access of each thread, for lockset reports.
        last: Vec<Rec>,
        /// Site pairs already reported (log and callback policies).
        reported: Vec<(usize, usize)>,
        /// Whether the lockset check has reported this variable.
        lockset_reported: bool,
        /// Whether it is lockset-checked, fixed at its first access (or
        /// when a named cell is created), so a later change of the default
        /// leaves it as it was.
        lockset: Option<bool>,
    }

    pub(crate) struct Shadow {
        state: sync::Mutex<VarState>,
        name: Option<Arc<str>>,
        created: &'static Location<'static>,
        lockset: Option<bool>,
    }

    impl Shadow {
        crate::facade::maybe_const_fn! {
            #[track_caller]
            pub(super) fn new_const() -> Shadow {
                Shadow {
                    state: sync::Mutex::new(VarState {
                        write: None,
                        reads: Vec::new(),
                        eraser: Eraser::Virgin,
                        candidates: Vec::new(),
                        last: Vec::new(),
                        reported: Vec::new(),
                        lockset_reported: false,
                        lockset: None,
                    }),
                    name: None,
                    created: Location::caller(),
                    lockset: None,
                }
            }
        }

        #[track_caller]
        pub(super) fn new(name: Option<Cow<'static, str>>) -> Shadow {
            let mut shadow = Shadow::new_const();
            shadow.name = name.map(|n| Arc::from(n.as_ref()));
            // Not `const`: the default as of now applies.
            shadow.lockset = Some(super::lockset_default());
            shadow
        }

        pub(super) fn set_lockset(&mut self, on: bool) {
            self.lockset = Some(on);
        }

        #[track_caller]
        pub(super) fn access(&self, write: bool, site: &'static Location<'static>) {
            let lockset = self.lockset.unwrap_or_else(super::lockset_default);
            let variable = || Variable {
                name: self.name.clone(),
                created_at: Some(self.created),
                address: None,
            };
            check(write, site, lockset, variable, |f| {
                f(&mut self.state.lock())
            });
        }
    }

    fn site_key(site: &'static Location<'static>) -> usize {
        site as *const Location<'static> as usize
    }

    /// Records one access and dispatches the report it causes, if any.
    #[track_caller]
    fn check(
        write: bool,
        site: &'static Location<'static>,
        lockset: bool,
        variable: impl FnOnce() -> Variable,
        with_state: impl FnOnce(&mut dyn FnMut(&mut VarState) -> Option<Finding>) -> Option<Finding>,
    ) {
        let state = policy::state();
        if !policy::is_active(state) {
            return;
        }
        if !policy::is_racing(state) {
            policy::set_racing();
        }
        let finding = local::with(|local| {
            let (tid, epoch) = {
                let clock = clock::thread_clock(local);
                (clock.tid, clock.now())
            };
            let mut now = None;
            with_state(&mut |var| {
                let lockset = *var.lockset.get_or_insert(lockset);
                // FastTrack's common case: this thread already accessed the
                // variable this way in this epoch, with nothing in between
                // that another thread could order against. Nothing to do.
                if !lockset && var.same_epoch(tid, epoch, write) {
                    return None;
                }
                let now = now.get_or_insert_with(|| record(local, write, site));
                step(var, now, clock::thread_clock(local), lockset)
            })
        });
        if let Some(Some(finding)) = finding {
            policy::dispatch(Box::new(finding.report(variable())));
        }
    }

    /// This access, as a record.
    fn record(local: &mut Local, write: bool, site: &'static Location<'static>) -> Rec {
        let thread = local.thread_name();
        let mut locks = Vec::with_capacity(local.held.len());
        for i in 0..local.held.len() {
            let held = local.held.get(i);
            let exclusive = matches!(held.access, Access::Exclusive | Access::Reentrant);
            locks.push((held.id, held.slot, exclusive));
        }
        let (trace, spans) = local.publication.trace(site);
        let clock = clock::thread_clock(local);
        Rec {
            tid: clock.tid,
            epoch: clock.now(),
            thread,
            write,
            site,
            locks,
            trace,
            spans,
        }
    }

    impl VarState {
        /// Whether `tid` already wrote (or, for a read, read) this variable
        /// in `epoch`.
        fn same_epoch(&self, tid: usize, epoch: u32, write: bool) -> bool {
            let wrote = self
                .write
                .as_ref()
                .is_some_and(|w| w.tid == tid && w.epoch == epoch);
            wrote || !write && self.reads.iter().any(|r| r.tid == tid && r.epoch == epoch)
        }
    }

    /// A race found at an access: the kind, this access, the earlier one.
    pub(super) struct Finding {
        kind: ReportKind,
        now: Rec,
        before: Rec,
    }

    /// The happens-before and lockset checks for one access, and the
    /// update of the variable's state.
    fn step(var: &mut VarState, now: &Rec, clock: &ThreadClock, lockset: bool) -> Option<Finding> {
        let ordered = |r: &Rec| r.tid == now.tid || r.epoch <= clock.clock.get(r.tid);
        let mut conflict = var.write.as_ref().filter(|w| !ordered(w)).cloned();
        if now.write && conflict.is_none() {
            conflict = var.reads.iter().find(|r| !ordered(r)).cloned();
        }
        let mut finding = conflict.map(|before| Finding {
            kind: ReportKind::DataRace,
            now: now.clone(),
            before,
        });

        if now.write {
            var.write = Some(now.clone());
            var.reads.clear();
        } else {
            var.reads.retain(|r| r.tid != now.tid);
            var.reads.push(now.clone());
        }

        if lockset && finding.is_none() {
            finding = eraser(var, now);
        }
        var.last.retain(|r| r.tid != now.tid);
        var.last.push(now.clone());

        let finding = finding?;
        if !policy::reports_repeats() {
            let key = (site_key(finding.now.site), site_key(finding.before.site));
            if var.reported.contains(&key) {
                return None;
            }
            var.reported.push(key);
        }
        Some(finding)
    }

    /// Eraser's state machine; reports once, when a shared and modified
    /// variable's candidate locks run out.
    fn eraser(var: &mut VarState, now: &Rec) -> Option<Finding> {
        // Writes are protected only by locks held exclusively.
        let held: Vec<(LockId, u32)> = now
            .locks
            .iter()
            .filter(|l| l.2 || !now.write)
            .map(|l| (l.0, l.1))
            .collect();
        let before = var.eraser;
        var.eraser = match before {
            Eraser::Virgin => Eraser::Exclusive(now.tid),
            Eraser::Exclusive(t) if t == now.tid => before,
            Eraser::Exclusive(_) => {
                var.candidates = held.clone();
                if now.write {
                    Eraser::SharedModified
                } else {
                    Eraser::Shared
                }
            }
            Eraser::Shared if now.write => Eraser::SharedModified,
            other => other,
        };
        if matches!(before, Eraser::Shared | Eraser::SharedModified) {
            var.candidates.retain(|c| held.contains(c));
        }
        if var.eraser != Eraser::SharedModified
            || !var.candidates.is_empty()
            || var.lockset_reported
        {
            return None;
        }
        var.lockset_reported = true;
        let other = var.last.iter().rev().find(|r| r.tid != now.tid)?.clone();
        Some(Finding {
            kind: ReportKind::Unprotected,
            now: now.clone(),
            before: other,
        })
    }

    impl Finding {
        fn report(self, variable: Variable) -> Report {
            let info = |r: &Rec| AccessInfo {
                thread: r.thread.clone(),
                write: r.write,
                at: r.site,
                locks: r
                    .locks
                    .iter()
                    .filter_map(|l| graph::lock_info(l.0, l.1))
                    .collect::<Vec<LockInfo>>(),
                trace: r.trace.clone(),
                spans: r.spans.clone(),
            };
            let title = match (self.kind, self.now.write && self.before.write) {
                (ReportKind::Unprotected, _) => {
                    "race condition: no lock protects every access to shared data"
                }
                (_, true) => "race condition: two writes that nothing orders",
                (_, false) => "race condition: a read and a write that nothing orders",
            };
            Report {
                kind: self.kind,
                title: title.to_owned(),
                thread: self.now.thread.clone(),
                acquiring: usize::MAX,
                access: if self.now.write {
                    Access::Exclusive
                } else {
                    Access::Shared
                },
                location: self.now.site,
                locks: Vec::new(),
                edges: Vec::new(),
                held: Vec::new(),
                previous: None,
                trace: self.now.trace.clone(),
                spans: self.now.spans.clone(),
                waits: Vec::new(),
                accesses: vec![info(&self.now), info(&self.before)],
                variable: Some(variable),
            }
        }
    }

    sync::global! {
        static MEMORY: sync::Mutex<HashMap<usize, VarState>> = lazy sync::Mutex::new(HashMap::new());
    }

    /// The 8-byte words a range touches.
    fn words(addr: usize, len: usize) -> std::ops::Range<usize> {
        if len == 0 {
            return 0..0;
        }
        (addr / 8)..((addr + len - 1) / 8 + 1)
    }

    #[track_caller]
    pub(super) fn memory(addr: usize, len: usize, write: bool, site: &'static Location<'static>) {
        let variable = || Variable {
            name: None,
            created_at: None,
            address: Some((addr, len)),
        };
        check(write, site, super::lockset_default(), variable, |f| {
            let mut memory = MEMORY.lock();
            let mut first = None;
            for word in words(addr, len) {
                let finding = f(memory.entry(word).or_default());
                first = first.or(finding);
            }
            first
        });
    }

    pub(super) fn forget(addr: usize, len: usize) {
        let mut memory = MEMORY.lock();
        for word in words(addr, len) {
            memory.remove(&word);
        }
    }
}

#[cfg(not(any(debug_assertions, feature = "always")))]
mod shadow {
    //! Detection compiled out: nothing is recorded.

    use std::borrow::Cow;
    use std::panic::Location;

    pub(crate) struct Shadow;

    impl Shadow {
        pub(super) const fn new_const() -> Shadow {
            Shadow
        }
        pub(super) fn new(_name: Option<Cow<'static, str>>) -> Shadow {
            Shadow
        }
        pub(super) fn set_lockset(&mut self, _on: bool) {}
        #[inline(always)]
        pub(super) fn access(&self, _write: bool, _site: &'static Location<'static>) {}
    }

    pub(super) fn memory(
        _addr: usize,
        _len: usize,
        _write: bool,
        _site: &'static Location<'static>,
    ) {
    }
    pub(super) fn forget(_addr: usize, _len: usize) {}
}
