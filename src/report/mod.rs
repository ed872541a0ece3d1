//! The [`Report`] a user reads: what was found, every lock involved by name
//! and creation site, where each lock-order edge was first taken (with its
//! backtrace), the reporting thread's held locks, and how the deadlock would
//! unfold.

use std::fmt;
use std::panic::Location;
use std::sync::{Arc, OnceLock};

mod dot;
pub(crate) mod paths;
mod text;
pub(crate) mod waits;

pub(crate) use dot::dot_escape;
pub(crate) use text::type_label;

/// What kind of lock a report entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockKind {
    /// [`crate::Mutex`].
    Mutex,
    /// [`crate::RwLock`].
    RwLock,
    /// [`crate::ReentrantLock`].
    ReentrantLock,
    /// [`crate::parking_lot::Mutex`].
    ParkingLotMutex,
    /// [`crate::parking_lot::FairMutex`].
    ParkingLotFairMutex,
    /// [`crate::parking_lot::RwLock`].
    ParkingLotRwLock,
    /// [`crate::parking_lot::ReentrantMutex`].
    ParkingLotReentrantMutex,
    /// [`crate::sync::OnceLock`]: its initialisation acts as a lock.
    OnceLock,
    /// [`crate::sync::LazyLock`]: its initialisation acts as a lock.
    LazyLock,
    /// [`crate::sync::Once`]: its `call_once` acts as a lock.
    Once,
    /// [`crate::Condvar`] or [`crate::parking_lot::Condvar`]: waits on it
    /// and notifications of it are ordered with the locks around them.
    Condvar,
    /// [`crate::sync::Barrier`]: arrivals at it are ordered with the locks
    /// around them.
    Barrier,
    /// `lockgraph::tokio::sync::Mutex` (feature `tokio`).
    TokioMutex,
    /// `lockgraph::tokio::sync::RwLock` (feature `tokio`).
    TokioRwLock,
    /// A `lock_api::Mutex` under `cargo lockgraph test --deps` (a
    /// dependency's parking_lot `Mutex` or its own raw mutex).
    LockApiMutex,
    /// A `lock_api::RwLock` under `--deps` (parking_lot's `RwLock`,
    /// dashmap's shards).
    LockApiRwLock,
    /// A `lock_api::ReentrantMutex` under `--deps`.
    LockApiReentrantMutex,
    /// The end of a thread spawned through [`crate::thread`]: a `join`
    /// waits for it, and everything the thread takes comes before it.
    Thread,
    /// A message on a [`crate::sync::mpsc`] channel: `recv` waits for it,
    /// the locks taken on the way to `send` come before it.
    Channel,
    /// Room in a full [`crate::sync::mpsc::sync_channel`]: its `send`
    /// waits for it, the receiver's `recv` makes it.
    ChannelRoom,
    /// The end of a task spawned through `lockgraph::tokio::task`.
    Task,
    /// A value on a `lockgraph::tokio::sync::oneshot` channel.
    Oneshot,
    /// A message on a `lockgraph::tokio::sync::mpsc` channel.
    TokioChannel,
    /// A notification of a `lockgraph::tokio::sync::Notify`.
    Notify,
    /// A permit of a `lockgraph::tokio::sync::Semaphore`.
    Semaphore,
    /// A new value on a `lockgraph::tokio::sync::watch` channel.
    Watch,
}

