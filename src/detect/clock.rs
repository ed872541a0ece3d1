//! Happens-before for the race detector: vector clocks per thread, per lock
//! and per Condvar, advanced by lock release→acquire, Condvar notify→wake,
//! and (through `lockgraph::thread`) spawn→start and exit→join.
//!
//! None of this runs until race detection is turned on (the first tracked
//! cell or annotation does it): until then the lock paths only see a clear
//! bit in the policy byte they load anyway.

use std::collections::HashMap;
use std::ptr;

use super::local::{self, Local, LockId};
use super::policy;
use crate::facade::{self as sync, AtomicPtr, Ordering};

/// A vector clock indexed by thread id (small, never reused).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VClock(Vec<u32>);

impl VClock {
    pub(crate) fn get(&self, thread: usize) -> u32 {
        self.0.get(thread).copied().unwrap_or(0)
    }

    fn set(&mut self, thread: usize, value: u32) {
        if self.0.len() <= thread {
            self.0.resize(thread + 1, 0);
        }
        self.0[thread] = value;
    }

    /// Becomes a copy of `other`, reusing its own allocation (a derived
    /// `clone_from` would allocate a fresh vector every time).
    fn assign(&mut self, other: &VClock) {
        self.0.clone_from(&other.0);
    }

    /// Componentwise maximum.
    pub(crate) fn join(&mut self, other: &VClock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine = (*mine).max(*theirs);
        }
    }
}

/// A thread's clock: its own component starts at 1 and advances at each
/// release, so every release begins a new epoch.
pub(crate) struct ThreadClock {
    pub(crate) tid: usize,
    pub(crate) clock: VClock,
    /// The clock at this thread's last release fence: what its later
    /// relaxed stores and read-modify-writes publish.
    release_fence: Option<VClock>,
    /// What this thread's relaxed loads saw since its last acquire fence:
    /// taken in at the next one.
    relaxed_seen: VClock,
}

impl ThreadClock {
    fn new(tid: usize) -> ThreadClock {
        let mut clock = VClock::default();
        clock.set(tid, 1);
        ThreadClock {
            tid,
            clock,
            release_fence: None,
            relaxed_seen: VClock::default(),
        }
    }

    /// This thread's current epoch.
    pub(crate) fn now(&self) -> u32 {
        self.clock.get(self.tid)
    }

    fn tick(&mut self) {
        let next = self.now() + 1;
        self.clock.set(self.tid, next);
    }
}

/// A lock's clock: what its releases published for the next acquirer.
/// Kept with the lock, so the lock paths take no global lock and hash
/// nothing; allocated at the lock's first release with race detection on
/// (until then a lock pays one null pointer), at a stable address, which
/// [`thread_clock`] finds by lock id for the rare thread whose clock starts
/// while it holds locks.
pub(crate) struct LockClock(AtomicPtr<sync::Mutex<VClock>>);

impl LockClock {
    sync::maybe_const_fn! {
        #[inline(always)]
        pub(crate) fn new() -> LockClock {
            LockClock(AtomicPtr::new(ptr::null_mut()))
        }
    }

    /// The published clock, if any release published one.
    #[inline]
    fn get(&self) -> Option<&sync::Mutex<VClock>> {
        let published = self.0.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in
        // `get_or_alloc` and is freed only by `forget_lock`, which takes the
        // lock's record by `&mut` (no `&self` borrow is alive then).
        unsafe { published.as_ref() }
    }

    fn get_or_alloc(&self, lock: LockId) -> &sync::Mutex<VClock> {
        if let Some(published) = self.get() {
            return published;
        }
        let fresh = Box::into_raw(Box::new(sync::Mutex::new(VClock::default())));
        match self
            .0
            .compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                BY_ID.lock().insert(lock, fresh as usize);
                // SAFETY: just published; freed only by `forget_lock`.
                unsafe { &*fresh }
            }
            Err(existing) => {
                // SAFETY: `fresh` was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: as in `get`.
                unsafe { &*existing }
            }
        }
    }
}

// Lock id -> its allocated clock (a `*const Mutex<VClock>`), for
// `thread_clock`; touched only when a clock is allocated or freed.
sync::global! {
    static BY_ID: sync::Mutex<HashMap<LockId, usize>> = lazy sync::Mutex::new(HashMap::new());
}
sync::global! {
    static CONDVAR_CLOCKS: sync::Mutex<HashMap<usize, VClock>> = lazy sync::Mutex::new(HashMap::new());
}

