//! Lock-order inversions: AB/BA, rings of 3 to 8 locks, mixed lock kinds,
//! real multi-thread deadlocks, and the bookkeeping that keeps the graph
//! right (try_lock, out-of-order release, forgotten guards, dropped and
//! moved locks). Every detection test has a clean twin.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::{expect_clean, expect_report, file_line, here, join_report, within};
use lockgraph::{Mutex, ReentrantLock, RwLock};

#[test]
fn ab_then_ba_in_one_thread_is_reported_at_the_second_order() {
    require_detection!();
    let (tx, rx) = std::sync::mpsc::channel();
    let report = expect_report(move || {
        let (a, a_created) = (Mutex::new(1), here());
        let (b, b_created) = (Mutex::new(2), here());
        let first = {
            let _a = a.lock().unwrap();
            let (_b, first_b) = (b.lock().unwrap(), here());
            first_b
        };
        let sites = [a_created, b_created, first];
        let _b = b.lock().unwrap();
        let _a = (tx.send((sites, here())).unwrap(), a.lock());
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion"),
        "{report}"
    );
    // Creation sites of a and b, where a -> b was first taken, and the
    // acquisition that closes the cycle.
    let (sites, closing) = rx.recv().unwrap();
    for site in sites.into_iter().chain([closing]) {
        assert!(report.contains(&file_line(site)), "{site}: {report}");
    }
}

#[test]
fn ab_twice_is_clean() {
    expect_clean(|| {
        let a = Mutex::new(1);
        let b = Mutex::new(2);
        for _ in 0..3 {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
    });
}

#[test]
fn opposite_orders_in_threads_that_never_overlap_are_reported() {
    require_detection!();
    let report = expect_report(|| {
        let a = Arc::new(Mutex::named("a", ()));
        let b = Arc::new(Mutex::named("b", ()));
        let (a1, b1) = (a.clone(), b.clone());
        thread::spawn(move || {
            let _a = a1.lock().unwrap();
            let _b = b1.lock().unwrap();
        })
        .join()
        .unwrap();
        let second = thread::Builder::new()
            .name("second".into())
            .spawn(move || {
                let _b = b.lock().unwrap();
                let _a = a.lock().unwrap();
            })
            .unwrap();
        if let Some(report) = join_report(second) {
            std::panic::panic_any(report);
        }
    });
    assert!(report.contains("thread `second` is acquiring"), "{report}");
}

#[test]
fn same_order_in_two_threads_is_clean() {
    expect_clean(|| {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (a, b) = (a.clone(), b.clone());
                thread::spawn(move || {
                    for _ in 0..100 {
                        let _a = a.lock().unwrap();
                        let _b = b.lock().unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
}

/// Builds the chain `locks[0] -> locks[1] -> ... -> locks[n-1]` one pair at
/// a time, then closes it with `locks[n-1] -> locks[0]` if `close`.
fn ring(n: usize, close: bool) {
    let locks: Vec<Mutex<usize>> = (0..n).map(Mutex::new).collect();
    for pair in locks.windows(2) {
        let _first = pair[0].lock().unwrap();
        let _second = pair[1].lock().unwrap();
    }
    let _last = locks[n - 1].lock().unwrap();
    if close {
        let _first = locks[0].lock().unwrap();
    }
}

#[test]
fn rings_of_two_to_eight_locks_are_reported() {
    require_detection!();
    for n in 2..=8 {
        let report = expect_report(move || ring(n, true));
        assert!(
            report.contains("lock order inversion"),
            "ring of {n}: {report}"
        );
        if n > 2 {
            assert!(
                report.contains(&format!("closes a cycle of {n} locks")),
                "ring of {n}: {report}"
            );
        }
        let labels: Vec<String> = (1..=n).map(|i| format!("Mutex<usize>#{i} ")).collect();
        for label in &labels {
            assert!(
                report.contains(label.as_str()),
                "ring of {n} names {label}: {report}"
            );
        }
    }
}

#[test]
fn open_chains_of_two_to_eight_locks_are_clean() {
    for n in 2..=8 {
        expect_clean(move || ring(n, false));
    }
}

#[test]
fn abc_ring_across_three_threads_is_reported_with_every_site() {
    require_detection!();
    let (tx, rx) = std::sync::mpsc::channel();
    let report = expect_report(move || {
        let (a, a_site) = (Arc::new(Mutex::named("a", ())), here());
        let (b, b_site) = (Arc::new(Mutex::named("b", ())), here());
        let (c, c_site) = (Arc::new(Mutex::named("c", ())), here());
        tx.send([a_site, b_site, c_site]).unwrap();
        let pairs = [(a.clone(), b.clone()), (b.clone(), c.clone())];
        for (first, second) in pairs {
            thread::spawn(move || {
                let _f = first.lock().unwrap();
                let _s = second.lock().unwrap();
            })
            .join()
            .unwrap();
        }
        let _c = c.lock().unwrap();
        let _a = a.lock().unwrap();
    });
    for site in rx.recv().unwrap() {
        assert!(
            report.contains(&file_line(site)),
            "creation site {site}: {report}"
        );
    }
    assert!(report.contains("c -> a -> b -> c"), "{report}");
}

#[test]
fn abc_consistent_order_is_clean() {
    expect_clean(|| {
        let (a, b, c) = (Mutex::new(()), Mutex::new(()), Mutex::new(()));
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        {
            let _b = b.lock().unwrap();
            let _c = c.lock().unwrap();
        }
        let _a = a.lock().unwrap();
        let _c = c.lock().unwrap();
    });
}

#[test]
fn mixed_mutex_rwlock_reentrant_cycle_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let m = Mutex::new(());
        let rw = RwLock::new(());
        let re = ReentrantLock::new(());
        {
            let _m = m.lock().unwrap();
            let _r = rw.read().unwrap();
        }
        {
            let _r = rw.write().unwrap();
            let _re = re.lock();
            let _again = re.lock(); // re-entry: no edge, no report
        }
        let _re = re.lock();
        let _m = m.lock().unwrap();
    });
    assert!(report.contains("Mutex"), "{report}");
    assert!(report.contains("RwLock"), "{report}");
    assert!(report.contains("ReentrantLock"), "{report}");
}

#[test]
fn mixed_kinds_in_one_order_are_clean() {
    expect_clean(|| {
        let m = Mutex::new(());
        let rw = RwLock::new(());
        let re = ReentrantLock::new(());
        for _ in 0..2 {
            let _m = m.lock().unwrap();
            let _r = rw.read().unwrap();
            let _re = re.lock();
            let _again = re.lock();
        }
        let _r = rw.write().unwrap();
        let _re = re.lock();
    });
}

#[test]
fn read_read_inversion_across_two_rwlocks_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let a = RwLock::new(());
        let b = RwLock::new(());
        {
            let _a = a.read().unwrap();
            let _b = b.read().unwrap();
        }
        let _b = b.read().unwrap();
        let _a = a.read().unwrap();
    });
    assert!(report.contains("lock order inversion"), "{report}");
}

#[test]
fn reads_in_one_order_are_clean() {
    expect_clean(|| {
        let a = RwLock::new(());
        let b = RwLock::new(());
        for _ in 0..2 {
            let _a = a.read().unwrap();
            let _b = b.read().unwrap();
        }
    });
}

#[test]
fn real_two_thread_deadlock_becomes_a_report_instead_of_a_hang() {
    require_detection!();
    let outcome = within(|| {
        let a = Arc::new(Mutex::new(0));
        let b = Arc::new(Mutex::new(0));
        let barrier = Arc::new(Barrier::new(2));
        let spawn = |first: Arc<Mutex<i32>>, second: Arc<Mutex<i32>>, barrier: Arc<Barrier>| {
            thread::spawn(move || {
                let _f = first.lock().unwrap();
                barrier.wait();
                // One thread adds its edge and blocks; the other closes the
                // cycle, reports and unwinds, releasing what the first waits
                // for (poisoned, since it panicked holding it).
                let _s = second
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            })
        };
        let t1 = spawn(a.clone(), b.clone(), barrier.clone());
        let t2 = spawn(b, a, barrier);
        [join_report(t1), join_report(t2)]
    })
    .expect("scenario itself must not panic");
    let reports: Vec<_> = outcome.iter().flatten().collect();
    assert_eq!(reports.len(), 1, "exactly one thread reports: {outcome:?}");
    assert!(reports[0].contains("lock order inversion"));
}

#[test]
fn real_three_thread_deadlock_becomes_a_report_instead_of_a_hang() {
    require_detection!();
    let outcome = within(|| {
        let locks: Vec<Arc<Mutex<()>>> = (0..3).map(|_| Arc::new(Mutex::new(()))).collect();
        let barrier = Arc::new(Barrier::new(3));
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let first = locks[i].clone();
                let second = locks[(i + 1) % 3].clone();
                let barrier = barrier.clone();
                thread::spawn(move || {
                    let _f = first.lock().unwrap();
                    barrier.wait();
                    let _s = second
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                })
            })
            .collect();
        handles.into_iter().map(join_report).collect::<Vec<_>>()
    })
    .expect("scenario itself must not panic");
    let reports: Vec<_> = outcome.iter().flatten().collect();
    assert_eq!(reports.len(), 1, "exactly one thread reports: {outcome:?}");
    assert!(
        reports[0].contains("closes a cycle of 3 locks"),
        "{}",
        reports[0]
    );
}

