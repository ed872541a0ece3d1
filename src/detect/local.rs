//! Per-thread detector state: the stack of held locks and the set of
//! lock-order edges this thread already knows are in the global graph.
//!
//! This is the hot path, and a debug build (opt-level 0) is where lockgraph
//! runs by default: there every function call stays a call. So the state is
//! reached through one thread-local access, the small helpers are
//! `#[inline(always)]`, and the two containers are plain pointer-and-length
//! buffers read with built-in indexing rather than `Vec` methods.

use std::cell::{Cell, UnsafeCell};
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::facade as sync;
use crate::report::Access;

/// A never-reused lock id; `0` means "not registered yet".
pub(crate) type LockId = u64;

/// A slot of the held stack with no entry.
const NO_ENTRY: Held = Held {
    id: 0,
    slot: 0,
    access: Access::Exclusive,
    blocking: false,
    asynchronous: false,
    place: Place::NONE,
    site: Location::caller(),
    chain: 0,
};

/// (tokio) Where a polled acquisition's future lives: its address and size
/// in 8-byte words; [`Place::NONE`] for any other acquisition. Without the
/// `tokio` feature no acquisition is polled, and a place is nothing (a held
/// entry is no bigger for it).
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    at: usize,
    span8: u8,
}

/// (tokio) Where a polled acquisition's future lives: nowhere without the
/// `tokio` feature.
#[cfg(not(feature = "tokio"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place;

impl Place {
    #[cfg(feature = "tokio")]
    pub(crate) const NONE: Place = Place { at: 0, span8: 0 };
    #[cfg(not(feature = "tokio"))]
    pub(crate) const NONE: Place = Place;

    /// The future's address (0: not a polled acquisition).
    #[inline(always)]
    pub(crate) fn at(self) -> usize {
        #[cfg(feature = "tokio")]
        return self.at;
        #[cfg(not(feature = "tokio"))]
        0
    }

    /// Whether the future at `at` lies inside this one's memory (unknown
    /// addresses, 0, lie nowhere).
    #[inline]
    pub(crate) fn holds(self, at: usize) -> bool {
        #[cfg(feature = "tokio")]
        return self.at != 0 && at != 0 && at >= self.at && at - self.at < self.span8 as usize * 8;
        #[cfg(not(feature = "tokio"))]
        {
            let _ = at;
            false
        }
    }

    /// Whether this place and `other` are both known and neither holds the
    /// other: two futures that may live side by side (sibling branches).
    #[inline]
    pub(crate) fn apart_from(self, other: Place) -> bool {
        self.at() != 0 && other.at() != 0 && !self.holds(other.at()) && !other.holds(self.at())
    }

    /// The place of a future of type `F` at `future`.
    #[cfg(feature = "tokio")]
    #[inline(always)]
    pub(crate) fn of<F>(future: &F) -> Place {
        Place {
            at: future as *const F as usize,
            span8: (std::mem::size_of::<F>() / 8).min(255) as u8,
        }
    }
}

/// (tokio) What an async acquisition that found its lock held by its own
/// context became.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deferred {
    /// Nothing was deferred.
    No,
    /// A relock by the same flow (its future lives where the holder's did),
    /// unless the guard went to a sibling: reported after a short grace.
    SameFlow,
    /// Possibly a concurrent branch waiting its turn: reported only if
    /// stuck.
    Branches,
}

/// One entry of the held stack.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    pub(crate) id: LockId,
    /// The lock's node slot in the graph (checked against `id` before use).
    pub(crate) slot: u32,
    pub(crate) access: Access,
    /// Whether the acquisition could block (not a `try_lock`, nor a timed
    /// one): only those count as what a signal waited for.
    pub(crate) blocking: bool,
    /// Whether the lock is an async one (tokio's): held across an `.await`
    /// by design, where holding a sync lock is a bug.
    pub(crate) asynchronous: bool,
    pub(crate) site: &'static Location<'static>,
    /// (tokio) Where the `lock()` future that acquired it lived
    /// ([`Place::NONE`]: not a polled acquisition): see [`Held::contains`].
    pub(crate) place: Place,
    /// The chain of the stack up to this entry: a hash of the ids from the
    /// outermost one to this one (see [`ChainSet`]); 0 until [`scan`] or a
    /// nesting two deep computes it, and again above an out-of-order
    /// release.
    pub(crate) chain: u64,
}

impl Held {
    /// The entry of a blocking acquisition of lock `id` (node `slot`) at
    /// `site`, with no place (not a polled one) and no chain yet.
    #[inline(always)]
    pub(crate) fn blocking(
        id: LockId,
        slot: u32,
        access: Access,
        asynchronous: bool,
        site: &'static Location<'static>,
    ) -> Held {
        Held {
            id,
            slot,
            access,
            blocking: true,
            asynchronous,
            place: Place::NONE,
            site,
            chain: 0,
        }
    }

    /// Whether the acquisition future at `at` lies inside the memory where
    /// this entry's own `lock()` future lived — so it belongs to the same
    /// flow. A future's memory belongs to the flow that awaits it (the
    /// `async fn`'s state, where consecutive `.await`s reuse one slot and a
    /// helper awaited there nests inside it); a concurrent sibling's state
    /// is elsewhere for as long as this flow lives. Unknown addresses (0)
    /// contain nothing.
    #[inline]
    pub(crate) fn contains(&self, at: usize) -> bool {
        self.place.holds(at)
    }
}

/// The current thread's detector state.
pub(crate) struct Local {
    /// Locks held, in acquisition order (outermost first).
    pub(crate) held: Stack,
    /// Edges known to be in the global graph.
    pub(crate) known: EdgeSet,
    /// Chains of held locks known to be in order.
    pub(crate) chains: ChainSet,
    /// Nestings where a fresh lock can be parked (see `detect::pending`).
    pub(crate) leaves: super::pending::Leaves,
    /// This thread's name, computed the first time a report or edge needs it.
    thread_name: Option<Arc<str>>,
    /// What this thread publishes while an observer looks.
    pub(crate) publication: super::publish::Publication,
    /// This thread's vector clock, once race detection is on.
    pub(crate) race: Option<Box<super::clock::ThreadClock>>,
    /// The span stack last captured on this thread, by current span id.
    pub(crate) spans: Option<(u64, crate::report::Spans)>,
    /// The locks held when this thread last waited on or signalled a
    /// Condvar or Barrier: their releases since are not on the way to the
    /// next signal (see [`Stack::released`]).
    pub(crate) held_at_window: Vec<LockId>,
    /// The tokio task whose stack is in `held` during this operation (0:
    /// the thread's own).
    pub(crate) task: u64,
    /// The thread's own stack while a task's is in `held`.
    pub(crate) thread_held: Stack,
    /// The thread's own publication while a task's is in `publication`.
    pub(crate) thread_publication: super::publish::Publication,
    /// The tasks this thread ran operations for last, and their contexts.
    pub(crate) task_cache: super::context::TaskCache,
    /// Tasks that ended their last operation on this thread holding a sync
    /// lock (suspended at an `.await` with it), and those locks.
    pub(crate) sync_holders: Vec<(u64, Vec<Held>)>,
    /// Releases other contexts posted to this thread's own context.
    pub(crate) inbox: Option<super::context::InboxHandle>,
    /// (tokio) The acquisition being checked is a polled one (a `lock()`
    /// future, not `blocking_lock`): a relock of an async lock the context
    /// holds is deferred instead of reported (see `Meta::relock`).
    #[cfg(feature = "tokio")]
    pub(crate) acquiring: Place,
    /// (tokio) What became of such a relock.
    #[cfg(feature = "tokio")]
    pub(crate) deferred: Deferred,
}