impl LockKind {
    /// The type name as a user wrote it (`Mutex`, `RwLock`, ...).
    pub fn type_name(self) -> &'static str {
        match self {
            LockKind::Mutex => "Mutex",
            LockKind::RwLock => "RwLock",
            LockKind::ReentrantLock => "ReentrantLock",
            LockKind::ParkingLotMutex => "parking_lot::Mutex",
            LockKind::ParkingLotFairMutex => "parking_lot::FairMutex",
            LockKind::ParkingLotRwLock => "parking_lot::RwLock",
            LockKind::ParkingLotReentrantMutex => "parking_lot::ReentrantMutex",
            LockKind::OnceLock => "OnceLock",
            LockKind::LazyLock => "LazyLock",
            LockKind::Once => "Once",
            LockKind::Condvar => "Condvar",
            LockKind::Barrier => "Barrier",
            LockKind::TokioMutex => "tokio::sync::Mutex",
            LockKind::TokioRwLock => "tokio::sync::RwLock",
            LockKind::LockApiMutex => "lock_api::Mutex",
            LockKind::LockApiRwLock => "lock_api::RwLock",
            LockKind::LockApiReentrantMutex => "lock_api::ReentrantMutex",
            LockKind::Thread => "thread",
            LockKind::Channel => "mpsc channel",
            LockKind::ChannelRoom => "sync_channel",
            LockKind::Task => "task",
            LockKind::Oneshot => "oneshot channel",
            LockKind::TokioChannel => "tokio mpsc channel",
            LockKind::Notify => "Notify",
            LockKind::Semaphore => "Semaphore",
            LockKind::Watch => "watch channel",
        }
    }

    /// Whether this is a one-time initialisation rather than a lock.
    pub(crate) fn is_cell(self) -> bool {
        matches!(
            self,
            LockKind::OnceLock | LockKind::LazyLock | LockKind::Once
        )
    }

    /// Whether this is an async lock, held across `.await`s by design.
    #[inline(always)]
    pub(crate) fn is_async(self) -> bool {
        matches!(self, LockKind::TokioMutex | LockKind::TokioRwLock)
    }

    /// Whether this is something threads wait for and signal (a Condvar,
    /// a Barrier) rather than a lock they hold.
    pub(crate) fn is_event(self) -> bool {
        matches!(
            self,
            LockKind::Condvar
                | LockKind::Barrier
                | LockKind::Thread
                | LockKind::Channel
                | LockKind::ChannelRoom
                | LockKind::Task
                | LockKind::Oneshot
                | LockKind::TokioChannel
                | LockKind::Notify
                | LockKind::Semaphore
                | LockKind::Watch
        )
    }

    pub(crate) fn article(self) -> &'static str {
        match self {
            LockKind::RwLock => "an",
            _ => "a",
        }
    }
}

impl fmt::Display for LockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// How a lock is held or requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// `lock()` of a mutex, `write()` of a reader-writer lock.
    Exclusive,
    /// `read()`.
    Shared,
    /// parking_lot's `read_recursive()`: may re-enter a read this thread holds.
    SharedRecursive,
    /// parking_lot's `upgradable_read()`.
    Upgradable,
    /// A reentrant lock, which its owner may lock again.
    Reentrant,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Exclusive => "exclusive",
            Access::Shared => "read",
            Access::SharedRecursive => "recursive read",
            Access::Upgradable => "upgradable read",
            Access::Reentrant => "reentrant",
        })
    }
}

/// What a [`Report`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReportKind {
    /// Acquiring a lock would close a cycle in the lock-order graph: threads
    /// that take these locks concurrently can deadlock.
    LockOrderInversion,
    /// A thread locks a non-reentrant lock it already holds: it will wait for
    /// itself forever.
    SelfDeadlock,
    /// A thread read-locks a reader-writer lock it already read-locks: a
    /// writer queueing between the two reads blocks the second one forever.
    RecursiveRead,
    /// (Watchdog) Threads blocked on locks form a cycle: each waits for a
    /// lock the next one holds. An actual deadlock.
    WaitCycle,
    /// (Watchdog) A thread has waited for a lock longer than the threshold;
    /// the report follows the lock to its holder and what the holder does.
    HeldTooLong,
    /// (Race detector) Two accesses to tracked data, at least one a write,
    /// by threads that nothing orders: no lock released by one and taken by
    /// the other, no spawn, join or Condvar hand-off between them.
    DataRace,
    /// (Race detector, lockset mode) Tracked data written by several threads
    /// with no lock held at every access, even if this run happened to
    /// order them.
    Unprotected,
    /// (Lock classes) Acquiring a lock would close a cycle in the order of
    /// lock *classes* (creation site and protected type, or a name given
    /// with `with_class`), though the orders were taken on different
    /// instances: two threads running both paths on the same objects
    /// deadlock. Raised as [`crate::classes`] says (`LOCKGRAPH_CLASSES`).
    ClassOrderInversion,
    /// A thread waits (on a Condvar, at a Barrier) holding a lock that the
    /// thread which would wake it takes first — directly or through a
    /// chain of lock orders — so the wake-up can never come. Found from
    /// the orders alone, before anything hangs: the waits and signals are
    /// nodes of the lock-order graph.
    BlockedWakeup,
    /// (tokio) A context acquires a lock while another context on the same
    /// thread is suspended at an `.await` holding a sync (std or
    /// parking_lot) lock: nothing releases that lock until the holder is
    /// polled again, and a thread that blocks on it never polls it.
    HeldAcrossAwait,
}

