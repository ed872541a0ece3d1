//! `lockgraph::ReentrantLock`: re-entry by the owner is clean, other threads
//! are excluded, and the lock still takes part in cycles.

mod common;

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::thread;

use common::{expect_clean, expect_report};
use lockgraph::{Mutex, ReentrantLock};

#[test]
fn the_owner_reenters_others_are_excluded() {
    let lock = Arc::new(ReentrantLock::new(Cell::new(0)));
    let g1 = lock.lock();
    let g2 = lock.lock();
    let g3 = lock.try_lock().expect("the owner may always try_lock");
    g3.set(3);
    let other = lock.clone();
    assert!(
        thread::spawn(move || other.try_lock().is_none())
            .join()
            .unwrap()
    );
    drop((g1, g2, g3));
    let other = lock.clone();
    assert_eq!(
        thread::spawn(move || other.try_lock().map(|g| g.get()))
            .join()
            .unwrap(),
        Some(3)
    );
}

#[test]
fn many_threads_count_exactly() {
    let lock = Arc::new(ReentrantLock::new(RefCell::new(0u32)));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let lock = lock.clone();
            thread::spawn(move || {
                for _ in 0..500 {
                    let outer = lock.lock();
                    let inner = lock.lock();
                    *inner.borrow_mut() += 1;
                    drop(outer);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(*lock.lock().borrow(), 2000);
}

#[test]
fn recursion_is_clean() {
    fn sum(lock: &ReentrantLock<Vec<u64>>, i: usize) -> u64 {
        let data = lock.lock();
        if i == data.len() {
            0
        } else {
            data[i] + sum(lock, i + 1)
        }
    }
    let total = expect_clean(|| {
        let lock = ReentrantLock::new((1..=10).collect::<Vec<u64>>());
        sum(&lock, 0)
    });
    assert_eq!(total, 55);
}

#[test]
fn a_reentrant_lock_still_takes_part_in_cycles() {
    require_detection!();
    expect_report(|| {
        let r = ReentrantLock::new(());
        let m = Mutex::new(());
        {
            let _r = r.lock();
            let _m = m.lock().unwrap();
        }
        let _m = m.lock().unwrap();
        let _r = r.lock();
    });
}

#[test]
fn reentry_while_holding_a_lock_taken_after_it_adds_no_edge() {
    expect_clean(|| {
        let r = ReentrantLock::new(());
        let m = Mutex::new(());
        let _r = r.lock();
        let _m = m.lock().unwrap(); // r -> m
        let _again = r.lock(); // cannot block: no m -> r edge
    });
}

#[test]
fn into_inner_get_mut_debug_default() {
    let mut lock = ReentrantLock::new(1);
    *lock.get_mut() += 1;
    assert_eq!(format!("{lock:?}"), "ReentrantLock { data: 2, .. }");
    {
        let guard = lock.lock();
        assert_eq!(format!("{guard:?} {guard}"), "2 2");
        let other = thread::scope(|s| s.spawn(|| format!("{lock:?}")).join().unwrap());
        assert_eq!(other, "ReentrantLock { data: <locked>, .. }");
    }
    assert_eq!(lock.into_inner(), 2);
    let d: ReentrantLock<String> = ReentrantLock::default();
    assert!(d.lock().is_empty());
}

static GLOBAL: ReentrantLock<Cell<u32>> = ReentrantLock::new(Cell::new(0));

#[test]
fn works_in_a_static() {
    let g = GLOBAL.lock();
    let g2 = GLOBAL.lock();
    g2.set(g.get() + 1);
    GLOBAL.assert_held();
    drop((g, g2));
    GLOBAL.assert_not_held();
}
