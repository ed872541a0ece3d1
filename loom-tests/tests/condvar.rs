//! Condvar: no lost wake-up, with `wait` loops and `wait_while`.
#![cfg(loom)]

use loom::thread;
use loom_tests::model;
use std::collections::VecDeque;
use std::sync::Arc;

#[test]
fn producer_consumer_loses_no_wake_up() {
    model(|| {
        let shared = Arc::new((
            lockgraph::Mutex::new(VecDeque::new()),
            lockgraph::Condvar::new(),
        ));
        let producer = {
            let shared = shared.clone();
            thread::spawn(move || {
                for item in 1..=2 {
                    shared.0.lock().unwrap().push_back(item);
                    shared.1.notify_one();
                }
            })
        };
        let (queue, ready) = &*shared;
        let mut sum = 0;
        for _ in 0..2 {
            let mut q = queue.lock().unwrap();
            // A lost wake-up leaves this wait without a notifier: loom
            // reports it as a deadlock.
            while q.is_empty() {
                q = ready.wait(q).unwrap();
            }
            sum += q.pop_front().unwrap();
        }
        producer.join().unwrap();
        assert_eq!(sum, 3);
    });
}

#[test]
fn wait_while_returns_once_the_condition_holds() {
    model(|| {
        let shared = Arc::new((lockgraph::Mutex::new(false), lockgraph::Condvar::new()));
        let setter = {
            let shared = shared.clone();
            thread::spawn(move || {
                *shared.0.lock().unwrap() = true;
                shared.1.notify_all();
            })
        };
        let guard = shared
            .1
            .wait_while(shared.0.lock().unwrap(), |ready| !*ready)
            .unwrap();
        assert!(*guard);
        drop(guard);
        setter.join().unwrap();
    });
}

#[test]
fn parking_lot_condvar_wait_while() {
    model(|| {
        let shared = Arc::new((
            lockgraph::parking_lot::Mutex::new(0),
            lockgraph::parking_lot::Condvar::new(),
        ));
        let setter = {
            let shared = shared.clone();
            thread::spawn(move || {
                *shared.0.lock() = 7;
                shared.1.notify_one();
            })
        };
        let mut guard = shared.0.lock();
        shared.1.wait_while(&mut guard, |v| *v == 0);
        assert_eq!(*guard, 7);
        drop(guard);
        setter.join().unwrap();
    });
}

/// The lost wake-up's two halves from two threads, each without blocking
/// (the queue already has an item): a consumer holding `stats` in
/// `wait_while`, and a producer that takes `stats` before it notifies.
/// Returns the reports raised.
fn wake_up_halves(hold_stats_while_waiting: bool) -> Vec<String> {
    let shared = Arc::new((
        lockgraph::Mutex::new(VecDeque::from([1])),
        lockgraph::Condvar::new(),
        lockgraph::Mutex::new(0),
    ));
    let producer = {
        let shared = shared.clone();
        thread::spawn(move || {
            loom_tests::catch(|| {
                *shared.2.lock().unwrap() += 1;
                shared.1.notify_one();
            })
            .err()
        })
    };
    let (queue, ready, stats) = &*shared;
    let consumer = loom_tests::catch(|| {
        let held = hold_stats_while_waiting.then(|| stats.lock().unwrap());
        let guard = ready.wait_while(queue.lock().unwrap(), |q| q.is_empty());
        drop(guard);
        drop(held);
    })
    .err();
    let mut reports: Vec<String> = consumer.into_iter().collect();
    reports.extend(producer.join().unwrap());
    reports
}

#[test]
fn a_wait_holding_what_the_notifier_needs_is_reported_once_in_every_interleaving() {
    model(|| {
        let reports = wake_up_halves(true);
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(
            reports[0].starts_with("potential deadlock: a Condvar waiter holds a lock"),
            "{reports:?}"
        );
    });
}

#[test]
fn a_wait_without_the_notifiers_lock_is_clean_in_every_interleaving() {
    model(|| assert_eq!(wake_up_halves(false), Vec::<String>::new()));
}
