//! Publication: what each thread (or task) holds and waits for, kept where
//! an observer outside the detector can read it (the watchdog does).
//!
//! Nothing is published until an observer asks for it (`policy::
//! set_publishing`): then each acquisition adds its lock to the thread's
//! record (an uncontended per-thread lock) with the backtrace of its site
//! (captured once per site and thread), each release withdraws it, and a
//! blocking wait registers what it waits for until its guard drops. The
//! detector calls in here; it never names who reads.

use std::panic::Location;
use std::sync::{Arc, Weak};
use std::time::Instant;

use super::local::{Local, LockId};
use super::policy;
use crate::facade::{self as sync, Ordering};
use crate::report::{Access, Spans, Trace, capture_spans, current_spans};

/// What a thread publishes while an observer looks.
pub(crate) struct ThreadRecord {
    name: Arc<str>,
    state: sync::Mutex<Published>,
}

#[derive(Default)]
struct Published {
    held: Vec<PubHeld>,
    wait: Option<PubWait>,
}

#[derive(Clone)]
pub(crate) struct PubHeld {
    pub(crate) id: LockId,
    pub(crate) slot: u32,
    pub(crate) access: Access,
    pub(crate) site: &'static Location<'static>,
    pub(crate) since: Instant,
    pub(crate) trace: Option<Trace>,
    /// The span stack when it was acquired.
    pub(crate) spans: Spans,
}

#[derive(Clone)]
pub(crate) struct PubWait {
    pub(crate) serial: u64,
    /// The lock waited for; `None` for a Condvar wait (of `mutex`).
    pub(crate) lock: Option<(LockId, u32)>,
    pub(crate) mutex: Option<(LockId, u32)>,
    pub(crate) site: &'static Location<'static>,
    pub(crate) since: Instant,
    /// The span stack when the wait began.
    pub(crate) spans: Spans,
    /// A wait outside locks and Condvars: what, and where it was created.
    pub(crate) blocked: Option<(&'static str, &'static Location<'static>)>,
    /// (A join) The thread waited for, once it has published its record.
    pub(crate) joins: Option<Joined>,
}

/// Where a spawned thread leaves its publication for its `JoinHandle`
/// (filled when the thread starts, which may be after a join began).
pub(crate) type Joined = Arc<sync::Mutex<Option<Weak<ThreadRecord>>>>;

sync::global! {
    static REGISTRY: sync::Mutex<Vec<Weak<ThreadRecord>>> = lazy sync::Mutex::new(Vec::new());
}
sync::global! {
    static WAIT_SERIAL: sync::AtomicU64 = const sync::AtomicU64::new(1);
}

/// A thread's (or task's) publication: its record, once made, and the
/// backtraces of its acquisition sites.
#[derive(Default)]
pub(crate) struct Publication {
    record: Option<Arc<ThreadRecord>>,
    /// Locks this thread published and has not released yet.
    published: usize,
    /// Backtraces (and span stacks) by site, so each site is unwound once.
    traces: Vec<(usize, Option<Trace>, Spans)>,
}

const TRACE_CACHE: usize = 64;

impl Publication {
    pub(crate) const fn new() -> Publication {
        Publication {
            record: None,
            published: 0,
            traces: Vec::new(),
        }
    }

    #[inline(always)]
    pub(crate) fn has_published(&self) -> bool {
        self.published != 0
    }

    /// Whether this publication was ever used (it has a record).
    #[inline(always)]
    pub(crate) fn is_used(&self) -> bool {
        self.record.is_some()
    }

    fn record(&mut self, name: Arc<str>) -> &Arc<ThreadRecord> {
        self.record.get_or_insert_with(|| {
            let record = Arc::new(ThreadRecord {
                name,
                state: sync::Mutex::new(Published::default()),
            });
            let mut registry = REGISTRY.lock();
            registry.retain(|r| r.strong_count() > 0);
            registry.push(Arc::downgrade(&record));
            record
        })
    }

    /// The backtrace and the span stack of `site`, captured the first time
    /// this thread gets there (per site, in a small direct-mapped cache).
    pub(crate) fn trace(&mut self, site: &'static Location<'static>) -> (Option<Trace>, Spans) {
        let key = site as *const Location<'static> as usize;
        let slot = (key >> 4) % TRACE_CACHE;
        if self.traces.is_empty() {
            self.traces = vec![(0, None, None); TRACE_CACHE];
        }
        if self.traces[slot].0 != key {
            self.traces[slot] = (
                key,
                sync::capture_backtrace().map(Trace::new),
                capture_spans(),
            );
        }
        let (_, trace, spans) = &self.traces[slot];
        (trace.clone(), spans.clone())
    }
}

/// Publishes a lock this thread now holds.
#[cold]
#[inline(never)]
pub(crate) fn publish(
    local: &mut Local,
    id: LockId,
    slot: u32,
    access: Access,
    site: &'static Location<'static>,
) {
    let name = local.thread_name();
    let (trace, _) = local.publication.trace(site);
    // The spans of this acquisition, not of the first one at this site:
    // they say which request holds the lock.
    let spans = current_spans(&mut local.spans);
    let record = local.publication.record(name).clone();
    record.state.lock().held.push(PubHeld {
        id,
        slot,
        access,
        site,
        since: Instant::now(),
        trace,
        spans,
    });
    local.publication.published += 1;
}

/// Withdraws the most recent publication of `id`.
#[cold]
#[inline(never)]
pub(crate) fn unpublish(local: &mut Local, id: LockId) {
    unpublish_from(&mut local.publication, id);
}

/// Withdraws the most recent publication of `id` from `watch` (a thread's,
/// or a task's from another context).
pub(crate) fn unpublish_from(watch: &mut Publication, id: LockId) {
    if let Some(record) = &watch.record {
        let mut state = record.state.lock();
        if let Some(i) = state.held.iter().rposition(|h| h.id == id) {
            state.held.remove(i);
            watch.published -= 1;
        }
    }
}

/// A registered wait; withdrawn when dropped.
pub(crate) struct WaitGuard {
    record: Option<Arc<ThreadRecord>>,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        if let Some(record) = &self.record {
            record.state.lock().wait = None;
        }
    }
}