/// One lock as a report names it.
#[derive(Clone, Debug)]
pub struct LockInfo {
    pub(crate) id: u64,
    pub(crate) kind: LockKind,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) created_at: &'static Location<'static>,
    pub(crate) first_locked_at: Option<&'static Location<'static>>,
    pub(crate) data: &'static str,
    pub(crate) class: Option<Arc<str>>,
}

impl LockInfo {
    /// The lock's id: unique for the life of the process, never reused.
    pub fn id(&self) -> u64 {
        self.id
    }
    /// The lock's type.
    pub fn kind(&self) -> LockKind {
        self.kind
    }
    /// The name given with a `named` constructor, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// Where the lock was created (`new`, `named`, `default`, `from`).
    pub fn created_at(&self) -> &'static Location<'static> {
        self.created_at
    }
    /// The type of the data the lock protects, as `std::any::type_name`
    /// spells it (`alloc::vec::Vec<u32>`).
    pub fn data_type(&self) -> &'static str {
        self.data
    }
    /// The lock's class name, if it was given one with `with_class` (see
    /// [`crate::classes`]); otherwise its class is its creation site and
    /// [`data_type`](Self::data_type).
    pub fn class_name(&self) -> Option<&str> {
        self.class.as_deref()
    }
    /// Where the lock was first locked, if known. Useful when the lock was
    /// created inside the standard library (`Arc::default()`, a derived
    /// `Default`), whose creation site is not in your code.
    pub fn first_locked_at(&self) -> Option<&'static Location<'static>> {
        self.first_locked_at
    }

    fn created_in_std(&self) -> bool {
        in_std(self.created_at)
    }
}

/// Whether `site` is in the standard library (`Arc::default()`, a derived
/// `Default`, `map(Mutex::new)`): not a place in the user's code.
pub(crate) fn in_std(site: &Location<'_>) -> bool {
    let file = site.file();
    file.starts_with("/rustc/")
        || file.contains("library/core/")
        || file.contains("library/alloc/")
        || file.contains("library/std/")
}

/// A lock held by the reporting thread.
#[derive(Clone, Debug)]
pub struct HeldLock {
    pub(crate) lock: LockInfo,
    pub(crate) access: Access,
    pub(crate) acquired_at: &'static Location<'static>,
}

impl HeldLock {
    /// The lock.
    pub fn lock(&self) -> &LockInfo {
        &self.lock
    }
    /// How it is held.
    pub fn access(&self) -> Access {
        self.access
    }
    /// Where this thread acquired it.
    pub fn acquired_at(&self) -> &'static Location<'static> {
        self.acquired_at
    }
}

/// One frame of a resolved backtrace.
#[derive(Clone, Debug)]
pub struct Frame {
    function: String,
    file: Option<String>,
    line: Option<u32>,
}

