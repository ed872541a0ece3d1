//! Drop-in `std::sync` locks that record the order in which your program
//! takes them and report a potential deadlock — at the first acquisition
//! that closes a cycle, even if the threads never actually collided — with
//! a report in the style of Linux's lockdep.
//!
//! Swap one `use` line; change nothing else:
//!
//! ```should_panic
//! // use std::sync::Mutex;
//! use lockgraph::Mutex;
//!
//! let accounts = [Mutex::named("alice", 100), Mutex::named("bob", 50)];
//! {   // transfer alice -> bob: locks alice, then bob
//!     let _from = accounts[0].lock().unwrap();
//!     let _to = accounts[1].lock().unwrap();
//! }
//! {   // transfer bob -> alice: locks bob, then alice -- the opposite order
//!     let _from = accounts[1].lock().unwrap();
//!     let _to = accounts[0].lock().unwrap(); // panics with the report below
//! }
//! # if !lockgraph::ENABLED { panic!("detection is off in this build") }
//! ```
//!
//! The panic message is the report (abridged; backtraces trimmed to your
//! code are printed under each edge):
//!
//! ```text
//! potential deadlock: lock order inversion
//!
//! thread `main` is acquiring
//!     Mutex "alice" created at src/main.rs:4:21
//!     at src/main.rs:11:31
//! while holding
//!     Mutex "bob" created at src/main.rs:4:49
//!     acquired at src/main.rs:10:33
//!
//! but the opposite order was seen before:
//!     bob -> alice -> bob
//! ...
//! where each edge of the cycle was first taken:
//!   bob -> alice: now, in thread `main`
//!       bob acquired at src/main.rs:10:33, then alice at src/main.rs:11:31
//!        0: my_app::main
//!               at src/main.rs:11
//!   alice -> bob: first taken in thread `main`
//!       alice acquired at src/main.rs:6:33, then bob at src/main.rs:7:31
//!        0: my_app::main
//!               at src/main.rs:7
//!
//! possible deadlock scenario:
//!     main (run 1)             main (run 2)
//!     ------------             ------------
//!     lock(alice)
//!                              lock(bob)
//!     lock(bob)  <- blocks
//!                              lock(alice)  <- blocks
//! ...
//! ```
//!
//! # What is checked
//!
//! * **Lock-order inversions** of any length (A→B vs B→A, A→B→C→A, ...),
//!   across [`Mutex`], [`RwLock`] (reads too), [`ReentrantLock`] and the
//!   [`parking_lot`]-flavoured types, reported before the acquisition blocks.
//! * **Self-deadlocks**: relocking a [`Mutex`] this thread holds, writing an
//!   [`RwLock`] this thread reads, reading it twice (a queued writer makes the
//!   second read wait forever).
//! * `try_lock` never blocks, so it adds no edge to the lock it takes; a
//!   [`ReentrantLock`] re-entered by its owner adds none either.
//! * **Inversions across instances**, through [lock classes](classes): a
//!   class is a creation site with the type a lock protects (or a name given
//!   with `with_class`); a cycle of classes whose orders were taken on
//!   different instances — in two tests on fresh objects, say — is printed
//!   once as a warning by default (`LOCKGRAPH_CLASSES=warn|panic|off`).
//! * **Hangs the order cannot show**, with the opt-in [`watchdog`]: a thread
//!   blocked on a lock past a threshold, who holds it and what the holder
//!   is doing; waits that form a cycle.
//! * **Race conditions** on data you track with [`race::Tracked`] (or
//!   annotate in unsafe code): accesses that nothing orders (vector clocks
//!   over lock release/acquire, Condvar hand-offs and [`thread`]
//!   spawn/join), and optionally data no single lock protects (lockset).
//!
//! # Cost and build switch
//!
//! Detection is on when `debug_assertions` are (a normal `cargo build` or
//! `cargo test`), and in any build with the cargo feature `always`. With it
//! off, every type is its engine lock (parking_lot's, plus std's poison flag
//! in the std flavour) and nothing more. With it on, acquiring a lock whose
//! ordering is already known touches only thread-local state: no global
//! lock, no allocation, no backtrace. See [`ENABLED`].
//!
//! # Policies
//!
//! The default is to panic with the report. [`set_policy`] switches to
//! logging through `tracing` (target `lockgraph`), a callback, or off; the
//! `LOCKGRAPH=panic|log|off` environment variable chooses the starting
//! policy without rebuilding, and `LOCKGRAPH_WATCHDOG=<seconds>` starts the
//! watchdog. `LOCKGRAPH_CLASSES=warn|panic|off` says how [lock-class
//! findings](classes) are raised, and `LOCKGRAPH_RECORD=<dir>` makes the
//! process write its lock-class graph to a file in `<dir>` for `cargo
//! lockgraph` to merge with the rest of a test suite's.
//!
//! # Introspection
//!
//! [`held_locks`] lists the current thread's locks, `assert_held` /
//! `assert_not_held` on each lock check them, [`graph_dot`] exports the
//! lock-order graph as Graphviz DOT, [`graph_stats`] counts it and
//! [`Report::to_dot`] draws one finding.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
// With detection compiled out the detector is built but never called.
#![cfg_attr(not(any(debug_assertions, feature = "always")), allow(dead_code))]