/// What a thread waits for: a lock, a Condvar (of `mutex`), or something
/// else (`blocked`: what, and where it was created).
struct WaitOn {
    lock: Option<(LockId, u32)>,
    mutex: Option<(LockId, u32)>,
    blocked: Option<(&'static str, &'static Location<'static>)>,
    joins: Option<Joined>,
}

/// Publishes this thread's wait until the guard is dropped.
fn register(wait: WaitOn, site: &'static Location<'static>) -> WaitGuard {
    let record = super::local::with(|local| {
        let name = local.thread_name();
        local.publication.record(name).clone()
    });
    if let Some(record) = &record {
        let serial = WAIT_SERIAL.fetch_add(1, Ordering::Relaxed);
        record.state.lock().wait = Some(PubWait {
            serial,
            lock: wait.lock,
            mutex: wait.mutex,
            site,
            since: Instant::now(),
            spans: capture_spans(),
            blocked: wait.blocked,
            joins: wait.joins,
        });
    }
    WaitGuard { record }
}

/// Registers that this thread is about to park: waiting for `lock`, or
/// (with `lock == None`) on a Condvar of `mutex`.
#[cold]
#[inline(never)]
pub(crate) fn begin_wait(
    lock: Option<(LockId, u32)>,
    mutex: Option<(LockId, u32)>,
    site: &'static Location<'static>,
) -> WaitGuard {
    let wait = WaitOn {
        lock,
        mutex,
        blocked: None,
        joins: None,
    };
    register(wait, site)
}

/// While a watchdog runs, registers that this thread blocks in `what` (a
/// channel's `recv`, a full `sync_channel`'s `send`, `Barrier::wait`) of
/// the object created at `created`, so that a report naming this thread as
/// a holder says where it is stuck. `None` (nothing to withdraw) otherwise.
#[inline]
pub(crate) fn begin_blocked(
    what: &'static str,
    created: &'static Location<'static>,
    site: &'static Location<'static>,
) -> Option<WaitGuard> {
    blocked_on(what, created, site, None)
}

/// [`begin_blocked`], and for a join the publication of the thread joined.
#[inline]
fn blocked_on(
    what: &'static str,
    created: &'static Location<'static>,
    site: &'static Location<'static>,
    joins: Option<&Joined>,
) -> Option<WaitGuard> {
    if !policy::is_publishing(policy::state()) {
        return None;
    }
    let wait = WaitOn {
        lock: None,
        mutex: None,
        blocked: Some((what, created)),
        joins: joins.cloned(),
    };
    Some(register(wait, site))
}

/// This thread's publication, made now if a watchdog runs: a spawned
/// thread hands it to its `JoinHandle`, so that a join waiting for it can
/// be followed to what the thread itself waits for.
pub(crate) fn this_thread() -> Option<Weak<ThreadRecord>> {
    if !policy::is_publishing(policy::state()) {
        return None;
    }
    super::local::with(|local| {
        let name = local.thread_name();
        Arc::downgrade(local.publication.record(name))
    })
}

/// [`begin_blocked`] for a join of the thread whose publication is
/// `joined`: threads waiting on each other through joins and locks are a
/// deadlock the watchdog sees (`deadlock: threads waiting on each other`).
#[inline]
pub(crate) fn begin_join(
    what: &'static str,
    created: &'static Location<'static>,
    site: &'static Location<'static>,
    joined: &Joined,
) -> Option<WaitGuard> {
    blocked_on(what, created, site, Some(joined))
}

/// A copy of one thread's publication.
pub(crate) struct Snapshot {
    /// The record's address (what a join names).
    pub(crate) key: usize,
    pub(crate) name: Arc<str>,
    pub(crate) held: Vec<PubHeld>,
    pub(crate) wait: Option<PubWait>,
}

/// A copy of every live thread's publication.
pub(crate) fn snapshot() -> Vec<Snapshot> {
    let records: Vec<Arc<ThreadRecord>> =
        REGISTRY.lock().iter().filter_map(Weak::upgrade).collect();
    records
        .iter()
        .map(|r| {
            let state = r.state.lock();
            Snapshot {
                key: Arc::as_ptr(r) as usize,
                name: r.name.clone(),
                held: state.held.clone(),
                wait: state.wait.clone(),
            }
        })
        .collect()
}