/// This thread's clock, created on first use.
///
/// Race detection turns on at the first tracked access, so a thread may be
/// holding locks whose acquisition began before it did, and skipped the
/// join: a new clock takes in the clocks of every lock the thread holds.
/// (Loom found the interleaving: a thread blocked on a lock while another
/// turned detection on, then woke without the releaser's history.)
pub(crate) fn thread_clock(local: &mut Local) -> &mut ThreadClock {
    if local.race.is_none() {
        let mut clock = ThreadClock::new(sync::current_thread_id() as usize);
        if !local.held.is_empty() {
            let by_id = BY_ID.lock();
            for i in 0..local.held.len() {
                if let Some(&published) = by_id.get(&local.held.get(i).id) {
                    // SAFETY: an entry is removed (under `BY_ID`, held
                    // here) before its clock is freed.
                    let published = unsafe { &*(published as *const sync::Mutex<VClock>) };
                    clock.clock.join(&published.lock());
                }
            }
        }
        local.race = Some(Box::new(clock));
    }
    local.race.as_mut().expect("just created")
}

/// After acquiring a lock: everything before its last release happened
/// before what this thread does next.
pub(crate) fn acquired(local: &mut Local, lock: &LockClock) {
    let clock = thread_clock(local);
    if let Some(released) = lock.get() {
        clock.clock.join(&released.lock());
    }
}

/// Before releasing lock `id`: publish this thread's clock to the next
/// acquirer. A shared (read) release joins, so readers do not erase each
/// other's history.
pub(crate) fn releasing(local: &mut Local, lock: &LockClock, id: LockId, shared: bool) {
    let clock = thread_clock(local);
    {
        let mut published = lock.get_or_alloc(id).lock();
        if shared {
            published.join(&clock.clock);
        } else {
            published.assign(&clock.clock);
        }
    }
    clock.tick();
}

/// A lock was dropped: its clock goes too.
#[inline]
pub(crate) fn forget_lock(id: LockId, lock: &mut LockClock) {
    // `&mut`: no other thread reaches the pointer now, so a plain load
    // (no read-modify-write on every lock's drop) is enough.
    let published = lock.0.load(Ordering::Acquire);
    if !published.is_null() {
        lock.0.store(ptr::null_mut(), Ordering::Relaxed);
        BY_ID.lock().remove(&id);
        // SAFETY: from `Box::into_raw`; no longer reachable through `lock`
        // or `BY_ID`.
        drop(unsafe { Box::from_raw(published) });
    }
}

/// `Condvar::notify_*`: the notifier's past happens before the wake-up.
pub(crate) fn notify(condvar: usize) {
    if !policy::is_racing(policy::state()) {
        return;
    }
    local::with(|local| {
        let clock = thread_clock(local);
        CONDVAR_CLOCKS
            .lock()
            .entry(condvar)
            .or_default()
            .join(&clock.clock);
        clock.tick();
    });
}

/// A Condvar wait returned.
pub(crate) fn woken(condvar: usize) {
    if !policy::is_racing(policy::state()) {
        return;
    }
    local::with(|local| {
        let clock = thread_clock(local);
        if let Some(notified) = CONDVAR_CLOCKS.lock().get(&condvar) {
            clock.clock.join(notified);
        }
    });
}

/// A Condvar was dropped.
pub(crate) fn forget_condvar(condvar: usize) {
    if policy::is_racing(policy::state()) {
        CONDVAR_CLOCKS.lock().remove(&condvar);
    }
}

/// This thread's clock as it is now, for a thread it starts (spawn: the
/// child begins with it) or for whoever joins it (exit: the joiner takes it
/// in); this thread then moves to a new epoch. `None` while race detection
/// is off.
#[inline]
pub(crate) fn hand_over() -> Option<VClock> {
    if !policy::is_racing(policy::state()) {
        return None;
    }
    hand_over_slow()
}

#[inline(never)]
fn hand_over_slow() -> Option<VClock> {
    local::with(|local| {
        let clock = thread_clock(local);
        let snapshot = clock.clock.clone();
        clock.tick();
        snapshot
    })
}

/// Joins `other` into this thread's clock (a child started by a parent, a
/// joined thread's history).
pub(crate) fn absorb(other: &VClock) {
    local::with(|local| thread_clock(local).clock.join(other));
}

sync::global! {
    static ATOMIC_CLOCKS: sync::Mutex<HashMap<usize, VClock>> = lazy sync::Mutex::new(HashMap::new());
}

/// How an atomic operation orders, as far as the race detector cares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtomicOp {
    /// A load; `acquire` when Acquire or SeqCst (or the load half of an
    /// AcqRel read-modify-write).
    Load { acquire: bool },
    /// A plain store; `release` when Release or SeqCst.
    Store { release: bool },
    /// A read-modify-write: it continues the atomic's release sequence.
    Rmw { acquire: bool, release: bool },
}

