//! The parking_lot flavour: the same detection as the std flavour with
//! parking_lot's semantics (recursive reads, upgradable reads, timed
//! acquisitions, bump/unlocked), one graph shared with the std flavour, and
//! a program written against parking_lot that compiles unchanged.

// The drop-in programs pin exact signatures with long fn-pointer types.
#![allow(clippy::type_complexity, clippy::extra_unused_lifetimes)]

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{expect_clean, expect_report, join_report, within};
use lockgraph::parking_lot::{
    Condvar, FairMutex, Mutex, MutexGuard, ReentrantMutex, RwLock, RwLockUpgradableReadGuard,
    RwLockWriteGuard,
};

mod with_parking_lot {
    #[allow(unused_imports)]
    use parking_lot::{
        Condvar, FairMutex, MappedMutexGuard, Mutex, MutexGuard, ReentrantMutex,
        ReentrantMutexGuard, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
        WaitTimeoutResult, const_fair_mutex, const_mutex, const_reentrant_mutex, const_rwlock,
    };
    include!("dropin/parking_lot_program.rs");
}

mod with_lockgraph {
    #[allow(unused_imports)]
    use lockgraph::parking_lot::{
        Condvar, FairMutex, MappedMutexGuard, Mutex, MutexGuard, ReentrantMutex,
        ReentrantMutexGuard, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
        WaitTimeoutResult, const_fair_mutex, const_mutex, const_reentrant_mutex, const_rwlock,
    };
    include!("dropin/parking_lot_program.rs");
}

#[test]
fn the_same_program_runs_with_parking_lot_and_with_lockgraph() {
    with_parking_lot::run();
    with_lockgraph::run();
}

#[test]
fn abba_is_reported() {
    require_detection!();
    let (tx, rx) = std::sync::mpsc::channel();
    let report = expect_report(move || {
        let (a, a_site) = (Mutex::new(()), common::here());
        let (b, b_site) = (Mutex::new(()), common::here());
        tx.send([a_site, b_site]).unwrap();
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        let _b = b.lock();
        let _a = a.lock();
    });
    assert!(report.contains("lock order inversion"), "{report}");
    assert!(report.contains("parking_lot::Mutex"), "{report}");
    for site in rx.recv().unwrap() {
        assert!(
            report.contains(&common::file_line(site)),
            "site {site}: {report}"
        );
    }
}

#[test]
fn ab_in_one_order_is_clean() {
    expect_clean(|| {
        let a = Mutex::new(());
        let b = FairMutex::new(());
        for _ in 0..3 {
            let _a = a.lock();
            let _b = b.lock();
        }
    });
}

#[test]
fn relocking_a_mutex_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let a = Mutex::new(());
        let _a = a.lock();
        let _again = a.lock();
    });
    assert!(
        report.starts_with("deadlock: relocking a parking_lot::Mutex already held"),
        "{report}"
    );
    let report = expect_report(|| {
        let a = FairMutex::new(());
        let _a = a.lock();
        let _again = a.lock();
    });
    assert!(report.contains("parking_lot::FairMutex"), "{report}");
}

#[test]
fn reentrant_mutex_reentry_is_clean_but_it_joins_cycles() {
    expect_clean(|| {
        let r = ReentrantMutex::new(1);
        let g1 = r.lock();
        let g2 = r.lock();
        let g3 = r.try_lock().unwrap();
        assert_eq!(*g1 + *g2 + *g3, 3);
    });
    require_detection!();
    expect_report(|| {
        let r = ReentrantMutex::new(());
        let m = Mutex::new(());
        {
            let _r = r.lock();
            let _m = m.lock();
        }
        let _m = m.lock();
        let _r = r.lock();
    });
}

#[test]
fn plain_read_reentry_is_reported_read_recursive_is_not() {
    require_detection!();
    let report = expect_report(|| {
        let rw = RwLock::new(());
        let _r1 = rw.read();
        let _r2 = rw.read();
    });
    assert!(
        report.contains("recursive read of a parking_lot::RwLock"),
        "{report}"
    );
    assert!(
        report.contains("read_recursive"),
        "suggests the fix: {report}"
    );
    expect_clean(|| {
        let rw = RwLock::new(());
        let _r1 = rw.read();
        let _r2 = rw.read_recursive();
        let _r3 = rw.read_recursive();
        let up = rw.try_upgradable_read();
        assert!(up.is_some());
        let _r4 = rw.read_recursive();
    });
}

#[test]
fn upgradable_read_then_write_is_a_self_deadlock() {
    require_detection!();
    let report = expect_report(|| {
        let rw = RwLock::new(0);
        let _up = rw.upgradable_read();
        let _w = rw.write();
    });
    assert!(
        report.starts_with("deadlock: write-locking a parking_lot::RwLock already held"),
        "{report}"
    );
}

#[test]
fn two_upgradable_reads_of_one_lock_is_a_self_deadlock() {
    require_detection!();
    let report = expect_report(|| {
        let rw = RwLock::new(0);
        let _up = rw.upgradable_read();
        let _up2 = rw.upgradable_read();
    });
    assert!(
        report.starts_with("deadlock: upgradable-read-locking a parking_lot::RwLock"),
        "{report}"
    );
}

#[test]
fn upgrade_and_downgrade_are_clean() {
    expect_clean(|| {
        let rw = RwLock::new(0);
        let up = rw.upgradable_read();
        let mut w = RwLockUpgradableReadGuard::upgrade(up);
        *w += 1;
        let up = RwLockWriteGuard::downgrade_to_upgradable(w);
        let r = RwLockUpgradableReadGuard::downgrade(up);
        assert_eq!(*r, 1);
        drop(r);
        // After the downgrades, the held stack still has exactly one entry
        // per guard: writing again is fine.
        *rw.write() += 1;
        assert!(lockgraph::held_locks().is_empty());
    });
}

