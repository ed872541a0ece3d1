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

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::Meta;
use super::local::LockId;
use crate::report::LockKind;

/// Something contexts wait for: its graph record and what it is.
pub(crate) struct Event {
    pub(crate) meta: Meta,
    pub(crate) kind: LockKind,
}

impl Event {
    /// An event of `kind`, named in reports by the caller's site.
    #[track_caller]
    pub(crate) fn new(kind: LockKind) -> Event {
        Event {
            meta: Meta::new(event_type),
            kind,
        }
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

/// The event a context's own end is: set while a spawned thread or task
/// runs, so each lock it takes with nothing held is ordered after it.
pub(crate) type Root = Option<Arc<Event>>;

/// What a message, a spawn or a thread's end carries from its sender: the
/// sender's wait clock (`None` while it has nothing to tell).
pub(crate) type Stamp = Option<Arc<[(u32, u32)]>>;

/// The next context number (0: not numbered).
static NEXT_CONTEXT: AtomicU32 = AtomicU32::new(1);

/// A context's wait clock: its own number and tick, and the ticks of other
/// contexts it has heard of through waits and signals. A context is
/// numbered when it first takes a producer edge (an event ordered before a
/// lock), which records its tick; each signal it sends afterwards advances
/// the tick, so a waiter that received the signal knows every acquisition
/// recorded before it is over.
#[derive(Default)]
pub(crate) struct WaitClock {
    me: u32,
    tick: u32,
    /// Other contexts' ticks, sorted by context.
    seen: Vec<(u32, u32)>,
}

impl WaitClock {
    pub(crate) const fn new() -> WaitClock {
        WaitClock {
            me: 0,
            tick: 0,
            seen: Vec::new(),
        }
    }

    /// This context's number and tick, numbering it if needed: what a
    /// producer edge taken now records.
    pub(crate) fn position(&mut self) -> (u32, u32) {
        if self.me == 0 {
            self.me = NEXT_CONTEXT.fetch_add(1, Ordering::Relaxed);
        }
        (self.me, self.tick)
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
    /// receives it.
    pub(crate) fn tick(&mut self) {
        if self.me != 0 {
            self.tick += 1;
        }
    }

    /// Whether this context has nothing to tell a receiver: never numbered,
    /// nothing heard of.
    #[inline(always)]
    pub(crate) fn is_silent(&self) -> bool {
        self.me == 0 && self.seen.is_empty()
    }

    /// What a signal sent now carries.
    pub(crate) fn stamp(&self) -> Stamp {
        if self.me == 0 && self.seen.is_empty() {
            return None;
        }
        let mut all = self.seen.clone();
        if self.me != 0 {
            merge(&mut all, self.me, self.tick);
        }
        Some(all.into())
    }

    /// Takes in what a received signal carried.
    pub(crate) fn absorb(&mut self, stamp: &[(u32, u32)]) {
        for &(context, tick) in stamp {
            if context != self.me {
                merge(&mut self.seen, context, tick);
            }
        }
    }
}

/// Sets `context`'s tick in the sorted `clock` to at least `tick`.
fn merge(clock: &mut Vec<(u32, u32)>, context: u32, tick: u32) {
    match clock.binary_search_by_key(&context, |&(c, _)| c) {
        Ok(i) => clock[i].1 = clock[i].1.max(tick),
        Err(i) => clock.insert(i, (context, tick)),
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
        parent.absorb(&child.stamp().unwrap());
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
    fn knowledge_passes_on_through_a_third_context() {
        let (mut a, mut b, mut c) = (WaitClock::new(), WaitClock::new(), WaitClock::new());
        let at = a.position();
        a.tick();
        b.absorb(&a.stamp().unwrap());
        c.absorb(&b.stamp().unwrap());
        assert!(c.knows(at));
    }
}