/// `Local` plus a re-entrancy flag: the detector may be re-entered on the
/// same thread (a global allocator or a report handler that takes locks),
/// and then it steps aside instead of aliasing its own state.
///
/// A `Slot` has no drop glue, so the thread-local holding it is read
/// directly, with no check of whether its destructor is registered or has
/// run: that check was three instructions and a call on every lock and
/// unlock. The thread's `Local` is dropped instead by [`Teardown`], a
/// thread-local of its own, which the first visit to the state registers
/// ([`Slot::claim`]); once it ran, the slot stays busy, so the hot paths
/// step aside and every visit finds the state unavailable.
pub(crate) struct Slot {
    /// `BUSY` while the detector runs on this thread; `FULL` while the
    /// state needs the full path ([`Local::needs_full_path`]); `UNARMED`
    /// until this thread's [`Teardown`] is registered; `BUSY | TORN_DOWN`
    /// for good once it ran. The hot paths go on only when it is 0.
    flags: UnsafeCell<u8>,
    /// The `lockgraph::tokio::scope` being polled on this thread, if any: it
    /// stands in for the task's id.
    #[cfg(feature = "tokio")]
    scope: std::cell::Cell<u64>,
    local: UnsafeCell<ManuallyDrop<Local>>,
}

const BUSY: u8 = 1;
const FULL: u8 = 2;
const UNARMED: u8 = 4;
const TORN_DOWN: u8 = 8;

sync::local! {
    pub(crate) static LOCAL: Slot = Slot::new();
}

/// Drops this thread's [`Local`] when the thread exits (see [`Slot`]).
#[cfg(not(loom))]
struct Teardown;

#[cfg(not(loom))]
sync::local! {
    static TEARDOWN: Teardown = Teardown;
}

#[cfg(not(loom))]
impl Drop for Teardown {
    fn drop(&mut self) {
        let _ = LOCAL.try_with(|slot| {
            // SAFETY: this thread's own slot. The detector is not running
            // on this thread (thread-local destructors run after it
            // returned), and `BUSY` stays set from here on, so no
            // `&mut Local` is ever handed out again: the state is dropped
            // once and never touched after.
            unsafe {
                if *slot.flags.get() & BUSY != 0 {
                    // Not expected; leaking beats freeing state in use.
                    return;
                }
                *slot.flags.get() = BUSY | TORN_DOWN;
                ManuallyDrop::drop(&mut *slot.local.get());
            }
        });
    }
}

/// Under loom a model's threads drop their thread-locals, and loom counts
/// what they leak: the slot drops its state itself.
#[cfg(loom)]
impl Drop for Slot {
    fn drop(&mut self) {
        // SAFETY: the slot is going away; nothing else can reach its state.
        unsafe { ManuallyDrop::drop(self.local.get_mut()) }
    }
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            flags: UnsafeCell::new(UNARMED),
            #[cfg(feature = "tokio")]
            scope: std::cell::Cell::new(0),
            local: UnsafeCell::new(ManuallyDrop::new(Local::new())),
        }
    }

    /// Registers this thread's [`Teardown`]; `false` if the thread is past
    /// running it (then the state stays unavailable).
    #[cold]
    #[inline(never)]
    fn arm(&self) -> bool {
        #[cfg(not(loom))]
        if TEARDOWN.try_with(|_| ()).is_err() {
            // SAFETY: this thread's own flag; the state was never used
            // (unarmed), so it holds nothing to drop.
            unsafe { *self.flags.get() = BUSY | TORN_DOWN };
            return false;
        }
        // SAFETY: this thread's own flag.
        unsafe { *self.flags.get() &= !UNARMED };
        true
    }

    /// Runs `f` on this thread's state, or returns `None` if the detector is
    /// already running on this thread.
    #[inline(always)]
    #[cfg_attr(not(any(test, loom)), allow(dead_code))] // the loom models, and a unit test
    pub(crate) fn enter<R>(&self, f: impl FnOnce(&mut Local) -> R) -> Option<R> {
        // SAFETY: `claim` hands out the only `&mut Local`, until `unclaim`.
        unsafe {
            let local = self.claim()?;
            let result = f(local);
            self.unclaim();
            Some(result)
        }
    }

    /// Marks the state in use and returns it, or `None` if the detector is
    /// already running on this thread, or the state is torn down:
    /// [`Slot::enter`] without a closure, for the hot paths. The first
    /// visit registers the state's [`Teardown`].
    ///
    /// # Safety
    /// The caller uses the returned state only until it calls
    /// [`Slot::unclaim`], which it must do before anything else enters.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn claim(&self) -> Option<&mut Local> {
        // SAFETY: `flags` and `local` belong to this thread (a thread-local
        // `Slot` is never shared); `BUSY` keeps a second `&mut Local` from
        // being handed out until `unclaim`.
        unsafe {
            let flags = *self.flags.get();
            if flags & BUSY != 0 {
                return None;
            }
            if flags & UNARMED != 0 && !self.arm() {
                return None;
            }
            *self.flags.get() |= BUSY;
            Some(&mut **self.local.get())
        }
    }

    /// This thread's state for a hot path that enters nothing, or `None`
    /// if the detector is running on this thread or the state needs the
    /// full path (`FULL`): [`Slot::claim`] without
    /// marking the state in use, for code that calls out to nothing — no
    /// allocation, no hook, no handler — so nothing can enter the detector
    /// on this thread before it is done with the state.
    ///
    /// # Safety
    /// The caller uses the returned state only until it returns, and calls
    /// nothing that may enter the detector meanwhile.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn peek(&self) -> Option<&mut Local> {
        // SAFETY: `flags` and `local` belong to this thread; while `BUSY` is
        // clear no other `&mut Local` exists, and the caller creates none
        // until it is done with this one. An unarmed state may be read
        // here: it holds nothing yet, so no push finds room in it.
        unsafe {
            if *self.flags.get() != 0 {
                return None;
            }
            Some(&mut **self.local.get())
        }
    }

    /// This thread's state to read, or `None` while the detector runs on
    /// this thread (or after the state is torn down): [`Slot::peek`] for a
    /// hot path that only reads, whatever the state holds.
    ///
    /// # Safety
    /// The caller uses the returned state only until it returns, and calls
    /// nothing that may enter the detector meanwhile.
    #[inline(always)]
    unsafe fn read(&self) -> Option<&Local> {
        // SAFETY: as in `peek`; an unarmed state holds nothing yet, which
        // is what it says.
        unsafe {
            if *self.flags.get() & BUSY != 0 {
                return None;
            }
            Some(&**self.local.get())
        }
    }

    /// Ends a [`Slot::claim`], noting whether the state, as the visit
    /// left it, needs the full path.
    ///
    /// # Safety
    /// The state `claim` returned is no longer used.
    #[inline(always)]
    unsafe fn unclaim(&self) {
        // SAFETY: this thread's own flag and state; the caller is done
        // with the `&mut Local` it had.
        unsafe {
            let full = (*self.local.get()).needs_full_path();
            *self.flags.get() = if full { FULL } else { 0 };
        }
    }

    /// [`Slot::enter`] in the context running: the thread's own state, or
    /// inside a task its stack ([`super::context::in_task`]). One closure
    /// less than `enter` around a dispatch: each is a call at opt-level 0.
    #[inline(always)]
    #[allow(clippy::question_mark)] // each `?` is a call at opt-level 0
    pub(crate) fn enter_context<R>(&self, f: impl FnOnce(&mut Local) -> R) -> Option<R> {
        let task = self.task();
        if task == 0 {
            return self.enter_thread(f);
        }
        // SAFETY: as in `enter`.
        unsafe {
            let Some(local) = self.claim() else {
                return None;
            };
            let result = super::context::in_task(local, task, f);
            self.unclaim();
            Some(result)
        }
    }

    /// [`Slot::enter_context`] when no task runs here: the thread's own
    /// state, its posted releases applied first.
    #[inline(always)]
    #[allow(clippy::question_mark)] // each `?` is a call at opt-level 0
    fn enter_thread<R>(&self, f: impl FnOnce(&mut Local) -> R) -> Option<R> {
        // SAFETY: as in `enter`.
        unsafe {
            let Some(local) = self.claim() else {
                return None;
            };
            #[allow(clippy::redundant_pattern_matching)]
            // `is_some` is a call at opt-level 0
            if let Some(_) = local.inbox {
                super::context::drain_inbox(local);
            }
            let result = f(local);
            self.unclaim();
            Some(result)
        }
    }

    /// The task running on this thread (see [`current_task`]).
    #[cfg(feature = "tokio")]
    #[inline(always)]
    fn task(&self) -> u64 {
        match self.scope.get() {
            0 => sync::current_task(),
            scope => scope,
        }
    }

    /// Without tokio every context is a thread.
    #[cfg(not(feature = "tokio"))]
    #[inline(always)]
    fn task(&self) -> u64 {
        0
    }

    /// Whether the detector is running on this thread right now (not
    /// after the state is torn down).
    pub(crate) fn busy(&self) -> bool {
        // SAFETY: a read of this thread's own flag.
        unsafe { *self.flags.get() & (BUSY | TORN_DOWN) == BUSY }
    }
}

