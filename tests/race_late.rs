//! Race detection starts, process-wide, at the first access of a `Tracked`
//! cell. A thread that began acquiring a lock before that (so its
//! acquisition skipped the clocks) must still be ordered after the lock's
//! last holder once it gets the lock. Alone in its test binary, because
//! detection has to start off.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::expect_clean;
use lockgraph::Mutex;
use lockgraph::race::Tracked;

#[test]
fn a_lock_awaited_from_before_race_detection_started_still_orders() {
    require_detection!();
    expect_clean(|| {
        let lock = Arc::new(Mutex::new(()));
        let data = Arc::new(Tracked::named("late", 0u64));
        let (held, holding) = std::sync::mpsc::channel();
        let holder = {
            let (lock, data) = (lock.clone(), data.clone());
            std::thread::spawn(move || {
                let guard = lock.lock().unwrap();
                held.send(()).unwrap();
                // Meanwhile the scenario thread blocks on the lock, with
                // detection still off.
                std::thread::sleep(Duration::from_millis(200));
                data.set(1); // the first access: detection starts here
                drop(guard);
            })
        };
        holding.recv().unwrap();
        drop(lock.lock().unwrap());
        assert_eq!(data.get(), 1);
        holder.join().unwrap();
    });
}
