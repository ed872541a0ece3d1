//! Lock classes, as Linux lockdep keys locks: every lock belongs to a class
//! (by default its creation site together with the type it protects; or a
//! name given with `with_class`), and a second order graph over classes sits
//! beside the instance graph.
//!
//! A class edge is recorded when an instance edge is first recorded (the
//! graph's slow path; the hot path never comes here). The class graph is
//! never pruned: it is bounded by the number of classes, and it is what
//! remembers an order after the instances that took it are gone. A class
//! edge that would close a cycle is a finding the instance graph cannot
//! make: the orders were taken on different instances.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::sync::Arc;

use petgraph::stable_graph::NodeIndex;

use super::local::LockId;
use super::order::Dag;
use crate::facade::{AtomicU8, Ordering};
use crate::report::{LockKind, Report, Spans, Trace, in_std};

/// A class's node in the class graph. Never removed, so stable.
pub(crate) type ClassIdx = NodeIndex;

/// What every lock of a class shares.
pub(crate) struct ClassData {
    pub(crate) kind: LockKind,
    pub(crate) created: &'static Location<'static>,
    /// `type_name` of the protected data.
    pub(crate) data: &'static str,
    /// The name given with `with_class`, for an explicit class.
    pub(crate) name: Option<Arc<str>>,
}

/// One lock instance that took a class edge.
#[derive(Clone)]
pub(crate) struct Instance {
    pub(crate) id: LockId,
    pub(crate) name: Option<Arc<str>>,
}

/// The first instance edge seen between two classes.
pub(crate) struct ClassEdge {
    pub(crate) thread: Arc<str>,
    pub(crate) from_site: &'static Location<'static>,
    pub(crate) to_site: &'static Location<'static>,
    pub(crate) trace: Option<Trace>,
    pub(crate) trace_shared: bool,
    pub(crate) from: Instance,
    pub(crate) to: Instance,
    /// The tracing span stack when it was taken.
    pub(crate) spans: Spans,
}

/// A class cycle found, with how often new instances repeated it.
pub(crate) struct Finding {
    pub(crate) report: Arc<Report>,
    pub(crate) count: u64,
    /// The class edge that would have closed the cycle (not in the graph).
    pub(crate) closing: (ClassIdx, ClassIdx),
}

/// The class table and the class order graph. Lives inside the instance
/// graph's lock, so the slow path takes one lock for both.
pub(crate) struct Classes {
    pub(crate) dag: Dag<ClassData, ClassEdge>,
    /// (creation site, type name) by address: the common lookup, one hash
    /// of two words per lock registered.
    by_address: HashMap<(usize, usize), Site, BuildHasherDefault<WordHasher>>,
    /// The last class found by address: a loop creating locks at one site
    /// finds it without hashing.
    recent: ((usize, usize), ClassIdx),
    /// The same by value, so a site or type name duplicated by the compiler
    /// (in another codegen unit) still finds its class; the flag tells a
    /// first-locked site from a creation site.
    by_value: HashMap<(&'static str, u32, u32, &'static str, bool), ClassIdx>,
    by_name: HashMap<Arc<str>, ClassIdx>,
    /// Class cycles found, keyed by their sorted class indices.
    pub(crate) findings: HashMap<Vec<u32>, Finding>,
    /// Findings in the order they were made.
    pub(crate) finding_order: Vec<Vec<u32>>,
}

impl Classes {
    pub(crate) fn new() -> Self {
        Classes {
            dag: Dag::new(),
            by_address: HashMap::default(),
            recent: ((0, 0), ClassIdx::end()),
            by_value: HashMap::new(),
            by_name: HashMap::new(),
            findings: HashMap::new(),
            finding_order: Vec::new(),
        }
    }

    /// The default class of a lock created at `created` protecting `data`.
    /// A lock created inside the standard library (`map(Mutex::new)`, a
    /// derived `Default`) shares that site with every such lock of its type,
    /// so the user's site that first locked it (`first`) keys its class.
    pub(crate) fn of_lock(
        &mut self,
        kind: LockKind,
        created: &'static Location<'static>,
        first: Option<&'static Location<'static>>,
        data: &'static str,
    ) -> ClassIdx {
        let key = address_key(created, data, false);
        if self.recent.0 == key {
            return self.recent.1;
        }
        let site = match self.by_address.get(&key) {
            Some(&Site::Class(idx)) => {
                self.recent = (key, idx);
                return idx;
            }
            Some(&Site::InStd) => first.unwrap_or(created),
            None if in_std(created) => {
                self.by_address.insert(key, Site::InStd);
                first.unwrap_or(created)
            }
            None => {
                let idx = self.by_value(kind, created, data, false);
                self.by_address.insert(key, Site::Class(idx));
                self.recent = (key, idx);
                return idx;
            }
        };
        let key = address_key(site, data, true);
        if let Some(&Site::Class(idx)) = self.by_address.get(&key) {
            return idx;
        }
        let idx = self.by_value(kind, site, data, true);
        self.by_address.insert(key, Site::Class(idx));
        idx
    }

    fn by_value(
        &mut self,
        kind: LockKind,
        site: &'static Location<'static>,
        data: &'static str,
        first_locked: bool,
    ) -> ClassIdx {
        let value = (site.file(), site.line(), site.column(), data, first_locked);
        if let Some(&idx) = self.by_value.get(&value) {
            return idx;
        }
        let idx = self.dag.add_node(ClassData {
            kind,
            created: site,
            data,
            name: None,
        });
        self.by_value.insert(value, idx);
        idx
    }

