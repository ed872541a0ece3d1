//! Waits on another context as lock-order dependencies: what a thread or
//! task waits for (another thread's end, a message, room in a bounded
//! channel, a notification, a permit) is an *event*, a node of the
//! lock-order graph like a Condvar. The locks held while waiting are
//! ordered before the event; the locks its producer takes on the way to
//! producing it are ordered after it. A cycle through an event is a wait
//! that can never end: the same check, the same graph, the same report as
//! two locks in opposite orders.
//!
//! Two pieces live here:
//! - [`Event`], the record a skin keeps for each thing waited on, and
//!   [`Root`]: a context that *is* the event (a spawned thread or task,
//!   whose end a join waits for) orders everything it takes at its top
//!   level after its event, so a join under a lock the child needs is a
//!   cycle whichever of the two comes first;
//! - [`WaitClock`], happens-before carried by waits and signals only
//!   (spawn→start, send→receive, end→join, barrier rounds), never by locks:
//!   a producer's acquisition that the waiter is known to have seen
//!   finished (the child sent "done", and only then the parent locked and
//!   joined) cannot be what the wait waits for, and closes no cycle.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::Meta;
use super::class::WordHasher;
use super::local::LockId;
use crate::facade as sync;
use crate::report::LockKind;

/// Something contexts wait for: its graph record and what it is.
pub(crate) struct Event {
    pub(crate) meta: Meta,
    pub(crate) kind: LockKind,
    /// (A context's end) where its context last took each lock.
    pub(crate) ends: Ends,
}

impl Event {
    /// An event of `kind`, named in reports by the caller's site.
    #[track_caller]
    pub(crate) fn new(kind: LockKind) -> Event {
        Event {
            meta: Meta::new(event_type),
            kind,
            ends: Ends::default(),
        }
    }

    /// (A context's end) A join of it begins at `site`: the locks held now
    /// are ordered before it, and its context's latest acquisitions
    /// decide whether a cycle through it is one (see [`Ends`]).
    #[inline]
    pub(crate) fn wait_end_at(&self, site: &'static Location<'static>) {
        self.meta.wait_end_at(self.kind, &self.ends, site);
    }

    /// [`Event::new`], shared between the waiting and producing sides.
    #[track_caller]
    pub(crate) fn shared(kind: LockKind) -> Arc<Event> {
        Arc::new(Event::new(kind))
    }
}

fn event_type() -> &'static str {
    "()"
}

/// The tick of a context's wait clock at which it last took each lock
/// after its end (the edge from its root event to the lock): kept by the
/// context itself, under this table's own lock and not the graph's, each
/// time its tick moved on since; read by a join deciding whether the
/// joiner saw that acquisition finished (`graph::seen_finished`). The graph
/// edge keeps the tick of the first acquisition; this, the latest.
#[derive(Default)]
pub(crate) struct Ends(
    sync::Mutex<HashMap<LockId, u32, BuildHasherDefault<WordHasher>>>,
    /// The number of the context whose end this is, once its edges
    /// recorded it (see `LIVE`).
    std::sync::atomic::AtomicU32,
);

/// How many locks [`Ends`] remembers before it starts over (the locks of a
/// long-lived thread come and go; a forgotten one takes the graph's path
/// once more).
const ENDS_KEPT: usize = 4096;

impl Ends {
    /// The end is `context`'s: it stays live (`LIVE`) until the end is
    /// gone.
    pub(crate) fn owned_by(&self, context: u32) {
        self.1.store(context, Ordering::Relaxed);
    }

    /// Brings `lock`'s tick up to `tick` if the table knows it, that is
    /// if the edge to it is in the graph.
    pub(crate) fn refresh(&self, lock: LockId, tick: u32) -> bool {
        match self.0.lock().get_mut(&lock) {
            Some(at) => {
                *at = (*at).max(tick);
                true
            }
            None => false,
        }
    }

    /// Records that the edge to `lock` was taken (or brought up to date in
    /// the graph) at `tick`.
    pub(crate) fn record(&self, lock: LockId, tick: u32) {
        let mut ticks = self.0.lock();
        if ticks.len() >= ENDS_KEPT {
            ticks.clear();
        }
        let at = ticks.entry(lock).or_insert(tick);
        *at = (*at).max(tick);
    }

    /// The latest tick recorded for `lock`.
    pub(crate) fn tick(&self, lock: LockId) -> Option<u32> {
        self.0.lock().get(&lock).copied()
    }
}

impl Drop for Ends {
    fn drop(&mut self) {
        // The end's record and its edges go with it: nothing records its
        // context any more.
        let context = *self.1.get_mut();
        if context != 0 {
            LIVE.lock().remove(&context);
        }
    }
}

// The numbered contexts whose end is still around: only edges from a
// context's end record its number, so once the end is gone what any clock
// heard of that context decides nothing, and a clock that grew drops it
// (`WaitClock::absorb`) — or a process spawning task after task would carry
// every task it ever heard of in each stamp.
sync::global! {
    static LIVE: sync::Mutex<HashSet<u32>> = lazy sync::Mutex::new(HashSet::new());
}

