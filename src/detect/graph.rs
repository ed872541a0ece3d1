//! The global lock-order graph: one node per live lock instance, one edge
//! `A -> B` for "B was acquired while A was held", kept acyclic in a dynamic
//! topological order (`order.rs`), so an edge that agrees with the current
//! order is added without any search, and only an edge against it searches
//! the region between its two endpoints.
//!
//! Only new edges, lock registration and lock removal come here; the hot path
//! stays in `local.rs`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::Arc;

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef, IntoEdgeReferences};

use super::class::{self, ClassEdge, ClassIdx, Classes, Instance};
use super::local::{Held, Local, LockId};
use super::order::Dag;
use super::pending::{self, PARKED_SLOT};
use super::record::{self, ClassRecord, EdgeRecord};
use super::{TypeName, policy};
use crate::facade::{self as sync, AtomicU64, Ordering};
use crate::report::{
    Access, EdgeInfo, HeldLock, LockInfo, LockKind, Report, ReportKind, Spans, Trace,
    capture_spans, current_spans, dot_escape,
};

struct NodeData {
    id: LockId,
    kind: LockKind,
    name: Option<Arc<str>>,
    created: &'static Location<'static>,
    first_locked: Option<&'static Location<'static>>,
    /// `type_name` of the protected data.
    data: &'static str,
    /// The lock's class, unless classes are off.
    class: Option<ClassIdx>,
}

struct EdgeData {
    thread: Arc<str>,
    from_site: &'static Location<'static>,
    to_site: &'static Location<'static>,
    trace: Option<Trace>,
    trace_shared: bool,
    /// The tracing span stack when the edge was first taken.
    spans: Spans,
    /// Which context took it, and whether concurrent branches of that
    /// context may have made it.
    origin: Origin,
}

/// Where an edge comes from: the context whose acquisition took it, and
/// whether its `from` end was an async lock of that same context — which,
/// with concurrent branches (`join!`, `select!`), may be held by another
/// branch than the one acquiring (then the edge is *ambiguous*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) context: u64,
    pub(crate) ambiguous: bool,
    /// (tokio) Where the acquiring future lived: the flow that took the
    /// edge ([`Place::NONE`] for any other acquisition).
    pub(crate) flow: super::local::Place,
    /// (An edge from an event to a lock) the producing context's number and
    /// tick when it took the lock (see `detect::waits::WaitClock`); `(0, 0)`
    /// for any other edge.
    pub(crate) by: (u32, u32),
}

impl Origin {
    /// The context running `local`'s operation (a task, a scope, else the
    /// thread).
    fn of(local: &Local, ambiguous: bool) -> Origin {
        let context = if local.task != 0 {
            local.task
        } else {
            super::context::THREAD | crate::facade::current_thread_id()
        };
        Origin {
            context,
            ambiguous,
            flow: local.acquiring(),
            by: (0, 0),
        }
    }
}

/// Whether the cycle that `closing` would close, with the path `path` back
/// (its consecutive nodes), is one that concurrent branches of one context
/// can explain: every edge taken by the closing edge's context, and at
/// least one of them ambiguous or taken by another flow of it (a future
/// living apart from the closing acquisition's: a sibling branch, such as
/// two `join_all` branches that happened to run one after the other;
/// consecutive `.await`s of one flow reuse its place). Branches of one task run one at a time and only
/// switch at an `.await`, so such a cycle is a hang only if this run
/// actually stalls on it — which the deferred check of a stuck acquisition
/// reports (`tokio::stuck`) — and no other context takes part in it.
fn explained_by_branches(
    dag: &super::order::Dag<NodeData, EdgeData>,
    path: &[NodeIndex],
    closing: Origin,
) -> bool {
    let mut ambiguous = closing.ambiguous;
    for pair in path.windows(2) {
        let Some(edge) = dag.edge(pair[0], pair[1]) else {
            return false;
        };
        if edge.origin.context != closing.context {
            return false;
        }
        ambiguous |= edge.origin.ambiguous || edge.origin.flow.apart_from(closing.flow);
    }
    ambiguous
}

/// Backtraces captured for edges taken at one pair of acquisition sites.
#[derive(Clone, Default)]
struct SiteTraces {
    sites: (usize, usize),
    captured: u32,
    last: Option<Trace>,
}

/// Entries in the direct-mapped table of site pairs: a pair evicted by a
/// colliding one just starts counting again.
const TRACE_TABLE: usize = 256;

/// A loop that creates a fresh lock per iteration and nests it under another
/// adds a new edge each time at the same two sites. After this many captures
/// at a site pair, new edges there share the last backtrace (and say so in
/// the report) instead of unwinding the stack again.
const TRACES_PER_SITE_PAIR: u32 = 32;

pub(crate) struct Graph {
    dag: Dag<NodeData, EdgeData>,
    /// Cycles already reported under the log and callback policies.
    reported: HashSet<Vec<u64>>,
    traces: Vec<SiteTraces>,
    /// The class table and class order graph.
    classes: Classes,
}

/// A lock's identity in the graph: its never-reused id (0 until the lock is
/// registered) and its node slot ([`PARKED_SLOT`] for a lock that was
/// parked), published together. Whoever registers the lock first claims
/// the slot ([`Identity::claim`]), so a registration under the graph's lock
/// and a parking without it never both write it.
pub(crate) struct Identity {
    id: AtomicU64,
    slot: std::sync::atomic::AtomicU32,
    /// (tokio) Bit 0: a deferred relock waits on this lock (see
    /// `tokio::stuck`); above it, how many releases since (in the padding
    /// after `slot`, so no lock grows).
    #[cfg(feature = "tokio")]
    releases: std::sync::atomic::AtomicU32,
}

impl Identity {
    crate::facade::maybe_const_fn! {
        #[inline(always)]
        pub(crate) fn new() -> Identity {
            Identity {
                id: AtomicU64::new(0),
                slot: std::sync::atomic::AtomicU32::new(UNCLAIMED),
                #[cfg(feature = "tokio")]
                releases: std::sync::atomic::AtomicU32::new(0),
            }
        }
    }

    /// The id, or 0 if the lock has no node yet.
    #[inline(always)]
    pub(crate) fn id(&self) -> LockId {
        sync::hot_load_u64(&self.id)
    }

