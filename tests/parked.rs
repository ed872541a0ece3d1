//! Short-lived locks nested under a long-lived one, in a nesting seen often
//! enough that the detector parks them (no graph node until something looks;
//! see `detect::pending`): the graph, the reports and `graph_stats` must be
//! exactly what they would be had every node and edge been added at once.
//! Every detection test has a clean twin.

mod common;

use std::sync::{Arc, Mutex as StdMutex};
use std::thread;

use common::{expect_clean, expect_report, file_line, here};
use lockgraph::Mutex;

/// More than the backtraces captured per site pair (32): after them, the
/// nesting shows nothing new and the next fresh lock is parked.
const LEARN: usize = 40;

/// One creation site for every short-lived lock of these tests.
fn fresh() -> Mutex<u32> {
    Mutex::new(0)
}

/// One pair of acquisition sites: `outer`, then `inner` under it.
fn nest(outer: &Mutex<()>, inner: &Mutex<u32>) {
    let _outer = outer.lock().unwrap();
    *inner.lock().unwrap() += 1;
}

/// Runs the nesting with fresh locks until it is learned.
fn learn(outer: &Mutex<()>) {
    for _ in 0..LEARN {
        nest(outer, &fresh());
    }
}

/// `graph_stats` is process-wide, and the test that counts must be alone:
/// the tests of this file run one at a time.
static ONE_AT_A_TIME: StdMutex<()> = StdMutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_parked_lock_counts_in_graph_stats_until_dropped() {
    require_detection!();
    let _alone = alone();
    expect_clean(|| {
        let outer = Mutex::new(());
        learn(&outer);
        let before = lockgraph::graph_stats();
        let inner = fresh();
        nest(&outer, &inner);
        let during = lockgraph::graph_stats();
        assert_eq!(during.locks, before.locks + 1, "{before:?} -> {during:?}");
        assert_eq!(during.edges, before.edges + 1, "{before:?} -> {during:?}");
        // The edge is the one the graph would hold: outer -> inner.
        let dot = lockgraph::graph_dot();
        assert!(dot.contains(" -> "), "{dot}");
        drop(inner);
        assert_eq!(lockgraph::graph_stats(), before);
        // Many of them, alive at once, then gone.
        let many: Vec<_> = (0..100).map(|_| fresh()).collect();
        for inner in &many {
            nest(&outer, inner);
        }
        let during = lockgraph::graph_stats();
        assert_eq!(during.locks, before.locks + 100);
        assert_eq!(during.edges, before.edges + 100);
        drop(many);
        assert_eq!(lockgraph::graph_stats(), before);
    });
}

#[test]
fn a_cycle_through_a_parked_lock_is_reported() {
    require_detection!();
    let _alone = alone();
    let (tx, rx) = std::sync::mpsc::channel();
    let report = expect_report(move || {
        let outer = Mutex::new(());
        learn(&outer);
        let inner = fresh();
        nest(&outer, &inner);
        // inner -> outer closes outer -> inner.
        let _inner = inner.lock().unwrap();
        let _outer = (tx.send(here()).unwrap(), outer.lock());
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion"),
        "{report}"
    );
    let closing = rx.recv().unwrap();
    assert!(report.contains(&file_line(closing)), "{report}");
    // The parked lock's own edge, as first taken, is in the report.
    assert!(report.contains("parked.rs"), "{report}");
}

#[test]
fn the_same_locks_in_one_order_stay_clean() {
    let _alone = alone();
    expect_clean(|| {
        let outer = Mutex::new(());
        learn(&outer);
        let inner = fresh();
        for _ in 0..3 {
            nest(&outer, &inner);
        }
        let _inner = inner.lock().unwrap();
    });
}

#[test]
fn a_parked_lock_relocked_is_reported_with_its_creation_site() {
    require_detection!();
    let _alone = alone();
    let report = expect_report(|| {
        let outer = Mutex::new(());
        learn(&outer);
        let inner = fresh();
        nest(&outer, &inner);
        let _first = inner.lock().unwrap();
        let _second = inner.lock();
    });
    assert!(report.contains("already holds"), "{report}");
    assert!(report.contains("parked.rs"), "{report}");
}

#[test]
fn a_parked_lock_nested_over_on_another_thread_closes_a_cycle_there() {
    require_detection!();
    let _alone = alone();
    let report = expect_report(|| {
        let outer = Mutex::new(());
        learn(&outer);
        let inner = Arc::new(fresh());
        nest(&outer, &inner);
        // Another thread takes a lock under the parked one: inner -> other.
        let other = Arc::new(Mutex::new(()));
        let (i, o) = (inner.clone(), other.clone());
        thread::spawn(move || {
            let _inner = i.lock().unwrap();
            let _other = o.lock().unwrap();
        })
        .join()
        .unwrap();
        // other -> outer -> inner -> other.
        let _other = other.lock().unwrap();
        let _outer = outer.lock();
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion"),
        "{report}"
    );
}

#[test]
fn its_clean_twin_takes_the_same_order_everywhere() {
    let _alone = alone();
    expect_clean(|| {
        let outer = Mutex::new(());
        learn(&outer);
        let inner = Arc::new(fresh());
        nest(&outer, &inner);
        let other = Arc::new(Mutex::new(()));
        let (i, o) = (inner.clone(), other.clone());
        thread::spawn(move || {
            let _inner = i.lock().unwrap();
            let _other = o.lock().unwrap();
        })
        .join()
        .unwrap();
        let _outer = outer.lock().unwrap();
        let _other = other.lock().unwrap();
    });
}