/// How many contexts a clock hears of before it drops the ended ones.
const PRUNE_ABOVE: usize = 32;

/// The event a context's own end is: set while a spawned thread or task
/// runs, so each lock it takes with nothing held is ordered after it.
pub(crate) type Root = Option<Arc<Event>>;

/// What a message, a spawn or a thread's end carries from its sender: the
/// sender's wait clock (nothing while it has nothing to tell). A context
/// that heard of no other carries its own position without allocating.
#[derive(Clone, Default)]
pub(crate) struct Stamp(Carried);

#[derive(Clone, Default)]
enum Carried {
    #[default]
    Nothing,
    One((u32, u32)),
    Many(Arc<[(u32, u32)]>),
}

impl Stamp {
    /// Whether it carries nothing.
    #[inline(always)]
    pub(crate) fn is_none(&self) -> bool {
        matches!(self.0, Carried::Nothing)
    }

    /// Takes it, leaving nothing.
    pub(crate) fn take(&mut self) -> Stamp {
        std::mem::take(self)
    }

    fn entries(&self) -> &[(u32, u32)] {
        match &self.0 {
            Carried::Nothing => &[],
            Carried::One(position) => std::slice::from_ref(position),
            Carried::Many(all) => all,
        }
    }
}

/// Whether events of `kind` are a context's end (a spawned thread's or
/// task's), whose producer edges record the context's position: a join
/// is decided by it (`graph::seen_finished`).
#[inline(always)]
pub(crate) fn is_end(kind: LockKind) -> bool {
    matches!(kind, LockKind::Thread | LockKind::Task)
}

/// The next context number (0: not numbered).
static NEXT_CONTEXT: AtomicU32 = AtomicU32::new(1);

/// A context's wait clock: its own number and tick, and the ticks of other
/// contexts it has heard of through waits and signals. A context is
/// numbered when it first takes a producer edge from its own end (a
/// spawned thread's or task's lock taken with nothing held, or on its way
/// to the end), which records its tick; each signal it sends afterwards
/// advances the tick, so a waiter that received the signal knows every
/// acquisition recorded before it is over. A context that never was a
/// joined end stays unnumbered: it only passes on what it heard of.
#[derive(Default)]
pub(crate) struct WaitClock {
    me: u32,
    tick: u32,
    /// Other contexts' ticks, sorted by context.
    seen: Vec<(u32, u32)>,
    /// Whether a producer edge recorded the current tick: only then does
    /// the next signal move it on (a tick nothing recorded tells nothing).
    recorded: bool,
    /// The stamp last made, while nothing it carries changed.
    cached: Stamp,
    /// Above how many entries `seen` drops the contexts that ended.
    prune_at: usize,
}

impl WaitClock {
    pub(crate) const fn new() -> WaitClock {
        WaitClock {
            me: 0,
            tick: 0,
            seen: Vec::new(),
            recorded: false,
            cached: Stamp(Carried::Nothing),
            prune_at: PRUNE_ABOVE,
        }
    }

    /// This context's number and tick, numbering it if needed: what a
    /// producer edge taken now records.
    pub(crate) fn position(&mut self) -> (u32, u32) {
        if self.me == 0 {
            self.me = NEXT_CONTEXT.fetch_add(1, Ordering::Relaxed);
            LIVE.lock().insert(self.me);
            self.cached = Stamp::default();
        }
        self.recorded = true;
        (self.me, self.tick)
    }

    /// The key under which this context caches producer edges from
    /// `event` of `kind`: [`WaitClock::salt`]ed for a context's end, whose
    /// edges record the tick; the event's own id for any other.
    #[inline(always)]
    pub(crate) fn key(&self, event: LockId, kind: LockKind) -> LockId {
        if is_end(kind) {
            self.salt(event)
        } else {
            event
        }
    }

    /// The key under which this context caches producer edges from `event`:
    /// salted with the tick, so after each signal the edge is taken (and
    /// its tick brought up to date) once more.
    #[inline(always)]
    pub(crate) fn salt(&self, event: LockId) -> LockId {
        event ^ ((self.tick as u64) << 40)
    }

    /// Whether this context knows that `context` went past tick `tick`:
    /// that what it did then happened before what this context does now.
    pub(crate) fn knows(&self, (context, tick): (u32, u32)) -> bool {
        if context == 0 {
            return false;
        }
        if context == self.me {
            return self.tick > tick;
        }
        match self.seen.binary_search_by_key(&context, |&(c, _)| c) {
            Ok(i) => self.seen[i].1 > tick,
            Err(_) => false,
        }
    }

    /// A signal goes out: what was recorded before it is over for whoever
    /// receives it. Returns whether the tick moved on.
    pub(crate) fn tick(&mut self) -> bool {
        if self.me == 0 || !self.recorded {
            return false;
        }
        self.tick += 1;
        self.recorded = false;
        self.cached = Stamp::default();
        true
    }

    /// Whether this context has nothing to tell a receiver: never numbered,
    /// nothing heard of.
    #[inline(always)]
    pub(crate) fn is_silent(&self) -> bool {
        self.me == 0 && self.seen.is_empty()
    }