    /// The node slot; meaningful once `id()` returned non-zero (whose
    /// `Acquire` load makes the slot written before it visible).
    #[inline(always)]
    pub(crate) fn slot(&self) -> u32 {
        sync::hot_load_u32_relaxed(&self.slot)
    }

    /// Claims the right to register the lock; `false` if another thread
    /// is registering it (or did).
    fn claim(&self) -> bool {
        self.slot
            .compare_exchange(UNCLAIMED, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cfg(feature = "tokio")]
    /// Starts counting this lock's releases (for a deferred relock), and
    /// returns the count so far.
    pub(crate) fn watch_releases(&self) -> u32 {
        self.releases.fetch_or(1, Ordering::Relaxed) | 1
    }

    #[cfg(feature = "tokio")]
    /// The release count, as [`Identity::watch_releases`] returned it.
    pub(crate) fn releases(&self) -> u32 {
        self.releases.load(Ordering::Relaxed)
    }

    #[cfg(feature = "tokio")]
    /// A release: counted only once a deferred relock waits on the lock.
    #[inline(always)]
    pub(crate) fn note_release(&self) {
        if self.releases.load(Ordering::Relaxed) & 1 != 0 {
            self.releases.fetch_add(2, Ordering::Relaxed);
        }
    }

    /// Publishes the id and slot, after a successful [`Identity::claim`].
    fn publish(&self, id: LockId, slot: u32) {
        self.slot.store(slot, Ordering::Relaxed);
        self.id.store(id, Ordering::Release);
    }
}

/// An identity's slot before anyone registers the lock, and while someone
/// does.
const UNCLAIMED: u32 = u32::MAX;
const CLAIMED: u32 = u32::MAX - 1;

sync::global! {
    static GRAPH: sync::Mutex<Graph> = lazy sync::Mutex::new(Graph::new());
}

// The next lock id: ids are never reused.
sync::global! {
    static NEXT_ID: AtomicU64 = const AtomicU64::new(1);
}

/// Ids a thread hands out without touching [`NEXT_ID`]: the next and the
/// end of its block.
const ID_BLOCK: u64 = 64;

sync::local! {
    static IDS: std::cell::Cell<(LockId, LockId)> = std::cell::Cell::new((0, 0));
}

/// A fresh lock id, never used before: from this thread's block, taken
/// [`ID_BLOCK`] at a time (one atomic operation per block).
fn next_id() -> LockId {
    let take = || NEXT_ID.fetch_add(1, Ordering::Relaxed);
    IDS.try_with(|ids| {
        let (next, end) = ids.get();
        if next != 0 && next < end {
            ids.set((next + 1, end));
            return next;
        }
        let start = NEXT_ID.fetch_add(ID_BLOCK, Ordering::Relaxed);
        ids.set((start + 1, start + ID_BLOCK));
        start
    })
    .unwrap_or_else(|_| take())
}

/// The graph, locked, with every parked lock materialised (see
/// [`pending`]): whatever reads or changes it finds what it would have
/// found had those locks been added when they were first taken.
fn lock_graph() -> impl std::ops::DerefMut<Target = Graph> {
    let mut graph = GRAPH.lock();
    if pending::waiting() {
        let graph = &mut *graph;
        pending::materialise(|id, leaf| graph.materialise(id, leaf));
    }
    graph
}

fn site_key(site: &'static Location<'static>) -> usize {
    site as *const Location<'static> as usize
}

impl Graph {
    fn new() -> Self {
        Graph {
            dag: Dag::new(),
            reported: HashSet::new(),
            traces: vec![SiteTraces::default(); TRACE_TABLE],
            classes: Classes::new(),
        }
    }

    fn info(&self, idx: NodeIndex) -> LockInfo {
        let node = self.dag.node(idx).expect("a live node");
        LockInfo {
            id: node.id,
            kind: node.kind,
            name: node.name.clone(),
            created_at: node.created,
            first_locked_at: node.first_locked,
            data: node.data,
            class: node
                .class
                .and_then(|idx| self.classes.class(idx).name.clone()),
        }
    }

    /// The node of the lock with this id and slot, if it is still alive.
    fn node(&self, id: LockId, slot: u32) -> Option<NodeIndex> {
        let slot = match slot {
            PARKED_SLOT => pending::slot_of(id)?,
            slot => slot,
        };
        let idx = NodeIndex::new(slot as usize);
        match self.dag.node(idx) {
            Some(node) if node.id == id => Some(idx),
            _ => None,
        }
    }

    /// A held (or recently released) lock as an edge end, if it lives.
    fn end(&self, held: &Held) -> Option<End> {
        let idx = self.node(held.id, held.slot)?;
        Some(End {
            idx,
            id: held.id,
            site: held.site,
        })
    }

    fn held_infos(&self, held: &[Held]) -> Vec<HeldLock> {
        let mut out = Vec::with_capacity(held.len());
        for h in held {
            if let Some(lock) = self.node(h.id, h.slot).map(|idx| self.info(idx)) {
                out.push(HeldLock {
                    lock,
                    access: h.access,
                    acquired_at: h.site,
                });
            }
        }
        out
    }

    fn trace_for_new_edge(
        &mut self,
        from_site: &'static Location<'static>,
        to_site: &'static Location<'static>,
    ) -> (Option<Trace>, bool) {
        let sites = (site_key(from_site), site_key(to_site));
        let hash = sites.0.wrapping_mul(0x9E37_79B9) ^ sites.1.wrapping_mul(0x85EB_CA6B);
        let entry = &mut self.traces[(hash >> 7) % TRACE_TABLE];
        if entry.sites != sites {
            *entry = SiteTraces {
                sites,
                captured: 0,
                last: None,
            };
        }
        if entry.captured < TRACES_PER_SITE_PAIR {
            entry.captured += 1;
            entry.last = sync::capture_backtrace().map(Trace::new);
            (entry.last.clone(), false)
        } else {
            (entry.last.clone(), true)
        }
    }

    fn mark_first_locked(&mut self, idx: NodeIndex, site: &'static Location<'static>) {
        if let Some(node) = self.dag.node_mut(idx)
            && node.first_locked.is_none()
        {
            node.first_locked = Some(site);
        }
    }

