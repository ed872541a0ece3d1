//! The detector itself under every interleaving: opposite orders in two
//! threads, the same new edge from two threads, a lock dropped while
//! another thread adds edges, and the callback policy under concurrency.
#![cfg(loom)]

use loom::thread;
use loom_tests::{catch, model};
use std::sync::{Arc, Mutex as StdMutex};

type Lock = Arc<lockgraph::Mutex<()>>;

/// Takes `first`, then `second`; returns the report if the detector stopped
/// the second acquisition.
fn take_in_order(first: &Lock, second: &Lock) -> Option<String> {
    catch(|| {
        let _f = first.lock().unwrap_or_else(|e| e.into_inner());
        let _s = second.lock().unwrap_or_else(|e| e.into_inner());
    })
    .err()
}

#[test]
fn opposite_orders_never_deadlock_and_are_always_reported() {
    model(|| {
        let a: Lock = Arc::new(lockgraph::Mutex::new(()));
        let b: Lock = Arc::new(lockgraph::Mutex::new(()));
        let other = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || take_in_order(&b, &a))
        };
        let mine = take_in_order(&a, &b);
        let theirs = other.join().unwrap();
        // Exactly one side closes the cycle and gets the report, whichever
        // interleaving loom picks; the other completes. If the detector let
        // both block, loom would report the deadlock instead.
        let reports: Vec<String> = [mine, theirs].into_iter().flatten().collect();
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(
            reports[0].contains("lock order inversion"),
            "{}",
            reports[0]
        );
    });
}

#[test]
fn the_same_new_edge_from_two_threads_is_recorded_once() {
    model(|| {
        let a: Lock = Arc::new(lockgraph::Mutex::new(()));
        let b: Lock = Arc::new(lockgraph::Mutex::new(()));
        let other = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || take_in_order(&a, &b))
        };
        assert_eq!(take_in_order(&a, &b), None);
        assert_eq!(other.join().unwrap(), None);
        let stats = lockgraph::graph_stats();
        assert_eq!((stats.locks, stats.edges), (2, 1));
    });
}

#[test]
fn a_lock_dropped_while_another_thread_adds_edges_leaves_no_dangling_node() {
    model(|| {
        let a: Lock = Arc::new(lockgraph::Mutex::new(()));
        let b: Lock = Arc::new(lockgraph::Mutex::new(()));
        let dropper = {
            let a = a.clone();
            thread::spawn(move || {
                let short_lived: Lock = Arc::new(lockgraph::Mutex::new(()));
                assert_eq!(take_in_order(&a, &short_lived), None);
                drop(short_lived); // its node and its edge a -> short_lived go
            })
        };
        assert_eq!(take_in_order(&a, &b), None);
        dropper.join().unwrap();
        let stats = lockgraph::graph_stats();
        assert_eq!(
            (stats.locks, stats.edges),
            (2, 1),
            "only a, b and a -> b remain"
        );
        // The graph still works: the inversion is found.
        assert!(take_in_order(&b, &a).is_some());
    });
}

#[test]
fn the_callback_policy_runs_while_another_thread_acquires() {
    model(|| {
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let sink = seen.clone();
        lockgraph::set_policy(lockgraph::Policy::callback(move |report| {
            sink.lock().unwrap().push(report.title().to_owned());
        }));
        let a: Lock = Arc::new(lockgraph::Mutex::new(()));
        let b: Lock = Arc::new(lockgraph::Mutex::new(()));
        let c: Lock = Arc::new(lockgraph::Mutex::new(()));
        let bystander = {
            let (a, c) = (a.clone(), c.clone());
            thread::spawn(move || take_in_order(&c, &a))
        };
        assert_eq!(take_in_order(&a, &b), None);
        assert_eq!(
            take_in_order(&b, &a),
            None,
            "reported to the callback, not as a panic"
        );
        assert_eq!(bystander.join().unwrap(), None);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0], "potential deadlock: lock order inversion");
    });
}

#[test]
fn a_relock_is_reported_instead_of_hanging() {
    model(|| {
        let a: Lock = Arc::new(lockgraph::Mutex::new(()));
        let other = {
            let a = a.clone();
            thread::spawn(move || drop(a.lock()))
        };
        let report = catch(|| {
            let _first = a.lock().unwrap();
            let _second = a.lock();
        })
        .expect_err("relocking must be reported");
        assert!(
            report.starts_with("deadlock: relocking a Mutex"),
            "{report}"
        );
        other.join().unwrap();
    });
}

/// Two fresh locks from fixed sites: the same two classes on every call.
fn make_pair() -> (Lock, Lock) {
    let first: Lock = Arc::new(lockgraph::Mutex::new(()));
    let second: Lock = Arc::new(lockgraph::Mutex::new(()));
    (first, second)
}

#[test]
fn a_class_edge_recorded_while_its_instances_are_dropped() {
    model(|| {
        lockgraph::classes::set_mode(lockgraph::classes::Mode::Panic);
        let other = thread::spawn(|| {
            let (x, y) = make_pair();
            let report = take_in_order(&x, &y);
            drop((x, y));
            report
        });
        let (x, y) = make_pair();
        let mine = take_in_order(&y, &x);
        drop((x, y));
        let theirs = other.join().unwrap();
        // Different instances, opposite class orders: whichever thread
        // records second closes the class cycle, whether or not the other
        // thread's instances are already gone.
        let reports: Vec<String> = [mine, theirs].into_iter().flatten().collect();
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(
            reports[0].contains("between lock classes"),
            "{}",
            reports[0]
        );
        let classes = lockgraph::classes::stats();
        assert_eq!((classes.classes, classes.edges), (2, 1));
        assert_eq!(lockgraph::graph_stats().locks, 0);
    });
}
