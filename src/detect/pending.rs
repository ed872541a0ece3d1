//! Locks parked outside the graph: a short-lived lock first taken under
//! held locks, in a nesting this thread already saw end without news, gets
//! its id without the graph's lock, and its node and edges wait here until
//! something looks at the graph.
//!
//! A lock per request nested under a long-lived one (the `create_drop`
//! workload) adds a node and an edge under the graph's lock when first
//! taken, and removes them under it again when dropped. Its edges only ever
//! point *to* it, and a lock that nothing was taken under is on no path of
//! the graph: no cycle can pass through it, and no search would visit it.
//! So when this thread's previous registration in the same nesting (the
//! same held locks, taken at the same sites; a lock created at the same
//! site, for the same data, taken at the same site) showed nothing new but
//! the instance edges — the class edges already known, the backtrace shared
//! at that site pair, no span stack, no first-locked site to mark, nothing
//! ambiguous — the lock is *parked*: its node and edges, as the graph would
//! have made them, go to a sharded table instead (one shard lock, no graph
//! lock). A lock dropped while parked leaves with one more shard lock.
//!
//! The graph's lock materialises every parked lock before anything reads or
//! changes the graph (`graph::lock_graph`), so whatever looks — a new edge,
//! a report, `graph_stats`, the DOT export, the watchdog — finds exactly the
//! nodes and edges it would have found had they been added at once. A
//! parked lock's identity keeps [`PARKED_SLOT`] for good; the table then
//! holds its node slot until it is dropped.

use std::panic::Location;

use std::sync::Arc;

use super::TypeName;
use super::class::ClassIdx;
use super::graph::Origin;
use super::ids::IdMap;
use super::local::{LockId, Stack};
use crate::facade::{self as sync, AtomicU64, Ordering};
use crate::report::{Access, LockKind, Trace};

/// The slot of a lock that was parked: its node slot is in the table.
pub(crate) const PARKED_SLOT: u32 = u32::MAX - 2;

/// A parked lock: the nesting it was first taken in, which makes its node
/// and edges (see [`Leaf`]); the lock's own id is the table's key.
pub(crate) type Parked = Arc<Leaf>;

#[derive(Clone, Copy)]
enum Entry {
    /// Parked: the index of its leaf in its shard's [`State::leaves`].
    Parked(u32),
    /// Materialised: the node's slot.
    Node(u32),
}

/// One shard of the table, and how many of its entries are parked (not yet
/// materialised). The count only changes under the shard's lock, by a load
/// and a store (no read-modify-write: parking and forgetting stay at one
/// lock round trip each); the graph's lock reads it without the lock.
struct Shard {
    state: sync::Mutex<State>,
    parked: AtomicU64,
}

/// What a shard's lock guards: its entries, and the leaves its parked
/// entries name, each with how many do. A parked entry names its leaf by
/// index, so parking and forgetting count under the shard's lock rather
/// than on the leaf's `Arc` (a read-modify-write each way); a leaf no entry
/// names stays for the next lock parked in it — a nesting repeated parks
/// and forgets one lock after another — until its place is wanted.
struct State {
    map: IdMap<Entry>,
    leaves: ShardLeaves,
}

/// A shard's leaves, each with how many of its parked entries name it.
#[derive(Default)]
struct ShardLeaves(Vec<(Parked, usize)>);

/// How many leaves a shard keeps before an idle one (no entry names it)
/// gives its place to a new one. The list grows past it only while more
/// nestings than that have parked locks in the shard at once.
const IDLE_LEAVES: usize = 8;

impl ShardLeaves {
    /// The index of `leaf`, counted once more, and the idle leaf it
    /// replaced, if any (for the caller to drop outside the shard's lock).
    fn hold(&mut self, leaf: &Parked) -> (u32, Option<Parked>) {
        let leaves = &mut self.0;
        if let Some(at) = leaves.iter().position(|(l, _)| Arc::ptr_eq(l, leaf)) {
            leaves[at].1 += 1;
            return (at as u32, None);
        }
        // An idle leaf's place, once there are enough of them.
        if leaves.len() >= IDLE_LEAVES
            && let Some(at) = leaves.iter().position(|&(_, n)| n == 0)
        {
            let idle = std::mem::replace(&mut leaves[at], (leaf.clone(), 1));
            return (at as u32, Some(idle.0));
        }
        leaves.push((leaf.clone(), 1));
        ((leaves.len() - 1) as u32, None)
    }