mod atomic;
mod barrier;
pub mod classes;
mod condvar;
mod detect;
mod facade;
pub mod hooks;
mod mpsc;
mod mutex;
mod once;
pub mod parking_lot;
mod poison;
pub mod race;
mod raw;
mod reentrant;
mod report;
mod rwlock;
pub mod sync;
pub mod thread;
#[cfg(feature = "tokio")]
pub mod tokio;
pub mod watchdog;

/// The guide's pages (`docs/guide/`), compiled as doc tests so that the
/// code they show keeps compiling and running.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../docs/guide/detected.md")]
    mod detected {}
    #[doc = include_str!("../docs/guide/sync.md")]
    mod sync {}
    #[doc = include_str!("../docs/guide/async.md")]
    mod async_ {}
    #[doc = include_str!("../docs/guide/classes.md")]
    mod classes {}
    #[doc = include_str!("../docs/guide/cargo-lockgraph.md")]
    mod cargo_lockgraph {}
    #[doc = include_str!("../docs/guide/deps.md")]
    mod deps {}
    #[doc = include_str!("../docs/guide/waits.md")]
    mod waits {}
    #[doc = include_str!("../docs/guide/spans.md")]
    mod spans {}
    #[doc = include_str!("../docs/guide/examples.md")]
    mod examples {}
    #[doc = include_str!("../docs/guide/policies.md")]
    mod policies {}
    #[doc = include_str!("../docs/guide/benchmarks.md")]
    mod benchmarks {}
    #[doc = include_str!("../docs/guide/watchdog.md")]
    mod watchdog {}
    #[doc = include_str!("../docs/guide/race.md")]
    mod race {}
    #[doc = include_str!("../docs/guide/internals.md")]
    mod internals {}
    #[doc = include_str!("../docs/guide/limitations.md")]
    mod limitations {}
}

#[cfg(loom)]
#[doc(hidden)]
pub use detect::context::model as __loom_context;

pub use condvar::Condvar;
pub use detect::policy::{Callback, Policy, policy, set_policy};
/// What starts with the detector, once, when the first lock operation
/// reads the environment: the detector runs these without naming them.
pub(crate) const AT_START: &[fn()] = &[watchdog::start_from_env];

pub use detect::{ENABLED, GraphStats, graph_dot, graph_stats, held_locks};
pub use mutex::{Mutex, MutexGuard};
pub use reentrant::{ReentrantLock, ReentrantLockGuard};
pub use report::{
    Access, AccessInfo, EdgeInfo, Frame, HeldLock, Holder, HolderState, LockInfo, LockKind, Report,
    ReportKind, SpanInfo, Variable, WaitInfo,
};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult, WaitTimeoutResult};

/// The `tracing` layer that lets reports show what the program was doing:
/// add it to your subscriber and every report prints, under each edge,
/// access and wait, the span stack that was current when it was taken
/// (`request{id=7}` → `db_txn{table="accounts"}`), and exposes it as
/// [`EdgeInfo::spans`] and the like. It is `tracing_error::ErrorLayer`, so a
/// subscriber that already has one (as every `color-eyre` user's does) needs
/// nothing more. Spans are captured only when an edge is first seen (and,
/// while a watchdog runs, at each acquisition it publishes): never on the
/// hot path. Cargo feature `spans` (on by default).
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(lockgraph::tracing_layer());
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request", id = 7);
///     let _entered = span.enter();
///     // ... a report raised here names `request{id=7}` ...
/// });
/// ```
#[cfg(feature = "spans")]
pub fn tracing_layer<S>() -> tracing_error::ErrorLayer<S>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_error::ErrorLayer::default()
}