    fn edge_info(
        &self,
        from: NodeIndex,
        to: NodeIndex,
        from_pos: usize,
        to_pos: usize,
    ) -> EdgeInfo {
        let data = self
            .dag
            .edge(from, to)
            .expect("a cycle edge is in the graph");
        EdgeInfo {
            from: from_pos,
            to: to_pos,
            thread: data.thread.clone(),
            from_acquired_at: data.from_site,
            to_acquired_at: data.to_site,
            trace: data.trace.clone(),
            trace_shared: data.trace_shared,
            instances: (None, None),
            spans: data.spans.clone(),
        }
    }
}

impl Graph {
    /// The classes of an instance edge about to be recorded, if they are
    /// two and not yet ordered.
    fn new_class_pair(&self, from: NodeIndex, to: NodeIndex) -> Option<(ClassIdx, ClassIdx)> {
        let from_class = self.dag.node(from)?.class?;
        let to_class = self.dag.node(to)?.class?;
        let new = from_class != to_class && self.classes.dag.edge(from_class, to_class).is_none();
        new.then_some((from_class, to_class))
    }

    /// A lock instance as a class edge remembers it.
    fn instance(&self, idx: NodeIndex) -> Instance {
        let node = self.dag.node(idx).expect("a live node");
        Instance {
            id: node.id,
            name: node.name.clone(),
        }
    }

    /// A lock class as a report names it: by the instance that stands for
    /// it in this finding.
    fn class_info(&self, class: ClassIdx, instance: &Instance) -> LockInfo {
        let data = self.classes.class(class);
        LockInfo {
            id: instance.id,
            kind: data.kind,
            name: instance.name.clone(),
            created_at: data.created,
            first_locked_at: None,
            data: data.data,
            class: data.name.clone(),
        }
    }

    /// Gives `ident` a fresh id and a node, unless another thread just did.
    fn register(
        &mut self,
        lock: &NewLock<'_>,
        first_locked: Option<&'static Location<'static>>,
    ) -> (LockId, u32) {
        let ident = lock.ident;
        let existing = ident.id();
        if existing != 0 {
            return (existing, ident.slot());
        }
        if !ident.claim() {
            // Another thread is parking it (see `defer_leaf`): it holds no
            // lock while it does, and publishes in a few instructions.
            loop {
                let id = ident.id();
                if id != 0 {
                    return (id, ident.slot());
                }
                sync::thread::yield_now();
            }
        }
        let id = next_id();
        let data = (lock.data)();
        // Condvars and Barriers stand for themselves only.
        let class = (class::enabled() && !lock.kind.is_event()).then(|| match lock.class {
            Some(name) => self.classes.named(lock.kind, lock.created, data, name),
            None => self
                .classes
                .of_lock(lock.kind, lock.created, first_locked, data),
        });
        let idx = self.dag.add_node(NodeData {
            id,
            kind: lock.kind,
            name: lock.name.map(Arc::<str>::from),
            created: lock.created,
            first_locked,
            data,
            class,
        });
        let slot = u32::try_from(idx.index()).expect("more than 2^32 live locks");
        ident.publish(id, slot);
        (id, slot)
    }
}

impl Graph {
    /// Adds a parked lock's node and edges (see [`pending`]); returns its
    /// node slot. An edge from a lock dropped since is left out, as it
    /// would have been removed with that lock.
    fn materialise(&mut self, id: LockId, leaf: &pending::Leaf) -> u32 {
        let idx = self.dag.add_node(NodeData {
            id,
            kind: leaf.kind,
            name: None,
            created: leaf.created,
            first_locked: Some(leaf.site),
            data: (leaf.data)(),
            class: leaf.class,
        });
        for (&(from_id, from_site), (from_slot, trace)) in leaf.held.iter().zip(&leaf.edges) {
            if let Some(from) = self.node(from_id, *from_slot) {
                let edge = EdgeData {
                    thread: leaf.thread.clone(),
                    from_site,
                    to_site: leaf.site,
                    trace: trace.clone(),
                    trace_shared: true,
                    spans: None,
                    origin: leaf.origin,
                };
                // Into a node with no edges out: never a cycle.
                let _ = self.dag.try_add_edge(from, idx, edge);
            }
        }
        u32::try_from(idx.index()).expect("more than 2^32 live locks")
    }
}

/// A lock as registration sees it.
pub(crate) struct NewLock<'a> {
    pub(crate) ident: &'a Identity,
    pub(crate) kind: LockKind,
    pub(crate) data: TypeName,
    pub(crate) created: &'static Location<'static>,
    pub(crate) name: Option<&'a str>,
    /// An explicit class name (`with_class`).
    pub(crate) class: Option<&'a str>,
}

/// Registers a lock at construction (named locks) or on its first
/// acquisition with nothing held.
#[cold]
#[inline(never)]
pub(crate) fn register(
    lock: &NewLock<'_>,
    first_locked: Option<&'static Location<'static>>,
) -> (LockId, u32) {
    // Registered already: no need for the graph's lock.
    let existing = lock.ident.id();
    if existing != 0 {
        return (existing, lock.ident.slot());
    }
    let registered = lock_graph().register(lock, first_locked);
    if record::needs_file() {
        record::process_started();
    }
    registered
}

/// [`register`] at a lock's first acquisition with nothing held: a fresh
/// lock's registration also teaches this thread its shape (see
/// [`learn_leaf`]), so the next lock like it can be parked.
#[cold]
#[inline(never)]
pub(crate) fn register_first(
    local: &mut Local,
    lock: &NewLock<'_>,
    access: Access,
    site: &'static Location<'static>,
) -> (LockId, u32) {
    if lock.ident.id() != 0 || local.held.root_key != 0 {
        return register(lock, Some(site));
    }
    let mut graph = lock_graph();
    let (id, slot) = graph.register(lock, Some(site));
    if let Some(idx) = graph.node(id, slot) {
        learn_leaf(&graph, local, lock, access, site, idx);
    }
    drop(graph);
    if record::needs_file() {
        record::process_started();
    }
    (id, slot)
}

/// Puts a lock in the explicit class `lock.class` (registering it if it is
/// new); its later edges are recorded for that class.
#[cold]
#[inline(never)]
pub(crate) fn set_class(lock: &NewLock<'_>) {
    if !class::enabled() {
        return;
    }
    let mut graph = lock_graph();
    let graph = &mut *graph;
    let (id, slot) = graph.register(lock, None);
    let (Some(idx), Some(name)) = (graph.node(id, slot), lock.class) else {
        return;
    };
    let node = graph.dag.node(idx).expect("a live node");
    let class = graph
        .classes
        .named(node.kind, node.created, node.data, name);
    if let Some(node) = graph.dag.node_mut(idx) {
        node.class = Some(class);
    }
}