/// Runs `f` on this thread's state. Returns `None` when the state is
/// unavailable: in use (the detector re-entered itself) or torn down
/// (thread exit). Callers then skip detection rather than panic or deadlock.
#[inline(always)]
#[allow(clippy::manual_unwrap_or_default)] // a `match` costs no call at opt-level 0
pub(crate) fn with<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    match LOCAL.try_with(|slot| slot.enter_context(f)) {
        Ok(result) => result,
        Err(_) => None,
    }
}

/// This thread's state, claimed for one operation of the thread's own
/// context (no task runs here); released when dropped.
pub(crate) struct Claim<'a> {
    slot: &'a Slot,
    local: &'a mut Local,
}

impl Claim<'_> {
    #[inline(always)]
    pub(crate) fn local(&mut self) -> &mut Local {
        self.local
    }
}

impl Drop for Claim<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the state is not used again.
        unsafe { self.slot.unclaim() }
    }
}

/// Where an operation of this thread finds its state ([`thread_state`]).
pub(crate) enum ThreadState<'a> {
    /// The thread's own context runs: its state, claimed.
    Own(Claim<'a>),
    /// A task runs here: the caller takes [`with`], from a call of its own.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // no tasks without tokio
    InTask,
    /// The detector already runs on this thread, or the state is torn down:
    /// no detection.
    Unavailable,
}

/// [`with`] without a closure, for the sync locks' hot paths: the
/// thread's state claimed when no task runs here (its posted releases
/// applied). A closure that [`with`] may hand to the task path is built in
/// memory, and not always inlined, even when no task runs.
///
/// The claim lives as long as the caller keeps it (`'a` is the caller's
/// choice): it must end before anything else enters the detector.
#[inline(always)]
pub(crate) fn thread_state<'a>() -> ThreadState<'a> {
    thread_state_releasing(0)
}

/// [`thread_state`] for the release of sync lock `id` (0: not a release).
/// With the `tokio` feature it does not ask tokio which task runs when the
/// thread's own stack has an exclusive or reentrant entry for `id` on top:
/// then the guard is the thread context's own, whatever task runs now. An
/// exclusive entry is its lock's only holder; a reentrant lock has one
/// entry per owning thread, pushed at the outermost level (re-entries, in
/// any context on the thread, add none); and a sync guard is released on
/// the thread that acquired it.
#[inline(always)]
#[cfg_attr(not(feature = "tokio"), allow(dead_code))] // the tokio feature's release
pub(crate) fn thread_state_releasing<'a>(id: LockId) -> ThreadState<'a> {
    let Some(slot) = slot() else {
        return ThreadState::Unavailable;
    };
    // SAFETY: this thread's slot, alive until the thread's thread-locals are
    // torn down, which cannot start while the caller holds the claim. The
    // claim ends when the `Claim` drops, or below before returning without
    // it; `task()` (tokio's task id) does not enter the detector.
    let slot: &'a Slot = unsafe { &*slot };
    unsafe {
        let Some(local) = slot.claim() else {
            return ThreadState::Unavailable;
        };
        #[cfg(feature = "tokio")]
        {
            let n = local.held.len();
            let own = id != 0 && n > 0 && {
                let top = local.held.entry(n - 1);
                top.id == id
                    && matches!(top.access, Access::Exclusive | Access::Reentrant)
                    && !top.asynchronous
            };
            if !own {
                if slot.task() != 0 {
                    slot.unclaim();
                    return ThreadState::InTask;
                }
                #[allow(clippy::redundant_pattern_matching)]
                // `is_some` is a call at opt-level 0
                if let Some(_) = local.inbox {
                    super::context::drain_inbox(local);
                }
            }
        }
        #[cfg(not(feature = "tokio"))]
        {
            let _ = id;
            // Releases posted by other threads (a guard of a hooked lock
            // dropped elsewhere, see `crate::hooks`).
            #[allow(clippy::redundant_pattern_matching)]
            // `is_some` is a call at opt-level 0
            if let Some(_) = local.inbox {
                super::context::drain_inbox(local);
            }
        }
        ThreadState::Own(Claim { slot, local })
    }
}

/// This thread's slot, for a hot path to use until it returns: a closure
/// this small keeps `try_with` inlined, where the hot path inside it would
/// not be. `None` once the thread-local is torn down.
#[inline(always)]
#[allow(clippy::manual_ok_err)] // `.ok()` is a call at opt-level 0
fn slot() -> Option<*const Slot> {
    match LOCAL.try_with(|slot| slot as *const Slot) {
        Ok(slot) => Some(slot),
        Err(_) => None,
    }
}

/// This thread's slot and state for a hot path that enters nothing, or
/// `None` inside the detector or once the thread-local is torn down.
///
/// # Safety
/// As [`Slot::peek`]: the caller uses the state only until it returns, and
/// calls nothing that may enter the detector meanwhile.
#[inline(always)]
#[allow(clippy::question_mark)] // each `?` is a call at opt-level 0
unsafe fn peek<'a>() -> Option<(&'a Slot, &'a mut Local)> {
    let Some(slot) = slot() else {
        return None;
    };
    // SAFETY: this thread's slot, alive until the thread's thread-locals are
    // torn down, which cannot start while the caller runs.
    let slot: &'a Slot = unsafe { &*slot };
    // SAFETY: forwarded from the caller.
    let Some(local) = (unsafe { slot.peek() }) else {
        return None;
    };
    Some((slot, local))
}

