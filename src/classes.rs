//! Lock classes: inversions that span different instances, found as Linux
//! lockdep finds them.
//!
//! The lock-order graph has one node per lock *instance*, and a dropped lock
//! takes its edges with it. So a test that builds a pool and a connection,
//! takes pool → conn and drops both, and a later test that takes conn → pool
//! on fresh objects, never meet in that graph, though the two paths deadlock
//! the first time they run on the same objects.
//!
//! Every lock therefore also has a **class**: by default its creation site
//! together with the type it protects (`Mutex<Pool>` created at
//! `src/pool.rs:12:20`), so one generic constructor used for different data
//! makes different classes. A second order graph over classes is fed when an
//! instance edge is first seen (never on the hot path) and is never pruned:
//! a class cycle the instance graph does not have is a
//! [`ReportKind::ClassOrderInversion`](crate::ReportKind::ClassOrderInversion).
//! Locks of one class nested in each other (a tree walked parent to child,
//! accounts locked in id order) are not a class finding; the instance rules
//! still check them.
//!
//! A class cycle is a broken ordering discipline rather than a proven
//! deadlock: a lock private to one call (created, locked and dropped inside
//! it) never meets another call's copy, yet its class order can invert. So
//! class findings have their own switch, [`Mode`]:
//!
//! * `warn` (the default): each class cycle is printed once, straight to the
//!   process's stderr (libtest does not capture it, so it shows in a passing
//!   `cargo test`), and emitted as a `tracing` warn event, target
//!   `lockgraph`;
//! * `panic`: class findings are raised like instance findings, through the
//!   current [`Policy`](crate::Policy) (panic, log, callback);
//! * `off`: no classes are recorded.
//!
//! `LOCKGRAPH_CLASSES=warn|panic|off` sets the starting mode; [`set_mode`]
//! wins over it. Instance findings behave the same in every mode.
//!
//! A class cycle repeated by new instances (a server creating two locks per
//! request) is reported once; [`findings`] counts the repeats.
//!
//! When the locks created at one site play roles that never meet, give a
//! role its own class with `with_class` (on every lock type of both
//! flavours); the same name at several sites makes one class of them:
//!
//! ```
//! use lockgraph::Mutex;
//!
//! struct Pool {
//!     idle: Mutex<Vec<u32>>,
//!     busy: Mutex<Vec<u32>>,
//! }
//!
//! fn new_list() -> Mutex<Vec<u32>> {
//!     Mutex::new(Vec::new())
//! }
//!
//! // Both lists come from one constructor: one class unless told apart.
//! let pool = Pool {
//!     idle: new_list().with_class("pool.idle"),
//!     busy: new_list().with_class("pool.busy"),
//! };
//! let _idle = pool.idle.lock().unwrap();
//! let _busy = pool.busy.lock().unwrap();
//! ```
//!
//! A cross-instance inversion, raised through the policy in `panic` mode:
//!
//! ```should_panic
//! use lockgraph::{Mutex, classes};
//!
//! struct Pool(Mutex<u32>);
//! struct Conn(Mutex<u64>);
//!
//! fn make() -> (Pool, Conn) {
//!     (Pool(Mutex::new(0)), Conn(Mutex::new(0)))
//! }
//!
//! classes::set_mode(classes::Mode::Panic);
//! {
//!     let (pool, conn) = make();
//!     let _p = pool.0.lock().unwrap();
//!     let _c = conn.0.lock().unwrap(); // pool -> conn
//! } // both dropped: the instance graph forgets them
//! let (pool, conn) = make();
//! let _c = conn.0.lock().unwrap();
//! let _p = pool.0.lock().unwrap(); // panics: "lock order inversion between lock classes"
//! # if !lockgraph::ENABLED { panic!("detection is off in this build") }
//! ```

use std::fmt;
use std::sync::Arc;

use crate::Report;
use crate::detect::{class, graph};

/// How class findings are raised (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Print each class cycle once to stderr and emit a `tracing` warn
    /// event. The default.
    #[default]
    Warn,
    /// Raise class findings through the current policy, as instance
    /// findings are.
    Panic,
    /// Record no classes.
    Off,
}

/// Sets how class findings are raised, returning the previous mode. Wins
/// over `LOCKGRAPH_CLASSES`. Locks registered while classes were `off` have
/// no class and take no part in class findings.
///
/// ```
/// use lockgraph::classes::{self, Mode};
///
/// let previous = classes::set_mode(Mode::Off);
/// assert_eq!(classes::mode(), Mode::Off);
/// classes::set_mode(previous);
/// ```
pub fn set_mode(mode: Mode) -> Mode {
    let raw = match mode {
        Mode::Warn => class::WARN,
        Mode::Panic => class::PANIC,
        Mode::Off => class::OFF,
    };
    from_raw(class::set_mode(raw))
}

/// The current class mode.
pub fn mode() -> Mode {
    from_raw(class::mode())
}

fn from_raw(raw: u8) -> Mode {
    match raw {
        class::PANIC => Mode::Panic,
        class::OFF => Mode::Off,
        _ => Mode::Warn,
    }
}

/// A class cycle found in this process.
#[derive(Clone)]
pub struct ClassFinding {
    report: Arc<Report>,
    count: u64,
}

impl ClassFinding {
    /// The report made when the cycle was first found.
    pub fn report(&self) -> &Report {
        &self.report
    }
    /// How many new pairs of instances took the cycle-closing order so far
    /// (1 for a cycle seen once).
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl fmt::Debug for ClassFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClassFinding")
            .field("title", &self.report.title())
            .field("location", &self.report.location())
            .field("count", &self.count)
            .finish()
    }
}

/// Every class cycle found so far in this process, in the order found.
/// Empty when detection is off.
///
/// ```
/// assert!(lockgraph::classes::findings().is_empty());
/// ```
pub fn findings() -> Vec<ClassFinding> {
    if !crate::ENABLED {
        return Vec::new();
    }
    graph::class_findings()
        .into_iter()
        .map(|(report, count)| ClassFinding { report, count })
        .collect()
}

/// Size of the class graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassStats {
    /// Lock classes seen.
    pub classes: usize,
    /// Class-order edges recorded.
    pub edges: usize,
}

/// How many classes and class edges have been recorded. The class graph is
/// never pruned, so these only grow, bounded by the classes in the program.
///
/// ```
/// use lockgraph::Mutex;
///
/// let before = lockgraph::classes::stats();
/// for _ in 0..3 {
///     let outer = Mutex::new(1u8);
///     let inner = Mutex::new(2u16);
///     let _a = outer.lock().unwrap();
///     let _b = inner.lock().unwrap();
/// }
/// # if lockgraph::ENABLED && lockgraph::classes::mode() != lockgraph::classes::Mode::Off {
/// // Two classes (two sites) and one class edge, however many instances.
/// assert_eq!(lockgraph::classes::stats().classes, before.classes + 2);
/// assert_eq!(lockgraph::classes::stats().edges, before.edges + 1);
/// # }
/// ```
pub fn stats() -> ClassStats {
    if !crate::ENABLED {
        return ClassStats {
            classes: 0,
            edges: 0,
        };
    }
    let (classes, edges) = graph::class_stats();
    ClassStats { classes, edges }
}

/// The class graph as Graphviz DOT: one node per class (labelled with its
/// name, or its type and creation site), one edge per class order (labelled
/// with the thread and site that first took it), and in red the orders that
/// would close a found cycle.
///
/// ```
/// assert!(lockgraph::classes::dot().starts_with("digraph lockgraph_classes {"));
/// ```
pub fn dot() -> String {
    graph::class_dot()
}