#[test]
fn the_same_pairs_taken_concurrently_in_one_order_are_clean() {
    expect_clean(|| {
        let locks: Vec<Arc<Mutex<()>>> = (0..3).map(|_| Arc::new(Mutex::new(()))).collect();
        let barrier = Arc::new(Barrier::new(3));
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let (lo, hi) = (i.min((i + 1) % 3), i.max((i + 1) % 3));
                let first = locks[lo].clone();
                let second = locks[hi].clone();
                let barrier = barrier.clone();
                thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..50 {
                        let _f = first.lock().unwrap();
                        let _s = second.lock().unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
}

#[test]
fn try_lock_adds_no_edge_to_the_lock_it_takes() {
    expect_clean(|| {
        let a = Mutex::new(());
        let b = Mutex::new(());
        {
            let _a = a.lock().unwrap();
            let _b = b.try_lock().unwrap(); // cannot block: no a -> b
        }
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap(); // b -> a alone is no cycle
    });
}

#[test]
fn a_lock_taken_by_try_lock_still_orders_what_follows() {
    require_detection!();
    expect_report(|| {
        let a = Mutex::new(());
        let b = Mutex::new(());
        {
            let _a = a.try_lock().unwrap();
            let _b = b.lock().unwrap(); // a -> b
        }
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    });
}

#[test]
fn try_lock_of_a_lock_this_thread_holds_would_block_without_a_report() {
    expect_clean(|| {
        let a = Mutex::new(());
        let _a = a.lock().unwrap();
        assert!(matches!(
            a.try_lock(),
            Err(lockgraph::TryLockError::WouldBlock)
        ));
        let rw = RwLock::new(());
        let _w = rw.write().unwrap();
        assert!(matches!(
            rw.try_read(),
            Err(lockgraph::TryLockError::WouldBlock)
        ));
        assert!(matches!(
            rw.try_write(),
            Err(lockgraph::TryLockError::WouldBlock)
        ));
    });
}

#[test]
fn out_of_order_release_keeps_the_held_stack_right() {
    expect_clean(|| {
        let (a, b, c) = (
            Mutex::named("a", ()),
            Mutex::named("b", ()),
            Mutex::named("c", ()),
        );
        let ga = a.lock().unwrap();
        let gb = b.lock().unwrap();
        drop(ga);
        if lockgraph::ENABLED {
            let held: Vec<_> = lockgraph::held_locks()
                .iter()
                .map(|h| h.lock().name().unwrap().to_owned())
                .collect();
            assert_eq!(held, ["b"]);
        }
        drop(gb);
        // c -> a while nothing else is held: no cycle with a -> b.
        let _c = c.lock().unwrap();
        let _a = a.lock().unwrap();
    });
}

#[test]
fn out_of_order_release_still_finds_a_real_cycle() {
    require_detection!();
    expect_report(|| {
        let (a, b, c) = (Mutex::new(()), Mutex::new(()), Mutex::new(()));
        let ga = a.lock().unwrap();
        let gb = b.lock().unwrap(); // a -> b
        drop(ga);
        let gc = c.lock().unwrap(); // b -> c (a no longer held)
        drop(gb);
        let _a = a.lock().unwrap(); // c -> a closes a -> b -> c -> a
        drop(gc);
    });
}

#[test]
fn guards_moved_into_a_collection_and_dropped_in_any_order() {
    expect_clean(|| {
        let locks: Vec<Mutex<u8>> = (0..6).map(Mutex::new).collect();
        let mut guards: Vec<_> = locks.iter().map(|m| m.lock().unwrap()).collect();
        // Drop from the middle outwards.
        for i in [3, 1, 2, 0, 1, 0] {
            drop(guards.remove(i));
        }
        assert!(lockgraph::held_locks().is_empty());
        // The same locks in the same order again: still clean.
        let _again: Vec<_> = locks.iter().map(|m| m.lock().unwrap()).collect();
    });
}

#[test]
fn a_forgotten_guard_keeps_its_lock_held_and_a_relock_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let a = Mutex::new(());
        std::mem::forget(a.lock().unwrap());
        assert!(a.try_lock().is_err());
        let _again = a.lock();
    });
    assert!(
        report.starts_with("deadlock: relocking a Mutex already held by this thread"),
        "{report}"
    );
}

