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