    /// The explicit class called `name`; its first lock gives its kind, site
    /// and type for reports.
    pub(crate) fn named(
        &mut self,
        kind: LockKind,
        created: &'static Location<'static>,
        data: &'static str,
        name: &str,
    ) -> ClassIdx {
        if let Some(&idx) = self.by_name.get(name) {
            return idx;
        }
        let name: Arc<str> = Arc::from(name);
        let idx = self.dag.add_node(ClassData {
            kind,
            created,
            data,
            name: Some(name.clone()),
        });
        self.by_name.insert(name, idx);
        idx
    }

    pub(crate) fn class(&self, idx: ClassIdx) -> &ClassData {
        self.dag.node(idx).expect("class nodes are never removed")
    }

    /// Records `from -> to` (two classes not yet ordered: see
    /// `Graph::new_class_pair`; a lock nested in another of its class, a
    /// tree walked parent to child, accounts locked in id order, makes no
    /// class edge). Returns the cycle it would close, as class indices
    /// `[from, to, ...]`, leaving the edge out.
    pub(crate) fn add_edge(
        &mut self,
        from: ClassIdx,
        to: ClassIdx,
        edge: ClassEdge,
        timed: bool,
    ) -> Option<Vec<ClassIdx>> {
        if timed && !self.dag.is_valid_edge(from, to) {
            // A timed acquisition cannot hang: it orders nothing it would
            // invert.
            return None;
        }
        match self.dag.try_add_edge(from, to, edge) {
            Ok(_) => None,
            Err(_) => {
                let path = self.dag.path(to, from)?;
                let mut cycle = Vec::with_capacity(path.len());
                cycle.push(from);
                cycle.extend_from_slice(&path[..path.len() - 1]);
                Some(cycle)
            }
        }
    }

    /// Counts of classes and class edges.
    pub(crate) fn stats(&self) -> (usize, usize) {
        let g = self.dag.graph();
        (g.node_count(), g.edge_count())
    }
}

/// What a (site, type) address pair says about a lock's default class.
#[derive(Clone, Copy)]
enum Site {
    Class(ClassIdx),
    /// Created inside the standard library: keyed by the first-locked site.
    InStd,
}

/// A (site, type) pair by address; the low bit of a `Location`'s address
/// (always even) marks a first-locked site.
fn address_key(
    site: &'static Location<'static>,
    data: &'static str,
    first: bool,
) -> (usize, usize) {
    (
        site as *const Location<'static> as usize | usize::from(first),
        data.as_ptr() as usize ^ data.len().rotate_left(48),
    )
}

/// The key of a class cycle, whatever class it was entered at.
pub(crate) fn cycle_key(cycle: &[ClassIdx]) -> Vec<u32> {
    let mut key: Vec<u32> = cycle.iter().map(|idx| idx.index() as u32).collect();
    key.sort_unstable();
    key
}

/// A multiplicative hasher for internal tables keyed by words (addresses,
/// ids that count up): no flooding defence is needed, and SipHash would
/// cost more than the rest of a lookup.
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
}

// How class findings are raised, in `MODE`.
pub(crate) const UNSET: u8 = 0;
pub(crate) const WARN: u8 = 1;
pub(crate) const PANIC: u8 = 2;
pub(crate) const OFF: u8 = 3;

crate::facade::global! {
    static MODE: AtomicU8 = const AtomicU8::new(UNSET);
}

/// The class mode: `WARN`, `PANIC` or `OFF`, from `LOCKGRAPH_CLASSES` until
/// set in code.
#[inline]
pub(crate) fn mode() -> u8 {
    match MODE.load(Ordering::Relaxed) {
        UNSET => init_from_env(),
        mode => mode,
    }
}

/// Whether locks get classes and class edges are recorded.
#[inline]
pub(crate) fn enabled() -> bool {
    mode() != OFF
}

/// Sets the mode, returning the previous one.
pub(crate) fn set_mode(mode: u8) -> u8 {
    let old = self::mode();
    MODE.store(mode, Ordering::Relaxed);
    old
}

pub(crate) fn parse_env(value: &str) -> Option<u8> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "warn" | "on" => Some(WARN),
        "panic" => Some(PANIC),
        "off" | "0" | "none" => Some(OFF),
        _ => None,
    }
}

#[cold]
#[inline(never)]
fn init_from_env() -> u8 {
    let mode = super::policy::env_choice(
        "LOCKGRAPH_CLASSES",
        parse_env,
        "warn, panic or off",
        (WARN, "warn"),
    );
    match MODE.compare_exchange(UNSET, mode, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => mode,
        Err(set_meanwhile) => set_meanwhile,
    }
}

/// Raises a class finding under `warn`: once per class cycle, straight to
/// the process's stderr (libtest captures only the print macros, so this
/// shows in a passing `cargo test`), and as a `tracing` warn event.
pub(crate) fn warn(report: &Report) {
    use std::io::Write as _;
    let text = format!(
        "{report}\n(lockgraph: a lock-class finding, printed once; LOCKGRAPH_CLASSES=panic raises \
         it through the policy, =off stops recording classes)\n\n"
    );
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    tracing::warn!(
        target: "lockgraph",
        kind = ?report.kind(),
        thread = report.thread_name(),
        location = %report.location(),
        "{report}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values() {
        assert_eq!(parse_env("warn"), Some(WARN));
        assert_eq!(parse_env(" PANIC "), Some(PANIC));
        assert_eq!(parse_env("off"), Some(OFF));
        assert_eq!(parse_env("loud"), None);
    }

    #[test]
    fn word_hasher_spreads_neighbours() {
        let hash = |a: usize, b: usize| {
            let mut h = WordHasher::default();
            h.write_usize(a);
            h.write_usize(b);
            h.finish()
        };
        assert_ne!(hash(0x1000, 0x2000), hash(0x1008, 0x2000));
        assert_ne!(hash(0x1000, 0x2000), hash(0x2000, 0x1000));
    }
}
