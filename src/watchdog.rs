//! The watchdog: finds the hangs the lock-order graph cannot see.
//!
//! The order graph reports an inversion before anything blocks, but some
//! hangs involve no inversion: a thread waits on a `Condvar` nobody will
//! notify while holding a lock another thread needs; a lock's holder is
//! stuck on a channel or in a lock lockgraph does not know; or a real cycle
//! forms under the log or callback policy. The watchdog is an opt-in thread
//! that notices a thread blocked on a lockgraph lock longer than a
//! threshold and reports who waits for what and who holds it, and the cycle
//! when the waits form one:
//!
//! ```
//! use std::time::Duration;
//!
//! let watchdog = lockgraph::watchdog::start(lockgraph::watchdog::Config::new(Duration::from_secs(5)));
//! // ... run the program; a thread stuck for 5 s on a lockgraph lock is
//! // reported with the lock's holder ...
//! watchdog.stop();
//! ```
//!
//! `LOCKGRAPH_WATCHDOG=<seconds>` in the environment starts one (detached)
//! at the first lock operation, without rebuilding.
//!
//! Cost: nothing until a watchdog starts (the check shares the policy's
//! flag byte). While one runs, each acquisition publishes the held lock to
//! a per-thread record (an uncontended per-thread lock) with the backtrace
//! of its acquisition site (captured once per site and thread), and only
//! an acquisition that finds its lock busy registers a wait before
//! parking. The watchdog thread never takes a user lock, does not keep the
//! process alive, and stops when its [`Watchdog`] handle is dropped.
//!
//! Reports go through the policy like any other. Under the panic policy,
//! which cannot unwind a thread that is stuck, the report is printed to
//! stderr, and a wait cycle (a certain deadlock) then aborts the process so
//! a test or CI job fails instead of hanging. Timed waits (`wait_timeout`,
//! `try_lock_for`) are never reported, and neither is a `Condvar` wait by
//! itself: a consumer may wait for work for as long as it likes.
//!
//! The watchdog needs lock identities, so it only works in builds with
//! detection on (debug, or the `always` feature); elsewhere `start` returns
//! a handle that watches nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::detect::graph;
use crate::detect::local::LockId;
use crate::detect::policy;
use crate::detect::publish::{PubWait, Snapshot, snapshot};
use crate::facade as sync;
use crate::report::{
    Access, HeldLock, Holder, HolderState, LockInfo, Report, ReportKind, WaitInfo,
};

/// How the watchdog runs.
#[derive(Clone, Debug)]
pub struct Config {
    threshold: Duration,
    poll: Duration,
}

impl Config {
    /// Report threads blocked on a lockgraph lock for longer than
    /// `threshold`. The watchdog checks four times per threshold (at most
    /// every second, at least every 10 ms).
    pub fn new(threshold: Duration) -> Config {
        let poll = (threshold / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        Config { threshold, poll }
    }

    /// How often the watchdog looks (default: a quarter of the threshold).
    pub fn poll_interval(mut self, poll: Duration) -> Config {
        self.poll = poll.max(Duration::from_millis(1));
        self
    }

    /// The threshold.
    pub fn threshold(&self) -> Duration {
        self.threshold
    }
}

/// A running watchdog. Dropping the handle (or [`Watchdog::stop`]) stops
/// it; [`Watchdog::detach`] lets it run for the rest of the process.
#[must_use = "the watchdog stops when this handle is dropped; call .detach() to keep it running"]
#[derive(Debug)]
pub struct Watchdog {
    stop: Arc<AtomicFlag>,
    thread: Option<JoinHandle<()>>,
}

/// A std atomic: the watchdog thread is not part of any loom model.
#[derive(Debug, Default)]
struct AtomicFlag(std::sync::atomic::AtomicBool);

impl Watchdog {
    /// Stops the watchdog and waits for its thread to finish.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Lets the watchdog run until the process exits.
    pub fn detach(mut self) {
        self.thread = None;
    }