/// The hot path of a blocking sync acquisition in the thread's own
/// context (the caller checked [`own_context`]): pushes `entry` (its
/// `chain` set here) when [`scan`] finds the nesting known and the lock
/// not held, and returns whether it did. Nothing is done — the caller
/// takes the full path — inside the detector, with posted releases to
/// apply, with a task's sync guards to check (tokio), or when the stack
/// must grow. Every other check of the
/// full path is on a state this one rules out, so the entry it pushes is
/// the one the full path would have.
///
/// The commonest nestings are decided here without a loop or a call:
/// nothing held, outside a context with a root; one held, in the pair
/// the edge cache found last; two or more, in a chain it knows. Any other
/// goes to [`push_scanned`], out of line: with no call to return from on
/// these paths, the lock's own function saves few registers.
#[inline(always)]
pub(crate) fn push_known(mut entry: Held) -> bool {
    // SAFETY: see `Slot::peek`: nothing below allocates (the stack has
    // room, and `ChainSet::insert` never allocates) or calls out, but for
    // asking tokio which task runs (a thread-local read that enters no
    // lock); `push_in_room` is called with `len < cap`, checked by
    // `pushable`.
    unsafe {
        let Some(local) = pushable() else {
            return false;
        };
        let held = &local.held;
        let known = match held.len {
            0 => held.root_key == 0,
            1 => {
                let below = held.entry(0).id;
                below != entry.id && local.known.found_last(below, entry.id)
            }
            n => {
                // A chain holds every lock of the nesting: a known one
                // does not hold this lock already.
                let below = held.entry(n - 1).chain;
                below != 0 && {
                    entry.chain = chain_of(below, entry.id);
                    local.chains.contains(entry.chain)
                }
            }
        };
        if !known {
            // The entry's fields one by one: passed whole, it would be
            // built in memory before the checks above.
            let Held {
                id,
                slot,
                access,
                asynchronous,
                site,
                ..
            } = entry;
            return push_scanned(local, id, slot, access, asynchronous, site);
        }
        entry.place = local.acquiring();
        local.held.push_in_room(entry);
        true
    }
}

/// [`push_known`] for any other nesting: pushes the blocking entry when
/// [`scan`] finds it known and the lock not held.
///
/// # Safety
/// As [`push_known`], with `local` from [`pushable`].
#[inline(never)]
unsafe fn push_scanned(
    local: &mut Local,
    id: LockId,
    slot: u32,
    access: Access,
    asynchronous: bool,
    site: &'static Location<'static>,
) -> bool {
    let mut entry = Held::blocking(id, slot, access, asynchronous, site);
    match scan(&mut local.held, &local.known, &mut local.chains, entry.id) {
        Scan::Push(chain) => {
            entry.chain = chain;
            entry.place = local.acquiring();
            // SAFETY: `pushable` found room.
            unsafe { local.held.push_in_room(entry) };
            true
        }
        Scan::Relock(_) | Scan::Slow => false,
    }
}

/// This thread's state for a hot-path push: `None` inside the detector,
/// with posted releases to apply, with a task's sync guards to check
/// (tokio), or when the stack has no room. The caller has checked that no
/// task runs here ([`own_context`]).
///
/// # Safety
/// As [`Slot::peek`].
#[inline(always)]
#[allow(clippy::question_mark)] // each `?` is a call at opt-level 0
unsafe fn pushable<'a>() -> Option<&'a mut Local> {
    // SAFETY: forwarded from the caller.
    let Some((_, local)) = (unsafe { peek() }) else {
        return None;
    };
    // Posted releases and a task's sync guards make `peek` say no.
    if local.held.len < local.held.cap {
        Some(local)
    } else {
        None
    }
}

/// Whether the thread's own context runs here: no tokio task (nor a
/// `lockgraph::tokio::scope`) is being polled on this thread. The sync
/// acquisition's hot path asks it first, before it reads anything of the
/// lock's, so that asking tokio (a call) keeps few values alive across it.
#[inline(always)]
pub(crate) fn own_context() -> bool {
    #[cfg(feature = "tokio")]
    {
        let Some(slot) = slot() else {
            return false;
        };
        // SAFETY: this thread's slot, alive until its thread-locals are
        // torn down, which cannot start inside this call.
        unsafe { (*slot).task() == 0 }
    }
    #[cfg(not(feature = "tokio"))]
    true
}

/// The hot path of a sync release of lock `id` in the thread's own
/// context: pops the stack's top entry when it is `id`'s and no hook (a
/// watchdog's publication, race detection) needs to hear of the release.
/// Returns whether it did; `false`: nothing done.
#[inline(always)]
pub(crate) fn pop_known(id: LockId) -> bool {
    // SAFETY: see `Slot::peek`: a pop calls out to nothing.
    unsafe {
        let Some((slot, local)) = peek() else {
            return false;
        };
        let n = local.held.len;
        // Posted releases, a publication and a clock make `peek` say no.
        let popped = n > 0 && !policy_racing() && {
            let top = local.held.entry(n - 1);
            // A sync guard is released on the thread that took it: an
            // exclusive or reentrant entry on top is the thread
            // context's own, whatever task runs (see
            // `thread_state_releasing`).
            #[cfg(feature = "tokio")]
            let own = !top.asynchronous
                && (matches!(top.access, Access::Exclusive | Access::Reentrant)
                    || slot.task() == 0);
            #[cfg(not(feature = "tokio"))]
            let own = {
                let _ = slot;
                true
            };
            top.id == id && own
        };
        if popped {
            local.held.pop();
        }
        popped
    }
}

/// Whether race detection has started (see `policy::racing_started`).
#[inline(always)]
fn policy_racing() -> bool {
    super::policy::racing_started()
}

/// Whether the context running here holds nothing and released nothing
/// since its last wait or signal (and, with `silent`, has no wait clock to
/// tell): a wait or a signal then has nothing to order. `false` when
/// unsure — a task runs here, the detector is busy on this thread, or the
/// state is gone — and the caller takes the full path.
#[inline(always)]
pub(crate) fn quiet(silent: bool) -> bool {
    let Some(slot) = slot() else {
        return false;
    };
    // SAFETY: as in `push_async`.
    let slot = unsafe { &*slot };
    #[cfg(feature = "tokio")]
    if slot.task() != 0 {
        return false;
    }
    // SAFETY: see `Slot::read`: two reads, no call out.
    unsafe {
        let Some(local) = slot.read() else {
            return false;
        };
        local.held.is_quiet() && (!silent || local.held.waits.is_silent())
    }
}

/// The hot path of an async acquisition ([`super::context::push_in`]) in
/// the task running on this thread. Returns the task, or `None` (nothing
/// done) outside a task, inside the detector, or when the acquisition needs
/// the full operation.
#[cfg(feature = "tokio")]
#[inline(always)]
pub(crate) fn push_async(held: Held) -> Option<u64> {
    // SAFETY: this thread's slot, alive until the thread's thread-locals are
    // torn down, which cannot start inside this call.
    let slot = unsafe { &*slot()? };
    let task = slot.task();
    if task == 0 {
        return None;
    }
    // SAFETY: see `Slot::claim`; the state is used until `unclaim` only.
    unsafe {
        let local = slot.claim()?;
        let pushed = super::context::push_in(local, task, held);
        slot.unclaim();
        pushed.then_some(task)
    }
}

/// The hot path of an async release ([`super::context::pop_in`]) of lock
/// `id` by its owner, task `owner`, when that task is running on this
/// thread. Returns whether it was done.
#[cfg(feature = "tokio")]
#[inline(always)]
pub(crate) fn pop_async(owner: u64, id: LockId) -> bool {
    let Some(slot) = slot() else {
        return false;
    };
    // SAFETY: as in `push_async`.
    let slot = unsafe { &*slot };
    if slot.task() != owner {
        return false;
    }
    // SAFETY: as in `push_async`.
    unsafe {
        let Some(local) = slot.claim() else {
            return false;
        };
        let popped = super::context::pop_in(local, owner, id);
        slot.unclaim();
        popped
    }
}

