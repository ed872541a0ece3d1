//! The recording sink: with `LOCKGRAPH_RECORD=<dir>` set, every process
//! writes its class graph to a file of its own in `<dir>`, one JSON object
//! per line, as class edges are found (not at exit: test binaries end
//! through `process::exit`, and a process may abort). `cargo lockgraph`
//! merges the files of a whole test suite.
//!
//! The format (version 1), one object per line:
//!
//! ```text
//! {"format":"lockgraph-record","version":1,"exe":"/path/to/test-binary","pid":4242,"args":["--test-threads=2"]}
//! {"class":3,"kind":"Mutex","file":"tests/pool.rs","line":12,"column":20,"type":"pool::Pool","name":null}
//! {"edge":[3,5],"thread":"checkout_returns_the_connection","from":{"file":"src/pool.rs","line":40,"column":9},"to":{"file":"src/pool.rs","line":41,"column":9}}
//! {"backtrace":[3,5],"frames":[{"function":"pool::Pool::checkout","file":"src/pool.rs","line":41}]}
//! ```
//!
//! The header comes first; a class line comes before the first edge that
//! names it; class numbers are this process's own. A class is the same
//! across processes when its `name` (an explicit class) or its site and
//! `type` agree. The thread of an edge is the test's name when libtest ran
//! the test (it names each test's thread after the test).
//!
//! Only a new class edge writes, from the detector's slow path: under the
//! graph lock the edge is queued; once the graph lock is released its class
//! and edge lines are written. Resolving the backtrace's symbols can take
//! a large part of a second the first time, so a background thread does it
//! and appends a `backtrace` line for the edge; what it has not done when
//! the process exits (`process::exit`, or returning from `main`) is done by
//! an exit hook. A process that aborts keeps its edges, not their
//! backtraces.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::panic::Location;
use std::path::PathBuf;
use std::sync::Arc;

use super::class::ClassData;
use crate::facade::{self as sync, AtomicBool, AtomicU8, Ordering};
use crate::report::Trace;

/// The record format's version, in every file's header.
pub(crate) const VERSION: u32 = 1;

const UNKNOWN: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;
/// Recording, and this process's file exists (or could not be made).
const OPENED: u8 = 3;

sync::global! {
    static STATE: AtomicU8 = const AtomicU8::new(UNKNOWN);
}
// Set when an edge is queued, so that `flush` after a slow path that
// queued nothing (most of them) takes no lock.
sync::global! {
    static PENDING: AtomicBool = const AtomicBool::new(false);
}
sync::global! {
    static SINK: sync::Mutex<Sink> = lazy sync::Mutex::new(Sink::default());
}

/// A class as a record names it.
#[derive(Clone)]
pub(crate) struct ClassRecord {
    pub(crate) id: u32,
    pub(crate) kind: &'static str,
    pub(crate) site: &'static Location<'static>,
    pub(crate) data: &'static str,
    pub(crate) name: Option<Arc<str>>,
}

impl ClassRecord {
    pub(crate) fn new(id: u32, class: &ClassData) -> Self {
        ClassRecord {
            id,
            kind: class.kind.type_name(),
            site: class.created,
            data: class.data,
            name: class.name.clone(),
        }
    }
}

/// A new class edge waiting to be written.
pub(crate) struct EdgeRecord {
    pub(crate) from: ClassRecord,
    pub(crate) to: ClassRecord,
    pub(crate) thread: Arc<str>,
    pub(crate) from_site: &'static Location<'static>,
    pub(crate) to_site: &'static Location<'static>,
    pub(crate) trace: Option<Trace>,
}

#[derive(Default)]
struct Sink {
    /// Edges queued under the graph lock.
    pending: Vec<EdgeRecord>,
    /// Written edges whose backtraces still need resolving.
    unresolved: Vec<((u32, u32), Trace)>,
    /// The thread that resolves them.
    resolver: Option<std::thread::Thread>,
    /// Edges taken off `unresolved` whose lines are not written yet.
    in_flight: usize,
    file: Option<File>,
    /// The record file's path (its reports go beside it, `.reports`).
    path: Option<PathBuf>,
    /// The reports raised in this process, as they are raised: libtest
    /// prints a test's captured output only if the process lives to the
    /// end of the test, and `cargo lockgraph` prints the reports of a
    /// process that did not (no `exited` line).
    reports: Option<File>,
    /// Set once opening the file failed: recording stops, said once.
    failed: bool,
    /// Classes already written to the file.
    written: HashSet<u32>,
    /// Class edges already queued (an edge refused in this process as
    /// closing a cycle comes back with every new pair of instances).
    queued: HashSet<(u32, u32)>,
}

