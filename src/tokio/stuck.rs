//! The deferred verdict on a `lock()`, `read()` or `write()` future that
//! finds its lock already held by its own context.
//!
//! Concurrent branches of one task (`join!`, `join_all`, `select!`,
//! `FuturesUnordered`, or a `block_on` of a join on a plain thread) share
//! the task's context, and lockgraph cannot see which branch holds what. A
//! branch locking what a sibling holds is correct — it waits its turn — but
//! looks exactly like a sequential relock (`let a = m.lock().await; let b =
//! m.lock().await;`), which hangs for ever. So the acquisition is not
//! reported when it starts: it becomes a [`Suspect`], and is reported — with
//! the relock report it would have had at once — only if it is *stuck*: it
//! still waits, and the lock has not been released once, for the whole
//! stuck time ([`stuck_after`], 3 s unless `LOCKGRAPH_STUCK` or
//! [`set_stuck_after`] say otherwise). A sibling that holds the lock across
//! an `.await` releases it sooner and lets the waiter in; every release
//! starts the time again.
//!
//! One detector thread (`lockgraph-stuck`, started with the first suspect)
//! keeps the deadlines. When one passes it wakes the waiting future, whose
//! next poll — in its own task, so a panicking policy fails that task, or
//! the `#[tokio::test]`, as the immediate report did — checks the release
//! count and reports. Nothing else runs on that thread, and it takes no lock
//! the program can hold: it cannot deadlock with the program.

#![cfg_attr(not(any(debug_assertions, feature = "always")), allow(dead_code))]

use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use crate::facade as sync;

/// The stuck time's default.
const DEFAULT: Duration = Duration::from_secs(3);

/// The stuck time in microseconds; 0 until first read (then from the
/// environment, or the default).
static STUCK_MICROS: AtomicU64 = AtomicU64::new(0);

/// How long a `lock()` future that found its lock held by its own context
/// must wait, with no release of the lock, before it is reported as a
/// self-deadlock (see the [module docs](crate::tokio)). 3 s by default;
/// `LOCKGRAPH_STUCK=<seconds>` in the environment (read once, at the first
/// such acquisition) or [`set_stuck_after`] change it.
pub fn stuck_after() -> Duration {
    match STUCK_MICROS.load(Ordering::Relaxed) {
        0 => {
            let stuck =
                crate::detect::policy::seconds_from_env("LOCKGRAPH_STUCK").unwrap_or(DEFAULT);
            // A `set_stuck_after` meanwhile wins.
            let _ = STUCK_MICROS.compare_exchange(
                0,
                micros(stuck),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            Duration::from_micros(STUCK_MICROS.load(Ordering::Relaxed))
        }
        us => Duration::from_micros(us),
    }
}

/// Sets [`stuck_after`] for the whole process (at least 1 ms). A suspect
/// already waiting keeps its deadline.
///
/// ```
/// use std::time::Duration;
///
/// lockgraph::tokio::set_stuck_after(Duration::from_millis(200));
/// assert_eq!(lockgraph::tokio::stuck_after(), Duration::from_millis(200));
/// # lockgraph::tokio::set_stuck_after(Duration::from_secs(3));
/// ```
pub fn set_stuck_after(stuck: Duration) {
    STUCK_MICROS.store(micros(stuck), Ordering::Relaxed);
}

/// The stuck time of a relock whose waiting future lives where the
/// holder's did — the same flow, so a certain hang unless the guard was
/// handed to a sibling that drops it soon: a thirtieth of [`stuck_after`]
/// (100 ms by default), at least 10 ms.
pub(crate) fn same_flow_after() -> Duration {
    (stuck_after() / 30).max(Duration::from_millis(10))
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1000)
}

/// A waiting acquisition whose verdict was deferred.
pub(crate) struct Suspect {
    /// The acquiring context, the lock's id and the acquisition's site.
    context: u64,
    lock: u64,
    site: &'static Location<'static>,
    /// When it started waiting.
    since: Instant,
    /// How long it may wait with the lock unreleased.
    stuck: Duration,
    /// The deadline passed and the waiter should look (set by the detector
    /// thread, taken by the waiter's poll).
    due: AtomicBool,
    /// Reported already: no second report from this acquisition.
    reported: AtomicBool,
    state: sync::Mutex<State>,
}

struct State {
    deadline: Instant,
    /// The lock's release count when the time started.
    releases: u32,
    waker: Option<Waker>,
}