/// Removes a dropped lock's node and its edges (or, for a parked lock,
/// its entry in the table).
#[cold]
#[inline(never)]
pub(crate) fn unregister(id: LockId, slot: u32) {
    let slot = match slot {
        PARKED_SLOT => match pending::forget(id) {
            Some(slot) => slot,
            None => return,
        },
        slot => slot,
    };
    let mut graph = GRAPH.lock();
    if let Some(idx) = graph.node(id, slot) {
        graph.dag.remove_node(idx);
        if !graph.reported.is_empty() {
            graph.reported.retain(|key| !key.contains(&id));
        }
    }
}

/// Registers the lock being acquired if it is new, then adds the edges
/// `held -> it` that this thread's cache does not know, all under one
/// acquisition of the graph lock. A blocking acquisition reports the first
/// edge that would close a cycle; a timed one (which cannot hang forever)
/// never reports. A cycle-closing edge is never added, so the graph stays
/// acyclic and the same inversion is found again next time.
#[cold]
#[inline(never)]
pub(crate) fn add_edges(
    local: &mut Local,
    target: NewLock<'_>,
    access: Access,
    site: &'static Location<'static>,
    timed: bool,
) -> (LockId, u32, Option<Box<Report>>) {
    // The chain cache's slots, before the first nesting that could fill
    // them (the hot path never allocates).
    local.chains.allocate();
    let mut graph = lock_graph();
    let added = add_edges_locked(&mut graph, local, target, access, site, timed);
    drop(graph);
    if record::enabled() {
        record::flush();
    }
    added
}

fn add_edges_locked(
    graph: &mut Graph,
    local: &mut Local,
    target: NewLock<'_>,
    access: Access,
    site: &'static Location<'static>,
    timed: bool,
) -> (LockId, u32, Option<Box<Report>>) {
    let thread = local.thread_name();
    // A lock registered just now has no edges yet and knows its first site.
    let fresh = target.ident.id() == 0;
    let (to, to_slot) = graph.register(&target, Some(site));
    let Some(to_idx) = graph.node(to, to_slot) else {
        return (to, to_slot, None);
    };
    let mut finding = None;
    // A class cycle is reported only if no instance cycle is: the instance
    // finding is the stronger one.
    let mut class_cycle = None;
    // The span stack of this acquisition, captured for its first new edge.
    let mut spans_now: Option<Spans> = None;
    let to_end = End {
        idx: to_idx,
        id: to,
        site,
    };
    let mut i = 0;
    while i < local.held.len() {
        let held = local.held.get(i);
        i += 1;
        // A lock registered just now has no known edges to look up.
        if held.id == to || (!fresh && local.known.contains(held.id, to)) {
            continue;
        }
        // An async lock of this context's may be a concurrent branch's —
        // unless this acquisition's future lives where that lock's did (the
        // same flow). Once the context showed branches, such a lock orders
        // nothing; before, its edge is drawn, ambiguous.
        let ambiguous = held.asynchronous && !held.contains(local.acquiring().at());
        if ambiguous && local.held.shows_branches() {
            continue;
        }
        // A lock dropped while its guard was forgotten: it can never be
        // acquired again, so no cycle can pass through it.
        let Some(from) = graph.end(&held) else {
            continue;
        };
        let edge = (from, to_end);
        let origin = Origin::of(local, ambiguous);
        match add_edge(
            graph,
            local,
            (&thread, &mut spans_now),
            edge,
            origin,
            fresh,
            timed,
        ) {
            Added::New(Some(cycle)) if class_cycle.is_none() => {
                class_cycle = Some((cycle, from.idx, held));
            }
            Added::Refused if finding.is_none() => {
                let path = graph.dag.path(to_end.idx, from.idx);
                if let Some(path) = path.filter(|p| !explained_by_branches(&graph.dag, p, origin)) {
                    finding = inversion_report(
                        graph,
                        local,
                        (&thread, spans_now.clone().flatten()),
                        edge,
                        access,
                        path,
                    )
                    .map(Box::new);
                }
            }
            _ => {}
        }
    }
    if let (None, Some((cycle, from_idx, held))) = (&finding, class_cycle) {
        finding = class_report(
            graph,
            local,
            (&thread, spans_now.flatten()),
            &cycle,
            (from_idx, held),
            to_idx,
            access,
            site,
        )
        .map(Box::new);
    } else if fresh && finding.is_none() && !timed {
        learn_leaf(graph, local, &target, access, site, to_idx);
    }
    (to, to_slot, finding)
}

/// A fresh lock as [`pending::Leaves`] knows it, if it could be parked at
/// all: a sync lock (not an event), unnamed and in its default class, taken
/// by a thread's own context with no span stack to capture.
fn parkable(
    local: &Local,
    target: &NewLock<'_>,
    access: Access,
    site: &'static Location<'static>,
) -> Option<pending::Fresh> {
    let sync_lock = !target.kind.is_event() && !target.kind.is_async();
    let plain = target.name.is_none() && target.class.is_none();
    let own = local.task == 0 && local.acquiring().at() == 0 && !local.held.shows_branches();
    (sync_lock && plain && own && !spans_open()).then_some(pending::Fresh {
        kind: target.kind,
        access,
        created: target.created,
        data: target.data,
        site,
    })
}

/// Whether a span stack could be open: a tracing dispatcher was ever set.
fn spans_open() -> bool {
    cfg!(feature = "spans") && tracing::dispatcher::has_been_set()
}

