//! The shared counter: four threads each add 1,000 to a counter by reading
//! it and writing it back. Without a lock, two threads can read the same
//! value and both write value + 1: an update is lost. Rust accepts the
//! program (the cell is thread-safe); lockgraph's race detector reports
//! the read-then-write that nothing orders, naming both accesses.
//!
//! The fix: hold a `Mutex` across the read and the write, so each
//! increment is one critical section and the total is exact.
//!
//! ```text
//! cargo run --example shared_counter            # lost update reported
//! cargo run --example shared_counter -- --fixed  # under a Mutex: clean, exact total
//! ```

mod common;

use std::sync::Arc;

use lockgraph::race::Tracked;
use lockgraph::{Mutex, thread};

const THREADS: usize = 4;
const INCREMENTS: u64 = 1_000;

/// The bug: the read and the write are two separate accesses.
fn add_one(counter: &Tracked<u64>) {
    let value = counter.get();
    counter.set(value + 1);
}

fn main() {
    common::quiet_reports();
    let fixed = common::fixed();
    let counter = Arc::new(Tracked::named("counter", 0));
    let lock = Arc::new(Mutex::named("counter-lock", ()));
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let (counter, lock) = (counter.clone(), lock.clone());
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    for _ in 0..INCREMENTS {
                        let _guard = fixed.then(|| lock.lock().unwrap());
                        add_one(&counter);
                    }
                })
                .unwrap()
        })
        .collect();
    let mut reported = false;
    for (i, handle) in handles.into_iter().enumerate() {
        if let Err(payload) = handle.join() {
            if !reported {
                common::print_outcome(&format!("worker-{i}"), Some(payload));
            }
            reported = true;
        }
    }
    let _guard = lock.lock().unwrap();
    let total = counter.get();
    if reported {
        println!("Run with `-- --fixed` to hold a Mutex across each read and write.");
    } else {
        println!(
            "total {total} of {} (no report)",
            THREADS as u64 * INCREMENTS
        );
    }
}