/// The task running on this thread: the `lockgraph::tokio::scope` being
/// polled, else tokio's task; 0 outside any.
#[inline(always)]
pub(crate) fn current_task() -> u64 {
    LOCAL
        .try_with(Slot::task)
        .unwrap_or_else(|_| sync::current_task())
}

/// Runs `poll` as scope `scope` (see `lockgraph::tokio::scope`).
#[cfg(feature = "tokio")]
pub(crate) fn in_scope<R>(scope: u64, poll: impl FnOnce() -> R) -> R {
    struct Restore(u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LOCAL.try_with(|slot| slot.scope.set(self.0));
        }
    }
    let _restore = Restore(
        LOCAL
            .try_with(|slot| slot.scope.replace(scope))
            .unwrap_or(0),
    );
    poll()
}

/// What the held stack says of acquiring registered lock `id`.
pub(crate) enum Scan {
    /// Every held lock's edge to it is known, and it is not held: push,
    /// with the entry's chain (0: not computed, fewer than two held).
    Push(u64),
    /// It is held already.
    Relock(Held),
    /// An edge is new: the graph must see it.
    Slow,
}

/// The hot path's check: a nesting seen before (the same held locks in the
/// same order, then this one) is one lookup in the thread's chain cache;
/// any other, one lookup in its cache of known edges per held lock.
#[inline(always)]
pub(crate) fn scan(held: &mut Stack, known: &EdgeSet, chains: &mut ChainSet, id: LockId) -> Scan {
    match held.len() {
        // A root's edge to a lock taken with nothing held (see
        // `Stack::root`): a context without a root pays one compare.
        0 if held.root_key == 0 || known.contains(held.root_key, id) => return Scan::Push(0),
        0 => return Scan::Slow,
        // One lock held: its edge is one lookup anyway.
        1 => return scan_each(held, known, id),
        _ => {}
    }
    let chain = held.chain_with(id);
    if chains.contains(chain) {
        return Scan::Push(chain);
    }
    match scan_each(held, known, id) {
        Scan::Push(_) => {
            chains.insert(chain);
            Scan::Push(chain)
        }
        other => other,
    }
}

/// [`scan`] lock by lock, with at least one held: whether `id` is held
/// already, and whether every held lock's edge to it is known.
#[inline(always)]
fn scan_each(held: &Stack, known: &EdgeSet, id: LockId) -> Scan {
    let mut missing = false;
    let mut i = 0;
    let n = held.len();
    while i < n {
        let entry = held.entry(i);
        if entry.id == id {
            return Scan::Relock(*entry);
        }
        if !known.contains(entry.id, id) {
            missing = true;
        }
        i += 1;
    }
    if missing { Scan::Slow } else { Scan::Push(0) }
}

/// Whether this thread is inside the detector right now. `false` when the
/// state is torn down.
pub(crate) fn busy() -> bool {
    LOCAL.try_with(Slot::busy).unwrap_or(false)
}

impl Local {
    /// Whether an acquisition or release must take the full path for what
    /// this state holds: releases posted to apply, a publication to
    /// withdraw from, a clock to advance, a task's sync guards to check
    /// (tokio). Kept in [`Slot`]'s flag at the end of every visit, since
    /// only a visit changes these.
    #[inline(always)]
    // `matches!(_, Some(_))`, not `is_some`: a call at opt-level 0.
    #[allow(clippy::redundant_pattern_matching)]
    fn needs_full_path(&self) -> bool {
        let full = matches!(self.inbox, Some(_))
            || self.publication.has_published()
            || matches!(self.race, Some(_));
        #[cfg(feature = "tokio")]
        let full = full || !self.sync_holders.is_empty() || !self.thread_held.is_empty();
        full
    }

    /// (tokio) Where the polled acquisition being checked lives
    /// ([`Place::NONE`]: not a polled one, or no tokio feature).
    #[inline(always)]
    pub(crate) fn acquiring(&self) -> Place {
        #[cfg(feature = "tokio")]
        return self.acquiring;
        #[cfg(not(feature = "tokio"))]
        Place::NONE
    }

    const fn new() -> Self {
        Local {
            held: Stack::new(),
            known: EdgeSet::new(),
            chains: ChainSet::new(),
            leaves: super::pending::Leaves::new(),
            thread_name: None,
            publication: super::publish::Publication::new(),
            race: None,
            spans: None,
            held_at_window: Vec::new(),
            task: 0,
            thread_held: Stack::new(),
            thread_publication: super::publish::Publication::new(),
            task_cache: super::context::TaskCache::new(),
            sync_holders: Vec::new(),
            inbox: None,
            #[cfg(feature = "tokio")]
            acquiring: Place::NONE,
            #[cfg(feature = "tokio")]
            deferred: Deferred::No,
        }
    }

    /// A wait or a signal: what is released from now on leads to the next
    /// signal.
    pub(crate) fn start_window(&mut self) {
        self.held.forget_released();
        self.held_at_window.clear();
        let held = &self.held;
        self.held_at_window
            .extend((0..held.len()).map(|i| held.get(i).id));
    }

    /// The name of the context running: the thread's, or `task N on
    /// <thread>` inside a tokio task.
    pub(crate) fn thread_name(&mut self) -> Arc<str> {
        let thread = self
            .thread_name
            .get_or_insert_with(|| Arc::from(sync::current_thread_name()))
            .clone();
        if self.task == 0 {
            return thread;
        }
        Arc::from(super::context::name(self.task, &thread))
    }

    /// Records which sync locks, if any, `task` holds as it ends an
    /// operation on this thread (its stack is `held`).
    pub(crate) fn note_sync_holder(&mut self, task: u64, held: &Stack) {
        let locks: Vec<Held> = (0..held.len())
            .map(|i| held.get(i))
            .filter(|held| !held.asynchronous)
            .collect();
        let known = self.sync_holders.iter().position(|(t, _)| *t == task);
        match (known, locks.is_empty()) {
            (None, false) => self.sync_holders.push((task, locks)),
            (Some(i), false) => self.sync_holders[i].1 = locks,
            (Some(i), true) => {
                self.sync_holders.swap_remove(i);
            }
            (None, true) => {}
        }
    }
}

/// A growable stack of `Held` entries: a pointer, a length and a capacity,
/// indexed without calls. Backed by a `Vec`'s allocation, every slot
/// initialised: a pop leaves its entry above `len`, so the slots above
/// hold the lock released last at each depth — what a Condvar notification
/// or Barrier arrival waited for — at no cost to the hot path.
pub(crate) struct Stack {
    ptr: NonNull<Held>,
    len: usize,
    cap: usize,
    /// (tokio) The context showed that concurrent branches share this
    /// stack (`join!`, `select!`, `FuturesUnordered`): one of its async
    /// acquisitions found the lock already held by the context. Until the
    /// stack empties, its async entries order nothing (see
    /// `graph::add_edges`). Only async locks have branches: without the
    /// `tokio` feature there is no flag, and releases do not clear one.
    #[cfg(feature = "tokio")]
    pub(crate) branches: bool,
    /// The event this context's end is (a thread or task spawned through
    /// lockgraph), which every lock it takes with nothing held is ordered
    /// after (see `detect::waits`).
    pub(crate) root: super::waits::Root,
    /// The key under which the root's edges are cached in the known set
    /// (its id salted with the context's tick); `u64::MAX` while the root
    /// is not registered, 0 without a root. An empty stack's acquisition
    /// looks it up, so a context without a root pays one compare.
    pub(crate) root_key: LockId,
    /// The context's wait clock.
    pub(crate) waits: super::waits::WaitClock,
}

