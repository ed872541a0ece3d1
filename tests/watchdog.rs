//! The watchdog: hangs the order graph cannot see are reported within the
//! threshold, naming waiter and holder; clean programs are not reported.
//! Tests run one at a time (the policy is process-wide); scenarios that
//! really deadlock leave their threads blocked until the process exits, so
//! each test only counts reports about its own (uniquely named) threads.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex as StdMutex, MutexGuard as StdGuard};
use std::thread;
use std::time::{Duration, Instant};

use lockgraph::watchdog::{self, Config};
use lockgraph::{Condvar, HolderState, Mutex, Policy, Report, ReportKind, set_policy};

const THRESHOLD: Duration = Duration::from_millis(300);

/// Collects every report; restores the panic policy when dropped.
struct Recorder {
    reports: Arc<StdMutex<Vec<Report>>>,
    _serial: StdGuard<'static, ()>,
}

impl Recorder {
    fn start() -> Recorder {
        static SERIAL: StdMutex<()> = StdMutex::new(());
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let reports = Arc::new(StdMutex::new(Vec::new()));
        let sink = reports.clone();
        set_policy(Policy::callback(move |r| {
            sink.lock().unwrap().push(r.clone())
        }));
        Recorder {
            reports,
            _serial: serial,
        }
    }

    /// Watchdog reports whose first waiter's name starts with `prefix`.
    fn about(&self, prefix: &str) -> Vec<Report> {
        self.reports
            .lock()
            .unwrap()
            .iter()
            .filter(|r| matches!(r.kind(), ReportKind::WaitCycle | ReportKind::HeldTooLong))
            .filter(|r| r.waits().iter().any(|w| w.thread().starts_with(prefix)))
            .cloned()
            .collect()
    }

    /// Waits up to `limit` for a report about `prefix`; returns it and how
    /// long it took.
    fn wait_for(&self, prefix: &str, limit: Duration) -> Option<(Report, Duration)> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(report) = self.about(prefix).into_iter().next() {
                return Some((report, start.elapsed()));
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        set_policy(Policy::Panic);
    }
}

fn named<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .unwrap()
}

#[test]
fn a_condvar_wait_holding_a_lock_the_notifier_needs_is_reported() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let shared = Arc::new((
        Mutex::named("jobs", 0),
        Mutex::named("ready-state", false),
        Condvar::new(),
    ));
    let waiter = {
        let shared = shared.clone();
        named("cv-consumer", move || {
            let (jobs, state, cv) = &*shared;
            let _jobs = jobs.lock().unwrap(); // held across the wait: the bug
            let guard = state.lock().unwrap();
            let _guard = cv.wait_while(guard, |ready| !*ready).unwrap();
        })
    };
    // Long enough for the consumer to be inside the wait even when its
    // first edge's backtrace waits for another thread's symbol resolution
    // (the backtrace crate's lock), as under `cargo lockgraph test`.
    thread::sleep(Duration::from_millis(1000));
    let notifier = {
        let shared = shared.clone();
        named("cv-producer", move || {
            let (jobs, state, cv) = &*shared;
            *jobs.lock().unwrap() += 1; // blocks: the consumer holds `jobs`
            *state.lock().unwrap() = true;
            cv.notify_all();
        })
    };
    let (report, _) = recorder
        .wait_for("cv-", THRESHOLD + Duration::from_secs(2))
        .expect("reported");
    assert_eq!(report.kind(), ReportKind::HeldTooLong);
    assert_eq!(report.title(), "lock held too long");
    let wait = &report.waits()[0];
    assert_eq!(wait.thread(), "cv-producer");
    assert_eq!(report.locks()[wait.lock().unwrap()].name(), Some("jobs"));
    let holder = wait.holder().expect("the holder is known");
    assert_eq!(holder.thread(), "cv-consumer");
    assert!(matches!(
        holder.state(),
        HolderState::WaitingOnCondvar { .. }
    ));
    let text = report.to_string();
    assert!(text.contains("waits on a Condvar"), "{text}");
    assert!(text.contains("tests/watchdog.rs"), "{text}");
    // Unblock: give the consumer what it waits for.
    *shared.1.lock().unwrap() = true;
    shared.2.notify_all();
    waiter.join().unwrap();
    notifier.join().unwrap();
    dog.stop();
}