    /// What a signal sent now carries (made once per change: a sender
    /// whose clock stands still sends the same stamp again).
    pub(crate) fn stamp(&mut self) -> Stamp {
        if self.is_silent() {
            return Stamp::default();
        }
        if self.cached.is_none() {
            self.cached = Stamp(if self.seen.is_empty() {
                Carried::One((self.me, self.tick))
            } else {
                // `me` is never in `seen`: it goes in its sorted place, in
                // the one allocation of an exactly sized iterator.
                let own = (self.me != 0).then_some((self.me, self.tick));
                let at = self.seen.partition_point(|&(c, _)| c < self.me);
                let (below, above) = self.seen.split_at(at);
                Carried::Many(
                    below
                        .iter()
                        .copied()
                        .chain(own)
                        .chain(above.iter().copied())
                        .collect(),
                )
            });
        }
        self.cached.clone()
    }

    /// Takes in what a received signal carried.
    pub(crate) fn absorb(&mut self, stamp: &Stamp) {
        for &(context, tick) in stamp.entries() {
            if context != self.me && merge(&mut self.seen, context, tick) {
                self.cached = Stamp::default();
            }
        }
        if self.seen.len() > self.prune_at {
            let live = LIVE.lock();
            self.seen.retain(|(context, _)| live.contains(context));
            drop(live);
            self.cached = Stamp::default();
            self.prune_at = (self.seen.len() * 2).max(PRUNE_ABOVE);
        }
    }
}

/// Sets `context`'s tick in the sorted `clock` to at least `tick`.
/// Returns whether `clock` changed.
fn merge(clock: &mut Vec<(u32, u32)>, context: u32, tick: u32) -> bool {
    match clock.binary_search_by_key(&context, |&(c, _)| c) {
        Ok(i) if clock[i].1 >= tick => false,
        Ok(i) => {
            clock[i].1 = tick;
            true
        }
        Err(i) => {
            clock.insert(i, (context, tick));
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_received_stamp_orders_what_the_sender_recorded_before_it() {
        let (mut child, mut parent) = (WaitClock::new(), WaitClock::new());
        let at = child.position();
        assert!(!parent.knows(at));
        child.tick();
        parent.absorb(&child.stamp());
        assert!(parent.knows(at));
        // What the child records after the signal is not known.
        assert!(!parent.knows(child.position()));
    }

    #[test]
    fn an_unnumbered_context_sends_nothing_and_knows_nothing() {
        let mut clock = WaitClock::new();
        assert!(clock.stamp().is_none());
        clock.tick();
        assert!(!clock.knows((0, 0)));
        assert_eq!(clock.salt(7), 7);
    }

    #[test]
    fn a_tick_moves_on_only_past_a_recorded_position() {
        let mut clock = WaitClock::new();
        let at = clock.position();
        assert!(clock.tick());
        // Nothing recorded since: the next signal tells nothing new.
        assert!(!clock.tick());
        assert_eq!(clock.salt(7), 7 ^ (1 << 40));
        let mut other = WaitClock::new();
        other.absorb(&clock.stamp());
        assert!(other.knows(at));
        assert!(!other.knows(clock.position()));
    }

    #[test]
    fn a_stamp_is_made_once_while_the_clock_stands_still() {
        let (mut a, mut b) = (WaitClock::new(), WaitClock::new());
        a.position();
        a.tick();
        // Only its own position: carried without an allocation.
        assert!(matches!(a.stamp().0, Carried::One(_)));
        b.absorb(&a.stamp());
        b.position();
        let (first, second) = (b.stamp(), b.stamp());
        match (&first.0, &second.0) {
            (Carried::Many(x), Carried::Many(y)) => assert!(Arc::ptr_eq(x, y)),
            _ => panic!("a context that heard of another carries both"),
        }
        b.tick();
        assert_eq!(b.stamp().entries().len(), 2);
        assert!(!b.stamp().entries().iter().eq(first.entries().iter()));
    }

    #[test]
    fn a_clock_drops_the_contexts_whose_end_is_gone() {
        let mut main = WaitClock::new();
        let mut kept = None;
        for i in 0..PRUNE_ABOVE + 8 {
            let mut task = WaitClock::new();
            let at = task.position();
            let end = Ends::default();
            end.owned_by(at.0);
            task.tick();
            main.absorb(&task.stamp());
            if i == 0 {
                // This end is still around: what main heard of it stays.
                kept = Some((end, at));
            }
        }
        assert!(main.seen.len() < PRUNE_ABOVE / 2, "{}", main.seen.len());
        let (_end, at) = kept.unwrap();
        assert!(main.knows(at));
    }

    #[test]
    fn knowledge_passes_on_through_a_third_context() {
        let (mut a, mut b, mut c) = (WaitClock::new(), WaitClock::new(), WaitClock::new());
        let at = a.position();
        a.tick();
        b.absorb(&a.stamp());
        c.absorb(&b.stamp());
        assert!(c.knows(at));
    }
}
