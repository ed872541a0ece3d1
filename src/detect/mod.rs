//! The deadlock detector, apart from the lock types: a thread-local stack of
//! held locks (`local`), the global lock-order graph (`graph`), and what to do
//! with a finding (`policy`).
//!
//! Lock types talk to it through [`Meta`], a small per-lock record (its id
//! and creation site). With detection compiled out (`debug_assertions` off
//! and no `always` feature), `Meta` is a zero-sized type whose methods do
//! nothing, so every lock is its engine lock and nothing more.

pub(crate) mod graph;
pub(crate) mod local;
pub(crate) mod policy;

use std::panic::Location;

use crate::report::{Access, HeldLock};

/// Whether this build records lock order: `debug_assertions` or the `always`
/// feature.
pub const ENABLED: bool = cfg!(any(debug_assertions, feature = "always"));

/// What acquiring a lock this thread already holds means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Relock {
    /// Cannot block (reentrant lock, recursive read): no edges, no report.
    Reenter,
    /// May block forever (a second plain read).
    MayDeadlock,
    /// Blocks forever.
    Deadlock,
}

fn relock(held: Access, wanted: Access) -> Relock {
    use Access::*;
    match (held, wanted) {
        (Reentrant, Reentrant) => Relock::Reenter,
        (Shared | SharedRecursive | Upgradable, SharedRecursive) => Relock::Reenter,
        (Shared | SharedRecursive, Shared | Upgradable) => Relock::MayDeadlock,
        (Upgradable, Shared) => Relock::MayDeadlock,
        _ => Relock::Deadlock,
    }
}

#[cfg(any(debug_assertions, feature = "always"))]
pub(crate) use on::Meta;

#[cfg(not(any(debug_assertions, feature = "always")))]
pub(crate) use off::Meta;

#[cfg(any(debug_assertions, feature = "always"))]
mod on {
    use std::borrow::Cow;
    use std::panic::Location;

    use super::local::{self, Held, Local, LockId};
    use super::{Relock, graph, policy, relock};
    use crate::report::{Access, LockKind, Report, ReportKind};
    use crate::sync::{self, AtomicU64, Ordering};

    /// The detector's per-lock record: a never-reused id (assigned on first
    /// acquisition, so `new` can stay `const`) and the creation site.
    pub(crate) struct Meta {
        id: AtomicU64,
        created: &'static Location<'static>,
    }

    impl Meta {
        sync::maybe_const_fn! {
            #[track_caller]
            #[inline]
            pub(crate) fn new() -> Meta {
                Meta { id: AtomicU64::new(0), created: Location::caller() }
            }
        }

        /// A lock with a name for reports; registered at once.
        #[track_caller]
        pub(crate) fn named(kind: LockKind, name: Cow<'static, str>) -> Meta {
            let meta = Meta::new();
            if policy::active() && !local::busy() {
                graph::register(&meta.id, kind, Some(name), meta.created, None);
            }
            meta
        }

        /// This lock's id, registering it on first use.
        #[inline]
        fn id(&self, kind: LockKind, site: &'static Location<'static>) -> LockId {
            let id = self.id.load(Ordering::Acquire);
            if id != 0 {
                return id;
            }
            graph::register(&self.id, kind, None, self.created, Some(site))
        }

        /// Before a blocking acquisition: reports a relock or a cycle this
        /// acquisition would close (before blocking, so a real deadlock
        /// becomes a report), adds the new edges, and pushes the lock on the
        /// held stack.
        #[inline]
        #[track_caller]
        pub(crate) fn acquire(&self, kind: LockKind, access: Access) {
            if !policy::active() {
                return;
            }
            let site = Location::caller();
            let found = local::with(|local| self.check_and_push(local, kind, access, site));
            if let Some(Some(report)) = found {
                self.report_then_push(report, access, site);
            }
        }

        #[inline]
        fn check_and_push(
            &self,
            local: &mut Local,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) -> Option<Box<Report>> {
            let id = self.id(kind, site);
            let mut missing = false;
            let mut i = 0;
            let n = local.held.len();
            while i < n {
                let held = local.held[i];
                if held.id == id {
                    let verdict = relock(held.access, access);
                    if verdict == Relock::Reenter {
                        local.push(Held { id, access, site });
                        return None;
                    }
                    let kind = match verdict {
                        Relock::MayDeadlock => ReportKind::RecursiveRead,
                        _ => ReportKind::SelfDeadlock,
                    };
                    let report = graph::relock_report(local, id, held, access, kind, site);
                    if report.is_none() {
                        // Already reported once under a non-panicking policy.
                        local.push(Held { id, access, site });
                    }
                    return report.map(Box::new);
                } else if !local.known.contains(held.id, id) {
                    missing = true;
                }
                i += 1;
            }
            if missing {
                let found = graph::add_edges(local, id, access, site, false);
                if found.is_some() {
                    return found;
                }
            }
            local.push(Held { id, access, site });
            None
        }

        #[cold]
        #[inline(never)]
        #[track_caller]
        fn report_then_push(
            &self,
            report: Box<Report>,
            access: Access,
            site: &'static Location<'static>,
        ) {
            let id = report.acquiring().id();
            policy::dispatch(report);
            // The policy let the acquisition go on: it is held from now on.
            local::with(|local| local.push(Held { id, access, site }));
        }

        /// Before a timed acquisition: adds its edges (it may block) but never
        /// reports, because a timeout ends the wait by itself.
        #[inline]
        #[track_caller]
        pub(crate) fn before_timed(&self, kind: LockKind, access: Access) {
            if !policy::active() {
                return;
            }
            let site = Location::caller();
            local::with(|local| {
                let id = self.id(kind, site);
                let mut i = 0;
                while i < local.held.len() {
                    let held = local.held[i];
                    if held.id != id && !local.known.contains(held.id, id) {
                        graph::add_edges(local, id, access, site, true);
                        return;
                    }
                    i += 1;
                }
            });
        }