#[test]
fn a_lock_held_by_a_sleeping_thread_is_held_too_long_with_the_holders_site() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let lock = Arc::new(Mutex::named("cache", ()));
    let (tx, rx) = mpsc::channel();
    let holder = {
        let lock = lock.clone();
        named("sleepy-holder", move || {
            let (_guard, site) = (lock.lock().unwrap(), common::here());
            tx.send(site).unwrap();
            thread::sleep(THRESHOLD * 4);
        })
    };
    let site = rx.recv().unwrap();
    let waiter = {
        let lock = lock.clone();
        named("sleepy-waiter", move || drop(lock.lock().unwrap()))
    };
    let (report, _) = recorder
        .wait_for("sleepy-", THRESHOLD * 4)
        .expect("reported while the holder sleeps");
    let holder_info = report.waits()[0].holder().expect("holder known");
    assert_eq!(holder_info.thread(), "sleepy-holder");
    assert_eq!(
        holder_info.acquired_at().map(common::file_line),
        Some(common::file_line(site))
    );
    assert!(matches!(holder_info.state(), HolderState::NotWaiting));
    assert!(report.to_string().contains(&common::file_line(site)));
    holder.join().unwrap();
    waiter.join().unwrap();
    dog.stop();
}

#[test]
fn stopping_one_watchdog_leaves_another_one_watching() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let first = watchdog::start(Config::new(THRESHOLD));
    let second = watchdog::start(Config::new(THRESHOLD));
    first.stop();
    let lock = Arc::new(Mutex::named("kept", ()));
    let (tx, rx) = mpsc::channel();
    let holder = {
        let lock = lock.clone();
        named("second-holder", move || {
            let _guard = lock.lock().unwrap();
            tx.send(()).unwrap();
            thread::sleep(THRESHOLD * 4);
        })
    };
    rx.recv().unwrap();
    let waiter = {
        let lock = lock.clone();
        named("second-waiter", move || drop(lock.lock().unwrap()))
    };
    let (report, _) = recorder
        .wait_for("second-", THRESHOLD * 4)
        .expect("reported by the watchdog still running");
    assert_eq!(report.waits()[0].thread(), "second-waiter");
    holder.join().unwrap();
    waiter.join().unwrap();
    second.stop();
}

#[test]
fn a_holder_blocked_on_a_channel_is_named() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let lock = Arc::new(Mutex::named("session", ()));
    let (tx, rx) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let holder = {
        let lock = lock.clone();
        named("chan-holder", move || {
            let _guard = lock.lock().unwrap();
            started_tx.send(()).unwrap();
            let _ = rx.recv(); // blocks until the test sends
        })
    };
    started.recv().unwrap();
    let waiter = {
        let lock = lock.clone();
        named("chan-waiter", move || drop(lock.lock().unwrap()))
    };
    let (report, _) = recorder
        .wait_for("chan-", THRESHOLD + Duration::from_secs(2))
        .expect("reported");
    let wait = &report.waits()[0];
    assert_eq!(
        (wait.thread(), wait.holder().map(|h| h.thread())),
        ("chan-waiter", Some("chan-holder"))
    );
    tx.send(()).unwrap();
    holder.join().unwrap();
    waiter.join().unwrap();
    dog.stop();
}