/// After a fresh lock's registration under held locks (its node at
/// `to_idx`): if every edge it got shows nothing but itself — its class
/// edge known, its backtrace shared, no span stack, nothing ambiguous, its
/// `from` lock's first site known — the next fresh lock in the same
/// nesting can be parked with the same edges (see [`pending`]).
fn learn_leaf(
    graph: &Graph,
    local: &mut Local,
    target: &NewLock<'_>,
    access: Access,
    site: &'static Location<'static>,
    to_idx: NodeIndex,
) {
    let Some(fresh) = parkable(local, target, access, site) else {
        return;
    };
    let mut edges = Vec::with_capacity(local.held.len());
    for i in 0..local.held.len() {
        let held = local.held.get(i);
        let Some(from) = graph.end(&held) else {
            return;
        };
        let Some(edge) = graph.dag.edge(from.idx, to_idx) else {
            return;
        };
        let settled = edge.trace_shared
            && edge.spans.is_none()
            && !edge.origin.ambiguous
            && !held.asynchronous
            && graph
                .dag
                .node(from.idx)
                .is_some_and(|n| n.first_locked.is_some())
            && graph.new_class_pair(from.idx, to_idx).is_none();
        if !settled {
            return;
        }
        let slot = u32::try_from(from.idx.index()).expect("more than 2^32 live locks");
        edges.push((slot, edge.trace.clone()));
    }
    let learned = pending::Learned {
        class: graph.dag.node(to_idx).and_then(|node| node.class),
        edges,
        thread: local.thread_name(),
        origin: Origin::of(local, false),
    };
    local
        .leaves
        .learn(&fresh, &local.held, class::enabled(), learned);
}

/// A fresh lock's first blocking acquisition under held locks, in a
/// nesting this thread learned ([`learn_leaf`]): gives it an id and parks
/// its node and edges, without the graph's lock. Returns its id and slot,
/// or `None` (nothing done) when the nesting is not a learned one.
pub(crate) fn defer_leaf(
    local: &mut Local,
    target: &NewLock<'_>,
    access: Access,
    site: &'static Location<'static>,
) -> Option<(LockId, u32)> {
    let fresh = parkable(local, target, access, site)?;
    let leaf = local.leaves.find(&fresh, &local.held, class::enabled())?;
    if !target.ident.claim() {
        return None;
    }
    let id = next_id();
    pending::park(id, leaf);
    target.ident.publish(id, PARKED_SLOT);
    Some((id, PARKED_SLOT))
}

/// One end of an edge being added: the lock's node and id, and the site
/// where it was acquired (or, for a Condvar or Barrier, waited on or
/// signalled).
#[derive(Clone, Copy)]
struct End {
    idx: NodeIndex,
    id: LockId,
    site: &'static Location<'static>,
}

/// What became of an edge offered to the graph.
enum Added {
    /// It was there already (now cached), or a timed acquisition skipped it.
    Known,
    /// Added; with the class cycle its class edge closed, if any.
    New(Option<Vec<ClassIdx>>),
    /// Refused: it would close a cycle.
    Refused,
}

/// Adds the instance edge `from -> to` (and its class edge, when new), with
/// a backtrace and the span stack; a cycle-closing edge is refused.
fn add_edge(
    graph: &mut Graph,
    local: &mut Local,
    (thread, spans_now): (&Arc<str>, &mut Option<Spans>),
    (from, to): (End, End),
    origin: Origin,
    fresh: bool,
    timed: bool,
) -> Added {
    if !fresh && graph.dag.edge(from.idx, to.idx).is_some() {
        local.known.insert(from.id, to.id);
        return Added::Known;
    }
    if timed && !graph.dag.is_valid_edge(from.idx, to.idx) {
        return Added::Known;
    }
    let (trace, trace_shared) = graph.trace_for_new_edge(from.site, to.site);
    let spans = spans_now
        .get_or_insert_with(|| current_spans(&mut local.spans))
        .clone();
    // The class edge this instance edge makes, if it is a new one. An
    // ambiguous edge stays out of the class graph: classes gather edges
    // from every instance, task and run, where one branch's lock held while
    // a sibling takes another would pile up into cycles no context took.
    let class_pair = if origin.ambiguous {
        None
    } else {
        graph.new_class_pair(from.idx, to.idx)
    };
    let class_trace = class_pair.and_then(|_| trace.clone());
    let data = EdgeData {
        thread: thread.clone(),
        from_site: from.site,
        to_site: to.site,
        trace,
        trace_shared,
        spans: spans.clone(),
        origin,
    };
    if graph.dag.try_add_edge(from.idx, to.idx, data).is_err() {
        return Added::Refused;
    }
    // An edge to a lock registered just now is cached the next time it is
    // taken: a short-lived lock taken once (a lock per request, nested
    // under a long-lived one) would fill the cache with pairs never looked
    // up again, and clear it every few thousand locks.
    if !fresh {
        local.known.insert(from.id, to.id);
    }
    graph.mark_first_locked(from.idx, from.site);
    if !fresh {
        graph.mark_first_locked(to.idx, to.site);
    }
    let Some((from_class, to_class)) = class_pair else {
        return Added::New(None);
    };
    if record::enabled() {
        let class = |idx: ClassIdx| ClassRecord::new(idx.index() as u32, graph.classes.class(idx));
        record::queue(EdgeRecord {
            from: class(from_class),
            to: class(to_class),
            thread: thread.clone(),
            from_site: from.site,
            to_site: to.site,
            trace: class_trace.clone(),
        });
    }
    let edge = ClassEdge {
        thread: thread.clone(),
        from_site: from.site,
        to_site: to.site,
        trace: class_trace,
        trace_shared,
        from: graph.instance(from.idx),
        to: graph.instance(to.idx),
        spans,
    };
    Added::New(graph.classes.add_edge(from_class, to_class, edge, timed))
}

/// Which way edges between a Condvar or Barrier and locks point.
#[derive(Clone, Copy)]
pub(crate) enum Toward<'a> {
    /// `lock -> event`: the locks are held while waiting for the event;
    /// for a context's end, with where the context last took each lock.
    Event(Option<&'a super::waits::Ends>),
    /// `event -> lock`: the locks were taken on the way to signalling it.
    Locks,
}

