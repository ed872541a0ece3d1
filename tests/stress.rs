//! Stress: 8 threads × 100,000 acquisitions over 64 locks, always nested in
//! slot order (so no cycle exists), with locks replaced by new ones as they
//! go: zero reports, and afterwards the graph holds exactly the live locks.

mod common;

use std::sync::{Arc, RwLock as StdRwLock};
use std::thread;

use lockgraph::{Mutex, RwLock};

const THREADS: usize = 8;
const ACQUISITIONS: usize = 100_000;
const SLOTS: usize = 64;

#[derive(Clone)]
enum Lock {
    Mutex(Arc<Mutex<u64>>),
    RwLock(Arc<RwLock<u64>>),
}

impl Lock {
    fn new(i: usize) -> Lock {
        if i.is_multiple_of(3) {
            Lock::RwLock(Arc::new(RwLock::new(0)))
        } else {
            Lock::Mutex(Arc::new(Mutex::new(0)))
        }
    }
}

enum Guard<'a> {
    Mutex(#[allow(dead_code)] lockgraph::MutexGuard<'a, u64>),
    Read(#[allow(dead_code)] lockgraph::RwLockReadGuard<'a, u64>),
    Write(#[allow(dead_code)] lockgraph::RwLockWriteGuard<'a, u64>),
}

/// xorshift64: a fast deterministic generator per thread.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as usize
    }
}

fn worker(table: Arc<StdRwLock<Vec<Lock>>>, seed: u64) {
    let mut rng = Rng(seed);
    let mut done = 0;
    while done < ACQUISITIONS {
        if rng.next().is_multiple_of(100) {
            // Replace a lock: the old one is dropped once no thread uses it.
            let slot = rng.next() % SLOTS;
            table.write().unwrap()[slot] = Lock::new(slot);
            continue;
        }
        // 1 to 4 distinct slots, taken in increasing slot order.
        let mut slots: Vec<usize> = (0..1 + rng.next() % 4)
            .map(|_| rng.next() % SLOTS)
            .collect();
        slots.sort_unstable();
        slots.dedup();
        let locks: Vec<Lock> = {
            let table = table.read().unwrap();
            slots.iter().map(|&s| table[s].clone()).collect()
        };
        let mut guards: Vec<Guard<'_>> = Vec::new();
        for lock in &locks {
            guards.push(match lock {
                Lock::Mutex(m) => Guard::Mutex(m.lock().unwrap()),
                Lock::RwLock(l) if rng.next().is_multiple_of(2) => Guard::Read(l.read().unwrap()),
                Lock::RwLock(l) => Guard::Write(l.write().unwrap()),
            });
            done += 1;
        }
        // Release in a random order.
        while !guards.is_empty() {
            let i = rng.next() % guards.len();
            drop(guards.swap_remove(i));
        }
    }
}

#[test]
fn consistent_order_under_churn_is_clean_and_leaks_nothing() {
    let stats = common::expect_clean(|| {
        let table = Arc::new(StdRwLock::new(
            (0..SLOTS).map(Lock::new).collect::<Vec<_>>(),
        ));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let table = table.clone();
                thread::spawn(move || worker(table, 0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1)))
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .expect("no worker panicked: no report was raised");
        }
        // Every remaining lock is live; take each once so each has a node.
        let table = table.read().unwrap();
        for lock in table.iter() {
            match lock {
                Lock::Mutex(m) => drop(m.lock().unwrap()),
                Lock::RwLock(l) => drop(l.read().unwrap()),
            }
        }
        lockgraph::graph_stats()
    });
    if lockgraph::ENABLED {
        // All replaced locks are gone: exactly the 64 live ones remain, and
        // edges only connect live locks (at most one per ordered pair).
        assert_eq!(stats.locks, SLOTS, "{stats:?}");
        assert!(stats.edges <= SLOTS * (SLOTS - 1) / 2, "{stats:?}");
    }
}