#[test]
fn a_real_two_thread_deadlock_is_a_wait_cycle() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let (a, b) = (
        Arc::new(Mutex::named("left", ())),
        Arc::new(Mutex::named("right", ())),
    );
    let barrier = Arc::new(Barrier::new(2));
    // Under the callback policy the order inversion is reported and the
    // acquisition goes on, so the two threads really deadlock (and stay
    // blocked until the test process exits).
    for (name, first, second) in [("cycle-1", a.clone(), b.clone()), ("cycle-2", b, a)] {
        let barrier = barrier.clone();
        named(name, move || {
            let _f = first.lock().unwrap();
            barrier.wait();
            let _s = second.lock().unwrap();
        });
    }
    let (report, _) = recorder
        .wait_for("cycle-", THRESHOLD + Duration::from_secs(2))
        .expect("reported");
    assert_eq!(report.kind(), ReportKind::WaitCycle);
    assert_eq!(report.title(), "deadlock: threads waiting on each other");
    let threads: Vec<&str> = report.waits().iter().map(|w| w.thread()).collect();
    assert_eq!(threads.len(), 2, "{report}");
    assert!(
        threads.contains(&"cycle-1") && threads.contains(&"cycle-2"),
        "{report}"
    );
    // Reported once, not once per member.
    thread::sleep(THRESHOLD);
    assert_eq!(recorder.about("cycle-").len(), 1);
    dog.stop();
}

#[test]
fn a_three_thread_wait_through_a_foreign_lock_names_waiters_and_holders() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let a = Arc::new(Mutex::named("a", ()));
    let b = Arc::new(Mutex::named("b", ()));
    let foreign = Arc::new(StdMutex::new(())); // a lock lockgraph cannot see
    let barrier = Arc::new(Barrier::new(3));
    {
        let (a, foreign, barrier) = (a.clone(), foreign.clone(), barrier.clone());
        named("ring-1", move || {
            let _a = a.lock().unwrap();
            barrier.wait();
            let _f = foreign.lock().unwrap(); // blocks on ring-3
        });
    }
    {
        let (b, a, barrier) = (b.clone(), a.clone(), barrier.clone());
        named("ring-2", move || {
            let _b = b.lock().unwrap();
            barrier.wait();
            let _a = a.lock().unwrap(); // blocks on ring-1
        });
    }
    {
        let (foreign, b, barrier) = (foreign.clone(), b.clone(), barrier.clone());
        named("ring-3", move || {
            let _f = foreign.lock().unwrap();
            barrier.wait();
            let _b = b.lock().unwrap(); // blocks on ring-2
        });
    }
    let (_, _) = recorder
        .wait_for("ring-", THRESHOLD + Duration::from_secs(2))
        .expect("reported");
    thread::sleep(THRESHOLD);
    let reports = recorder.about("ring-");
    // ring-3 waits for b held by ring-2, which waits for a held by ring-1,
    // which is blocked outside lockgraph.
    let chain = reports
        .iter()
        .find(|r| r.waits()[0].thread() == "ring-3")
        .or_else(|| reports.iter().find(|r| r.waits()[0].thread() == "ring-2"))
        .expect("a chain from a waiter");
    let last = chain.waits().last().unwrap();
    assert_eq!(last.holder().map(|h| h.thread()), Some("ring-1"), "{chain}");
    assert!(matches!(
        last.holder().unwrap().state(),
        HolderState::NotWaiting
    ));
    assert!(
        chain
            .to_string()
            .contains("not waiting on any lockgraph lock"),
        "{chain}"
    );
    dog.stop();
}

