//! The classic bank-transfer deadlock, and its fix.
//!
//! A transfer locks the source account, then the destination. Teller 1 moves
//! money from account 0 to account 1 while teller 2 moves money from 1 to 0:
//! the two take the same two locks in opposite orders. Run at the same
//! moment, each holds one account and waits for the other forever.
//!
//! In this run the tellers work one after the other, so nothing can hang —
//! yet lockgraph reports the deadlock, because it remembers the order
//! teller 1 used and sees teller 2 reverse it.
//!
//! ```text
//! cargo run --example bank_transfer           # the bug: prints lockgraph's report
//! cargo run --example bank_transfer -- --fixed  # locks in account-id order: clean
//! ```

mod common;

use std::sync::Arc;
use std::thread;

use lockgraph::Mutex;

struct Bank {
    accounts: Vec<Mutex<u64>>,
}

impl Bank {
    fn new(balances: &[u64]) -> Bank {
        let accounts = balances
            .iter()
            .enumerate()
            .map(|(i, &balance)| Mutex::named(format!("accounts[{i}]"), balance))
            .collect();
        Bank { accounts }
    }

    /// The bug: locks `from`, then `to`. `transfer(0, 1)` and `transfer(1, 0)`
    /// take the two locks in opposite orders.
    fn transfer(&self, from: usize, to: usize, amount: u64) {
        let mut source = self.accounts[from].lock().unwrap();
        let mut destination = self.accounts[to].lock().unwrap();
        *source -= amount;
        *destination += amount;
    }

    /// The fix: always lock the lower account id first, whichever way the
    /// money moves. Every thread then takes the locks in one global order.
    fn transfer_ordered(&self, from: usize, to: usize, amount: u64) {
        let (first, second) = if from < to { (from, to) } else { (to, from) };
        let mut low = self.accounts[first].lock().unwrap();
        let mut high = self.accounts[second].lock().unwrap();
        let (source, destination) = if from < to {
            (&mut low, &mut high)
        } else {
            (&mut high, &mut low)
        };
        **source -= amount;
        **destination += amount;
    }

    fn total(&self) -> u64 {
        self.accounts
            .iter()
            .map(|account| *account.lock().unwrap())
            .sum()
    }
}

/// A teller thread making `rounds` transfers of 1 from `from` to `to`.
fn teller(bank: &Arc<Bank>, name: &str, from: usize, to: usize, fixed: bool) -> thread::Result<()> {
    let bank = Arc::clone(bank);
    let handle = thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            for _ in 0..10 {
                if fixed {
                    bank.transfer_ordered(from, to, 1);
                } else {
                    bank.transfer(from, to, 1);
                }
            }
        })
        .expect("spawn teller thread");
    handle.join()
}

fn main() {
    let fixed = common::fixed();
    let bank = Arc::new(Bank::new(&[100, 100]));

    // The report arrives as a panic in the thread that would have
    // deadlocked; print it ourselves instead of the default hook's
    // "thread panicked at" wrapper.
    common::quiet_reports();

    println!(
        "two tellers move money between accounts[0] and accounts[1] in opposite directions ({})\n",
        if fixed {
            "fixed: locks taken in account-id order"
        } else {
            "buggy: each locks its source first"
        }
    );
    let mut reports = 0;
    for (name, from, to) in [("teller-1", 0, 1), ("teller-2", 1, 0)] {
        match teller(&bank, name, from, to, fixed) {
            Ok(()) => println!("{name}: 10 transfers from accounts[{from}] to accounts[{to}] done"),
            Err(payload) => {
                let report = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "(a panic without a report)".to_owned());
                println!("{name}: stopped by lockgraph before it could deadlock:\n");
                println!("{report}\n");
                reports += 1;
            }
        }
    }

    if reports > 0 {
        println!(
            "The tellers never ran at the same time in this run, so nothing hung; but if they\n\
             had, each would hold one account and wait for the other forever. Run with\n\
             `-- --fixed` to see the fix (lock the lower account id first) run clean."
        );
    } else if fixed {
        println!("\nno report; total money is still {}", bank.total());
    } else if !lockgraph::ENABLED {
        println!("\nno report: detection is compiled out of this build (run without --release)");
    }
}