impl Default for Stack {
    fn default() -> Stack {
        Stack::new()
    }
}

// SAFETY: a `Stack` owns its buffer outright (no sharing, no interior
// references), like the `Vec` it is made from; a task's stack is used by
// the threads that poll the task, one poll after another (see
// `context::TaskContext`).
unsafe impl Send for Stack {}

impl Stack {
    const fn new() -> Stack {
        Stack {
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
            #[cfg(feature = "tokio")]
            branches: false,
            root: None,
            root_key: 0,
            waits: super::waits::WaitClock::new(),
        }
    }

    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entry `i`, outermost first, in place: a hot path reading one field
    /// copies no entry (a copy of all of it at opt-level 0).
    #[inline(always)]
    pub(crate) fn entry(&self, i: usize) -> &Held {
        assert!(i < self.len);
        // SAFETY: `i < len`, and the first `len` entries are initialised.
        unsafe { &*self.ptr.as_ptr().add(i) }
    }

    /// Entry `i`, outermost first.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Held {
        assert!(i < self.len);
        // SAFETY: `i < len`, and the first `len` entries are initialised.
        unsafe { *self.ptr.as_ptr().add(i) }
    }

    /// Forgets where the `lock()` futures of lock `id`'s entries lived:
    /// once two entries of one lock share the stack (a deferred relock), a
    /// release cannot tell which of them leaves, so neither place is known.
    #[cfg(feature = "tokio")]
    pub(crate) fn forget_places(&mut self, id: LockId) {
        for i in 0..self.len {
            // SAFETY: `i < len`, and the first `len` entries are initialised.
            let entry = unsafe { &mut *self.ptr.as_ptr().add(i) };
            if entry.id == id {
                entry.place = Place::NONE;
            }
        }
    }

    #[inline(always)]
    pub(crate) fn set_access(&mut self, i: usize, access: Access) {
        assert!(i < self.len);
        // SAFETY: `i < len`, and the first `len` entries are initialised.
        unsafe { (*self.ptr.as_ptr().add(i)).access = access }
    }

    /// The chain an entry for `id` pushed now would have, with at least
    /// one entry held (computing the chains the entries lack).
    #[inline(always)]
    fn chain_with(&mut self, id: LockId) -> u64 {
        let top = self.entry(self.len - 1).chain;
        let below = if top != 0 { top } else { self.fill_chains() };
        chain_of(below, id)
    }

    /// Computes the chains of the entries above the last one that has its
    /// own (entries are pushed without one, and an out-of-order release
    /// clears those above it); returns the top's.
    #[inline(never)]
    fn fill_chains(&mut self) -> u64 {
        let mut i = self.len;
        while i > 0 && self.get(i - 1).chain == 0 {
            i -= 1;
        }
        let mut below = match i {
            0 => CHAIN_SEED,
            i => self.get(i - 1).chain,
        };
        for j in i..self.len {
            // SAFETY: `j < len`, and the first `len` entries are initialised.
            let entry = unsafe { &mut *self.ptr.as_ptr().add(j) };
            entry.chain = chain_of(below, entry.id);
            below = entry.chain;
        }
        below
    }

    /// Pushes `held`; its `chain` is the one [`scan`] found, or 0 (not
    /// known yet).
    #[inline(always)]
    pub(crate) fn push(&mut self, held: Held) {
        if self.len == self.cap {
            self.grow();
        }
        // SAFETY: `len < cap` after `grow`.
        unsafe { self.push_in_room(held) };
    }

    /// [`Stack::push`] when the caller saw `len < cap`.
    ///
    /// # Safety
    /// The stack has room: `len < cap`.
    #[inline(always)]
    unsafe fn push_in_room(&mut self, held: Held) {
        // SAFETY: `len < cap` (the caller's promise); the slot is inside the
        // buffer.
        unsafe { self.ptr.as_ptr().add(self.len).write(held) };
        self.len += 1;
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let mut buffer = ManuallyDrop::new(self.take_vec());
        buffer.reserve(if self.cap == 0 { 16 } else { self.cap });
        // Every slot initialised: the released entries are read above `len`.
        let cap = buffer.capacity();
        buffer.resize(cap, NO_ENTRY);
        buffer.truncate(self.len);
        self.cap = buffer.capacity();
        // SAFETY: a `Vec`'s pointer is never null.
        self.ptr = unsafe { NonNull::new_unchecked(buffer.as_mut_ptr()) };
    }

    /// The buffer as a `Vec` (empty if none was allocated); the caller owns
    /// it and must not let `self` use the old pointer again unless it is
    /// handed back.
    fn take_vec(&mut self) -> Vec<Held> {
        if self.cap == 0 {
            return Vec::new();
        }
        // SAFETY: `ptr`, `len` and `cap` came from a `Vec<Held>` (see `grow`).
        unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), self.len, self.cap) }
    }

    /// The index of the most recent entry for `id`.
    #[inline(always)]
    pub(crate) fn find(&self, id: LockId) -> Option<usize> {
        let mut i = self.len;
        while i > 0 {
            i -= 1;
            if self.entry(i).id == id {
                return Some(i);
            }
        }
        None
    }

    /// Removes the top entry, which the caller saw is there.
    #[inline(always)]
    pub(crate) fn pop(&mut self) {
        self.len -= 1;
        #[cfg(feature = "tokio")]
        if self.len == 0 {
            // No branch holds anything: the evidence is spent.
            self.branches = false;
        }
    }

    /// Removes the most recent entry for `id`; out-of-order releases shift
    /// the entries above it down. A missing entry (acquired while detection
    /// was off) is ignored.
    #[inline(always)]
    pub(crate) fn remove(&mut self, id: LockId) {
        let top = self.len.wrapping_sub(1);
        if self.len > 0 && self.entry(top).id == id {
            self.pop();
        } else if let Some(i) = self.find(id) {
            // SAFETY: `i < len`; entries `i + 1..len` move down by one, all
            // inside the initialised part of the buffer.
            unsafe {
                let base = self.ptr.as_ptr();
                std::ptr::copy(base.add(i + 1), base.add(i), self.len - i - 1);
            }
            self.len -= 1;
            // The entries above it stand on another chain now.
            for j in i..self.len {
                // SAFETY: `j < len`, and the first `len` entries are
                // initialised.
                unsafe { (*self.ptr.as_ptr().add(j)).chain = 0 };
            }
        }
    }

    /// The entries above the top: at each depth, the lock released last
    /// there since [`Stack::forget_released`] (a later push at that depth
    /// overwrites it, so this is a sample of what was released, never
    /// more).
    pub(crate) fn released(&self) -> impl Iterator<Item = Held> + '_ {
        (self.len..self.cap)
            // SAFETY: every slot below `cap` is initialised (see `grow`).
            .map(|i| unsafe { *self.ptr.as_ptr().add(i) })
            .filter(|held| held.id != 0)
    }

    /// Clears the released entries above the top.
    pub(crate) fn forget_released(&mut self) {
        for i in self.len..self.cap {
            // SAFETY: `i < cap`: a slot of the buffer, initialised.
            unsafe { (*self.ptr.as_ptr().add(i)).id = 0 };
        }
    }

    /// Whether concurrent branches were seen sharing this stack (see
    /// `branches`).
    #[inline(always)]
    pub(crate) fn shows_branches(&self) -> bool {
        #[cfg(feature = "tokio")]
        return self.branches;
        #[cfg(not(feature = "tokio"))]
        false
    }

    /// Whether the stack holds nothing and nothing was released since
    /// [`Stack::forget_released`]: a wait or a signal then has no lock to
    /// order, and no window to restart. (A push after the window starts at
    /// depth 0 and leaves its lock in slot 0 once popped; a stack that held
    /// locks when the window started has them there once released.)
    #[inline(always)]
    pub(crate) fn is_quiet(&self) -> bool {
        // SAFETY: with `cap > 0`, slot 0 is inside the buffer, initialised.
        self.len == 0 && (self.cap == 0 || unsafe { (*self.ptr.as_ptr()).id } == 0)
    }

    /// A copy of the entries, outermost first.
    pub(crate) fn to_vec(&self) -> Vec<Held> {
        (0..self.len).map(|i| self.get(i)).collect()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        drop(self.take_vec());
    }
}