impl Frame {
    /// The demangled function name.
    pub fn function(&self) -> &str {
        &self.function
    }
    /// The source file, relative to the current directory when inside it.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }
    /// The source line.
    pub fn line(&self) -> Option<u32> {
        self.line
    }
}

/// An unresolved backtrace, resolved (once) the first time it is read.
#[derive(Clone)]
pub(crate) struct Trace(Arc<TraceInner>);

struct TraceInner {
    raw: backtrace::Backtrace,
    frames: OnceLock<Vec<Frame>>,
}

impl Trace {
    pub(crate) fn new(raw: backtrace::Backtrace) -> Self {
        Trace(Arc::new(TraceInner {
            raw,
            frames: OnceLock::new(),
        }))
    }

    pub(crate) fn frames(&self) -> &[Frame] {
        self.0.frames.get_or_init(|| {
            let mut raw = self.0.raw.clone();
            raw.resolve();
            user_frames(&raw)
        })
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace").finish_non_exhaustive()
    }
}

/// Frames that are not the user's: the detector, the unwinder, the runtime.
const HIDDEN_PREFIXES: &[&str] = &[
    "lockgraph::",
    "<lockgraph::",
    "backtrace::",
    "<backtrace::",
    "std::",
    "<std::",
    "core::",
    "<core::",
    "alloc::",
    "<alloc::",
    "test::",
    "<test::",
    "__rust",
    "<F as ",
    "<&F as ",
    "<&mut F as ",
];
/// The bottom of user code: nothing below these is the user's.
const STOP_AT: &[&str] = &[
    "__rust_begin_short_backtrace",
    "std::rt::lang_start",
    "test::run_test",
];
const MAX_FRAMES: usize = 16;

/// lockgraph's own sources, as this build of it was compiled.
const OWN_SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/");

/// Whether a frame's source file is not the user's: lockgraph's own, the
/// backtrace crate's, or the standard library's and the test harness's
/// (sources under `/rustc/<hash>/library/`, such as the
/// `<fn() -> Result<(), String> as FnOnce<()>>::call_once` under every
/// `#[test]`).
fn hidden_source(file: &std::path::Path) -> bool {
    let Some(file) = file.to_str() else {
        return false;
    };
    let file = file.replace('\\', "/");
    file.starts_with(OWN_SOURCES)
        || file.starts_with("/rustc/")
        || file.contains("/lib/rustlib/src/rust/library/")
        || (file.contains("/registry/src/") && file.contains("/backtrace-0."))
        // The lock_api shim (`cargo lockgraph test --deps`), in this
        // repository or copied under target/.
        || file.contains("/shim/lock_api/src/")
        || file.contains("/lockgraph/deps/")
        // tokio's runtime, which polls the task: not the user's frames.
        || (file.contains("/registry/src/") && file.contains("/tokio-1."))
}

fn user_frames(bt: &backtrace::Backtrace) -> Vec<Frame> {
    let cwd = std::env::current_dir().ok();
    let mut out = Vec::new();
    for frame in bt.frames() {
        for symbol in frame.symbols() {
            let Some(name) = symbol.name() else { continue };
            let name = format!("{name:#}");
            if STOP_AT.iter().any(|stop| name.contains(stop)) {
                return out;
            }
            if HIDDEN_PREFIXES.iter().any(|p| name.starts_with(p)) {
                continue;
            }
            // Inlined frames of an optimised build carry short names
            // (`lock<u32>`): their source files tell them apart.
            if symbol.filename().is_some_and(hidden_source) {
                continue;
            }
            let file = symbol.filename().map(|path| {
                let relative = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok());
                relative.unwrap_or(path).display().to_string()
            });
            out.push(Frame {
                function: name,
                file,
                line: symbol.lineno(),
            });
            if out.len() == MAX_FRAMES {
                return out;
            }
        }
    }
    out
}

/// (Race reports) The data two accesses touched.
#[derive(Clone, Debug)]
pub struct Variable {
    pub(crate) name: Option<Arc<str>>,
    pub(crate) created_at: Option<&'static Location<'static>>,
    pub(crate) address: Option<(usize, usize)>,
}