    /// Leaf `at`.
    fn leaf(&self, at: u32) -> &Leaf {
        &self.0[at as usize].0
    }

    /// An entry naming leaf `at` is gone.
    fn release(&mut self, at: u32) {
        self.0[at as usize].1 -= 1;
    }

    /// How many entries name leaf `at`.
    #[cfg(test)]
    fn holders(&self, at: u32) -> usize {
        self.0[at as usize].1
    }
}

impl Shard {
    /// Adds `delta` to the parked count; the caller holds the shard's lock.
    fn count(&self, delta: i64) {
        let now = self.parked.load(Ordering::Relaxed);
        self.parked
            .store(now.wrapping_add_signed(delta), Ordering::Release);
    }
}

const SHARDS: usize = 16;

sync::global! {
    static TABLE: [Shard; SHARDS] = lazy std::array::from_fn(|_| Shard {
        state: sync::Mutex::new(State {
            map: IdMap::new(Entry::Node(0)),
            leaves: ShardLeaves::default(),
        }),
        parked: AtomicU64::new(0),
    });
}

/// A lock's shard: a thread's ids come in blocks (see `graph::next_id`), so
/// one thread's locks mostly share a shard.
fn shard(id: LockId) -> &'static Shard {
    &TABLE[(id as usize / 64) % SHARDS]
}

/// Parks lock `id` (before its id is published, so whoever finds the id
/// finds the entry and the count).
pub(crate) fn park(id: LockId, leaf: &Parked) {
    let shard = shard(id);
    let mut state = shard.state.lock();
    let (at, idle) = state.leaves.hold(leaf);
    state.map.insert(id, Entry::Parked(at));
    shard.count(1);
    drop(state);
    // A leaf is dropped outside the shard's lock.
    drop(idle);
}

/// Whether any lock is parked. A lock parked before an acquisition that
/// found its id (published with `Release` after parking) is seen here.
#[inline]
pub(crate) fn waiting() -> bool {
    TABLE
        .iter()
        .any(|shard| shard.parked.load(Ordering::Acquire) != 0)
}

/// Materialises every parked lock with `add` (under the graph's lock),
/// which returns the node slot it gave it. `add` must not come back here.
pub(crate) fn materialise(mut add: impl FnMut(LockId, &Leaf) -> u32) {
    for shard in TABLE.iter() {
        if shard.parked.load(Ordering::Acquire) == 0 {
            continue;
        }
        let mut state = shard.state.lock();
        let State { map, leaves } = &mut *state;
        let mut done = 0;
        for (id, entry) in map.iter_mut() {
            if let Entry::Parked(at) = *entry {
                *entry = Entry::Node(add(id, leaves.leaf(at)));
                leaves.release(at);
                done += 1;
            }
        }
        shard.count(-done);
    }
}

/// The node slot of parked lock `id`, once materialised.
pub(crate) fn slot_of(id: LockId) -> Option<u32> {
    match shard(id).state.lock().map.get(id) {
        Some(Entry::Node(slot)) => Some(slot),
        _ => None,
    }
}

/// Parked lock `id` is dropped: its entry goes. Returns its node slot if it
/// was materialised (the caller removes the node).
pub(crate) fn forget(id: LockId) -> Option<u32> {
    let shard = shard(id);
    let mut state = shard.state.lock();
    match state.map.remove(id) {
        Some(Entry::Parked(at)) => {
            state.leaves.release(at);
            shard.count(-1);
            None
        }
        Some(Entry::Node(slot)) => Some(slot),
        None => None,
    }
}

