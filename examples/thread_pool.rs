//! Blocking work handed to a pool of threads, with a shared result map —
//! and the join that waits for a worker while holding what the worker
//! needs.
//!
//! The workers square their jobs and store each result in `results`. The
//! buggy main thread locks `results` to report progress, then joins the
//! workers *while still holding it*: a worker that still has a result to
//! store blocks on `results`, never finishes, and the join waits forever.
//!
//! lockgraph orders a join after the locks held while joining, and each
//! lock a thread spawned through `lockgraph::thread` takes before its end.
//! Here the workers stored their results before main locked `results` — in
//! this run nothing hangs — yet the join under `results` is reported, since
//! a slower worker would hang it.
//!
//! ```text
//! cargo run --example thread_pool             # the bug: the join under the lock is reported
//! cargo run --example thread_pool -- --fixed  # joins first, then locks: clean
//! ```

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use lockgraph::sync::mpsc;
use lockgraph::{Mutex, thread};

const WORKERS: usize = 3;
const JOBS: u64 = 12;

fn main() {
    common::quiet_reports();
    let fixed = common::fixed();
    let results = Arc::new(Mutex::named("results", BTreeMap::new()));
    let (jobs, queue) = mpsc::channel::<u64>();
    let queue = Arc::new(Mutex::named("queue", queue));
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let (queue, results) = (queue.clone(), results.clone());
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    loop {
                        // Take the next job, releasing the queue before the work.
                        let Ok(job) = queue.lock().unwrap().recv() else {
                            break;
                        };
                        results.lock().unwrap().insert(job, job * job);
                    }
                })
                .unwrap()
        })
        .collect();
    for job in 1..=JOBS {
        jobs.send(job).unwrap();
    }
    drop(jobs);
    // Let the workers drain the queue (this run does not hang).
    while results.lock().unwrap().len() < JOBS as usize {
        std::thread::sleep(Duration::from_millis(1));
    }

    if fixed {
        // The fix: wait for the workers first, then look at the results.
        for worker in workers {
            worker.join().unwrap();
        }
        let results = results.lock().unwrap();
        let sum: u64 = results.values().sum();
        println!("{} results, sum of squares {sum}; no report", results.len());
        return;
    }

    // (A JoinHandle is not UnwindSafe, as std's is not.)
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let results = results.lock().unwrap();
        println!(
            "{} results so far; waiting for the workers...",
            results.len()
        );
        for worker in workers {
            // The bug: joining while `results` is held.
            worker.join().unwrap();
        }
    }));
    common::print_outcome("main", outcome.err());
}
