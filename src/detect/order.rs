//! A directed acyclic graph kept in a topological order as it grows: the
//! Pearce–Kelly dynamic topological sort over petgraph's `StableGraph`.
//!
//! Every node carries a position; every edge goes from a lower position to
//! a higher one. A new node takes the next free position, so an edge from an
//! existing lock to a new one needs no search at all (the common case of a
//! short-lived lock nested under a long-lived one). An edge against the
//! order searches only the nodes between its two endpoints' positions, then
//! swaps positions among the nodes it found; reaching the source means the
//! edge would close a cycle.
//!
//! petgraph's own `Acyclic` does the same, but keeps a `BTreeMap` from
//! position to node, whose inserts and removals on every lock created and
//! dropped dominated that workload in debug builds. Positions here live in
//! the node weights, so adding and removing a node touch no other structure.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};

use petgraph::Direction;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};

/// A node's data with its place in the order.
pub(crate) struct Slot<N> {
    pub(crate) data: N,
    pos: u64,
    /// Visited stamp for searches (compared with `Dag::epoch`).
    mark: Cell<u32>,
}

pub(crate) struct Dag<N, E> {
    graph: StableDiGraph<Slot<N>, E>,
    next_pos: u64,
    epoch: Cell<u32>,
}

impl<N, E> Dag<N, E> {
    pub(crate) fn new() -> Self {
        Dag {
            graph: StableDiGraph::new(),
            next_pos: 0,
            epoch: Cell::new(0),
        }
    }

    /// The underlying petgraph graph (for traversal and export).
    pub(crate) fn graph(&self) -> &StableDiGraph<Slot<N>, E> {
        &self.graph
    }

    /// Adds a node after every existing one in the order.
    pub(crate) fn add_node(&mut self, data: N) -> NodeIndex {
        let pos = self.next_pos;
        self.next_pos += 1;
        self.graph.add_node(Slot {
            data,
            pos,
            mark: Cell::new(0),
        })
    }

    /// Removes a node and its edges; the order of the rest is unaffected.
    pub(crate) fn remove_node(&mut self, idx: NodeIndex) -> Option<N> {
        self.graph.remove_node(idx).map(|slot| slot.data)
    }

    pub(crate) fn node(&self, idx: NodeIndex) -> Option<&N> {
        self.graph.node_weight(idx).map(|slot| &slot.data)
    }

    pub(crate) fn node_mut(&mut self, idx: NodeIndex) -> Option<&mut N> {
        self.graph.node_weight_mut(idx).map(|slot| &mut slot.data)
    }

    pub(crate) fn edge(&self, from: NodeIndex, to: NodeIndex) -> Option<&E> {
        self.graph.find_edge(from, to).map(|e| &self.graph[e])
    }

    pub(crate) fn edge_mut(&mut self, from: NodeIndex, to: NodeIndex) -> Option<&mut E> {
        let edge = self.graph.find_edge(from, to)?;
        self.graph.edge_weight_mut(edge)
    }

    fn pos(&self, idx: NodeIndex) -> u64 {
        self.graph[idx].pos
    }

    /// Starts a new search: every node's stamp is now stale.
    fn next_epoch(&self) -> u32 {
        let epoch = self.epoch.get().wrapping_add(1);
        if epoch == 0 {
            // After 2^32 searches, clear stale stamps so none looks fresh.
            for slot in self.graph.node_weights() {
                slot.mark.set(0);
            }
            self.epoch.set(1);
            return 1;
        }
        self.epoch.set(epoch);
        epoch
    }

    /// Nodes reachable from `start` through nodes positioned before
    /// `bound`, or `None` if `stop` is reachable that way.
    fn forward(
        &self,
        start: NodeIndex,
        bound: u64,
        stop: NodeIndex,
        epoch: u32,
    ) -> Option<Vec<NodeIndex>> {
        let mut found = Vec::new();
        let mut stack = vec![start];
        self.graph[start].mark.set(epoch);
        while let Some(node) = stack.pop() {
            found.push(node);
            for next in self.graph.neighbors_directed(node, Direction::Outgoing) {
                if next == stop {
                    return None;
                }
                let slot = &self.graph[next];
                if slot.pos < bound && slot.mark.get() != epoch {
                    slot.mark.set(epoch);
                    stack.push(next);
                }
            }
        }
        Some(found)
    }

    /// Nodes that reach `start` through nodes positioned after `bound`.
    fn backward(&self, start: NodeIndex, bound: u64, epoch: u32) -> Vec<NodeIndex> {
        let mut found = Vec::new();
        let mut stack = vec![start];
        self.graph[start].mark.set(epoch);
        while let Some(node) = stack.pop() {
            found.push(node);
            for prev in self.graph.neighbors_directed(node, Direction::Incoming) {
                let slot = &self.graph[prev];
                if slot.pos > bound && slot.mark.get() != epoch {
                    slot.mark.set(epoch);
                    stack.push(prev);
                }
            }
        }
        found
    }

