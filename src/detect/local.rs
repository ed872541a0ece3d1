//! Per-thread detector state: the stack of held locks and the set of
//! lock-order edges this thread already knows are in the global graph.
//!
//! This is the hot path: plain loops over small arrays, no iterator chains,
//! closures or generic hash maps, so it stays cheap at opt-level 0 too.

use std::cell::RefCell;
use std::panic::Location;
use std::sync::Arc;

use crate::report::Access;
use crate::sync;

/// A never-reused lock id; `0` means "not registered yet".
pub(crate) type LockId = u64;

/// One entry of the held stack.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    pub(crate) id: LockId,
    pub(crate) access: Access,
    pub(crate) site: &'static Location<'static>,
}

/// The current thread's detector state.
pub(crate) struct Local {
    /// Locks held, in acquisition order (outermost first).
    pub(crate) held: Vec<Held>,
    /// Edges known to be in the global graph.
    pub(crate) known: EdgeSet,
    /// This thread's name, computed the first time a report or edge needs it.
    thread_name: Option<Arc<str>>,
}

sync::local! {
    static LOCAL: RefCell<Local> = RefCell::new(Local::new());
}

/// Runs `f` on this thread's state. Returns `None` when the state is
/// unavailable: already borrowed (the detector re-entered itself, e.g. from
/// an allocator or a report handler that takes locks) or torn down (thread
/// exit). Callers then skip detection rather than panic or deadlock.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    LOCAL
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut local) => Some(f(&mut local)),
            Err(_) => None,
        })
        .ok()
        .flatten()
}

/// Whether this thread is inside the detector right now (its state is
/// borrowed). `false` when the state is torn down.
pub(crate) fn busy() -> bool {
    LOCAL
        .try_with(|cell| cell.try_borrow_mut().is_err())
        .unwrap_or(false)
}

impl Local {
    const fn new() -> Self {
        Local {
            held: Vec::new(),
            known: EdgeSet::new(),
            thread_name: None,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, held: Held) {
        if self.held.capacity() == 0 {
            self.held.reserve(16);
        }
        self.held.push(held);
    }

    /// Removes the most recent entry for `id`; out-of-order releases search
    /// down the stack. A missing entry (acquired while detection was off) is
    /// ignored.
    #[inline]
    pub(crate) fn remove(&mut self, id: LockId) {
        let mut i = self.held.len();
        while i > 0 {
            i -= 1;
            if self.held[i].id == id {
                if i + 1 == self.held.len() {
                    self.held.pop();
                } else {
                    self.held.remove(i);
                }
                return;
            }
        }
    }

    /// The index of the most recent entry for `id`.
    #[inline]
    pub(crate) fn find(&self, id: LockId) -> Option<usize> {
        let mut i = self.held.len();
        while i > 0 {
            i -= 1;
            if self.held[i].id == id {
                return Some(i);
            }
        }
        None
    }

    pub(crate) fn thread_name(&mut self) -> Arc<str> {
        self.thread_name
            .get_or_insert_with(|| Arc::from(sync::current_thread_name()))
            .clone()
    }
}

/// An open-addressing set of `(from, to)` id pairs. It only caches what the
/// global graph holds, so it may forget: when it grows past its limit it is
/// cleared, which bounds memory across millions of short-lived locks (their
/// ids are never reused, so a stale entry is harmless but useless).
pub(crate) struct EdgeSet {
    slots: Vec<(LockId, LockId)>,
    len: usize,
}

const MIN_SLOTS: usize = 64;
const MAX_SLOTS: usize = 1 << 14;

impl EdgeSet {
    const fn new() -> Self {
        EdgeSet {
            slots: Vec::new(),
            len: 0,
        }
    }

    #[inline]
    fn slot(from: LockId, to: LockId, mask: usize) -> usize {
        let h = from.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ to.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        ((h ^ (h >> 29)) as usize) & mask
    }

    #[inline]
    pub(crate) fn contains(&self, from: LockId, to: LockId) -> bool {
        let cap = self.slots.len();
        if cap == 0 {
            return false;
        }
        let mask = cap - 1;
        let mut i = Self::slot(from, to, mask);
        loop {
            let (f, t) = self.slots[i];
            if f == from && t == to {
                return true;
            }
            if f == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn insert(&mut self, from: LockId, to: LockId) {
        if (self.len + 1) * 2 > self.slots.len() {
            let cap = (self.slots.len() * 2).max(MIN_SLOTS);
            if cap > MAX_SLOTS {
                self.slots.iter_mut().for_each(|s| *s = (0, 0));
                self.len = 0;
            } else {
                let old = std::mem::replace(&mut self.slots, vec![(0, 0); cap]);
                self.len = 0;
                for (f, t) in old {
                    if f != 0 {
                        self.insert_new(f, t);
                    }
                }
            }
        }
        if !self.contains(from, to) {
            self.insert_new(from, to);
        }
    }

    fn insert_new(&mut self, from: LockId, to: LockId) {
        let mask = self.slots.len() - 1;
        let mut i = Self::slot(from, to, mask);
        while self.slots[i].0 != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (from, to);
        self.len += 1;
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
        assert!(set.slots.len() <= MAX_SLOTS);
        assert!(set.contains(MAX_SLOTS as u64 - 1, 7));
    }

    #[test]
    fn remove_out_of_order() {
        let site = Location::caller();
        let mut local = Local::new();
        for id in 1..=3 {
            local.push(Held {
                id,
                access: Access::Exclusive,
                site,
            });
        }
        local.remove(2);
        assert_eq!(local.held.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 3]);
        local.remove(9);
        local.remove(3);
        local.remove(1);
        assert!(local.held.is_empty());
    }
}