#[test]
fn clean_programs_are_not_reported() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let shared = Arc::new((Mutex::new(0u64), Condvar::new()));
    let deadline = Instant::now() + THRESHOLD * 5;
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let shared = shared.clone();
            named(&format!("clean-{i}"), move || {
                while Instant::now() < deadline {
                    let (lock, cv) = &*shared;
                    let mut count = lock.lock().unwrap();
                    *count += 1;
                    cv.notify_all();
                    // Brief contention, notified waits, and timed waits that
                    // time out: none of it is a hang.
                    let (guard, _) = cv.wait_timeout(count, THRESHOLD * 2).unwrap();
                    drop(guard);
                    thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    let consumer = {
        let shared = shared.clone();
        named("clean-consumer", move || {
            // A long, untimed Condvar wait that does end: not reported.
            let (lock, cv) = &*shared;
            let guard = cv
                .wait_while(lock.lock().unwrap(), |count| *count < 20)
                .unwrap();
            drop(guard);
        })
    };
    for worker in workers {
        worker.join().unwrap();
    }
    consumer.join().unwrap();
    assert!(
        recorder.about("clean-").is_empty(),
        "{:?}",
        recorder.about("clean-")
    );
    dog.stop();
}

/// Run only as a child process by `the_environment_variable_starts_a_watchdog`:
/// under the default panic policy a watchdog report goes to stderr.
#[test]
#[ignore = "run as a child process"]
fn env_child_holds_a_lock_too_long() {
    hold_env_lock_too_long();
}

/// The same, after an explicit `set_policy` before any lock is taken: the
/// environment's watchdog starts all the same.
#[test]
#[ignore = "run as a child process"]
fn env_child_sets_the_policy_first() {
    lockgraph::set_policy(lockgraph::Policy::Panic);
    hold_env_lock_too_long();
}

/// Holds the lock well past the 0.2 s threshold: the environment's watchdog
/// is detached, and the process must outlive its report, whose backtrace
/// symbols take a while to resolve on a loaded machine (at 0.9 s, half the
/// runs beside a CI build ended before the report was printed).
fn hold_env_lock_too_long() {
    let lock = Arc::new(Mutex::named("env-lock", ()));
    let guard = lock.lock().unwrap();
    let waiter = {
        let lock = lock.clone();
        named("env-waiter", move || drop(lock.lock().unwrap()))
    };
    thread::sleep(Duration::from_millis(3000));
    drop(guard);
    waiter.join().unwrap();
}

#[test]
fn the_environment_variable_starts_a_watchdog() {
    if !lockgraph::ENABLED {
        return;
    }
    for child in [
        "env_child_holds_a_lock_too_long",
        "env_child_sets_the_policy_first",
    ] {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", child, "--ignored", "--nocapture"])
            .env("LOCKGRAPH_WATCHDOG", "0.2")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{child}: {stderr}");
        assert!(stderr.contains("lock held too long"), "{child}: {stderr}");
        assert!(
            stderr.contains("env-waiter") && stderr.contains("\"env-lock\""),
            "{child}: {stderr}"
        );
    }
}

#[test]
fn a_holder_blocked_in_a_lockgraph_channel_barrier_or_cell_is_named_with_its_site() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let lock = Arc::new(Mutex::named("ledger", ()));
    let (tx, rx) = lockgraph::sync::mpsc::channel::<()>();
    let channel_line = line!() - 1;
    let barrier = Arc::new(lockgraph::sync::Barrier::new(2));
    let barrier_line = line!() - 1;
    let cell = Arc::new(lockgraph::sync::OnceLock::<u32>::new());
    let cell_line = line!() - 1;
    // Another thread runs the cell's initialiser, held up until the gate
    // opens.
    let (gate_tx, gate) = mpsc::channel::<()>();
    let (init_started_tx, init_started) = mpsc::channel();
    let initialiser = {
        let cell = cell.clone();
        named("initialiser", move || {
            cell.get_or_init(|| {
                init_started_tx.send(()).unwrap();
                gate.recv().unwrap();
                5
            });
        })
    };
    init_started.recv().unwrap();
    let (started_tx, started) = mpsc::channel();
    let holder = {
        let (lock, barrier, cell) = (lock.clone(), barrier.clone(), cell.clone());
        named("named-holder", move || {
            {
                let _guard = lock.lock().unwrap();
                started_tx.send(()).unwrap();
                let _ = rx.recv(); // blocks until the test sends
            }
            {
                let _guard = lock.lock().unwrap();
                started_tx.send(()).unwrap();
                barrier.wait(); // blocks until the test arrives
            }
            let _guard = lock.lock().unwrap();
            started_tx.send(()).unwrap();
            assert_eq!(*cell.get_or_init(|| 0), 5); // waits for the initialiser
        })
    };
    for (what, line) in [
        ("recv on a channel", channel_line),
        ("Barrier::wait", barrier_line),
        ("OnceLock::get_or_init", cell_line),
    ] {
        started.recv().unwrap();
        let waiter_name = format!("waiter-for-{}", what.replace(' ', "-"));
        let waiter = {
            let lock = lock.clone();
            named(&waiter_name, move || drop(lock.lock().unwrap()))
        };
        let (report, _) = recorder
            .wait_for(&waiter_name, THRESHOLD + Duration::from_secs(2))
            .expect("reported");
        let text = report.to_string();
        let holder_state = report.waits()[0].holder().expect("known").state().clone();
        match holder_state {
            HolderState::Blocked {
                what: blocked_in,
                created_at,
                ..
            } => {
                assert_eq!(blocked_in, what);
                assert_eq!(created_at.line(), line, "{text}");
            }
            other => panic!("{what}: {other:?}\n{text}"),
        }
        assert!(
            text.contains(&format!(
                "is blocked in {what} (created at tests/watchdog.rs:{line}:"
            )),
            "{text}"
        );
        match what {
            "Barrier::wait" => drop(barrier.wait()),
            "OnceLock::get_or_init" => gate_tx.send(()).unwrap(),
            _ => tx.send(()).unwrap(),
        }
        waiter.join().unwrap();
    }
    initialiser.join().unwrap();
    holder.join().unwrap();
    dog.stop();
}

#[cfg(feature = "tokio")]
#[test]
fn a_task_awaiting_a_tokio_lock_held_by_a_suspended_task_is_reported_with_the_holder() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let lock = Arc::new(lockgraph::tokio::sync::Mutex::new(0));
        let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let holder = {
            let lock = lock.clone();
            tokio::spawn(async move {
                let _guard = lock.lock().await;
                locked_tx.send(()).unwrap();
                let _ = release_rx.await; // suspended, holding the lock
            })
        };
        locked_rx.await.unwrap();
        let waiter = {
            let lock = lock.clone();
            tokio::spawn(async move { *lock.lock().await += 1 })
        };
        // This body runs on the main thread, not a worker: it may block.
        let (report, _) = recorder
            .wait_for("task ", THRESHOLD * 2 + Duration::from_secs(2))
            .expect("the awaiting task is reported");
        let text = report.to_string();
        assert_eq!(report.kind(), ReportKind::HeldTooLong, "{text}");
        let holder_info = report.waits()[0].holder().expect("the holder is known");
        assert!(holder_info.thread().starts_with("task "), "{text}");
        assert!(holder_info.acquired_at().is_some(), "{text}");
        assert!(
            matches!(holder_info.state(), HolderState::NotWaiting),
            "{text}"
        );
        assert!(text.contains("suspended at another `.await`"), "{text}");
        assert!(
            text.contains("for tokio::sync::Mutex created at tests/watchdog.rs:"),
            "{text}"
        );
        release_tx.send(()).unwrap();
        holder.await.unwrap();
        waiter.await.unwrap();
        assert_eq!(*lock.lock().await, 1);
    });
    dog.stop();
}

