//! The Rust footgun: a guard kept alive by a `match` scrutinee.
//!
//! In `match jobs.lock().unwrap().pop() { ... }` the guard returned by
//! `lock()` is a temporary of the scrutinee, and temporaries of a `match`
//! scrutinee live until the end of the whole `match`. So the arm that locks
//! `jobs` again to re-queue a job runs while the first guard is still
//! alive: a self-deadlock that reads like perfectly sequential code.
//! lockgraph reports it at the second `lock()`.
//!
//! The fix: take what you need out of the lock in its own statement, so the
//! guard is dropped at the `;`.
//!
//! ```text
//! cargo run --example guard_in_match            # reported: the guard outlives the scrutinee
//! cargo run --example guard_in_match -- --fixed  # the value is taken out first: clean
//! ```

mod common;

use std::collections::VecDeque;
use std::panic;

use lockgraph::Mutex;

#[derive(Debug)]
struct Job {
    id: u32,
    attempts: u32,
}

/// The bug: the guard from the scrutinee is still alive in the arms.
fn retry_once(jobs: &Mutex<VecDeque<Job>>) {
    match jobs.lock().unwrap().pop_front() {
        Some(mut job) if job.attempts == 0 => {
            job.attempts += 1;
            jobs.lock().unwrap().push_back(job); // relocks `jobs`
        }
        Some(job) => println!("job {} gave up", job.id),
        None => println!("no job"),
    }
}

/// The fix: the guard is dropped at the end of the `let` statement.
fn retry_once_fixed(jobs: &Mutex<VecDeque<Job>>) {
    let next = jobs.lock().unwrap().pop_front();
    match next {
        Some(mut job) if job.attempts == 0 => {
            job.attempts += 1;
            jobs.lock().unwrap().push_back(job);
        }
        Some(job) => println!("job {} gave up", job.id),
        None => println!("no job"),
    }
}

fn main() {
    common::quiet_reports();
    let jobs = Mutex::named("jobs", VecDeque::from([Job { id: 1, attempts: 0 }]));
    if common::fixed() {
        retry_once_fixed(&jobs);
        println!("re-queued: {:?}", jobs.lock().unwrap());
        return;
    }
    let outcome = panic::catch_unwind(|| retry_once(&jobs));
    common::print_outcome("retry_once", outcome.err());
    println!("Run with `-- --fixed` to take the job out of the lock first.");
}