        /// After a successful non-blocking (or timed) acquisition: the lock is
        /// held, but no edge leads to it.
        #[inline]
        #[track_caller]
        pub(crate) fn acquired(&self, kind: LockKind, access: Access) {
            if !policy::active() {
                return;
            }
            let site = Location::caller();
            local::with(|local| {
                let id = self.id(kind, site);
                local.push(Held { id, access, site });
            });
        }

        /// The guard is gone: pop this lock from the held stack.
        #[inline]
        pub(crate) fn release(&self) {
            let id = self.id.load(Ordering::Relaxed);
            if id == 0 {
                return;
            }
            local::with(|local| local.remove(id));
        }

        /// The held entry changes mode (upgrade, downgrade) without blocking
        /// on anything this thread holds.
        pub(crate) fn change_access(&self, access: Access) {
            let id = self.id.load(Ordering::Relaxed);
            if id == 0 {
                return;
            }
            local::with(|local| {
                if let Some(i) = local.find(id) {
                    local.held[i].access = access;
                }
            });
        }

        /// Whether the current thread holds this lock. `None` when unknown
        /// (detection off, or the detector is busy on this thread).
        pub(crate) fn held_by_current_thread(&self) -> Option<bool> {
            if !policy::active() {
                return None;
            }
            let id = self.id.load(Ordering::Relaxed);
            if id == 0 {
                return Some(false);
            }
            local::with(|local| local.find(id).is_some())
        }
    }

    impl Drop for Meta {
        fn drop(&mut self) {
            let id = self.id.load(Ordering::Relaxed);
            // Inside the detector on this thread (a lock dropped by an
            // allocator or handler we called into), removal would deadlock on
            // the graph: the node stays, harmlessly, since its id is never
            // used again.
            if id != 0 && !local::busy() {
                graph::unregister(id);
            }
        }
    }
}

#[cfg(not(any(debug_assertions, feature = "always")))]
mod off {
    use std::borrow::Cow;

    use crate::report::{Access, LockKind};

    /// Detection is compiled out: nothing to record.
    pub(crate) struct Meta;

    impl Meta {
        #[inline(always)]
        pub(crate) const fn new() -> Meta {
            Meta
        }
        #[inline(always)]
        pub(crate) fn named(_kind: LockKind, _name: Cow<'static, str>) -> Meta {
            Meta
        }
        #[inline(always)]
        pub(crate) fn acquire(&self, _kind: LockKind, _access: Access) {}
        #[inline(always)]
        pub(crate) fn before_timed(&self, _kind: LockKind, _access: Access) {}
        #[inline(always)]
        pub(crate) fn acquired(&self, _kind: LockKind, _access: Access) {}
        #[inline(always)]
        pub(crate) fn release(&self) {}
        #[inline(always)]
        pub(crate) fn change_access(&self, _access: Access) {}
        #[inline(always)]
        pub(crate) fn held_by_current_thread(&self) -> Option<bool> {
            None
        }
    }
}

/// The locks the current thread holds, outermost first.
///
/// Empty when detection is off.
///
/// ```
/// let a = lockgraph::Mutex::named("a", 1);
/// let _guard = a.lock().unwrap();
/// let held = lockgraph::held_locks();
/// # if lockgraph::ENABLED {
/// assert_eq!(held.len(), 1);
/// assert_eq!(held[0].lock().name(), Some("a"));
/// # }
/// ```
pub fn held_locks() -> Vec<HeldLock> {
    if !ENABLED || !policy::active() {
        return Vec::new();
    }
    let held = local::with(|local| local.held.clone()).unwrap_or_default();
    graph::describe_held(&held)
}

/// The whole lock-order graph as Graphviz DOT: one node per live lock
/// (labelled with its type, name and creation site), one edge per order
/// seen (labelled with the thread and site that first took it).
///
/// ```
/// let dot = lockgraph::graph_dot();
/// assert!(dot.starts_with("digraph lockgraph {"));
/// ```
pub fn graph_dot() -> String {
    graph::dot()
}

/// Size of the lock-order graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphStats {
    /// Live locks that have been acquired at least once (or were named).
    pub locks: usize,
    /// Distinct lock-order edges between live locks.
    pub edges: usize,
}

/// How many locks and lock-order edges the graph holds right now. A dropped
/// lock's node and edges are removed, so these return to their baseline when
/// short-lived locks go away.
///
/// ```
/// let before = lockgraph::graph_stats();
/// {
///     let outer = lockgraph::Mutex::new(());
///     let inner = lockgraph::Mutex::new(());
///     let _a = outer.lock().unwrap();
///     let _b = inner.lock().unwrap();
/// }
/// assert_eq!(lockgraph::graph_stats().locks, before.locks);
/// ```
pub fn graph_stats() -> GraphStats {
    let (locks, edges) = graph::stats();
    GraphStats { locks, edges }
}

/// Panics unless the current thread holds the lock whose detector record is
/// `meta`. Does nothing when detection is off.
#[track_caller]
pub(crate) fn assert_held(meta: &Meta, what: &str, expected: bool) {
    if let Some(held) = meta.held_by_current_thread() {
        if held != expected {
            let site = Location::caller();
            if expected {
                panic!(
                    "assertion failed: {what} is not held by the current thread (checked at {site})"
                );
            } else {
                panic!(
                    "assertion failed: {what} is held by the current thread (checked at {site})"
                );
            }
        }
    }
}
