//! A producer/consumer queue: a `VecDeque` behind a `Mutex`, and a
//! `Condvar` to wake the consumer. The correct version runs clean.
//!
//! `--lost-wakeup` shows a classic hang: the consumer keeps holding the
//! `stats` lock while it waits on the Condvar, and the producer must update
//! `stats` before it notifies. Once the consumer waits, the producer blocks
//! on `stats`, the notification never comes, and both wait forever.
//!
//! lockgraph orders Condvar waits and notifications with the locks around
//! them: the producer took `stats` on its way to notifying (Condvar ->
//! stats), and the consumer waits while holding `stats` (stats -> Condvar).
//! The first time the consumer waits, that closes a cycle and is reported,
//! before anything hangs — in this run the producer's first item is in
//! before the consumer starts, so nothing would have hung yet. The watchdog
//! (started with a 1 s threshold) is the fallback for a run where the
//! consumer waits before any notification was seen.
//!
//! ```text
//! cargo run --example producer_consumer                  # clean
//! cargo run --example producer_consumer -- --lost-wakeup  # reported at the consumer's first wait
//! ```

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use lockgraph::watchdog::{self, Config};
use lockgraph::{Condvar, Mutex, Policy, thread};

struct Shared {
    queue: Mutex<VecDeque<u32>>,
    ready: Condvar,
    stats: Mutex<u32>,
}

fn produce(shared: &Shared, items: u32) {
    for item in 1..=items {
        shared.queue.lock().unwrap().push_back(item);
        *shared.stats.lock().unwrap() += 1; // count what was produced
        shared.ready.notify_one();
    }
}

fn consume(shared: &Shared, items: u32, hold_stats_while_waiting: bool) -> u32 {
    let mut sum = 0;
    for _ in 0..items {
        // The bug, when enabled: a guard held across the wait.
        let _stats = hold_stats_while_waiting.then(|| shared.stats.lock().unwrap());
        let mut queue = shared
            .ready
            .wait_while(shared.queue.lock().unwrap(), |q| q.is_empty())
            .unwrap();
        sum += queue.pop_front().unwrap();
    }
    sum
}

fn main() {
    let lost_wakeup = std::env::args().any(|a| a == "--lost-wakeup");
    let shared = Arc::new(Shared {
        queue: Mutex::named("queue", VecDeque::new()),
        ready: Condvar::new(),
        stats: Mutex::named("stats", 0),
    });
    if !lost_wakeup {
        let producer = {
            let shared = shared.clone();
            thread::spawn(move || produce(&shared, 100))
        };
        let sum = consume(&shared, 100, false);
        producer.join().unwrap();
        println!("consumed 100 items, sum {sum}; no report");
        return;
    }

    // Print the first report, then end the process: in a run where the
    // consumer waited first, the two threads would be stuck for good.
    lockgraph::set_policy(Policy::callback(|report| {
        println!("{report}\n");
        println!("(the example exits at its first report)");
        std::process::exit(0);
    }));
    let _watchdog = watchdog::start(Config::new(Duration::from_secs(1)));
    let producer = {
        let shared = shared.clone();
        thread::Builder::new()
            .name("producer".into())
            .spawn(move || produce(&shared, 3))
            .unwrap()
    };
    // In this run the consumer starts late, after the producer delivered
    // its items: the producer took `stats` on its way to each notification,
    // and nothing can hang any more. The consumer's first wait is reported
    // all the same.
    producer.join().unwrap();
    let consumer = {
        let shared = shared.clone();
        thread::Builder::new()
            .name("consumer".into())
            .spawn(move || consume(&shared, 4, true))
            .unwrap()
    };
    println!(
        "the consumer waits for items while holding `stats`, which the producer needs before notifying...\n"
    );
    thread::sleep(Duration::from_secs(5));
    if !lockgraph::ENABLED {
        println!("no report: detection is compiled out of this build");
        std::process::exit(0);
    }
    let _ = consumer;
    println!("no report within 5 s");
    std::process::exit(1);
}