/// Registers a Condvar or Barrier and adds its edges with `locks` (see
/// [`Toward`]); `site` is the wait or the signal. Reports the first edge
/// that would close a cycle.
#[cold]
#[inline(never)]
pub(crate) fn event_edges(
    local: &mut Local,
    event: NewLock<'_>,
    site: &'static Location<'static>,
    toward: Toward<'_>,
    locks: &[Held],
) -> Option<Box<Report>> {
    let thread = local.thread_name();
    let mut graph = lock_graph();
    let graph = &mut *graph;
    let (id, slot) = graph.register(&event, None);
    let idx = graph.node(id, slot)?;
    let event_end = End { idx, id, site };
    let mut spans_now = None;
    let mut finding = None;
    // A producer edge from a context's end records where the context
    // stands (see `waits`), and is cached under a key salted with that:
    // after the context's next signal it is taken once more and its
    // position brought up to date. Only a join decides by it
    // (`seen_finished`): an edge from any other event records nothing, so
    // a sender is not numbered, and is cached once.
    let by_tick = matches!(toward, Toward::Locks) && super::waits::is_end(event.kind);
    let by = if by_tick {
        local.held.waits.position()
    } else {
        (0, 0)
    };
    for lock in locks {
        let Some(lock_end) = graph.end(lock) else {
            continue;
        };
        let (edge, key) = match toward {
            Toward::Event(_) => ((lock_end, event_end), (lock.id, id)),
            Toward::Locks => (
                (event_end, lock_end),
                (local.held.waits.key(id, event.kind), lock.id),
            ),
        };
        if local.known.contains(key.0, key.1) {
            continue;
        }
        if let Some(data) = graph.dag.edge_mut(edge.0.idx, edge.1.idx) {
            if data.origin.by.0 == by.0 {
                data.origin.by.1 = data.origin.by.1.max(by.1);
            } else if by.0 != 0 {
                // Another producer took it too: the latest one is what a
                // waiter must have seen finished.
                data.origin.by = by;
            }
            local.known.insert(key.0, key.1);
            continue;
        }
        let mut origin = Origin::of(local, false);
        origin.by = by;
        let added = add_edge(
            graph,
            local,
            (&thread, &mut spans_now),
            edge,
            origin,
            false,
            false,
        );
        if !matches!(added, Added::Refused) {
            local.known.insert(key.0, key.1);
        }
        if matches!(added, Added::Refused) && finding.is_none() {
            let Some(path) = graph.dag.path(edge.1.idx, edge.0.idx) else {
                continue;
            };
            if let Toward::Event(ends) = toward
                && seen_finished(graph, local, &path, ends)
            {
                continue;
            }
            let spans = spans_now.clone().flatten();
            finding = inversion_report(
                graph,
                local,
                (&thread, spans),
                edge,
                Access::Exclusive,
                path,
            )
            .map(|mut report| {
                // The report stands at the wait or the signal.
                report.location = site;
                Box::new(report)
            });
        }
    }
    finding
}

/// Whether the cycle a join would close runs back through an acquisition
/// the joining context knows is over: `path` leaves a thread's or task's
/// end by an edge that context took at a tick the joiner has seen passed
/// (a signal it sent afterwards reached the joiner by message, barrier or
/// join), so the end waited for does not wait for it; an acquisition after
/// that tick is recorded afresh, and checked, when it happens.
///
/// Only the end of a context is decided so: a channel, a Notify or a
/// Barrier is signalled again and again, and a producer that took the lock
/// on its way to the last signal is taken to need it for the next one (the
/// event loop that locks the state for every reply).
fn seen_finished(
    graph: &Graph,
    local: &Local,
    path: &[NodeIndex],
    ends: Option<&super::waits::Ends>,
) -> bool {
    let [event, first, ..] = path else {
        return false;
    };
    let is_end = graph
        .dag
        .node(*event)
        .is_some_and(|node| super::waits::is_end(node.kind));
    let Some(data) = graph.dag.edge(*event, *first).filter(|_| is_end) else {
        return false;
    };
    // The edge has the tick of its first acquisition; the end's table,
    // kept by the context since, the latest.
    let (context, mut tick) = data.origin.by;
    let latest = ends
        .zip(graph.dag.node(*first))
        .and_then(|(ends, lock)| ends.tick(lock.id));
    if let Some(latest) = latest {
        tick = tick.max(latest);
    }
    local.held.waits.knows((context, tick))
}

/// The report for the refused edge `from -> to`: the cycle it closes with
/// `path`, the path already in the graph from `to` back to `from`.
fn inversion_report(
    graph: &mut Graph,
    local: &Local,
    (thread, spans): (&Arc<str>, Spans),
    (from, to): (End, End),
    access: Access,
    path: Vec<NodeIndex>,
) -> Option<Report> {
    let from_idx = from.idx;
    // locks: [held, acquiring, intermediate...]; edge j goes j -> j+1.
    let mut cycle = Vec::with_capacity(path.len());
    cycle.push(from_idx);
    cycle.extend_from_slice(&path[..path.len() - 1]);
    let n = cycle.len();
    let locks: Vec<LockInfo> = cycle.iter().map(|&idx| graph.info(idx)).collect();

    let (kind, title) = match locks.iter().find(|lock| lock.kind.is_event()) {
        Some(event) => (
            ReportKind::BlockedWakeup,
            crate::report::waits::words(event.kind).title,
        ),
        None => (
            ReportKind::LockOrderInversion,
            "potential deadlock: lock order inversion",
        ),
    };
    let mut report = cycle_report(
        kind,
        title,
        (thread, spans),
        (access, to.site),
        locks,
        graph.held_infos(&local.held.to_vec()),
    );
    if !policy::reports_repeats() && !graph.reported.insert(report.dedup_key()) {
        return None;
    }
    report.push_closing_edge(from.site, (None, None));
    for j in 1..n {
        report
            .edges
            .push(graph.edge_info(cycle[j], cycle[(j + 1) % n], j, (j + 1) % n));
    }
    Some(report)
}

/// A cycle report with no edges yet: `locks[0]` is held, `locks[1]` being
/// acquired.
fn cycle_report(
    kind: ReportKind,
    title: &str,
    (thread, spans): (&Arc<str>, Spans),
    (access, site): (Access, &'static Location<'static>),
    locks: Vec<LockInfo>,
    held: Vec<HeldLock>,
) -> Report {
    Report {
        kind,
        title: title.to_owned(),
        thread: thread.clone(),
        acquiring: 1,
        access,
        location: site,
        edges: Vec::with_capacity(locks.len()),
        locks,
        held,
        previous: None,
        trace: None,
        waits: Vec::new(),
        variable: None,
        accesses: Vec::new(),
        spans,
    }
}

impl Report {
    /// Edge 0 of a cycle report: the reporting acquisition itself, locks 0
    /// -> 1, with a backtrace captured now.
    fn push_closing_edge(
        &mut self,
        held_site: &'static Location<'static>,
        instances: (Option<Arc<str>>, Option<Arc<str>>),
    ) {
        self.trace = sync::capture_backtrace().map(Trace::new);
        self.edges.push(EdgeInfo {
            from: 0,
            to: 1,
            thread: self.thread.clone(),
            from_acquired_at: held_site,
            to_acquired_at: self.location,
            trace: self.trace.clone(),
            trace_shared: false,
            instances,
            spans: self.spans.clone(),
        });
    }
}

