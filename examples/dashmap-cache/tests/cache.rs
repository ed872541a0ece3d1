use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use dashmap_cache::Cache;

#[test]
fn a_stale_entry_is_computed_again() {
    // Under a watchdog: without lockgraph the buggy version hangs here.
    let (done, finished) = mpsc::channel();
    let worker = thread::spawn(move || {
        let cache = Cache::default();
        assert_eq!(cache.get_or_insert("lock"), 4);
        cache.invalidate();
        assert_eq!(cache.get_or_insert("lock"), 4);
        let _ = done.send(());
    });
    if finished.recv_timeout(Duration::from_secs(5)).is_err() {
        if worker.is_finished() {
            // It failed: a lockgraph report panics before the thread blocks.
            std::panic::resume_unwind(worker.join().unwrap_err());
        }
        panic!("get_or_insert deadlocked: hung for 5 s");
    }
}