impl Variable {
    /// The tracked cell's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// Where the tracked cell was created (`None` for annotated memory).
    pub fn created_at(&self) -> Option<&'static Location<'static>> {
        self.created_at
    }
    /// For annotated memory: the address and length of the range.
    pub fn address(&self) -> Option<(usize, usize)> {
        self.address
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, self.created_at, self.address) {
            (Some(name), Some(at), _) => write!(f, "Tracked {name:?} (created at {at})"),
            (None, Some(at), _) => write!(f, "the Tracked created at {at}"),
            (_, None, Some((addr, len))) => write!(f, "memory at {addr:#x}..{:#x}", addr + len),
            _ => f.write_str("tracked data"),
        }
    }
}

/// (Race reports) One access to the data.
#[derive(Clone, Debug)]
pub struct AccessInfo {
    pub(crate) thread: Arc<str>,
    pub(crate) write: bool,
    pub(crate) at: &'static Location<'static>,
    pub(crate) locks: Vec<LockInfo>,
    pub(crate) trace: Option<Trace>,
    pub(crate) spans: Spans,
}

impl AccessInfo {
    /// The accessing thread.
    pub fn thread(&self) -> &str {
        &self.thread
    }
    /// Whether it wrote (else it read).
    pub fn is_write(&self) -> bool {
        self.write
    }
    /// Where it accessed the data.
    pub fn at(&self) -> &'static Location<'static> {
        self.at
    }
    /// The lockgraph locks it held.
    pub fn locks(&self) -> &[LockInfo] {
        &self.locks
    }
    /// The backtrace of the access (captured once per site and thread).
    pub fn backtrace(&self) -> Option<&[Frame]> {
        self.trace.as_ref().map(Trace::frames)
    }
    /// The `tracing` span stack (innermost first) that was current when
    /// the access was made; empty when none was, or when the
    /// subscriber has no [`tracing_layer`](crate::tracing_layer).
    pub fn spans(&self) -> &[SpanInfo] {
        spans_slice(&self.spans)
    }
}

/// (Watchdog reports) One thread blocked on a lock.
#[derive(Clone, Debug)]
pub struct WaitInfo {
    pub(crate) thread: Arc<str>,
    pub(crate) lock: Option<usize>,
    pub(crate) at: &'static Location<'static>,
    pub(crate) waited: std::time::Duration,
    pub(crate) holder: Option<Holder>,
    pub(crate) spans: Spans,
}

impl WaitInfo {
    /// The waiting thread.
    pub fn thread(&self) -> &str {
        &self.thread
    }
    /// Index into [`Report::locks`] of the lock waited for.
    pub fn lock(&self) -> Option<usize> {
        self.lock
    }
    /// Where the thread waits (the acquisition site).
    pub fn at(&self) -> &'static Location<'static> {
        self.at
    }
    /// How long it had waited when the report was made.
    pub fn waited(&self) -> std::time::Duration {
        self.waited
    }
    /// Who holds the lock, if known (locks acquired before the watchdog
    /// started are not known).
    pub fn holder(&self) -> Option<&Holder> {
        self.holder.as_ref()
    }
    /// The waiter's `tracing` span stack (innermost first) when it began
    /// waiting; empty without a [`tracing_layer`](crate::tracing_layer).
    pub fn spans(&self) -> &[SpanInfo] {
        spans_slice(&self.spans)
    }
}

/// (Watchdog reports) The holder of a lock someone waits for.
#[derive(Clone, Debug)]
pub struct Holder {
    pub(crate) thread: Arc<str>,
    pub(crate) acquired_at: Option<&'static Location<'static>>,
    pub(crate) held_for: Option<std::time::Duration>,
    pub(crate) trace: Option<Trace>,
    pub(crate) spans: Spans,
    pub(crate) state: HolderState,
}