/// The chain of an entry for `id` above an entry whose chain is `below`.
/// Never 0: that marks an entry whose chain is not computed, and an empty
/// slot of [`ChainSet`], which a chain of 0 would otherwise match.
#[inline(always)]
fn chain_of(below: u64, id: LockId) -> u64 {
    let h = (below.rotate_left(23) ^ id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h ^ (h >> 29)) | 1
}

/// The chain below the outermost entry.
const CHAIN_SEED: u64 = 0x2545_F491_4F6C_DD1D;

/// Lock chains known to be in order, as in Linux lockdep's chain cache: a
/// chain hashes the held locks' ids in the order they were taken, then the
/// one being acquired, so an acquisition whose chain is here — every held
/// lock's edge to it known, and it not held — checks nothing else,
/// whatever the depth. It only caches what the graph and the stack showed
/// (edges are never taken back while both locks live, and ids are never
/// reused), so it may forget: a direct-mapped table, a new chain
/// overwriting an old one in its slot. A 64-bit hash stands for the
/// sequence, as lockdep's does.
pub(crate) struct ChainSet {
    slots: Vec<u64>,
}

const CHAIN_SLOTS: usize = 512;

impl ChainSet {
    pub(crate) const fn new() -> ChainSet {
        ChainSet { slots: Vec::new() }
    }

    #[inline(always)]
    fn slot(chain: u64) -> usize {
        (chain >> 32) as usize & (CHAIN_SLOTS - 1)
    }

    #[inline(always)]
    pub(crate) fn contains(&self, chain: u64) -> bool {
        self.slots.get(Self::slot(chain)) == Some(&chain)
    }

    /// Remembers `chain`, once [`ChainSet::allocate`] gave the set its
    /// slots (before, it forgets at once). Never allocates: the hot path
    /// inserts without marking the detector busy (see `push_known`).
    #[inline(always)]
    pub(crate) fn insert(&mut self, chain: u64) {
        let slot = Self::slot(chain);
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = chain;
        }
    }

    /// Gives the set its slots, if it has none: on the slow path, which
    /// may allocate.
    pub(crate) fn allocate(&mut self) {
        if self.slots.is_empty() {
            self.slots = vec![0; CHAIN_SLOTS];
        }
    }
}

/// An open-addressing set of `(from, to)` id pairs. It only caches what the
/// global graph holds, so it may forget: when it grows past its limit it is
/// cleared, which bounds memory across millions of short-lived locks (their
/// ids are never reused, so a stale entry is harmless but useless).
pub(crate) struct EdgeSet {
    slots: NonNull<(LockId, LockId)>,
    /// Number of slots minus one (slots are a power of two), or 0 when none
    /// are allocated.
    mask: usize,
    len: usize,
    /// The pair [`EdgeSet::contains`] last found (`(0, 0)`: none): a
    /// nesting taken again, the commonest case, is two compares instead of
    /// a hash and a probe.
    last: Cell<(LockId, LockId)>,
}

const MIN_SLOTS: usize = 64;
const MAX_SLOTS: usize = 1 << 14;

impl EdgeSet {
    const fn new() -> Self {
        EdgeSet {
            slots: NonNull::dangling(),
            mask: 0,
            len: 0,
            last: Cell::new((0, 0)),
        }
    }

    #[inline(always)]
    fn slot(from: LockId, to: LockId, mask: usize) -> usize {
        // A salted key (`WaitClock::salt`) differs in its top bits only,
        // which a multiplication never carries down: fold them in first, or
        // every tick of one event probes the same few slots.
        let from = from ^ (from >> 40);
        let h = from.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ to.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        ((h ^ (h >> 29)) as usize) & mask
    }

    #[inline(always)]
    fn capacity(&self) -> usize {
        if self.mask == 0 { 0 } else { self.mask + 1 }
    }

    #[inline(always)]
    fn at(&self, i: usize) -> (LockId, LockId) {
        assert!(i <= self.mask && self.mask != 0);
        // SAFETY: `i <= mask < capacity`, and every slot is initialised.
        unsafe { *self.slots.as_ptr().add(i) }
    }

    /// Whether `(from, to)` is the pair [`EdgeSet::contains`] found last:
    /// two compares, no probe.
    #[inline(always)]
    pub(crate) fn found_last(&self, from: LockId, to: LockId) -> bool {
        // No pair has a 0 (`from` is a held lock or a salted key, `to` a
        // lock), so the empty `last` matches nothing.
        let (f, t) = self.last.get();
        f == from && t == to
    }

    #[inline(always)]
    pub(crate) fn contains(&self, from: LockId, to: LockId) -> bool {
        if self.found_last(from, to) {
            return true;
        }
        if self.mask == 0 {
            return false;
        }
        let mut i = Self::slot(from, to, self.mask);
        loop {
            let (f, t) = self.at(i);
            if f == from && t == to {
                self.last.set((from, to));
                return true;
            }
            if f == 0 {
                return false;
            }
            i = (i + 1) & self.mask;
        }
    }

    pub(crate) fn insert(&mut self, from: LockId, to: LockId) {
        if self.contains(from, to) {
            return;
        }
        if (self.len + 1) * 2 > self.capacity() {
            let cap = (self.capacity() * 2).max(MIN_SLOTS);
            if cap > MAX_SLOTS {
                self.buffer().fill((0, 0));
                self.len = 0;
                self.last.set((0, 0));
            } else {
                let old = self.take_vec();
                let mut new = ManuallyDrop::new(vec![(0, 0); cap]);
                // SAFETY: a `Vec`'s pointer is never null.
                self.slots = unsafe { NonNull::new_unchecked(new.as_mut_ptr()) };
                self.mask = cap - 1;
                self.len = 0;
                for (f, t) in old {
                    if f != 0 {
                        self.insert_new(f, t);
                    }
                }
            }
        }
        self.insert_new(from, to);
    }

    fn insert_new(&mut self, from: LockId, to: LockId) {
        let mask = self.mask;
        let mut i = Self::slot(from, to, mask);
        while self.at(i).0 != 0 {
            i = (i + 1) & mask;
        }
        self.buffer()[i] = (from, to);
        self.len += 1;
    }

    fn buffer(&mut self) -> &mut [(LockId, LockId)] {
        let cap = self.capacity();
        // SAFETY: `slots` points to `cap` initialised slots (or is dangling
        // with `cap == 0`), owned by this set.
        unsafe { std::slice::from_raw_parts_mut(self.slots.as_ptr(), cap) }
    }