/// Whether this process records (`LOCKGRAPH_RECORD` is set), read once.
#[inline]
pub(crate) fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        UNKNOWN => init(),
        state => state != OFF,
    }
}

/// Whether this process records but has not made its file yet.
#[inline]
pub(crate) fn needs_file() -> bool {
    match STATE.load(Ordering::Relaxed) {
        UNKNOWN => init(),
        state => state == ON,
    }
}

#[cold]
fn init() -> bool {
    let on = std::env::var_os("LOCKGRAPH_RECORD").is_some_and(|dir| !dir.is_empty());
    STATE.store(if on { ON } else { OFF }, Ordering::Relaxed);
    on
}

/// Creates this process's file (with its header) if it has none yet, so
/// that a process that used lockgraph but never ordered two classes is
/// still on record. Called when a lock is first registered.
#[cold]
#[inline(never)]
pub(crate) fn process_started() {
    let mut sink = SINK.lock();
    if !sink.opened() {
        sink.open();
    }
    STATE.store(OPENED, Ordering::Relaxed);
}

/// Queues a new class edge (called under the graph lock: nothing slow).
pub(crate) fn queue(edge: EdgeRecord) {
    let mut sink = SINK.lock();
    if sink.queued.insert((edge.from.id, edge.to.id)) {
        sink.pending.push(edge);
        PENDING.store(true, Ordering::Relaxed);
    }
}

/// Writes the queued edges (called with the graph lock released).
#[cold]
#[inline(never)]
pub(crate) fn flush() {
    // An edge queued after this swap is taken by this flush or the next.
    if !PENDING.swap(false, Ordering::Relaxed) {
        return;
    }
    let mut sink = SINK.lock();
    if sink.pending.is_empty() {
        return;
    }
    let pending = std::mem::take(&mut sink.pending);
    if !sink.opened() {
        sink.open();
    }
    if sink.failed {
        return;
    }
    let mut text = String::new();
    for edge in pending {
        for class in [&edge.from, &edge.to] {
            if sink.written.insert(class.id) {
                class_line(&mut text, class);
            }
        }
        edge_line(&mut text, &edge);
        if let Some(trace) = edge.trace {
            sink.unresolved.push(((edge.from.id, edge.to.id), trace));
        }
    }
    sink.write(&text);
    if !sink.unresolved.is_empty() {
        sink.wake_resolver();
    }
}

/// Resolves and writes the backtraces of written edges; returns whether
/// there were any.
fn resolve_pending() -> bool {
    let unresolved = {
        let mut sink = SINK.lock();
        let unresolved = std::mem::take(&mut sink.unresolved);
        sink.in_flight += unresolved.len();
        unresolved
    };
    if unresolved.is_empty() {
        return false;
    }
    // Resolve with no lock held: it is the slow part.
    let mut text = String::new();
    for ((from, to), trace) in &unresolved {
        backtrace_line(&mut text, (*from, *to), trace);
    }
    let mut sink = SINK.lock();
    sink.write(&text);
    sink.in_flight -= unresolved.len();
    true
}

/// The resolver thread: resolves what is queued, then sleeps until woken.
fn resolver_loop() {
    loop {
        if !resolve_pending() {
            std::thread::park_timeout(std::time::Duration::from_secs(1));
        }
    }
}

/// The line that ends a process's `.reports` file when it exits normally.
pub(crate) const EXITED: &str = "=== lockgraph: the process exited normally ===";

/// The line that starts each report in a `.reports` file.
pub(crate) const REPORT: &str = "=== lockgraph report ===";

/// A report raised in this process (whatever the policy does with it next):
/// written at once beside the record file, so that it survives a process
/// that aborts before libtest prints the test's captured output.
#[cold]
#[inline(never)]
pub(crate) fn report_raised(text: &str) {
    if !enabled() {
        return;
    }
    let mut sink = SINK.lock();
    if !sink.opened() {
        sink.open();
    }
    if sink.reports.is_none()
        && let Some(path) = &sink.path
    {
        sink.reports = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path.with_extension("reports"))
            .ok();
    }
    if let Some(file) = sink.reports.as_mut() {
        let _ = file.write_all(format!("{REPORT}\n{text}\n").as_bytes());
    }
}