/// An operation on the atomic at `atomic` (its address), as
/// ThreadSanitizer models them: a release store publishes this thread's
/// history to the atomic (a relaxed one, only what a release fence before
/// it covered, else nothing); a read-modify-write adds to what the atomic
/// holds; an acquire load takes the atomic's history in (a relaxed one,
/// at the next acquire fence).
#[inline(never)]
pub(crate) fn atomic(atomic: usize, op: AtomicOp) {
    if !policy::is_racing(policy::state()) {
        return;
    }
    local::with(|local| {
        let clock = thread_clock(local);
        let mut clocks = ATOMIC_CLOCKS.lock();
        let (acquire, load) = match op {
            AtomicOp::Load { acquire } => (acquire, true),
            AtomicOp::Store { .. } => (false, false),
            AtomicOp::Rmw { acquire, .. } => (acquire, true),
        };
        if load && let Some(history) = clocks.get(&atomic) {
            if acquire {
                clock.clock.join(history);
            } else {
                clock.relaxed_seen.join(history);
            }
        }
        match op {
            AtomicOp::Load { .. } => {}
            AtomicOp::Store { release: true } => {
                clocks.insert(atomic, clock.clock.clone());
                clock.tick();
            }
            AtomicOp::Store { release: false } => match &clock.release_fence {
                Some(fenced) => {
                    clocks.insert(atomic, fenced.clone());
                }
                None => {
                    clocks.remove(&atomic);
                }
            },
            AtomicOp::Rmw { release, .. } => {
                let published = if release {
                    Some(clock.clock.clone())
                } else {
                    clock.release_fence.clone()
                };
                if let Some(published) = published {
                    clocks.entry(atomic).or_default().join(&published);
                }
                if release {
                    clock.tick();
                }
            }
        }
    });
}

/// A fence: an acquire fence takes in what earlier relaxed loads saw; a
/// release fence marks what later relaxed stores publish.
#[inline(never)]
pub(crate) fn fence(acquire: bool, release: bool) {
    if !policy::is_racing(policy::state()) {
        return;
    }
    local::with(|local| {
        let clock = thread_clock(local);
        if acquire {
            let seen = std::mem::take(&mut clock.relaxed_seen);
            clock.clock.join(&seen);
        }
        if release {
            clock.release_fence = Some(clock.clock.clone());
            clock.tick();
        }
    });
}

/// A `Barrier`'s clocks: arrivals so far, and per round the joined
/// history of its arrivals and how many parties have left it.
#[derive(Default)]
struct BarrierClocks {
    arrived: u64,
    rounds: HashMap<u64, Round>,
}

/// One round of a `Barrier`: the joined race-detector history of its
/// arrivals, their joined wait clocks, and how many parties have left.
#[derive(Default)]
struct Round {
    history: VClock,
    waits: super::waits::WaitClock,
    left: usize,
}

sync::global! {
    static BARRIER_CLOCKS: sync::Mutex<HashMap<usize, BarrierClocks>> = lazy sync::Mutex::new(HashMap::new());
}

/// Before `Barrier::wait`: counts the arrival (detection off or on, so the
/// rounds stay aligned) and, with race detection on, adds this thread's
/// history to its round's. Returns the round.
pub(crate) fn barrier_arrive(barrier: usize, parties: usize, stamp: &super::waits::Stamp) -> u64 {
    let history = hand_over();
    let mut all = BARRIER_CLOCKS.lock();
    let state = all.entry(barrier).or_default();
    let round = state.arrived / parties.max(1) as u64;
    state.arrived += 1;
    if history.is_some() || !stamp.is_none() {
        let this = state.rounds.entry(round).or_default();
        if let Some(history) = history {
            this.history.join(&history);
        }
        this.waits.absorb(stamp);
    }
    round
}

/// After `Barrier::wait` returns: every arrival of the round happened
/// before what this thread does next. Returns the round's joined wait
/// clocks, for the waits detector to take in.
pub(crate) fn barrier_leave(barrier: usize, parties: usize, round: u64) -> super::waits::Stamp {
    let (history, stamp) = {
        let mut all = BARRIER_CLOCKS.lock();
        let Some(state) = all.get_mut(&barrier) else {
            return super::waits::Stamp::default();
        };
        let Some(this) = state.rounds.get_mut(&round) else {
            return super::waits::Stamp::default();
        };
        this.left += 1;
        let history = this.history.clone();
        let stamp = this.waits.stamp();
        if this.left >= parties {
            state.rounds.remove(&round);
        }
        (history, stamp)
    };
    if policy::is_racing(policy::state()) {
        absorb(&history);
    }
    stamp
}

/// A `Barrier` was dropped.
pub(crate) fn forget_barrier(barrier: usize) {
    BARRIER_CLOCKS.lock().remove(&barrier);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_is_componentwise_max() {
        let mut a = VClock::default();
        a.set(1, 3);
        a.set(4, 1);
        let mut b = VClock::default();
        b.set(1, 2);
        b.set(2, 7);
        a.join(&b);
        assert_eq!(
            (a.get(1), a.get(2), a.get(3), a.get(4), a.get(9)),
            (3, 7, 0, 1, 0)
        );
    }
}