    /// Whether adding `from -> to` keeps the graph acyclic.
    pub(crate) fn is_valid_edge(&self, from: NodeIndex, to: NodeIndex) -> bool {
        from != to
            && (self.pos(from) < self.pos(to)
                || self
                    .forward(to, self.pos(from), from, self.next_epoch())
                    .is_some())
    }

    /// Adds `from -> to`, reordering nodes if the edge goes against the
    /// current order; gives the weight back if the edge would close a cycle.
    pub(crate) fn try_add_edge(
        &mut self,
        from: NodeIndex,
        to: NodeIndex,
        weight: E,
    ) -> Result<(), E> {
        if from == to {
            return Err(weight);
        }
        let (low, high) = (self.pos(to), self.pos(from));
        if high > low {
            let epoch = self.next_epoch();
            let Some(mut ahead) = self.forward(to, high, from, epoch) else {
                return Err(weight);
            };
            let mut behind = self.backward(from, low, epoch);
            // `behind` (which must precede `from`) moves before `ahead`
            // (which must follow `to`), each keeping its internal order, in
            // the positions the two sets held between them.
            behind.sort_unstable_by_key(|&n| self.pos(n));
            ahead.sort_unstable_by_key(|&n| self.pos(n));
            let mut positions: Vec<u64> =
                behind.iter().chain(&ahead).map(|&n| self.pos(n)).collect();
            positions.sort_unstable();
            for (node, pos) in behind.into_iter().chain(ahead).zip(positions) {
                self.graph[node].pos = pos;
            }
        }
        self.graph.add_edge(from, to, weight);
        Ok(())
    }

    /// The nodes of a shortest path `from -> ... -> to`, both included. Any
    /// such path only visits nodes positioned between the two endpoints.
    pub(crate) fn path(&self, from: NodeIndex, to: NodeIndex) -> Option<Vec<NodeIndex>> {
        let (low, high) = (self.pos(from), self.pos(to));
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
            for next in self.graph.neighbors_directed(node, Direction::Outgoing) {
                let pos = self.pos(next);
                if pos < low || pos > high || next == from || previous.contains_key(&next) {
                    continue;
                }
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every edge goes from a lower position to a higher one.
    fn assert_ordered(dag: &Dag<u32, ()>) {
        for e in dag.graph.edge_indices() {
            let (a, b) = dag.graph.edge_endpoints(e).unwrap();
            assert!(
                dag.pos(a) < dag.pos(b),
                "edge {a:?} -> {b:?} against the order"
            );
        }
    }

    #[test]
    fn edges_against_the_order_reorder_and_cycles_are_refused() {
        let mut dag = Dag::new();
        let n: Vec<_> = (0..6).map(|i| dag.add_node(i)).collect();
        // 5 -> 4 -> 3 -> 2 -> 1 -> 0: each edge goes against creation order.
        for i in (1..6).rev() {
            assert!(dag.try_add_edge(n[i], n[i - 1], ()).is_ok());
            assert_ordered(&dag);
        }
        assert!(
            dag.try_add_edge(n[0], n[5], ()).is_err(),
            "0 -> 5 closes the chain"
        );
        assert!(dag.try_add_edge(n[2], n[4], ()).is_err());
        assert!(!dag.is_valid_edge(n[1], n[3]));
        assert!(dag.is_valid_edge(n[4], n[0]));
        assert_eq!(dag.path(n[5], n[2]), Some(vec![n[5], n[4], n[3], n[2]]));
        dag.remove_node(n[3]);
        assert!(
            dag.try_add_edge(n[2], n[4], ()).is_ok(),
            "the chain is broken at 3"
        );
        assert_ordered(&dag);
        assert_eq!(dag.path(n[5], n[2]), None);
    }

    #[test]
    fn random_edges_keep_the_order_and_refuse_exactly_the_cycles() {
        let mut dag = Dag::new();
        let n: Vec<_> = (0..40).map(|i| dag.add_node(i)).collect();
        let mut rng = 0x1234_5678_u64;
        for _ in 0..600 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let (a, b) = ((rng % 40) as usize, ((rng >> 20) % 40) as usize);
            if a == b || dag.edge(n[a], n[b]).is_some() {
                continue;
            }
            let cycle = dag.path(n[b], n[a]).is_some();
            assert_eq!(dag.try_add_edge(n[a], n[b], ()).is_err(), cycle);
            assert_ordered(&dag);
        }
    }
}
