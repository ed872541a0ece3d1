//! `race::set_lockset_default` applies to cells created after the call;
//! a cell that existed before keeps its setting. Alone in its test binary,
//! since the default is process-wide.

mod common;

use std::sync::Arc;

use common::{expect_clean, expect_report};
use lockgraph::race::{Tracked, set_lockset_default};
use lockgraph::thread;

/// Writes from the main thread, then from two children one after the
/// other, ordered by spawn and join but under no common lock.
fn hand_around(cell: &Arc<Tracked<u64>>) {
    cell.set(1);
    for _ in 0..2 {
        let cell = cell.clone();
        // A report panics the child: carry it to this thread.
        if let Err(report) = thread::spawn(move || cell.update(|n| *n += 1)).join() {
            std::panic::resume_unwind(report);
        }
    }
    assert_eq!(cell.get(), 3);
}

#[test]
fn the_lockset_default_applies_to_cells_created_after_the_call() {
    require_detection!();
    expect_clean(|| {
        // Created (and used) before the default changes: happens-before
        // only, and spawn/join order every access.
        let early = Arc::new(Tracked::named("early", 0u64));
        let first_use = Arc::new(Tracked::new(0u64));
        first_use.set(0);
        set_lockset_default(true);
        hand_around(&early);
        hand_around(&first_use);
    });
    // Created after: lockset-checked, and no lock protects the writes.
    let report = expect_report(|| hand_around(&Arc::new(Tracked::named("late", 0u64))));
    assert!(
        report.starts_with("race condition: no lock protects every access to shared data"),
        "{report}"
    );
    set_lockset_default(false);
}