/// What the holder of a waited-for lock is doing.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum HolderState {
    /// Waiting for another lockgraph lock (the next entry of the chain).
    WaitingForLock,
    /// Waiting on a `Condvar` (of the lock at `mutex` in [`Report::locks`]).
    WaitingOnCondvar {
        /// Where it waits.
        at: &'static Location<'static>,
        /// For how long.
        waited: std::time::Duration,
        /// The Condvar's mutex, as an index into [`Report::locks`].
        mutex: Option<usize>,
    },
    /// Blocked in a [`crate::sync`] channel or barrier: `what` (`recv on a
    /// channel`, `send on a full sync_channel`, `Barrier::wait`) of the one
    /// created at `created_at`.
    Blocked {
        /// What it is blocked in.
        what: &'static str,
        /// Where that channel or barrier was created.
        created_at: &'static Location<'static>,
        /// Where it blocks.
        at: &'static Location<'static>,
        /// For how long.
        waited: std::time::Duration,
    },
    /// Not waiting on anything lockgraph knows: busy, or blocked elsewhere
    /// (a channel, I/O, a lock of another library).
    NotWaiting,
}

impl Holder {
    /// The holding thread.
    pub fn thread(&self) -> &str {
        &self.thread
    }
    /// Where it acquired the lock.
    pub fn acquired_at(&self) -> Option<&'static Location<'static>> {
        self.acquired_at
    }
    /// How long it has held it.
    pub fn held_for(&self) -> Option<std::time::Duration> {
        self.held_for
    }
    /// The backtrace of the acquisition site (captured once per site).
    pub fn backtrace(&self) -> Option<&[Frame]> {
        self.trace.as_ref().map(Trace::frames)
    }
    /// The `tracing` span stack (innermost first) that was current when
    /// the holder acquired the lock; empty when none was, or when the
    /// subscriber has no [`tracing_layer`](crate::tracing_layer).
    pub fn spans(&self) -> &[SpanInfo] {
        spans_slice(&self.spans)
    }
    /// What the holder is doing now.
    pub fn state(&self) -> &HolderState {
        &self.state
    }
}

/// One lock-order edge: `from` was held when `to` was acquired.
#[derive(Clone, Debug)]
pub struct EdgeInfo {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) thread: Arc<str>,
    pub(crate) from_acquired_at: &'static Location<'static>,
    pub(crate) to_acquired_at: &'static Location<'static>,
    pub(crate) trace: Option<Trace>,
    pub(crate) spans: Spans,
    pub(crate) trace_shared: bool,
    pub(crate) instances: (Option<Arc<str>>, Option<Arc<str>>),
}

impl EdgeInfo {
    /// Index into [`Report::locks`] of the lock that was held.
    pub fn from(&self) -> usize {
        self.from
    }
    /// Index into [`Report::locks`] of the lock that was acquired.
    pub fn to(&self) -> usize {
        self.to
    }
    /// The thread that first took this edge.
    pub fn thread(&self) -> &str {
        &self.thread
    }
    /// Where the held lock (`from`) was acquired.
    pub fn from_acquired_at(&self) -> &'static Location<'static> {
        self.from_acquired_at
    }
    /// Where the second lock (`to`) was acquired, closing the edge.
    pub fn to_acquired_at(&self) -> &'static Location<'static> {
        self.to_acquired_at
    }
    /// The backtrace of the acquisition that first took this edge, trimmed to
    /// user code (no frames of lockgraph or the runtime). Resolving symbols
    /// happens on the first call. `None` when none was captured.
    pub fn backtrace(&self) -> Option<&[Frame]> {
        self.trace.as_ref().map(Trace::frames)
    }
    /// The `tracing` span stack (innermost first) that was current when
    /// this edge was first taken; empty when none was, or when the
    /// subscriber has no [`tracing_layer`](crate::tracing_layer).
    pub fn spans(&self) -> &[SpanInfo] {
        spans_slice(&self.spans)
    }
    /// For a lock-class finding: the names of the two lock instances that
    /// took this edge, where they were named (`Mutex::named`).
    pub fn instance_names(&self) -> (Option<&str>, Option<&str>) {
        (self.instances.0.as_deref(), self.instances.1.as_deref())
    }
}