#[test]
fn a_lock_dropped_while_its_guard_is_forgotten_does_not_break_later_checks() {
    expect_clean(|| {
        let outer = Mutex::new(());
        {
            let gone = Box::new(Mutex::new(()));
            std::mem::forget(gone.lock().unwrap());
            // `gone` is freed while "held"; its id is never used again.
        }
        let _o = outer.lock().unwrap();
        let inner = Mutex::new(());
        let _i = inner.lock().unwrap();
    });
}

#[test]
fn dropped_locks_leave_the_graph() {
    require_detection!();
    expect_clean(|| {
        let outer = Mutex::new(());
        let _warm = outer.lock().unwrap();
        for i in 0..100 {
            let inner = Mutex::named(format!("dropped-probe-{i}"), ());
            let _i = inner.lock().unwrap(); // outer -> inner
            if i == 0 {
                assert!(lockgraph::graph_dot().contains("dropped-probe-0"));
            }
        }
        // Other tests run in parallel, so counts move; but none of ours is left.
        let dot = lockgraph::graph_dot();
        assert!(!dot.contains("dropped-probe-"), "{dot}");
    });
}

#[test]
fn a_moved_lock_keeps_its_identity() {
    require_detection!();
    expect_report(|| {
        let a = Mutex::new(());
        let b = Mutex::new(());
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        let moved = vec![0u8; 3];
        let a = Box::new((moved, a)); // a now lives at another address
        let _b = b.lock().unwrap();
        let _a = a.1.lock().unwrap();
    });
}

