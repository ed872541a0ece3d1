//! Condvar and Barrier dependencies: a thread that waits holding a lock its
//! waker needs first is reported from the orders alone, before anything
//! hangs — at the wait, at the signal, or at a lock acquisition that closes
//! a longer cycle. Each reported shape has a clean twin.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{expect_clean, expect_report, join_report, within};
use lockgraph::sync::Barrier;
use lockgraph::{Condvar, Mutex};

const TITLE: &str = "potential deadlock: a Condvar waiter holds a lock its notifier needs";

struct Queue {
    items: Mutex<VecDeque<u32>>,
    ready: Condvar,
    stats: Mutex<u32>,
}

fn queue() -> Arc<Queue> {
    Arc::new(Queue {
        items: Mutex::new(VecDeque::new()),
        ready: Condvar::new(),
        stats: Mutex::named("stats", 0),
    })
}

/// The producer of the textbook queue, counting in `stats` before it
/// notifies.
fn produce(q: &Queue, item: u32) {
    q.items.lock().unwrap().push_back(item);
    *q.stats.lock().unwrap() += 1;
    q.ready.notify_one();
}

/// A consumer; with `hold_stats`, the bug: `stats` stays locked across the
/// wait.
fn consume(q: &Queue, hold_stats: bool) -> u32 {
    let stats = hold_stats.then(|| q.stats.lock().unwrap());
    let mut items = q
        .ready
        .wait_while(q.items.lock().unwrap(), |i| i.is_empty())
        .unwrap();
    let item = items.pop_front().unwrap();
    drop(stats);
    item
}

#[test]
fn a_wait_holding_what_the_notifier_needs_is_reported_at_the_wait() {
    let report = expect_report(|| {
        let q = queue();
        let producer = {
            let q = q.clone();
            thread::spawn(move || produce(&q, 1))
        };
        producer.join().unwrap();
        // Items are there: this wait would not block in this run, but it
        // is ordered as a wait, and the cycle is reported here.
        consume(&q, true);
        panic!("not reported");
    });
    assert!(report.starts_with(TITLE), "{report}");
    for expected in [
        "is waiting on\n    Condvar created at tests/wakeups.rs:28:16",
        "while holding\n    Mutex \"stats\"",
        "stats -> Condvar -> stats",
        "then waited on Condvar at tests/wakeups.rs:47:",
        "then notified Condvar at tests/wakeups.rs:38:",
        "stats acquired at tests/wakeups.rs:37:",
        "notify(Condvar)  (never reached)",
        "fix: release stats before waiting",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in\n{report}"
        );
    }
}

#[test]
fn a_wait_without_the_notifiers_lock_is_clean() {
    let sum = expect_clean(|| {
        let q = queue();
        let producer = {
            let q = q.clone();
            thread::spawn(move || (1..=50).for_each(|i| produce(&q, i)))
        };
        let sum: u32 = (0..50).map(|_| consume(&q, false)).sum();
        producer.join().unwrap();
        sum
    });
    assert_eq!(sum, 1275);
}

#[test]
fn a_notification_after_taking_what_a_waiter_held_is_reported_at_the_notify() {
    let result = within(|| {
        let q = queue();
        q.items.lock().unwrap().push_back(0);
        // The buggy consumer first (it does not block: an item is there).
        consume(&q, true);
        let producer = {
            let q = q.clone();
            thread::Builder::new()
                .name("producer".into())
                .spawn(move || produce(&q, 1))
                .unwrap()
        };
        join_report(producer)
    });
    let report = result
        .expect("the scenario itself does not panic")
        .expect("the producer's notify is reported");
    assert!(report.starts_with(TITLE), "{report}");
    for expected in [
        "thread `producer` is notifying\n    Condvar created at tests/wakeups.rs:28:16\n    at tests/wakeups.rs:38:",
        "after acquiring\n    Mutex \"stats\"",
        "Condvar -> stats: now, in thread `producer`",
        "stats -> Condvar: first taken in thread `scenario`",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in\n{report}"
        );
    }
}

#[test]
fn a_timed_wait_is_never_part_of_a_cycle() {
    expect_clean(|| {
        let q = queue();
        produce(&q, 1);
        let stats = q.stats.lock().unwrap();
        let (items, _) = q
            .ready
            .wait_timeout_while(q.items.lock().unwrap(), Duration::from_millis(1), |i| {
                i.is_empty()
            })
            .unwrap();
        drop((items, stats));
        produce(&q, 2);
    });
}

#[test]
fn a_notifier_that_only_holds_the_condvars_own_mutex_is_clean() {
    // The bounded queue of the textbook: one mutex, two Condvars, notified
    // under the mutex; two producers, two consumers.
    let total = expect_clean(|| {
        struct Bounded {
            items: Mutex<VecDeque<u64>>,
            not_empty: Condvar,
            not_full: Condvar,
        }
        let b = Arc::new(Bounded {
            items: Mutex::new(VecDeque::new()),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        });
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let b = b.clone();
                thread::spawn(move || {
                    for i in 1..=200u64 {
                        let mut items = b
                            .not_full
                            .wait_while(b.items.lock().unwrap(), |i| i.len() >= 4)
                            .unwrap();
                        items.push_back(i + p * 1000);
                        b.not_empty.notify_one();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || {
                    let mut sum = 0;
                    for _ in 0..200 {
                        let mut items = b
                            .not_empty
                            .wait_while(b.items.lock().unwrap(), |i| i.is_empty())
                            .unwrap();
                        sum += items.pop_front().unwrap();
                        b.not_full.notify_one();
                    }
                    sum
                })
            })
            .collect();
        producers.into_iter().for_each(|p| p.join().unwrap());
        consumers
            .into_iter()
            .map(|c| c.join().unwrap())
            .sum::<u64>()
    });
    assert_eq!(total, 2 * 20100 + 200 * 1000);
}