/// A nesting that ended without news: what registering a fresh lock in it
/// adds besides its node and instance edges is nothing, so the next fresh
/// lock in it can be parked (see the module docs). It holds all a parked
/// lock's node and edges are made of, but for the lock's id.
pub(crate) struct Leaf {
    /// The held locks: id and acquisition site, outermost first.
    pub(crate) held: Vec<(LockId, &'static Location<'static>)>,
    pub(crate) kind: LockKind,
    access: Access,
    pub(crate) created: &'static Location<'static>,
    pub(crate) data: TypeName,
    pub(crate) site: &'static Location<'static>,
    /// Whether classes were on when it was learned.
    classes: bool,
    pub(crate) class: Option<ClassIdx>,
    /// Per held lock: its node slot and the backtrace its edge shares.
    pub(crate) edges: Vec<(u32, Option<Trace>)>,
    /// The thread that took the edges, as the graph names and tells it.
    pub(crate) thread: Arc<str>,
    pub(crate) origin: Origin,
}

/// A fresh lock as a [`Leaf`] sees it.
pub(crate) struct Fresh {
    pub(crate) kind: LockKind,
    pub(crate) access: Access,
    pub(crate) created: &'static Location<'static>,
    pub(crate) data: TypeName,
    pub(crate) site: &'static Location<'static>,
}

impl Fresh {
    fn matches(&self, leaf: &Leaf, held: &Stack, classes: bool) -> bool {
        leaf.kind == self.kind
            && leaf.access == self.access
            && std::ptr::eq(leaf.created, self.created)
            && leaf.data as usize == self.data as usize
            && std::ptr::eq(leaf.site, self.site)
            && leaf.classes == classes
            && leaf.held.len() == held.len()
            && leaf.held.iter().enumerate().all(|(i, &(id, site))| {
                let entry = held.get(i);
                entry.id == id && std::ptr::eq(entry.site, site)
            })
    }
}

/// The nestings a thread learned, a few, the oldest replaced first.
pub(crate) struct Leaves {
    entries: Vec<Arc<Leaf>>,
    next: usize,
}

const LEAVES: usize = 8;

/// What a thread learned of a nesting, for [`Leaves::learn`].
pub(crate) struct Learned {
    pub(crate) class: Option<ClassIdx>,
    pub(crate) edges: Vec<(u32, Option<Trace>)>,
    pub(crate) thread: Arc<str>,
    pub(crate) origin: Origin,
}

impl Leaves {
    pub(crate) const fn new() -> Leaves {
        Leaves {
            entries: Vec::new(),
            next: 0,
        }
    }

    pub(crate) fn find(&self, fresh: &Fresh, held: &Stack, classes: bool) -> Option<&Arc<Leaf>> {
        self.entries
            .iter()
            .find(|leaf| fresh.matches(leaf, held, classes))
    }

    pub(crate) fn learn(&mut self, fresh: &Fresh, held: &Stack, classes: bool, learned: Learned) {
        if self.find(fresh, held, classes).is_some() {
            return;
        }
        let leaf = Arc::new(Leaf {
            held: (0..held.len())
                .map(|i| {
                    let entry = held.get(i);
                    (entry.id, entry.site)
                })
                .collect(),
            kind: fresh.kind,
            access: fresh.access,
            created: fresh.created,
            data: fresh.data,
            site: fresh.site,
            classes,
            class: learned.class,
            edges: learned.edges,
            thread: learned.thread,
            origin: learned.origin,
        });
        if self.entries.len() < LEAVES {
            self.entries.push(leaf);
        } else {
            self.entries[self.next] = leaf;
            self.next = (self.next + 1) % LEAVES;
        }
    }
}

#[cfg(all(test, not(loom), any(debug_assertions, feature = "always")))]
mod tests {
    use std::any::type_name;

    use crate::raw::RawMutex;
    use crate::report::LockKind;

