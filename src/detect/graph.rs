//! The global lock-order graph: one node per live lock instance, one edge
//! `A -> B` for "B was acquired while A was held", kept acyclic by petgraph's
//! `Acyclic` wrapper (the Pearce-Kelly dynamic topological order), so an edge
//! that agrees with the current order is added without any search, and only
//! an edge against it searches the region between its two endpoints.
//!
//! Only new edges, lock registration and lock removal come here; the hot path
//! stays in `local.rs`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::Arc;

use petgraph::Direction;
use petgraph::acyclic::{Acyclic, AcyclicEdgeError};
use petgraph::data::{Build, DataMapMut};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};

use super::local::{Held, Local, LockId};
use super::policy;
use crate::report::{Access, EdgeInfo, HeldLock, LockInfo, LockKind, Report, ReportKind, Trace};
use crate::sync::{self, AtomicU64, Ordering};

struct NodeData {
    id: LockId,
    kind: LockKind,
    name: Option<Arc<str>>,
    created: &'static Location<'static>,
    first_locked: Option<&'static Location<'static>>,
}

struct EdgeData {
    thread: Arc<str>,
    from_site: &'static Location<'static>,
    to_site: &'static Location<'static>,
    trace: Option<Trace>,
    trace_shared: bool,
}

/// Backtraces captured for edges taken at one pair of acquisition sites.
struct SiteTraces {
    captured: u32,
    last: Option<Trace>,
}

/// A loop that creates a fresh lock per iteration and nests it under another
/// adds a new edge each time at the same two sites. After this many captures
/// at a site pair, new edges there share the last backtrace (and say so in
/// the report) instead of unwinding the stack again.
const TRACES_PER_SITE_PAIR: u32 = 32;

type Dag = Acyclic<StableDiGraph<NodeData, EdgeData>>;

pub(crate) struct Graph {
    dag: Dag,
    index: HashMap<LockId, NodeIndex>,
    next_id: LockId,
    /// Cycles already reported under the log and callback policies.
    reported: HashSet<Vec<u64>>,
    traces: HashMap<(usize, usize), SiteTraces>,
}

sync::global! {
    static GRAPH: sync::Mutex<Graph> = lazy sync::Mutex::new(Graph::new());
}

fn site_key(site: &'static Location<'static>) -> usize {
    site as *const Location<'static> as usize
}

impl Graph {
    fn new() -> Self {
        Graph {
            dag: Acyclic::new(),
            index: HashMap::new(),
            next_id: 1,
            reported: HashSet::new(),
            traces: HashMap::new(),
        }
    }

    fn info(&self, idx: NodeIndex) -> LockInfo {
        let node = &self.dag[idx];
        LockInfo {
            id: node.id,
            kind: node.kind,
            name: node.name.clone(),
            created_at: node.created,
            first_locked_at: node.first_locked,
        }
    }

    fn info_by_id(&self, id: LockId) -> Option<LockInfo> {
        self.index.get(&id).map(|&idx| self.info(idx))
    }