    fn shutdown(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.stop
                .0
                .store(true, std::sync::atomic::Ordering::Relaxed);
            thread.thread().unpark();
            let _ = thread.join();
            let mut running = RUNNING.lock();
            *running -= 1;
            policy::set_publishing(*running > 0);
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a watchdog with `config`. Any watchdog already running keeps
/// running too; both report.
pub fn start(config: Config) -> Watchdog {
    let stop = Arc::new(AtomicFlag::default());
    if !crate::ENABLED {
        return Watchdog { stop, thread: None };
    }
    let flag = stop.clone();
    let mut running = RUNNING.lock();
    let thread = thread::Builder::new()
        .name("lockgraph-watchdog".into())
        .spawn(move || run(config, &flag))
        .ok();
    if thread.is_some() {
        *running += 1;
        policy::set_publishing(true);
    }
    Watchdog { stop, thread }
}

// Watchdogs running: acquisitions publish while any does.
sync::global! {
    static RUNNING: sync::Mutex<usize> = lazy sync::Mutex::new(0);
}

/// Starts a detached watchdog from `LOCKGRAPH_WATCHDOG=<seconds>`.
pub(crate) fn start_from_env() {
    if let Some(threshold) = policy::seconds_from_env("LOCKGRAPH_WATCHDOG") {
        FROM_ENV.store(true, std::sync::atomic::Ordering::Relaxed);
        start(Config::new(threshold)).detach();
    }
}

/// Whether the watchdog was started by `LOCKGRAPH_WATCHDOG` (as `cargo
/// lockgraph test` does): then a wait cycle ends the process under every
/// policy but `off`, after the policy has seen it — a test must fail, not
/// hang.
static FROM_ENV: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(crate) fn started_from_env() -> bool {
    FROM_ENV.load(std::sync::atomic::Ordering::Relaxed)
}

// ------------------------------------------------------------ the watchdog

fn run(config: Config, stop: &AtomicFlag) {
    let mut reported: HashSet<u64> = HashSet::new();
    while !stop.0.load(std::sync::atomic::Ordering::Relaxed) {
        thread::park_timeout(config.poll);
        let threads = snapshot();
        let live: HashSet<u64> = threads
            .iter()
            .filter_map(|t| t.wait.as_ref().map(|w| w.serial))
            .collect();
        reported.retain(|serial| live.contains(serial));
        for report in find(&threads, config.threshold, &mut reported) {
            policy::dispatch_observed(Box::new(report), started_from_env());
        }
    }
}

/// The threads holding `lock`, other than `waiter`.
fn holders(threads: &[Snapshot], lock: (LockId, u32), waiter: usize) -> Vec<usize> {
    (0..threads.len())
        .filter(|&t| t != waiter && threads[t].held.iter().any(|h| (h.id, h.slot) == lock))
        .collect()
}

/// Stuck lock waits not reported yet, each followed through its holders.
fn find(threads: &[Snapshot], threshold: Duration, reported: &mut HashSet<u64>) -> Vec<Report> {
    let now = Instant::now();
    let mut reports = Vec::new();
    for start in 0..threads.len() {
        let Some(wait) = &threads[start].wait else {
            continue;
        };
        if wait.lock.is_none() || reported.contains(&wait.serial) || now - wait.since < threshold {
            continue;
        }
        // Follow waiter -> holder -> what the holder waits for -> ...
        let mut chain = vec![start];
        let mut cycle_from = None;
        loop {
            let t = *chain.last().unwrap();
            let Some(wait) = &threads[t].wait else { break };
            // A lock's holder, or the thread a join waits for.
            let next = match (wait.lock, &wait.joins) {
                (Some(lock), _) => holders(threads, lock, t).first().copied(),
                (None, Some(joined)) => {
                    let key = joined.lock().as_ref().map(|w| w.as_ptr() as usize);
                    key.and_then(|key| threads.iter().position(|s| s.key == key))
                }
                (None, None) => None,
            };
            let Some(next) = next else {
                break;
            };
            if let Some(pos) = chain.iter().position(|&c| c == next) {
                cycle_from = Some(pos);
                break;
            }
            chain.push(next);
        }
        let (kind, members) = match cycle_from {
            Some(pos) => (ReportKind::WaitCycle, chain[pos..].to_vec()),
            None => (ReportKind::HeldTooLong, chain),
        };
        for &t in &members {
            if let Some(w) = &threads[t].wait {
                reported.insert(w.serial);
            }
        }
        reports.extend(build(threads, kind, &members, now));
    }
    reports
}

/// The report for a chain (or cycle) of waiting threads; `None` if its
/// locks are gone by now.
fn build(
    threads: &[Snapshot],
    kind: ReportKind,
    members: &[usize],
    now: Instant,
) -> Option<Report> {
    let mut locks: Vec<LockInfo> = Vec::new();
    let mut index_of = HashMap::new();
    let mut lock_index = |key: (LockId, u32), locks: &mut Vec<LockInfo>| -> Option<usize> {
        if let Some(&i) = index_of.get(&key) {
            return Some(i);
        }
        let info = graph::lock_info(key.0, key.1)?;
        locks.push(info);
        index_of.insert(key, locks.len() - 1);
        Some(locks.len() - 1)
    };
    let mut waits = Vec::new();
    for (i, &t) in members.iter().enumerate() {
        let snapshot = &threads[t];
        let Some(wait) = &snapshot.wait else { continue };
        let Some(key) = wait.lock else { continue };
        let lock = lock_index(key, &mut locks);
        // The next member holds it; at the end of a chain, any holder.
        let holder_thread = match members.get(i + 1) {
            Some(&next) => Some(next),
            None if kind == ReportKind::WaitCycle => Some(members[0]),
            None => holders(threads, key, t).first().copied(),
        };
        let holder = holder_thread.map(|h| {
            let held = threads[h]
                .held
                .iter()
                .rev()
                .find(|p| (p.id, p.slot) == key)
                .cloned();
            let state = match &threads[h].wait {
                Some(w) if w.lock.is_some() => HolderState::WaitingForLock,
                Some(PubWait {
                    blocked: Some((what, created)),
                    site,
                    since,
                    ..
                }) => HolderState::Blocked {
                    what,
                    created_at: created,
                    at: site,
                    waited: now - *since,
                },
                Some(w) => HolderState::WaitingOnCondvar {
                    at: w.site,
                    waited: now - w.since,
                    mutex: w.mutex.and_then(|m| lock_index(m, &mut locks)),
                },
                None => HolderState::NotWaiting,
            };
            Holder {
                thread: threads[h].name.clone(),
                acquired_at: held.as_ref().map(|p| p.site),
                held_for: held.as_ref().map(|p| now - p.since),
                spans: held.as_ref().and_then(|p| p.spans.clone()),
                trace: held.and_then(|p| p.trace),
                state,
            }
        });
        waits.push(WaitInfo {
            thread: snapshot.name.clone(),
            lock,
            at: wait.site,
            waited: now - wait.since,
            holder,
            spans: wait.spans.clone(),
        });
    }
    let first = &threads[members[0]];
    let acquiring = waits.first()?.lock?;
    let location = first.wait.as_ref()?.site;
    let held = first
        .held
        .iter()
        .filter_map(|p| {
            graph::lock_info(p.id, p.slot).map(|lock| HeldLock {
                lock,
                access: p.access,
                acquired_at: p.site,
            })
        })
        .collect();
    let title = match kind {
        ReportKind::WaitCycle => "deadlock: threads waiting on each other",
        _ => "lock held too long",
    };
    Some(Report {
        kind,
        title: title.to_owned(),
        thread: first.name.clone(),
        acquiring,
        access: Access::Exclusive,
        location,
        locks,
        edges: Vec::new(),
        held,
        previous: None,
        trace: None,
        spans: first.wait.as_ref().and_then(|w| w.spans.clone()),
        waits,
        variable: None,
        accesses: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_polls_four_times_per_threshold_within_bounds() {
        assert_eq!(
            Config::new(Duration::from_secs(1)).poll,
            Duration::from_millis(250)
        );
        assert_eq!(
            Config::new(Duration::from_millis(1)).poll,
            Duration::from_millis(10)
        );
        assert_eq!(
            Config::new(Duration::from_secs(60)).poll,
            Duration::from_secs(1)
        );
    }
}