    #[test]
    fn a_fresh_lock_in_a_learned_nesting_is_parked_until_the_graph_is_looked_at() {
        let outer = RawMutex::new(type_name::<()>);
        let fresh = || RawMutex::new(type_name::<u32>);
        let nest = |inner: &RawMutex| {
            outer.lock(LockKind::Mutex);
            inner.lock(LockKind::Mutex);
            // SAFETY: both were just locked by this thread.
            unsafe {
                inner.unlock();
                outer.unlock();
            }
        };
        // The first ones capture backtraces, and are registered at once.
        let first = fresh();
        nest(&first);
        assert_eq!(first.meta.parked(), None);
        for _ in 0..40 {
            nest(&fresh());
        }
        let inner = fresh();
        nest(&inner);
        let id = inner.meta.parked().expect("parked");
        assert_eq!(super::slot_of(id), None, "not materialised yet");
        // Looking at the graph materialises it; it keeps its parked slot.
        let _ = crate::detect::graph::stats();
        assert!(super::slot_of(id).is_some());
        assert_eq!(inner.meta.parked(), Some(id));
        drop(inner);
        assert_eq!(super::slot_of(id), None, "gone with the lock");
    }

    #[test]
    fn a_shard_counts_the_entries_that_name_each_leaf_and_reuses_idle_places() {
        use std::panic::Location;
        use std::sync::Arc;

        use super::{IDLE_LEAVES, Leaf, ShardLeaves};
        use crate::detect::graph::Origin;
        use crate::detect::local::Place;
        use crate::report::Access;

        let leaf = || {
            Arc::new(Leaf {
                held: Vec::new(),
                kind: LockKind::Mutex,
                access: Access::Exclusive,
                created: Location::caller(),
                data: type_name::<u8>,
                site: Location::caller(),
                classes: false,
                class: None,
                edges: Vec::new(),
                thread: Arc::from("t"),
                origin: Origin {
                    context: 0,
                    ambiguous: false,
                    flow: Place::NONE,
                    by: (0, 0),
                },
            })
        };
        let mut leaves = ShardLeaves::default();
        let a = leaf();
        // One leaf for every lock parked in its nesting, counted, not cloned.
        assert_eq!(leaves.hold(&a).0, 0);
        assert_eq!(leaves.hold(&a).0, 0);
        assert_eq!(Arc::strong_count(&a), 2);
        leaves.release(0);
        leaves.release(0);
        // Idle, it stays for the next lock parked in it.
        let (at, idle) = leaves.hold(&a);
        assert!(at == 0 && idle.is_none());
        leaves.release(0);
        // Others get places of their own until there are enough; then a new
        // one takes an idle leaf's place, never a held one's.
        let held = leaf();
        assert_eq!(leaves.hold(&held).0, 1);
        let others: Vec<_> = (2..IDLE_LEAVES).map(|_| leaf()).collect();
        for (i, other) in others.iter().enumerate() {
            assert_eq!(leaves.hold(other).0 as usize, i + 2);
            leaves.release(i as u32 + 2);
        }
        let new = leaf();
        let (at, idle) = leaves.hold(&new);
        assert_eq!(at, 0, "the first idle place");
        assert!(Arc::ptr_eq(&idle.expect("an idle leaf replaced"), &a));
        assert_eq!(Arc::strong_count(&a), 1);
        assert_eq!(leaves.holders(1), 1, "the held leaf keeps its place");
    }

    #[test]
    fn a_lock_taken_alone_is_parked_from_the_second_of_its_shape() {
        let alone = || RawMutex::new(type_name::<u8>);
        let take = |lock: &RawMutex| {
            lock.lock(LockKind::Mutex);
            // SAFETY: just locked by this thread.
            unsafe { lock.unlock() };
        };
        let first = alone();
        take(&first);
        assert_eq!(first.meta.parked(), None);
        let second = alone();
        take(&second);
        let id = second.meta.parked().expect("parked");
        let _ = crate::detect::graph::stats();
        assert!(super::slot_of(id).is_some(), "materialised once looked at");
        drop(second);
        assert_eq!(super::slot_of(id), None, "gone with the lock");
    }
}
