//! The class graph is never pruned, so its size is what a program with many
//! classes pays: 10,000 classes, each ordered after the previous one (10,000
//! class edges, each with its first thread, sites and backtrace), stay under
//! 10 MB of resident memory. Alone in its test binary so the counts and the
//! memory are this test's own.

use lockgraph::Mutex;

mod common;

use common::rss_bytes;

const CLASSES: usize = 10_000;

#[test]
fn ten_thousand_classes_take_under_ten_megabytes() {
    // Warm the detector up (its tables, the backtrace machinery).
    {
        let a = Mutex::new(0u8).with_class("warm.a");
        let b = Mutex::new(0u8).with_class("warm.b");
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    let names: Vec<String> = (0..CLASSES).map(|i| format!("class-{i:05}")).collect();
    let before = lockgraph::classes::stats();
    let rss_before = rss_bytes();

    let mut previous = Mutex::new(0u32).with_class("class-start");
    for name in &names {
        let next = Mutex::new(0u32).with_class(name);
        {
            let _p = previous.lock().unwrap();
            let _n = next.lock().unwrap();
        }
        previous = next;
    }
    // A lock has no `Drop` when detection is compiled out.
    #[allow(clippy::drop_non_drop)]
    drop(previous);

    let after = lockgraph::classes::stats();
    let rss_after = rss_bytes();
    assert!(lockgraph::classes::findings().is_empty());
    if !lockgraph::ENABLED {
        return;
    }
    assert_eq!(after.classes - before.classes, CLASSES + 1);
    assert_eq!(after.edges - before.edges, CLASSES);
    // The instances are gone; the classes stay.
    assert_eq!(lockgraph::graph_stats().edges, 0);
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let growth = after.saturating_sub(before);
        eprintln!(
            "RSS {} KiB -> {} KiB for {CLASSES} classes and {CLASSES} class edges",
            before / 1024,
            after / 1024
        );
        assert!(growth < 10 << 20, "RSS grew by {} KiB", growth / 1024);
    }
}