/// A report for a class cycle: `cycle` is `[class of held, class of the
/// lock acquired, ...]`. Repeats of a known class cycle (new instances
/// taking the same orders) only count, unless class findings are raised
/// through a policy that reports every repeat.
#[allow(clippy::too_many_arguments)]
fn class_report(
    graph: &mut Graph,
    local: &Local,
    (thread, spans): (&Arc<str>, Spans),
    cycle: &[ClassIdx],
    (from_idx, held): (NodeIndex, Held),
    to_idx: NodeIndex,
    access: Access,
    site: &'static Location<'static>,
) -> Option<Report> {
    let key = class::cycle_key(cycle);
    let repeats = class::mode() == class::PANIC && policy::reports_repeats();
    if let Some(known) = graph.classes.findings.get_mut(&key) {
        known.count += 1;
        if !repeats {
            return None;
        }
    }
    let n = cycle.len();
    let (from, to) = (graph.info(from_idx), graph.info(to_idx));
    let instances = (from.name.clone(), to.name.clone());
    let mut report = cycle_report(
        ReportKind::ClassOrderInversion,
        "potential deadlock: lock order inversion between lock classes (taken on different \
         instances)",
        (thread, spans),
        (access, site),
        vec![from, to],
        graph.held_infos(&local.held.to_vec()),
    );
    report.push_closing_edge(held.site, instances);
    for j in 1..n {
        let (a, b) = (cycle[j], cycle[(j + 1) % n]);
        let edge = graph
            .classes
            .dag
            .edge(a, b)
            .expect("a class cycle edge is in the class graph");
        if j + 1 < n {
            report.locks.push(graph.class_info(b, &edge.to));
        }
        report.edges.push(EdgeInfo {
            from: j,
            to: (j + 1) % n,
            thread: edge.thread.clone(),
            from_acquired_at: edge.from_site,
            to_acquired_at: edge.to_site,
            trace: edge.trace.clone(),
            trace_shared: edge.trace_shared,
            instances: (edge.from.name.clone(), edge.to.name.clone()),
            spans: edge.spans.clone(),
        });
    }
    let finding = graph
        .classes
        .findings
        .entry(key.clone())
        .or_insert_with(|| class::Finding {
            report: Arc::new(report.clone()),
            count: 0,
            closing: (cycle[0], cycle[1]),
        });
    if finding.count == 0 {
        finding.count = 1;
        graph.classes.finding_order.push(key);
    }
    Some(report)
}

/// (tokio) Two concurrent branches of one context, each stuck waiting for
/// a lock the context holds: the branch reporting holds `held.0` (so the
/// sibling waits for it) and waits at `site` for `held.1`, which the
/// sibling took before waiting at `their_site`. A real hang, reported as
/// the inversion it is.
#[cfg(feature = "tokio")]
pub(crate) fn branches_report(
    local: &mut Local,
    held: (Held, Held),
    (access, site): (Access, &'static Location<'static>),
    their_site: &'static Location<'static>,
) -> Option<Report> {
    let thread = local.thread_name();
    let graph = lock_graph();
    let ours = graph
        .node(held.0.id, held.0.slot)
        .map(|idx| graph.info(idx))?;
    let theirs = graph
        .node(held.1.id, held.1.slot)
        .map(|idx| graph.info(idx))?;
    let mut report = cycle_report(
        ReportKind::LockOrderInversion,
        "potential deadlock: lock order inversion",
        (&thread, capture_spans()),
        (access, site),
        vec![ours, theirs],
        graph.held_infos(&local.held.to_vec()),
    );
    report.push_closing_edge(held.0.site, (None, None));
    report.edges.push(EdgeInfo {
        from: 1,
        to: 0,
        thread: thread.clone(),
        from_acquired_at: held.1.site,
        to_acquired_at: their_site,
        trace: None,
        trace_shared: false,
        instances: (None, None),
        spans: Spans::default(),
    });
    Some(report)
}

/// A report for acquiring a lock this thread already holds.
#[cold]
#[inline(never)]
pub(crate) fn relock_report(
    local: &mut Local,
    previous: Held,
    access: Access,
    kind: ReportKind,
    site: &'static Location<'static>,
) -> Option<Report> {
    // A tokio task is its own context.
    let who = if local.task == 0 { "thread" } else { "task" };
    let thread = local.thread_name();
    let mut graph = lock_graph();
    let lock = graph
        .node(previous.id, previous.slot)
        .map(|idx| graph.info(idx))?;
    let title = match kind {
        _ if lock.kind.is_cell() => format!(
            "deadlock: re-entrant initialisation of a {} on this thread",
            lock.kind
        ),
        ReportKind::RecursiveRead => {
            format!(
                "potential deadlock: recursive read of {} {} this {who} already holds",
                lock.kind.article(),
                lock.kind
            )
        }
        _ => {
            let verb = match access {
                Access::Shared | Access::SharedRecursive => "read-locking",
                Access::Upgradable => "upgradable-read-locking",
                _ if matches!(
                    lock.kind,
                    LockKind::RwLock | LockKind::ParkingLotRwLock | LockKind::TokioRwLock
                ) =>
                {
                    "write-locking"
                }
                _ => "relocking",
            };
            format!(
                "deadlock: {verb} {} {} already held by this {who}",
                lock.kind.article(),
                lock.kind
            )
        }
    };
    let report = Report {
        kind,
        title,
        thread,
        acquiring: 0,
        access,
        location: site,
        previous: Some(HeldLock {
            lock: lock.clone(),
            access: previous.access,
            acquired_at: previous.site,
        }),
        locks: vec![lock],
        edges: Vec::new(),
        held: graph.held_infos(&local.held.to_vec()),
        trace: sync::capture_backtrace().map(Trace::new),
        waits: Vec::new(),
        variable: None,
        accesses: Vec::new(),
        spans: capture_spans(),
    };
    // A certain self-deadlock is reported every time: the thread panics
    // rather than hang, so there is no flood to hold back.
    if kind == ReportKind::RecursiveRead && !policy::reports_repeats() {
        let mut key = report.dedup_key();
        key.push(site_key(site) as u64);
        if !graph.reported.insert(key) {
            return None;
        }
    }
    Some(report)
}