#[test]
fn a_longer_cycle_through_a_wait_is_reported_at_the_lock_that_closes_it() {
    // Waiter holds A on the Condvar; the notifier takes B first; a third
    // path holds B and takes A: A -> Condvar -> B -> A.
    let report = expect_report(|| {
        let (a, b, m, cv) = (
            Mutex::named("a", ()),
            Mutex::named("b", ()),
            Mutex::new(true),
            Condvar::new(),
        );
        {
            let _a = a.lock().unwrap();
            drop(cv.wait_while(m.lock().unwrap(), |ready| !*ready).unwrap());
        }
        drop(b.lock().unwrap());
        cv.notify_all();
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    });
    assert!(report.starts_with(TITLE), "{report}");
    for expected in [
        "thread `scenario` is acquiring\n    Mutex \"a\"",
        "while holding\n    Mutex \"b\"",
        "b -> a -> Condvar -> b",
        "(which, through the orders above, waits for a)",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in\n{report}"
        );
    }
}

#[test]
fn the_same_locks_in_one_order_around_a_wait_are_clean() {
    expect_clean(|| {
        let (a, b, m, cv) = (
            Mutex::new(()),
            Mutex::new(()),
            Mutex::new(true),
            Condvar::new(),
        );
        {
            let _a = a.lock().unwrap();
            drop(cv.wait_while(m.lock().unwrap(), |ready| !*ready).unwrap());
        }
        drop(b.lock().unwrap());
        cv.notify_all();
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    });
}

#[test]
fn parking_lot_condvar_wait_holding_what_the_notifier_needs_is_reported() {
    use lockgraph::parking_lot::{Condvar, Mutex};
    let report = expect_report(|| {
        let (items, ready, stats) = (
            Mutex::new(vec![1]),
            Condvar::new(),
            Mutex::named("stats", 0),
        );
        *stats.lock() += 1;
        ready.notify_one();
        let _stats = stats.lock();
        let mut guard = items.lock();
        ready.wait_while(&mut guard, |items| items.is_empty());
    });
    assert!(report.starts_with(TITLE), "{report}");
    assert!(report.contains("stats -> Condvar -> stats"), "{report}");
}

#[test]
fn parking_lot_condvar_wait_without_the_notifiers_lock_is_clean() {
    use lockgraph::parking_lot::{Condvar, Mutex};
    expect_clean(|| {
        let (items, ready, stats) = (Mutex::new(vec![1]), Condvar::new(), Mutex::new(0));
        *stats.lock() += 1;
        ready.notify_one();
        let mut guard = items.lock();
        ready.wait_while(&mut guard, |items| items.is_empty());
        drop(guard);
        *stats.lock() += 1;
    });
}

#[test]
fn a_barrier_party_holding_what_another_needs_before_arriving_is_reported() {
    let report = expect_report(|| {
        let barrier = Arc::new(Barrier::new(2));
        let log = Arc::new(Mutex::named("log", Vec::new()));
        let party = {
            let (barrier, log) = (barrier.clone(), log.clone());
            thread::spawn(move || {
                barrier.wait();
                // Round two: the log, then the arrival (Barrier -> log).
                log.lock().unwrap().push("ready");
                barrier.wait();
            })
        };
        barrier.wait();
        // Once the party logged (seen through the log itself, which orders
        // nothing here) and had time to arrive, arrive holding the log. (A
        // party that logged before round one, which this thread passed
        // since, would be clean: the barrier orders that use before.)
        while log.lock().unwrap().is_empty() {
            thread::sleep(std::time::Duration::from_millis(1));
        }
        thread::sleep(std::time::Duration::from_millis(20));
        let _log = log.lock().unwrap();
        barrier.wait();
        drop(party);
    });
    let title =
        "potential deadlock: a thread waits at a Barrier holding a lock another party needs";
    assert!(report.starts_with(title), "{report}");
    for expected in [
        "is waiting at\n    Barrier created at tests/wakeups.rs:",
        "log -> Barrier -> log",
        "then arrived at Barrier at tests/wakeups.rs:",
        "fix: release log before Barrier::wait",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in\n{report}"
        );
    }
}

#[test]
fn barrier_parties_that_release_before_arriving_are_clean() {
    expect_clean(|| {
        let barrier = Arc::new(Barrier::new(3));
        let log = Arc::new(Mutex::new(Vec::new()));
        let parties: Vec<_> = (0..3)
            .map(|p| {
                let (barrier, log) = (barrier.clone(), log.clone());
                thread::spawn(move || {
                    for round in 0..20 {
                        log.lock().unwrap().push((p, round));
                        barrier.wait();
                        // A lock of its own may be held across the barrier.
                        let own = Mutex::new(round);
                        let _own = own.lock().unwrap();
                        barrier.wait();
                    }
                })
            })
            .collect();
        parties.into_iter().for_each(|p| p.join().unwrap());
        assert_eq!(log.lock().unwrap().len(), 60);
    });
}

#[test]
fn dropped_condvars_and_barriers_leave_the_graph_flat() {
    expect_clean(|| {
        let m = Mutex::new(());
        let before = lockgraph::graph_stats();
        for _ in 0..1000 {
            let cv = Condvar::new();
            let barrier = Barrier::new(1);
            drop(m.lock().unwrap());
            cv.notify_one();
            barrier.wait();
            drop(cv.wait_while(m.lock().unwrap(), |_| false).unwrap());
        }
        // Other tests of this binary run alongside: a leak would add a
        // thousand nodes, they add a few dozen at most.
        let after = lockgraph::graph_stats();
        assert!(after.locks < before.locks + 100, "{before:?} -> {after:?}");
    });
}