    /// The slots as a `Vec` the caller owns (empty if none are allocated).
    fn take_vec(&mut self) -> Vec<(LockId, LockId)> {
        let cap = self.capacity();
        if cap == 0 {
            return Vec::new();
        }
        self.mask = 0;
        // SAFETY: `slots` came from a `Vec` of exactly `cap` initialised slots.
        unsafe { Vec::from_raw_parts(self.slots.as_ptr(), cap, cap) }
    }
}

impl Drop for EdgeSet {
    fn drop(&mut self) {
        drop(self.take_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_set_grows_and_clears() {
        let mut set = EdgeSet::new();
        assert!(!set.contains(1, 2));
        for i in 1..1000u64 {
            set.insert(i, i + 1);
        }
        for i in 1..1000u64 {
            assert!(set.contains(i, i + 1));
            assert!(!set.contains(i + 1, i));
        }
        for i in 1..(MAX_SLOTS as u64) {
            set.insert(i, 7);
        }
        assert!(set.capacity() <= MAX_SLOTS);
        assert!(set.contains(MAX_SLOTS as u64 - 1, 7));
    }

    #[test]
    fn stack_push_find_remove_out_of_order() {
        let site = Location::caller();
        let mut stack = Stack::new();
        for id in 1..=40 {
            stack.push(Held {
                id,
                slot: 0,
                access: Access::Exclusive,
                blocking: true,
                asynchronous: false,
                place: Place::NONE,
                site,
                chain: 0,
            });
        }
        assert_eq!(stack.find(7), Some(6));
        stack.remove(2);
        stack.remove(40);
        stack.remove(99);
        let ids: Vec<_> = stack.to_vec().iter().map(|h| h.id).collect();
        assert_eq!(ids.len(), 38);
        assert_eq!(&ids[..3], &[1, 3, 4]);
        assert_eq!(ids.last(), Some(&39));
        for id in 1..=40 {
            stack.remove(id);
        }
        assert!(stack.is_empty());
    }

    fn entry(id: LockId) -> Held {
        Held {
            id,
            slot: 0,
            access: Access::Exclusive,
            blocking: true,
            asynchronous: false,
            site: Location::caller(),
            place: Place::NONE,
            chain: 0,
        }
    }

    fn stack_of(ids: &[LockId]) -> Stack {
        let mut stack = Stack::new();
        for &id in ids {
            stack.push(entry(id));
        }
        stack
    }

    #[test]
    fn a_chain_is_the_held_sequence_in_order() {
        let chain = |ids: &[LockId], id| stack_of(ids).chain_with(id);
        assert_eq!(chain(&[1, 2], 3), chain(&[1, 2], 3));
        assert_ne!(chain(&[1, 2], 3), chain(&[2, 1], 3));
        assert_ne!(chain(&[1, 2], 3), chain(&[1, 2], 4));
        assert_ne!(chain(&[1, 2], 3), chain(&[1, 2, 5], 3));
        // An out-of-order release puts the entries above it on the chain
        // they stand on now.
        let mut stack = stack_of(&[1, 2, 3]);
        stack.chain_with(4);
        stack.remove(2);
        assert_eq!(stack.chain_with(4), chain(&[1, 3], 4));
    }

    #[test]
    fn a_known_chain_skips_the_scan_and_an_unknown_one_still_finds_a_relock() {
        let mut known = EdgeSet::new();
        let mut chains = ChainSet::new();
        chains.allocate();
        for (from, to) in [(1, 2), (1, 3), (2, 3)] {
            known.insert(from, to);
        }
        let mut stack = stack_of(&[1, 2]);
        let Scan::Push(chain) = scan(&mut stack, &known, &mut chains, 3) else {
            panic!("every edge is known");
        };
        assert!(chains.contains(chain));
        assert!(matches!(scan(&mut stack, &known, &mut chains, 3), Scan::Push(c) if c == chain));
        // Held already: never a known chain.
        assert!(matches!(scan(&mut stack, &known, &mut chains, 1), Scan::Relock(h) if h.id == 1));
        // A new edge: the graph must see it, and the chain is not kept.
        assert!(matches!(
            scan(&mut stack, &known, &mut chains, 4),
            Scan::Slow
        ));
        assert!(!chains.contains(stack.chain_with(4)));
    }

    #[test]
    fn released_entries_stay_above_the_top_until_forgotten() {
        let site = Location::caller();
        let held = |id| Held {
            id,
            slot: 0,
            access: Access::Exclusive,
            blocking: true,
            asynchronous: false,
            place: Place::NONE,
            site,
            chain: 0,
        };
        let ids = |s: &Stack| s.released().map(|h| h.id).collect::<Vec<_>>();
        let mut stack = Stack::new();
        assert!(ids(&stack).is_empty());
        stack.push(held(1));
        stack.push(held(2));
        stack.remove(2);
        assert_eq!(ids(&stack), [2]);
        stack.remove(1);
        assert_eq!(ids(&stack), [1, 2]);
        // A push at a depth overwrites what was released there.
        stack.push(held(3));
        assert_eq!(ids(&stack), [2]);
        stack.forget_released();
        assert!(ids(&stack).is_empty());
        // Growing keeps the entries and initialises the new slots.
        for id in 10..50 {
            stack.push(held(id));
        }
        stack.remove(49);
        assert_eq!(ids(&stack), [49]);
    }

    #[test]
    fn the_pair_last_found_is_forgotten_with_the_set() {
        let mut known = EdgeSet::new();
        assert!(!known.contains(1, 2));
        known.insert(1, 2);
        known.insert(3, 4);
        assert!(known.contains(1, 2) && known.contains(1, 2));
        assert!(!known.contains(2, 1) && !known.contains(1, 3));
        assert!(known.contains(3, 4) && known.contains(1, 2));
        // Fill the set to its limit: the next insertion clears it, and the
        // remembered pair goes with it.
        let mut from = 10;
        while known.len < MAX_SLOTS / 2 {
            known.insert(from, from + 1);
            from += 2;
        }
        assert!(known.contains(1, 2));
        known.insert(from, from + 1);
        assert!(!known.contains(1, 2) && !known.contains(3, 4));
        assert!(known.contains(from, from + 1));
    }

    /// The flag byte turns the hot paths away until the first visit has
    /// armed the state, and while a visit left work for the full path
    /// (here: an inbox for posted releases); reading steps aside only for
    /// a visit in progress.
    #[test]
    fn the_hot_paths_go_on_only_when_no_visit_left_work_for_the_full_path() {
        // A thread of its own: the inbox is registered under its id.
        std::thread::spawn(|| {
            let slot = Slot::new();
            // SAFETY (each block): the state is only looked at, between
            // visits, on the thread that owns the slot.
            assert!(unsafe { slot.peek() }.is_none(), "unarmed");
            slot.enter(|_| ());
            assert!(unsafe { slot.peek() }.is_some());
            slot.enter(super::super::context::open_inbox);
            assert!(unsafe { slot.peek() }.is_none(), "an inbox to drain");
            assert!(unsafe { slot.read() }.is_some());
            slot.enter(|local| {
                assert!(unsafe { slot.read() }.is_none(), "a visit in progress");
                local.inbox = None;
            });
            assert!(unsafe { slot.peek() }.is_some());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn nested_enter_steps_aside() {
        let slot = Slot::new();
        let inner = slot.enter(|_| slot.enter(|_| ()));
        assert_eq!(inner, Some(None));
        assert!(!slot.busy());
    }
}