    fn held_infos(&self, held: &[Held]) -> Vec<HeldLock> {
        let mut out = Vec::with_capacity(held.len());
        for h in held {
            if let Some(lock) = self.info_by_id(h.id) {
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
        let entry = self
            .traces
            .entry((site_key(from_site), site_key(to_site)))
            .or_insert(SiteTraces {
                captured: 0,
                last: None,
            });
        if entry.captured < TRACES_PER_SITE_PAIR {
            entry.captured += 1;
            entry.last = sync::capture_backtrace().map(Trace::new);
            (entry.last.clone(), false)
        } else {
            (entry.last.clone(), true)
        }
    }

    fn mark_first_locked(&mut self, idx: NodeIndex, site: &'static Location<'static>) {
        if let Some(node) = self.dag.node_weight_mut(idx) {
            if node.first_locked.is_none() {
                node.first_locked = Some(site);
            }
        }
    }

    /// Nodes on a shortest path `from -> ... -> to`, both included. Any such
    /// path only visits nodes whose topological position lies between the
    /// two endpoints, which bounds the search.
    fn path(&self, from: NodeIndex, to: NodeIndex) -> Option<Vec<NodeIndex>> {
        let low = self.dag.get_position(from);
        let high = self.dag.get_position(to);
        let mut previous: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(node) = queue.pop_front() {
            if node == to {
                let mut path = vec![to];
                let mut cur = to;
                while cur != from {
                    cur = previous[&cur];
                    path.push(cur);
                }
                path.reverse();
                return Some(path);
            }
            for next in self
                .dag
                .inner()
                .neighbors_directed(node, Direction::Outgoing)
            {
                let pos = self.dag.get_position(next);
                if pos < low || pos > high || next == from || previous.contains_key(&next) {
                    continue;
                }
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
        None
    }

    fn edge_info(
        &self,
        from: NodeIndex,
        to: NodeIndex,
        from_pos: usize,
        to_pos: usize,
    ) -> EdgeInfo {
        let edge = self
            .dag
            .inner()
            .find_edge(from, to)
            .expect("cycle edge is in the graph");
        let data = &self.dag.inner()[edge];
        EdgeInfo {
            from: from_pos,
            to: to_pos,
            thread: data.thread.clone(),
            from_acquired_at: data.from_site,
            to_acquired_at: data.to_site,
            trace: data.trace.clone(),
            trace_shared: data.trace_shared,
        }
    }
}

/// Assigns `meta_id` a fresh id and a node on the lock's first acquisition
/// (or at construction for named locks).
#[cold]
#[inline(never)]
pub(crate) fn register(
    meta_id: &AtomicU64,
    kind: LockKind,
    name: Option<Cow<'static, str>>,
    created: &'static Location<'static>,
    first_locked: Option<&'static Location<'static>>,
) -> LockId {
    let mut graph = GRAPH.lock();
    let existing = meta_id.load(Ordering::Acquire);
    if existing != 0 {
        return existing;
    }
    let id = graph.next_id;
    graph.next_id += 1;
    let name = name.map(|n| Arc::<str>::from(n.as_ref()));
    let idx = graph.dag.add_node(NodeData {
        id,
        kind,
        name,
        created,
        first_locked,
    });
    graph.index.insert(id, idx);
    meta_id.store(id, Ordering::Release);
    id
}

/// Removes a dropped lock's node and its edges.
#[cold]
#[inline(never)]
pub(crate) fn unregister(id: LockId) {
    let mut graph = GRAPH.lock();
    if let Some(idx) = graph.index.remove(&id) {
        graph.dag.remove_node(idx);
        if !graph.reported.is_empty() {
            graph.reported.retain(|key| !key.contains(&id));
        }
    }
}

/// Adds the edges `held -> to` that this thread's cache does not know. A
/// blocking acquisition reports the first edge that would close a cycle; a
/// timed one (which cannot hang forever) never reports. A cycle-closing edge
/// is never added, so the graph stays acyclic and the same inversion is
/// found again next time.
#[cold]
#[inline(never)]
pub(crate) fn add_edges(
    local: &mut Local,
    to: LockId,
    access: Access,
    site: &'static Location<'static>,
    timed: bool,
) -> Option<Box<Report>> {
    let thread = local.thread_name();
    let mut graph = GRAPH.lock();
    let graph = &mut *graph;
    let &to_idx = graph.index.get(&to)?;
    let mut finding = None;
    let mut i = 0;
    while i < local.held.len() {
        let held = local.held[i];
        i += 1;
        if held.id == to || local.known.contains(held.id, to) {
            continue;
        }
        // A lock dropped while its guard was forgotten: it can never be
        // acquired again, so no cycle can pass through it.
        let Some(&from_idx) = graph.index.get(&held.id) else {
            continue;
        };
        if graph.dag.inner().find_edge(from_idx, to_idx).is_some() {
            local.known.insert(held.id, to);
            continue;
        }
        if timed && !graph.dag.is_valid_edge(from_idx, to_idx) {
            continue;
        }
        let (trace, trace_shared) = graph.trace_for_new_edge(held.site, site);
        let data = EdgeData {
            thread: thread.clone(),
            from_site: held.site,
            to_site: site,
            trace: trace.clone(),
            trace_shared,
        };
        match graph.dag.try_add_edge(from_idx, to_idx, data) {
            Ok(_) => {
                local.known.insert(held.id, to);
                graph.mark_first_locked(from_idx, held.site);
                graph.mark_first_locked(to_idx, site);
            }
            Err(AcyclicEdgeError::Cycle(_)) if finding.is_none() => {
                finding = inversion_report(graph, local, &thread, held, to_idx, access, site)
                    .map(Box::new);
            }
            Err(_) => {}
        }
    }
    finding
}

fn inversion_report(
    graph: &mut Graph,
    local: &Local,
    thread: &Arc<str>,
    held: Held,
    to_idx: NodeIndex,
    access: Access,
    site: &'static Location<'static>,
) -> Option<Report> {
    let from_idx = graph.index[&held.id];
    let path = graph.path(to_idx, from_idx)?;
    // locks: [held, acquiring, intermediate...]; edge j goes j -> j+1.
    let mut cycle = Vec::with_capacity(path.len());
    cycle.push(from_idx);
    cycle.extend_from_slice(&path[..path.len() - 1]);
    let n = cycle.len();
    let locks: Vec<LockInfo> = cycle.iter().map(|&idx| graph.info(idx)).collect();

    let mut report = Report {
        kind: ReportKind::LockOrderInversion,
        title: "potential deadlock: lock order inversion".to_owned(),
        thread: thread.clone(),
        acquiring: 1,
        access,
        location: site,
        locks,
        edges: Vec::with_capacity(n),
        held: graph.held_infos(&local.held),
        previous: None,
        trace: None,
    };
    if !policy::reports_repeats() && !graph.reported.insert(report.dedup_key()) {
        return None;
    }
    let trace = sync::capture_backtrace().map(Trace::new);
    report.edges.push(EdgeInfo {
        from: 0,
        to: 1,
        thread: thread.clone(),
        from_acquired_at: held.site,
        to_acquired_at: site,
        trace: trace.clone(),
        trace_shared: false,
    });
    for j in 1..n {
        report
            .edges
            .push(graph.edge_info(cycle[j], cycle[(j + 1) % n], j, (j + 1) % n));
    }
    report.trace = trace;
    Some(report)
}

/// A report for acquiring a lock this thread already holds.
#[cold]
#[inline(never)]
pub(crate) fn relock_report(
    local: &mut Local,
    id: LockId,
    previous: Held,
    access: Access,
    kind: ReportKind,
    site: &'static Location<'static>,
) -> Option<Report> {
    let thread = local.thread_name();
    let mut graph = GRAPH.lock();
    let lock = graph.info_by_id(id)?;
    let title = match kind {
        ReportKind::RecursiveRead => {
            format!(
                "potential deadlock: recursive read of {} {} this thread already holds",
                article(lock.kind),
                lock.kind
            )
        }
        _ => {
            let verb = match access {
                Access::Shared | Access::SharedRecursive => "read-locking",
                Access::Upgradable => "upgradable-read-locking",
                _ if matches!(lock.kind, LockKind::RwLock | LockKind::ParkingLotRwLock) => {
                    "write-locking"
                }
                _ => "relocking",
            };
            format!(
                "deadlock: {verb} {} {} already held by this thread",
                article(lock.kind),
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
        held: graph.held_infos(&local.held),
        trace: sync::capture_backtrace().map(Trace::new),
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

fn article(kind: LockKind) -> &'static str {
    if kind == LockKind::RwLock { "an" } else { "a" }
}

/// Snapshot of the current thread's held locks with their names.
pub(crate) fn describe_held(held: &[Held]) -> Vec<HeldLock> {
    GRAPH.lock().held_infos(held)
}

/// Counts of live lock nodes and lock-order edges.
pub(crate) fn stats() -> (usize, usize) {
    let graph = GRAPH.lock();
    (
        graph.dag.inner().node_count(),
        graph.dag.inner().edge_count(),
    )
}

/// The graph in Graphviz DOT.
pub(crate) fn dot() -> String {
    let graph = GRAPH.lock();
    let g = graph.dag.inner();
    let mut out =
        String::from("digraph lockgraph {\n    node [shape=box, fontname=\"monospace\"];\n");
    for idx in g.node_indices() {
        let node = &g[idx];
        let label = match &node.name {
            Some(name) => format!("{} \"{}\"\\n{}", node.kind, name, node.created),
            None => format!("{} #{}\\n{}", node.kind, node.id, node.created),
        };
        let _ = writeln!(out, "    n{} [label=\"{}\"];", node.id, escape(&label));
    }
    for edge in g.edge_references() {
        let (a, b) = (&g[edge.source()], &g[edge.target()]);
        let w = edge.weight();
        let label = format!("{} at {}", w.thread, w.to_site);
        let _ = writeln!(
            out,
            "    n{} -> n{} [label=\"{}\"];",
            a.id,
            b.id,
            escape(&label)
        );
    }
    out.push_str("}\n");
    out
}

/// Escapes `"` for a DOT label; the `\n` sequences we wrote stay line breaks.
fn escape(label: &str) -> String {
    label.replace('"', "\\\"")
}