#[test]
fn timed_acquisitions_add_edges_but_are_never_reported() {
    expect_clean(|| {
        let a = Mutex::new(());
        let b = Mutex::new(());
        {
            let _a = a.lock();
            let _b = b.lock(); // a -> b
        }
        let _b = b.lock();
        // Closes b -> a -> b, but a timed attempt ends by itself: no report.
        let _a = a.try_lock_for(Duration::from_millis(10)).expect("free");
    });
    require_detection!();
    // ... and its edge orders later blocking acquisitions.
    expect_report(|| {
        let a = Mutex::new(());
        let b = RwLock::new(());
        {
            let _a = a.lock();
            let _b = b.try_write_for(Duration::from_millis(10)).expect("free"); // a -> b
        }
        let _b = b.read();
        let _a = a.lock();
    });
}

#[test]
fn a_timed_out_acquisition_is_not_reported() {
    expect_clean(|| {
        let a = Arc::new(Mutex::new(()));
        let held = a.lock();
        let other = Arc::clone(&a);
        let timed_out =
            thread::spawn(move || other.try_lock_for(Duration::from_millis(20)).is_none());
        assert!(timed_out.join().unwrap());
        // Relocking with a timeout on the same thread just times out too.
        assert!(a.try_lock_for(Duration::from_millis(5)).is_none());
        drop(held);
    });
}

#[test]
fn unlocked_and_bump_release_and_reacquire_in_the_held_stack() {
    expect_clean(|| {
        let a = Mutex::named("a", 0);
        let b = Mutex::named("b", 0);
        let mut ga = a.lock();
        MutexGuard::unlocked(&mut ga, || {
            if lockgraph::ENABLED {
                assert!(lockgraph::held_locks().is_empty());
            }
            // b alone while a is released: no a -> b edge.
            *b.lock() += 1;
        });
        MutexGuard::bump(&mut ga);
        if lockgraph::ENABLED {
            assert_eq!(lockgraph::held_locks().len(), 1);
        }
        drop(ga);
        let _b = b.lock();
        let _a = a.lock(); // b -> a: no cycle, since a -> b was never taken
    });
}

#[test]
fn reacquiring_after_unlocked_is_checked() {
    require_detection!();
    expect_report(|| {
        let a = Mutex::new(());
        let b = Mutex::new(());
        {
            let _a = a.lock();
            let _b = b.lock(); // a -> b
        }
        let mut ga = a.lock();
        let _b = MutexGuard::unlocked(&mut ga, || b.lock()); // holds b, re-locks a
    });
}

#[test]
fn std_and_parking_lot_locks_share_one_graph() {
    require_detection!();
    let report = expect_report(|| {
        let std_lock = lockgraph::Mutex::new(());
        let pl_lock = Mutex::new(());
        {
            let _s = std_lock.lock().unwrap();
            let _p = pl_lock.lock();
        }
        let _p = pl_lock.lock();
        let _s = std_lock.lock();
    });
    assert!(
        report.contains("parking_lot::Mutex<()> created at")
            && report.contains("    Mutex<()> created at"),
        "{report}"
    );
}

#[test]
fn real_two_thread_deadlock_becomes_a_report() {
    require_detection!();
    let outcome = within(|| {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let barrier = Arc::new(Barrier::new(2));
        let spawn = |first: Arc<Mutex<()>>, second: Arc<Mutex<()>>, barrier: Arc<Barrier>| {
            thread::spawn(move || {
                let _f = first.lock();
                barrier.wait();
                let _s = second.lock();
            })
        };
        let t1 = spawn(a.clone(), b.clone(), barrier.clone());
        let t2 = spawn(b, a, barrier);
        [join_report(t1), join_report(t2)]
    })
    .expect("scenario must not panic");
    assert_eq!(outcome.iter().flatten().count(), 1, "{outcome:?}");
}

#[test]
fn condvar_notify_counts_and_timeouts() {
    expect_clean(condvar_scenario);
}

fn condvar_scenario() {
    let pair = Arc::new((Mutex::new(0), Condvar::new()));
    assert!(!pair.1.notify_one());
    assert_eq!(pair.1.notify_all(), 0);
    let mut guard = pair.0.lock();
    assert!(
        pair.1
            .wait_for(&mut guard, Duration::from_millis(5))
            .timed_out()
    );
    let waiter = {
        let pair = pair.clone();
        thread::spawn(move || {
            let mut g = pair.0.lock();
            pair.1.wait_while(&mut g, |v| *v == 0);
            *g
        })
    };
    drop(guard);
    loop {
        let mut g = pair.0.lock();
        *g = 7;
        // Either the waiter is parked and this wakes it, or it has not
        // waited yet and will see 7 without waiting.
        if pair.1.notify_one() || waiter.is_finished() {
            break;
        }
        drop(g);
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(waiter.join().unwrap(), 7);
}

#[cfg(feature = "arc_lock")]
#[test]
fn arc_guards() {
    use lockgraph::parking_lot::{ArcMutexGuard, ArcRwLockUpgradableReadGuard};
    let m = Arc::new(Mutex::new(1));
    let mut g: ArcMutexGuard<lockgraph::parking_lot::RawMutex, i32> = m.lock_arc();
    *g += 1;
    let back = ArcMutexGuard::into_arc(g);
    assert_eq!(*back.lock(), 2);
    let rw = Arc::new(RwLock::new(1));
    let up = rw.upgradable_read_arc();
    let mut w = ArcRwLockUpgradableReadGuard::upgrade(up);
    *w += 1;
    drop(w);
    assert_eq!(*rw.read_arc(), 2);
}
