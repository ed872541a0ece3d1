//! A recursive function that locks the data it recurses over.
//!
//! `sum_from` locks the list, adds one element, and calls itself for the
//! rest — which locks the list again while the first guard is still alive.
//! A `Mutex` is not reentrant: the second `lock()` waits for the first guard
//! forever (std says it "might panic or deadlock"). lockgraph reports it at
//! once as a self-deadlock.
//!
//! The fix: a `ReentrantLock`, which the thread that holds it may lock
//! again. (Often better still: lock once and recurse over the guarded
//! data.)
//!
//! ```text
//! cargo run --example recursive_sum            # Mutex: reported as a self-deadlock
//! cargo run --example recursive_sum -- --fixed  # ReentrantLock: clean
//! ```

mod common;

use std::panic;

use lockgraph::{Mutex, ReentrantLock};

/// The bug: relocks `numbers` at every level of the recursion.
fn sum_from(numbers: &Mutex<Vec<u64>>, i: usize) -> u64 {
    let guard = numbers.lock().unwrap();
    match guard.get(i) {
        Some(&n) => n + sum_from(numbers, i + 1),
        None => 0,
    }
}

/// The fix: the owner re-enters a `ReentrantLock` freely.
fn sum_from_reentrant(numbers: &ReentrantLock<Vec<u64>>, i: usize) -> u64 {
    let guard = numbers.lock();
    match guard.get(i) {
        Some(&n) => n + sum_from_reentrant(numbers, i + 1),
        None => 0,
    }
}

fn main() {
    common::quiet_reports();
    let numbers: Vec<u64> = (1..=10).collect();
    if common::fixed() {
        let numbers = ReentrantLock::named("numbers", numbers);
        println!(
            "sum with a ReentrantLock: {}",
            sum_from_reentrant(&numbers, 0)
        );
        return;
    }
    let numbers = Mutex::named("numbers", numbers);
    let outcome = panic::catch_unwind(|| sum_from(&numbers, 0));
    match outcome {
        Ok(sum) => println!("sum: {sum} (no report: detection is compiled out of this build)"),
        Err(payload) => {
            common::print_outcome("sum_from", Some(payload));
            println!("Run with `-- --fixed` to use a ReentrantLock instead.");
        }
    }
}