#[test]
fn a_join_under_a_lock_the_joined_thread_needs_is_a_wait_cycle() {
    if !lockgraph::ENABLED {
        return;
    }
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let state = Arc::new(Mutex::named("join-state", 0));
    // The parent really deadlocks (it stays blocked until the process
    // exits): it joins, holding `state`, a child that needs `state`.
    let spawn_line = Arc::new(StdMutex::new(0));
    {
        let (state, spawn_line) = (state.clone(), spawn_line.clone());
        named("join-parent", move || {
            let _guard = state.lock().unwrap();
            let child = {
                let state = state.clone();
                *spawn_line.lock().unwrap() = line!() + 3;
                lockgraph::thread::Builder::new()
                    .name("join-child".into())
                    .spawn(move || *state.lock().unwrap() += 1)
                    .unwrap()
            };
            let _ = child.join();
        });
    }
    let (report, _) = recorder
        .wait_for("join-child", THRESHOLD + Duration::from_secs(2))
        .expect("reported");
    assert_eq!(report.kind(), ReportKind::WaitCycle, "{report}");
    let wait = &report.waits()[0];
    assert_eq!(wait.thread(), "join-child", "{report}");
    let holder = wait.holder().expect("the parent holds the lock");
    assert_eq!(holder.thread(), "join-parent", "{report}");
    match holder.state() {
        HolderState::Blocked {
            what, created_at, ..
        } => {
            assert_eq!(*what, "join of the thread spawned", "{report}");
            assert_eq!(created_at.line(), *spawn_line.lock().unwrap(), "{report}");
        }
        other => panic!("the parent is blocked in the join, not {other:?}:\n{report}"),
    }

    // The twin: the parent drops the guard before it joins (a lock of its
    // own: `state` stays held by the deadlocked parent).
    {
        let state = Arc::new(Mutex::named("join2-state", 0));
        named("join2-parent", move || {
            let child = {
                let state = state.clone();
                let guard = state.lock();
                drop(guard);
                lockgraph::thread::Builder::new()
                    .name("join2-child".into())
                    .spawn(move || thread::sleep(THRESHOLD * 2))
                    .unwrap()
            };
            child.join().unwrap();
        })
        .join()
        .unwrap();
    }
    assert!(recorder.about("join2-").is_empty());
    dog.stop();
}