impl Suspect {
    /// A new suspect, its time started now with the lock's release count
    /// `releases`, handed to the detector thread.
    pub(crate) fn new(
        releases: u32,
        (context, lock, site): (u64, u64, &'static Location<'static>),
        stuck: Duration,
    ) -> Arc<Suspect> {
        let suspect = Arc::new(Suspect {
            context,
            lock,
            site,
            since: Instant::now(),
            due: AtomicBool::new(false),
            reported: AtomicBool::new(false),
            stuck,
            state: sync::Mutex::new(State {
                deadline: Instant::now() + stuck,
                releases,
                waker: None,
            }),
        });
        enqueue(Arc::downgrade(&suspect));
        suspect
    }

    /// One poll of the waiting acquisition that found the lock busy:
    /// remembers the waker, and says whether the acquisition is stuck now
    /// (`releases` is the lock's count now; a release since the time started
    /// starts it again). `true` once at most.
    pub(crate) fn poll(&self, cx: &Context<'_>, releases: u32) -> bool {
        if self.reported.load(Ordering::Relaxed) {
            return false;
        }
        let due = self.due.swap(false, Ordering::Acquire);
        let mut state = self.state.lock();
        if !state
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.waker = Some(cx.waker().clone());
        }
        if !due {
            return false;
        }
        if state.releases != releases {
            // Released meanwhile (the lock went to someone queued earlier):
            // the holder is not stuck; time again from now.
            state.releases = releases;
            state.deadline = Instant::now() + self.stuck;
            drop(state);
            wake_timer();
            return false;
        }
        self.reported.store(true, Ordering::Relaxed);
        true
    }
}

/// Another acquisition of context `context`, waiting for a lock other than
/// `lock` for at least half the stuck time: two branches of one task waiting for
/// each other's locks. Its lock and site.
pub(crate) fn stuck_sibling(context: u64, lock: u64) -> Option<(u64, &'static Location<'static>)> {
    // Half the stuck time: the two branches started waiting at about the
    // same time, and this one's deadline may have come a moment first.
    let stuck = Instant::now().checked_sub(stuck_after() / 2)?;
    QUEUE.lock().suspects.iter().find_map(|suspect| {
        let suspect = suspect.upgrade()?;
        (suspect.context == context && suspect.lock != lock && suspect.since <= stuck)
            .then_some((suspect.lock, suspect.site))
    })
}

struct Queue {
    suspects: Vec<Weak<Suspect>>,
    timer: Option<sync::thread::Thread>,
    /// The timer is parked with no deadline to wake for. Otherwise it wakes
    /// at the earliest deadline it saw, which no new or re-armed deadline
    /// (now plus the stuck time) can precede: no need to wake it.
    idle: bool,
}

sync::global! {
    static QUEUE: sync::Mutex<Queue> = lazy sync::Mutex::new(Queue { suspects: Vec::new(), timer: None, idle: false });
}

fn enqueue(suspect: Weak<Suspect>) {
    let mut guard = QUEUE.lock();
    let queue = &mut *guard;
    queue.suspects.push(suspect);
    match &queue.timer {
        Some(timer) => {
            if std::mem::take(&mut queue.idle) {
                timer.unpark();
            }
        }
        None => {
            let spawned = sync::thread::Builder::new()
                .name("lockgraph-stuck".into())
                .spawn(run);
            match spawned {
                Ok(handle) => queue.timer = Some(handle.thread().clone()),
                Err(error) => {
                    eprintln!("lockgraph: cannot start the stuck-acquisition timer: {error}")
                }
            }
        }
    }
}

fn wake_timer() {
    let mut queue = QUEUE.lock();
    if std::mem::take(&mut queue.idle)
        && let Some(timer) = &queue.timer
    {
        timer.unpark();
    }
}

/// The detector thread: marks suspects whose deadline passed and wakes
/// their futures; parks until the next deadline.
fn run() {
    let mut wake = Vec::new();
    loop {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut queue = QUEUE.lock();
        queue.suspects.retain(|suspect| {
            let Some(suspect) = suspect.upgrade() else {
                return false;
            };
            if suspect.reported.load(Ordering::Relaxed) {
                return false;
            }
            let mut state = suspect.state.lock();
            if suspect.due.load(Ordering::Relaxed) {
                return true;
            }
            if state.deadline <= now {
                suspect.due.store(true, Ordering::Release);
                wake.extend(state.waker.take());
            } else {
                next = Some(next.map_or(state.deadline, |n| n.min(state.deadline)));
            }
            true
        });
        queue.idle = next.is_none();
        drop(queue);
        // Outside every lock: a waker runs the executor's code.
        for waker in wake.drain(..) {
            waker.wake();
        }
        match next {
            Some(deadline) => sync::thread::park_timeout(deadline.saturating_duration_since(now)),
            None => sync::thread::park(),
        }
    }
}
