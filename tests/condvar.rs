//! `lockgraph::Condvar` behaves as `std::sync::Condvar` with
//! `lockgraph::MutexGuard`s.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::expect_clean;
use lockgraph::{Condvar, Mutex};

#[test]
fn producer_consumer_through_a_queue() {
    let total = expect_clean(|| {
        let shared = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
        let producer = {
            let shared = shared.clone();
            thread::spawn(move || {
                for i in 1..=100u64 {
                    let (queue, ready) = &*shared;
                    queue.lock().unwrap().push_back(i);
                    ready.notify_one();
                }
            })
        };
        let (queue, ready) = &*shared;
        let mut total = 0;
        for _ in 0..100 {
            let mut q = ready
                .wait_while(queue.lock().unwrap(), |q| q.is_empty())
                .unwrap();
            total += q.pop_front().unwrap();
        }
        producer.join().unwrap();
        total
    });
    assert_eq!(total, 5050);
}

#[test]
fn wait_timeout_times_out_and_reports_it() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let start = Instant::now();
    let (guard, result) = cv
        .wait_timeout(m.lock().unwrap(), Duration::from_millis(20))
        .unwrap();
    assert!(result.timed_out());
    assert!(start.elapsed() >= Duration::from_millis(20));
    drop(guard);
    let (_guard, result) = cv
        .wait_timeout_while(m.lock().unwrap(), Duration::from_millis(10), |_| true)
        .unwrap();
    assert!(result.timed_out());
}

#[test]
fn wait_timeout_while_returns_early_when_the_condition_holds() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let other = pair.clone();
    let notifier = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        *other.0.lock().unwrap() = true;
        other.1.notify_all();
    });
    let (lock, cv) = &*pair;
    let (guard, result) = cv
        .wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(10), |ready| {
            !*ready
        })
        .unwrap();
    assert!(*guard);
    assert!(!result.timed_out());
    notifier.join().unwrap();
}

#[test]
fn a_poisoned_mutex_is_reported_on_wake_up() {
    common::quiet_reports();
    let pair = Arc::new((Mutex::new(0), Condvar::new()));
    let other = pair.clone();
    let poisoner = thread::spawn(move || {
        let _guard = other.0.lock().unwrap();
        other.1.notify_all();
        panic!("poison while the waiter sleeps");
    });
    let (lock, cv) = &*pair;
    let guard = match lock.lock() {
        Ok(guard) => guard,
        // The poisoner ran first: poisoned before this thread could wait.
        Err(_) => {
            let _ = poisoner.join();
            assert!(lock.is_poisoned());
            return;
        }
    };
    let woken = cv.wait_timeout(guard, Duration::from_secs(5));
    let _ = poisoner.join();
    // Either woken by the notify (poisoned) or by the timeout after the
    // panic: in both cases the mutex is poisoned by now.
    assert!(woken.is_err() || lock.is_poisoned());
}

static READY: Mutex<bool> = Mutex::new(false);
static SIGNAL: Condvar = Condvar::new();

#[test]
fn statics_and_debug() {
    assert_eq!(format!("{:?}", Condvar::default()), "Condvar { .. }");
    let setter = thread::spawn(|| {
        *READY.lock().unwrap() = true;
        SIGNAL.notify_all();
    });
    let guard = SIGNAL
        .wait_while(READY.lock().unwrap(), |ready| !*ready)
        .unwrap();
    assert!(*guard);
    drop(guard);
    setter.join().unwrap();
}