/// (tokio) A task holding a lock while it awaits `wait` (a oneshot, a
/// Notify, a JoinHandle of lockgraph's, which another task's resolution
/// would end) is named as blocked there, with the object's site.
#[cfg(feature = "tokio")]
fn a_holder_awaiting(what: &str) -> (Report, u32) {
    use lockgraph::tokio::{sync, task};
    let recorder = Recorder::start();
    let dog = watchdog::start(Config::new(THRESHOLD));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let found = rt.block_on(async {
        let lock = Arc::new(sync::Mutex::new(0));
        let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
        let notify = Arc::new(sync::Notify::new());
        let notify_line = line!() - 1;
        let (release_tx, release_rx) = sync::oneshot::channel::<()>();
        let line = line!() - 1;
        let (release_notify, release_wait) = (notify.clone(), notify.clone());
        let parked = task::spawn(async move {
            release_wait.notified().await;
        });
        let parked_line = line!() - 3;
        let holder = {
            let lock = lock.clone();
            let what = what.to_owned();
            tokio::spawn(async move {
                let _guard = lock.lock().await;
                locked_tx.send(()).unwrap();
                match what.as_str() {
                    "oneshot" => drop(release_rx.await),
                    "notify" => notify.notified().await,
                    _ => parked.await.unwrap(),
                }
            })
        };
        locked_rx.await.unwrap();
        let waiter = {
            let lock = lock.clone();
            tokio::spawn(async move { *lock.lock().await += 1 })
        };
        let found = recorder
            .wait_for("task ", THRESHOLD * 2 + Duration::from_secs(2))
            .map(|(report, _)| report);
        let _ = release_tx.send(());
        release_notify.notify_waiters();
        release_notify.notify_one();
        holder.await.unwrap();
        waiter.await.unwrap();
        let line = match what {
            "oneshot" => line,
            "notify" => notify_line,
            _ => parked_line,
        };
        (found.expect("the awaiting task is reported"), line)
    });
    dog.stop();
    found
}

#[cfg(feature = "tokio")]
#[test]
fn a_holder_awaiting_a_oneshot_a_notify_or_a_task_is_named_blocked_there() {
    if !lockgraph::ENABLED {
        return;
    }
    for (what, named) in [
        ("oneshot", "the .await of a oneshot Receiver"),
        ("notify", "Notify::notified"),
        ("task", "the .await of the JoinHandle of the task"),
    ] {
        let (report, line) = a_holder_awaiting(what);
        let text = report.to_string();
        let holder = report.waits()[0].holder().expect("the holder is known");
        match holder.state() {
            HolderState::Blocked {
                what: blocked,
                created_at,
                ..
            } => {
                assert_eq!(*blocked, named, "{text}");
                assert_eq!(created_at.line(), line, "{what}: {text}");
            }
            other => panic!("{what}: the holder is blocked in its await, not {other:?}:\n{text}"),
        }
    }
}