/// A report for acquiring a lock while another context on this thread is
/// suspended holding a sync lock (`held`, of context `owner`) across an
/// `.await`. Edge 0 carries the holder: its context's name and the site
/// where it took its lock.
#[cfg(feature = "tokio")]
#[cold]
#[inline(never)]
pub(crate) fn awaited_report(
    local: &mut Local,
    target: NewLock<'_>,
    (owner, held): (u64, Held),
    access: Access,
    site: &'static Location<'static>,
) -> Option<Report> {
    let thread = local.thread_name();
    let holder_name = Arc::from(super::context::name(owner, &sync::current_thread_name()));
    let mut graph = lock_graph();
    let (to, to_slot) = graph.register(&target, Some(site));
    let holding = graph.node(held.id, held.slot).map(|idx| graph.info(idx))?;
    let acquiring = graph.node(to, to_slot).map(|idx| graph.info(idx))?;
    let same = held.id == to;
    let title = match (same, owner & super::context::THREAD != 0) {
        (true, false) => {
            "deadlock: acquiring a lock that a task suspended on this thread holds across an `.await`"
        }
        (true, true) => {
            "deadlock: a task acquiring a lock its thread holds (the thread runs the task while \
             holding it)"
        }
        (false, _) => "potential deadlock: a lock held across an `.await`",
    };
    if !policy::reports_repeats() && !graph.reported.insert(vec![held.id, to, u64::MAX]) {
        return None;
    }
    Some(Report {
        kind: ReportKind::HeldAcrossAwait,
        title: title.to_owned(),
        thread,
        acquiring: 1,
        access,
        location: site,
        edges: vec![EdgeInfo {
            from: 0,
            to: 1,
            thread: holder_name,
            from_acquired_at: held.site,
            to_acquired_at: site,
            trace: None,
            trace_shared: false,
            instances: (None, None),
            spans: None,
        }],
        previous: Some(HeldLock {
            lock: holding.clone(),
            access: held.access,
            acquired_at: held.site,
        }),
        locks: vec![holding, acquiring],
        held: graph.held_infos(&local.held.to_vec()),
        trace: sync::capture_backtrace().map(Trace::new),
        waits: Vec::new(),
        variable: None,
        accesses: Vec::new(),
        spans: capture_spans(),
    })
}

/// What a report says about the lock with this id and slot, if it lives.
pub(crate) fn lock_info(id: LockId, slot: u32) -> Option<LockInfo> {
    let graph = lock_graph();
    graph.node(id, slot).map(|idx| graph.info(idx))
}

/// Snapshot of the current thread's held locks with their names.
pub(crate) fn describe_held(held: &[Held]) -> Vec<HeldLock> {
    lock_graph().held_infos(held)
}

/// Counts of live lock nodes and lock-order edges.
pub(crate) fn stats() -> (usize, usize) {
    let graph = lock_graph();
    (
        graph.dag.graph().node_count(),
        graph.dag.graph().edge_count(),
    )
}

/// The graph in Graphviz DOT.
pub(crate) fn dot() -> String {
    let graph = lock_graph();
    let g = graph.dag.graph();
    let mut out =
        String::from("digraph lockgraph {\n    node [shape=box, fontname=\"monospace\"];\n");
    for idx in g.node_indices() {
        let node = &g[idx].data;
        let label = match &node.name {
            Some(name) => format!("{} \"{}\"\\n{}", node.kind, name, node.created),
            None => format!("{} #{}\\n{}", node.kind, node.id, node.created),
        };
        let _ = writeln!(out, "    n{} [label=\"{}\"];", node.id, dot_escape(&label));
    }
    for edge in g.edge_references() {
        let (a, b) = (&g[edge.source()].data, &g[edge.target()].data);
        let w = edge.weight();
        let label = format!("{} at {}", w.thread, w.to_site);
        let _ = writeln!(
            out,
            "    n{} -> n{} [label=\"{}\"];",
            a.id,
            b.id,
            dot_escape(&label)
        );
    }
    out.push_str("}\n");
    out
}

/// The class findings so far, in the order they were made, each with how
/// many new instance pairs repeated it.
pub(crate) fn class_findings() -> Vec<(Arc<Report>, u64)> {
    let graph = lock_graph();
    let classes = &graph.classes;
    classes
        .finding_order
        .iter()
        .filter_map(|key| classes.findings.get(key))
        .map(|finding| (finding.report.clone(), finding.count))
        .collect()
}

/// Counts of lock classes and class edges.
pub(crate) fn class_stats() -> (usize, usize) {
    lock_graph().classes.stats()
}

/// The class graph in Graphviz DOT: the edges that would close a found
/// cycle are drawn in red.
pub(crate) fn class_dot() -> String {
    let graph = lock_graph();
    let classes = &graph.classes;
    let g = classes.dag.graph();
    let mut out = String::from(
        "digraph lockgraph_classes {\n    node [shape=box, fontname=\"monospace\"];\n",
    );
    for idx in g.node_indices() {
        let class = &g[idx].data;
        let label = match &class.name {
            Some(name) => format!("class {name:?}\\n{}", class.created),
            None => format!(
                "{}\\n{}",
                crate::report::type_label(class.kind, class.data),
                class.created
            ),
        };
        let _ = writeln!(
            out,
            "    c{} [label=\"{}\"];",
            idx.index(),
            dot_escape(&label)
        );
    }
    for edge in g.edge_references() {
        let w = edge.weight();
        let label = format!("{} at {}", w.thread, w.to_site);
        let _ = writeln!(
            out,
            "    c{} -> c{} [label=\"{}\"];",
            edge.source().index(),
            edge.target().index(),
            dot_escape(&label)
        );
    }
    for key in &classes.finding_order {
        if let Some(finding) = classes.findings.get(key) {
            let (from, to) = finding.closing;
            let label = format!(
                "closes a cycle: {} at {} ({}x)",
                finding.report.thread_name(),
                finding.report.location(),
                finding.count
            );
            let _ = writeln!(
                out,
                "    c{} -> c{} [label=\"{}\", color=red, fontcolor=red];",
                from.index(),
                to.index(),
                dot_escape(&label)
            );
        }
    }
    out.push_str("}\n");
    out
}
