//! Dining philosophers: five philosophers, five forks; each needs the fork
//! on their left and the one on their right.
//!
//! The naive version has everyone pick up their left fork first. Philosopher
//! 4's left fork is fork 4 and right fork is fork 0, so the forks are taken
//! in a ring of orders, fork 0 → 1 → 2 → 3 → 4 → 0: if all five sit down at
//! once and each takes their left fork, they wait for each other forever.
//! lockgraph reports the ring as soon as the last philosopher closes it,
//! even though in this run they eat one after the other.
//!
//! The fix (resource hierarchy): always pick up the lower-numbered fork
//! first. Philosopher 4 then takes fork 0 before fork 4, and the ring is
//! broken.
//!
//! ```text
//! cargo run --example dining_philosophers            # naive: the 5-lock cycle is reported
//! cargo run --example dining_philosophers -- --fixed  # resource hierarchy: clean
//! ```

mod common;

use std::sync::Arc;
use std::thread;

use lockgraph::Mutex;

const SEATS: usize = 5;

fn dine(forks: &[Mutex<u32>], seat: usize, fixed: bool) {
    let (left, right) = (seat, (seat + 1) % SEATS);
    let (first, second) = if fixed {
        (left.min(right), left.max(right))
    } else {
        (left, right)
    };
    let mut a = forks[first].lock().unwrap();
    let mut b = forks[second].lock().unwrap();
    *a += 1; // wash the forks after eating
    *b += 1;
}

fn main() {
    let fixed = common::fixed();
    common::quiet_reports();
    let forks: Arc<Vec<Mutex<u32>>> = Arc::new(
        (0..SEATS)
            .map(|i| Mutex::named(format!("fork[{i}]"), 0))
            .collect(),
    );
    println!(
        "{SEATS} philosophers eat one after another, each taking {}\n",
        if fixed {
            "the lower-numbered fork first (fixed)"
        } else {
            "their left fork first (naive)"
        }
    );
    let mut reported = false;
    for seat in 0..SEATS {
        let forks = forks.clone();
        let name = format!("philosopher-{seat}");
        let outcome = thread::Builder::new()
            .name(name.clone())
            .spawn(move || dine(&forks, seat, fixed))
            .unwrap()
            .join();
        reported |= outcome.is_err();
        common::print_outcome(&name, outcome.err());
    }
    if reported {
        println!(
            "Had all five sat down at once, each holding their left fork, none could ever eat.\n\
             Run with `-- --fixed` to break the ring: take the lower-numbered fork first."
        );
    } else if !fixed && !lockgraph::ENABLED {
        println!("no report: detection is compiled out of this build (run without --release)");
    }
}
