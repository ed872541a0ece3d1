//! A producer/consumer queue: a `VecDeque` behind a `Mutex`, and a
//! `Condvar` to wake the consumer. The correct version runs clean.
//!
//! `--lost-wakeup` shows a classic hang no lock order reveals: the consumer
//! keeps holding the `stats` lock while it waits on the Condvar, and the
//! producer must update `stats` before it notifies. The producer blocks on
//! `stats`, so the notification the consumer waits for is never sent, and
//! both wait forever. lockgraph's watchdog (started here with a 1 s
//! threshold) reports who waits for what: the producer waits for `stats`,
//! held by the consumer, which is waiting on a Condvar while holding it.
//!
//! ```text
//! cargo run --example producer_consumer                  # clean
//! cargo run --example producer_consumer -- --lost-wakeup  # hangs; the watchdog reports it
//! ```

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockgraph::watchdog::{self, Config};
use lockgraph::{Condvar, Mutex, Policy, thread};

struct Shared {
    queue: Mutex<VecDeque<u32>>,
    ready: Condvar,
    stats: Mutex<u32>,
    /// Set by the consumer, holding the queue, right before it first waits.
    waiting: AtomicBool,
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
            .wait_while(shared.queue.lock().unwrap(), |q| {
                shared.waiting.store(true, Ordering::Release);
                q.is_empty()
            })
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
        waiting: AtomicBool::new(false),
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

    // Print the watchdog's report, then end the process: the two threads
    // are stuck for good.
    lockgraph::set_policy(Policy::callback(|report| {
        println!("{report}\n");
        println!("(the example exits here: these threads can never finish)");
        std::process::exit(0);
    }));
    let _watchdog = watchdog::start(Config::new(Duration::from_secs(1)));
    let consumer = {
        let shared = shared.clone();
        thread::Builder::new()
            .name("consumer".into())
            .spawn(move || consume(&shared, 1, true))
            .unwrap()
    };
    // Start the producer once the consumer is about to wait: it holds the
    // queue then, so the producer's push lands after the wait began.
    while !shared.waiting.load(Ordering::Acquire) {
        thread::sleep(Duration::from_millis(1));
    }
    let producer = {
        let shared = shared.clone();
        thread::Builder::new()
            .name("producer".into())
            .spawn(move || produce(&shared, 1))
            .unwrap()
    };
    println!(
        "the consumer waits for an item while holding `stats`; the producer needs `stats`...\n"
    );
    thread::sleep(Duration::from_secs(5));
    if !lockgraph::ENABLED {
        println!("no report: the watchdog needs detection, compiled out of this build");
        std::process::exit(0);
    }
    let _ = (consumer, producer);
    println!("no report within 5 s");
    std::process::exit(1);
}