/// A finding of the detector: a potential or certain deadlock.
///
/// Its `Display` is the text users read (the panic message under the panic
/// policy); its accessors give the same facts for tools and tests.
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) kind: ReportKind,
    pub(crate) title: String,
    pub(crate) thread: Arc<str>,
    pub(crate) acquiring: usize,
    pub(crate) access: Access,
    pub(crate) location: &'static Location<'static>,
    pub(crate) locks: Vec<LockInfo>,
    pub(crate) edges: Vec<EdgeInfo>,
    pub(crate) held: Vec<HeldLock>,
    pub(crate) previous: Option<HeldLock>,
    pub(crate) trace: Option<Trace>,
    pub(crate) spans: Spans,
    pub(crate) waits: Vec<WaitInfo>,
    pub(crate) variable: Option<Variable>,
    pub(crate) accesses: Vec<AccessInfo>,
}

impl Report {
    /// What was found.
    pub fn kind(&self) -> ReportKind {
        self.kind
    }
    /// The first line: `potential deadlock: lock order inversion`, ...
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The thread that was about to block.
    pub fn thread_name(&self) -> &str {
        &self.thread
    }
    /// Where the acquisition that triggered the report was made.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
    /// The lock being acquired (or waited for); `None` for a race report.
    pub fn acquiring(&self) -> Option<&LockInfo> {
        self.locks.get(self.acquiring)
    }
    /// Every lock involved. For an inversion these are the locks of the cycle
    /// in order: `locks[i]` is followed by `locks[i + 1]` (wrapping around).
    pub fn locks(&self) -> &[LockInfo] {
        &self.locks
    }
    /// The edges of the cycle, `edges[0]` being the one the current thread
    /// tried to add. Empty for a self-deadlock.
    pub fn edges(&self) -> &[EdgeInfo] {
        &self.edges
    }
    /// The locks the reporting thread held, outermost first.
    pub fn held_locks(&self) -> &[HeldLock] {
        &self.held
    }
    /// For a self-deadlock: the earlier acquisition of the same lock.
    pub fn previous_acquisition(&self) -> Option<&HeldLock> {
        self.previous.as_ref()
    }
    /// The backtrace of the acquisition that triggered the report.
    pub fn backtrace(&self) -> Option<&[Frame]> {
        self.trace.as_ref().map(Trace::frames)
    }
    /// The `tracing` span stack (innermost first) that was current when
    /// the reported acquisition (or access) was made; empty when none was, or when the
    /// subscriber has no [`tracing_layer`](crate::tracing_layer).
    pub fn spans(&self) -> &[SpanInfo] {
        spans_slice(&self.spans)
    }
    /// For watchdog reports: the blocked threads, each with the lock it
    /// waits for and that lock's holder, in chain order (for a cycle, each
    /// waits for a lock the next one holds, the last for the first's).
    pub fn waits(&self) -> &[WaitInfo] {
        &self.waits
    }
    /// For race reports: the data both accesses touched.
    pub fn variable(&self) -> Option<&Variable> {
        self.variable.as_ref()
    }
    /// For race reports: the access that found the race, then the earlier
    /// conflicting one.
    pub fn accesses(&self) -> &[AccessInfo] {
        &self.accesses
    }

    /// A key identifying the cycle or the self-deadlock regardless of where
    /// it was entered: the same locks give the same key.
    pub(crate) fn dedup_key(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.locks.iter().map(|l| l.id).collect();
        ids.sort_unstable();
        ids.push(self.kind as u64);
        ids
    }
}