#[test]
fn a_new_lock_at_a_reused_address_is_a_new_node() {
    expect_clean(|| {
        let outer = Mutex::new(());
        for i in 0..50 {
            // Each iteration's lock likely reuses the last one's stack slot.
            let inner = Mutex::new(i);
            if i % 2 == 0 {
                let _o = outer.lock().unwrap();
                let _i = inner.lock().unwrap();
            } else {
                let _i = inner.lock().unwrap();
                let _o = outer.lock().unwrap();
            }
        }
    });
}

#[test]
fn locks_created_on_one_line_in_a_loop_are_distinct() {
    require_detection!();
    let report = expect_report(|| {
        let locks: Vec<Mutex<usize>> = (0..2).map(Mutex::new).collect();
        {
            let _first = locks[0].lock().unwrap();
            let _second = locks[1].lock().unwrap();
        }
        let _second = locks[1].lock().unwrap();
        let _first = locks[0].lock().unwrap();
    });
    assert!(
        report.contains("Mutex<usize>#1 created at")
            && report.contains("Mutex<usize>#2 created at"),
        "{report}"
    );
}

#[test]
fn locks_created_on_one_line_in_one_order_are_clean() {
    expect_clean(|| {
        let locks: Vec<Mutex<usize>> = (0..4).map(Mutex::new).collect();
        for _ in 0..3 {
            let _guards: Vec<_> = locks.iter().map(|l| l.lock().unwrap()).collect();
        }
    });
}

#[test]
fn hundreds_of_locks_held_at_once() {
    expect_clean(|| {
        let locks: Vec<Mutex<usize>> = (0..300).map(Mutex::new).collect();
        let guards: Vec<_> = locks.iter().map(|l| l.lock().unwrap()).collect();
        if lockgraph::ENABLED {
            assert_eq!(lockgraph::held_locks().len(), 300);
        }
        drop(guards);
        assert!(lockgraph::held_locks().is_empty());
    });
}

#[test]
fn ten_thousand_fresh_nested_pairs() {
    let start = std::time::Instant::now();
    expect_clean(|| {
        for i in 0..10_000 {
            let a = Mutex::new(i);
            let b = Mutex::new(i);
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
    });
    eprintln!("10,000 nested pairs in {:?}", start.elapsed());
}

#[test]
fn condvar_wait_releases_and_reacquires_in_the_held_stack() {
    expect_clean(|| {
        let pair = Arc::new((Mutex::named("state", false), lockgraph::Condvar::new()));
        let other = pair.clone();
        let notifier = thread::spawn(move || {
            let (lock, cvar) = &*other;
            *lock.lock().unwrap() = true;
            cvar.notify_all();
        });
        let (lock, cvar) = &*pair;
        let guard = cvar
            .wait_while(lock.lock().unwrap(), |ready| !*ready)
            .unwrap();
        if lockgraph::ENABLED {
            assert_eq!(lockgraph::held_locks().len(), 1);
        }
        drop(guard);
        assert!(lockgraph::held_locks().is_empty());
        notifier.join().unwrap();
    });
}

#[test]
fn condvar_reacquisition_is_checked_against_other_held_locks() {
    require_detection!();
    expect_report(|| {
        let outer = Mutex::new(());
        let m = Mutex::new(());
        let cv = lockgraph::Condvar::new();
        {
            let _m = m.lock().unwrap();
            let _o = outer.lock().unwrap(); // m -> outer
        }
        let _o = outer.lock().unwrap();
        let g = m.try_lock().unwrap(); // no edge for the try
        // The wake-up re-acquires m while holding outer: outer -> m.
        let _ = cv.wait_timeout(g, std::time::Duration::from_millis(1));
    });
}
