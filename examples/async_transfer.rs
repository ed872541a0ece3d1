//! The bank-transfer deadlock in async code, and its fix (feature `tokio`).
//!
//! Two tasks move money between two accounts behind
//! `lockgraph::tokio::sync::Mutex`es (a drop-in for `tokio::sync::Mutex`),
//! each locking its source first: the same two locks in opposite orders.
//! Run at the same moment, each task holds one account and awaits the other
//! forever — no thread is blocked, so nothing but a timeout would ever
//! notice. In this run the tasks go one after the other, so nothing hangs,
//! yet lockgraph reports the inversion at the first poll of the `lock()`
//! that closes the cycle, naming both tasks.
//!
//! ```text
//! cargo run --example async_transfer --features tokio             # the bug: prints the report
//! cargo run --example async_transfer --features tokio -- --fixed   # lower account id first: clean
//! ```

mod common;

use std::sync::Arc;

use lockgraph::tokio::sync::Mutex;

struct Bank {
    accounts: [Mutex<u64>; 2],
}

impl Bank {
    /// The bug: `from`, then `to`.
    async fn transfer(&self, from: usize, to: usize, amount: u64) {
        let mut source = self.accounts[from].lock().await;
        tokio::task::yield_now().await; // e.g. an audit log write
        let mut destination = self.accounts[to].lock().await;
        *source -= amount;
        *destination += amount;
    }

    /// The fix: the lower account id first, whichever way the money moves.
    async fn transfer_ordered(&self, from: usize, to: usize, amount: u64) {
        let (low, high) = (from.min(to), from.max(to));
        let mut first = self.accounts[low].lock().await;
        tokio::task::yield_now().await;
        let mut second = self.accounts[high].lock().await;
        let (source, destination) = if from < to {
            (&mut first, &mut second)
        } else {
            (&mut second, &mut first)
        };
        **source -= amount;
        **destination += amount;
    }
}

fn main() {
    let fixed = common::fixed();
    common::quiet_reports();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime");
    println!(
        "two tasks move money between accounts[0] and accounts[1] in opposite directions ({})\n",
        if fixed {
            "fixed: lower account id first"
        } else {
            "buggy: each locks its source first"
        }
    );
    let reports = runtime.block_on(async {
        let bank = Arc::new(Bank {
            accounts: [Mutex::new(100), Mutex::new(100)],
        });
        let mut reports = 0;
        for (name, from, to) in [("task-1", 0, 1), ("task-2", 1, 0)] {
            let bank = bank.clone();
            let task = tokio::spawn(async move {
                for _ in 0..10 {
                    if fixed {
                        bank.transfer_ordered(from, to, 1).await;
                    } else {
                        bank.transfer(from, to, 1).await;
                    }
                }
            });
            match task.await {
                Ok(()) => {
                    println!("{name}: 10 transfers from accounts[{from}] to accounts[{to}] done")
                }
                Err(err) => {
                    let payload = err.into_panic();
                    let report =
                        common::report_text(&*payload).unwrap_or("(a panic without a report)");
                    println!(
                        "{name}: stopped by lockgraph before it could deadlock:\n\n{report}\n"
                    );
                    reports += 1;
                }
            }
        }
        if reports == 0 {
            let total = *bank.accounts[0].lock().await + *bank.accounts[1].lock().await;
            println!("\ntotal money is still {total}");
        }
        reports
    });
    if reports > 0 {
        println!(
            "The tasks never ran at the same time in this run, so nothing hung; had they, each would\n\
             hold one account and await the other forever. Run with `-- --fixed` to see the fix."
        );
    } else if fixed {
        println!("no report");
    } else if !lockgraph::ENABLED {
        println!("no report: detection is compiled out of this build (run without --release)");
    }
}