/// One span of the `tracing` span stack that was current when something
/// happened (an edge first taken, an access, a wait), as `tracing-error`'s
/// `SpanTrace` sees it: empty unless the subscriber has the
/// [`tracing_layer`](crate::tracing_layer) (`tracing_error::ErrorLayer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanInfo {
    pub(crate) name: &'static str,
    pub(crate) target: &'static str,
    pub(crate) fields: String,
    pub(crate) file: Option<&'static str>,
    pub(crate) line: Option<u32>,
}

impl SpanInfo {
    /// The span's name (`request`).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The span's target (its module path, unless set).
    pub fn target(&self) -> &'static str {
        self.target
    }
    /// The span's fields as the layer formatted them (`id=7 path="/transfer"`).
    pub fn fields(&self) -> &str {
        &self.fields
    }
    /// Where the span was declared.
    pub fn file(&self) -> Option<&'static str> {
        self.file
    }
    /// The line where the span was declared.
    pub fn line(&self) -> Option<u32> {
        self.line
    }
}

impl fmt::Display for SpanInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.fields.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}{{{}}}", self.name, self.fields)
        }
    }
}

/// A span stack, innermost first; `None` when no span was current (or no
/// layer records them).
pub(crate) type Spans = Option<Arc<[SpanInfo]>>;

/// The span stack of the current thread (innermost first), if the
/// subscriber records one.
#[cfg(feature = "spans")]
pub(crate) fn capture_spans() -> Spans {
    use tracing_error::{SpanTrace, SpanTraceStatus};
    let trace = SpanTrace::capture();
    if trace.status() != SpanTraceStatus::CAPTURED {
        return None;
    }
    let mut spans = Vec::new();
    trace.with_spans(|metadata, fields| {
        spans.push(SpanInfo {
            name: metadata.name(),
            target: metadata.target(),
            fields: fields.to_owned(),
            file: metadata.file(),
            line: metadata.line(),
        });
        true
    });
    (!spans.is_empty()).then(|| spans.into())
}

/// The span stack of the current thread, through a per-thread cache keyed
/// by the current span's id: a span's ancestors never change, so while the
/// same span is current (a loop inside one request) the stack is captured
/// once. Registry span ids carry a generation, so a reused slot does not
/// match. Without a current span there is no stack to capture.
#[cfg(feature = "spans")]
pub(crate) fn current_spans(cache: &mut Option<(u64, Spans)>) -> Spans {
    // No subscriber was ever set, globally or for a scope: no span is open
    // (one load, where asking the default dispatcher costs a thread-local
    // visit and a call).
    if !tracing::dispatcher::has_been_set() {
        return None;
    }
    let current = tracing::dispatcher::get_default(|dispatch| {
        dispatch.current_span().id().map(tracing::Id::into_u64)
    });
    let id = current?;
    match cache {
        Some((cached, spans)) if *cached == id => spans.clone(),
        _ => {
            let spans = capture_spans();
            *cache = Some((id, spans.clone()));
            spans
        }
    }
}

/// Without the `spans` feature there is no span stack to capture.
#[cfg(not(feature = "spans"))]
pub(crate) fn current_spans(_cache: &mut Option<(u64, Spans)>) -> Spans {
    None
}

/// Without the `spans` feature there is no span stack to capture.
#[cfg(not(feature = "spans"))]
pub(crate) fn capture_spans() -> Spans {
    None
}

/// The spans of an optional stack, as a slice.
pub(crate) fn spans_slice(spans: &Spans) -> &[SpanInfo] {
    spans.as_deref().unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_sources_are_lockgraphs_backtraces_and_stds() {
        let own = format!("{OWN_SOURCES}mutex.rs");
        assert!(hidden_source(std::path::Path::new(&own)));
        assert!(hidden_source(std::path::Path::new(
            "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/ops/function.rs"
        )));
        assert!(hidden_source(std::path::Path::new(
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/backtrace-0.3.77/src/capture.rs"
        )));
        assert!(!hidden_source(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/mutex.rs"
        ))));
        assert!(!hidden_source(std::path::Path::new("src/main.rs")));
    }
}