/// At exit (`process::exit`, the end of `main`): resolve what is left.
extern "C" fn at_exit() {
    if let Some(file) = SINK.lock().reports.as_mut() {
        let _ = file.write_all(format!("{EXITED}\n").as_bytes());
    }
    resolve_pending();
    // The resolver thread may be half-way through a batch: give it a
    // moment to write it (it dies with the process).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while SINK.lock().in_flight > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

unsafe extern "C" {
    /// The C library's exit hook (POSIX and the Windows CRT alike).
    fn atexit(callback: extern "C" fn()) -> i32;
}

impl Sink {
    fn open(&mut self) {
        match open() {
            Ok((path, file)) => {
                self.file = Some(file);
                self.path = Some(path);
                // SAFETY: `at_exit` is an `extern "C" fn()` that does not
                // unwind (it only writes lines, ignoring errors) and stays
                // valid for the life of the process.
                unsafe { atexit(at_exit) };
            }
            Err(err) => {
                self.failed = true;
                eprintln!("lockgraph: LOCKGRAPH_RECORD: {err}; this process records nothing");
            }
        }
    }

    /// Appends whole lines in one write: a process killed mid-write leaves
    /// at most its last line cut short.
    fn write(&mut self, text: &str) {
        if let Some(file) = self.file.as_mut() {
            let _ = file.write_all(text.as_bytes());
        }
    }

    fn wake_resolver(&mut self) {
        if self.resolver.is_none() {
            let spawned = std::thread::Builder::new()
                .name("lockgraph-record".into())
                .spawn(resolver_loop);
            match spawned {
                Ok(handle) => self.resolver = Some(handle.thread().clone()),
                // No thread: the exit hook resolves everything.
                Err(_) => return,
            }
        }
        if let Some(thread) = &self.resolver {
            thread.unpark();
        }
    }

    fn opened(&self) -> bool {
        self.file.is_some() || self.failed
    }
}

/// Creates this process's file, named after the executable, the process id
/// and the time (a pid may be reused), with the header line.
fn open() -> Result<(PathBuf, File), String> {
    let dir = PathBuf::from(std::env::var_os("LOCKGRAPH_RECORD").unwrap_or_default());
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(|p| p.file_stem())
        .map_or_else(|| "process".into(), |s| s.to_string_lossy().into_owned());
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut attempt = 0u32;
    let (path, mut file) = loop {
        let path = dir.join(format!("{stem}-{pid}-{nanos}-{attempt}.jsonl"));
        match OpenOptions::new().append(true).create_new(true).open(&path) {
            Ok(file) => break (path, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
        }
    };
    let mut header = String::new();
    let _ = write!(
        header,
        "{{\"format\":\"lockgraph-record\",\"version\":{VERSION},\"exe\":{},\"pid\":{pid},\"args\":[",
        json_str(&exe.map_or_else(String::new, |p| p.display().to_string()))
    );
    for (i, arg) in std::env::args().skip(1).enumerate() {
        if i > 0 {
            header.push(',');
        }
        header.push_str(&json_str(&arg));
    }
    header.push_str("]}\n");
    file.write_all(header.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((path, file))
}

fn site_json(out: &mut String, site: &Location<'_>) {
    let _ = write!(
        out,
        "{{\"file\":{},\"line\":{},\"column\":{}}}",
        json_str(site.file()),
        site.line(),
        site.column()
    );
}

fn class_line(out: &mut String, class: &ClassRecord) {
    let _ = writeln!(
        out,
        "{{\"class\":{},\"kind\":{},\"file\":{},\"line\":{},\"column\":{},\"type\":{},\"name\":{}}}",
        class.id,
        json_str(class.kind),
        json_str(class.site.file()),
        class.site.line(),
        class.site.column(),
        json_str(class.data),
        class.name.as_deref().map_or("null".to_owned(), json_str),
    );
}

fn edge_line(out: &mut String, edge: &EdgeRecord) {
    let _ = write!(
        out,
        "{{\"edge\":[{},{}],\"thread\":{},\"from\":",
        edge.from.id,
        edge.to.id,
        json_str(&edge.thread)
    );
    site_json(out, edge.from_site);
    out.push_str(",\"to\":");
    site_json(out, edge.to_site);
    out.push_str("}\n");
}

fn backtrace_line(out: &mut String, (from, to): (u32, u32), trace: &Trace) {
    let _ = write!(out, "{{\"backtrace\":[{from},{to}],\"frames\":[");
    for (i, frame) in trace.frames().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"function\":{},\"file\":{},\"line\":{}}}",
            json_str(frame.function()),
            frame.file().map_or("null".to_owned(), json_str),
            frame.line().map_or("null".to_owned(), |l| l.to_string())
        );
    }
    out.push_str("]}\n");
}

/// A JSON string literal.
fn json_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(json_str("Mutex<Vec<u32>>"), "\"Mutex<Vec<u32>>\"");
    }
}
