//! A million short-lived locks, each taken once while a long-lived lock is
//! held (a new node and a new edge each time): the graph's node and edge
//! counts and the process's resident memory return to their baseline.
//! Alone in its test binary so the global counts are this test's own.

use lockgraph::Mutex;

mod common;

use common::rss_bytes;

fn churn(outer: &Mutex<u64>, count: u64) {
    for i in 0..count {
        let _held = outer.lock().unwrap();
        let fresh = Mutex::new(i);
        *fresh.lock().unwrap() += 1;
    }
}

#[test]
fn a_million_short_lived_locks_leave_no_trace() {
    let outer = Mutex::new(0);
    let _warm = outer.lock().unwrap();
    drop(_warm);
    let empty = lockgraph::graph_stats();

    // Warm up allocator pools, the edge cache and the graph's slot lists.
    churn(&outer, 100_000);
    let baseline = lockgraph::graph_stats();
    let classes = lockgraph::classes::stats();
    let rss_before = rss_bytes();

    churn(&outer, 1_000_000);
    let after = lockgraph::graph_stats();
    let rss_after = rss_bytes();

    assert_eq!(after, baseline, "graph counts return to their baseline");
    assert_eq!(
        lockgraph::classes::stats(),
        classes,
        "a million instances of two classes add no class and no class edge"
    );
    if lockgraph::ENABLED {
        assert_eq!(
            (after.locks, after.edges),
            (empty.locks, 0),
            "only the long-lived lock is left"
        );
    }
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let growth = after.saturating_sub(before);
        eprintln!(
            "RSS {} KiB -> {} KiB over 1,000,000 locks",
            before / 1024,
            after / 1024
        );
        assert!(growth < 4 << 20, "RSS grew by {} KiB", growth / 1024);
    }
}
