//! `lockgraph::RwLock` behaves as `std::sync::RwLock` and reports every
//! same-thread relock: read->read, read->write, write->read, write->write.

mod common;

use std::sync::{Arc, TryLockError};
use std::thread;

use common::{expect_clean, expect_report};
use lockgraph::RwLock;

#[test]
fn readers_share_writers_exclude() {
    let lock = Arc::new(RwLock::new(0));
    let r1 = lock.read().unwrap();
    let other = lock.clone();
    let shared = thread::spawn(move || {
        let read_ok = other.try_read().is_ok();
        let write_blocked = matches!(other.try_write(), Err(TryLockError::WouldBlock));
        read_ok && write_blocked
    })
    .join()
    .unwrap();
    assert!(shared);
    drop(r1);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let lock = lock.clone();
            thread::spawn(move || {
                for _ in 0..500 {
                    *lock.write().unwrap() += 1;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(*lock.read().unwrap(), 2000);
}

#[test]
fn a_writer_panic_poisons_a_reader_panic_does_not() {
    common::quiet_reports();
    let lock = Arc::new(RwLock::new(1));
    let reader = lock.clone();
    let _ = thread::spawn(move || {
        let _r = reader.read().unwrap();
        panic!("reader panics");
    })
    .join();
    assert!(!lock.is_poisoned());
    let writer = lock.clone();
    let _ = thread::spawn(move || {
        let _w = writer.write().unwrap();
        panic!("writer panics");
    })
    .join();
    assert!(lock.is_poisoned());
    assert!(lock.read().is_err());
    assert!(matches!(lock.try_write(), Err(TryLockError::Poisoned(_))));
    lock.clear_poison();
    assert_eq!(*lock.read().unwrap(), 1);
}

#[test]
fn debug_and_friends_match_std() {
    let lock = RwLock::new(vec![1]);
    let std_lock = std::sync::RwLock::new(vec![1]);
    assert_eq!(format!("{lock:?}"), format!("{std_lock:?}"));
    {
        let _w = lock.write().unwrap();
        let _sw = std_lock.write().unwrap();
        assert_eq!(format!("{lock:?}"), format!("{std_lock:?}"));
    }
    let guard = lock.read().unwrap();
    assert_eq!(format!("{guard:?}"), "[1]");
    drop(guard);
    let mut lock = lock;
    lock.get_mut().unwrap().push(2);
    assert_eq!(lock.into_inner().unwrap(), [1, 2]);
    let d: RwLock<u8> = RwLock::default();
    assert_eq!(*d.read().unwrap(), 0);
    assert_eq!(format!("{}", RwLock::from(4).read().unwrap()), "4");
}

static TABLE: RwLock<[u8; 4]> = RwLock::new([0; 4]);

#[test]
fn works_in_a_static_and_with_unsized_data() {
    TABLE.write().unwrap()[1] = 2;
    assert_eq!(TABLE.read().unwrap()[1], 2);
    let slice: &RwLock<[u8]> = &RwLock::new([1, 2]);
    slice.write().unwrap()[0] = 3;
    assert_eq!(&*slice.read().unwrap(), &[3, 2]);
}

#[test]
fn recursive_read_is_reported_with_the_reason_and_the_fix() {
    require_detection!();
    let report = expect_report(|| {
        let lock = RwLock::new(0);
        let _r1 = lock.read().unwrap();
        let _r2 = lock.read().unwrap();
    });
    assert!(
        report.starts_with("potential deadlock: recursive read of an RwLock"),
        "{report}"
    );
    assert!(
        report.contains("writer"),
        "explains the queued writer: {report}"
    );
    assert!(report.contains("fix: keep the first guard"), "{report}");
}

#[test]
fn read_then_write_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let lock = RwLock::new(0);
        let _r = lock.read().unwrap();
        let _w = lock.write();
    });
    assert!(
        report.starts_with("deadlock: write-locking an RwLock already held by this thread"),
        "{report}"
    );
}

#[test]
fn write_then_read_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let lock = RwLock::new(0);
        let _w = lock.write().unwrap();
        let _r = lock.read();
    });
    assert!(
        report.starts_with("deadlock: read-locking an RwLock already held by this thread"),
        "{report}"
    );
}

#[test]
fn write_then_write_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let lock = RwLock::new(0);
        let _w = lock.write().unwrap();
        let _w2 = lock.write();
    });
    assert!(
        report.starts_with("deadlock: write-locking an RwLock"),
        "{report}"
    );
}

#[test]
fn read_then_release_then_write_is_clean() {
    expect_clean(|| {
        let lock = RwLock::new(0);
        let value = *lock.read().unwrap();
        *lock.write().unwrap() = value + 1;
        let _r = lock.read().unwrap();
        drop(_r);
        let _w = lock.write().unwrap();
    });
}

#[test]
fn two_threads_reading_at_once_is_clean() {
    expect_clean(|| {
        let lock = Arc::new(RwLock::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (lock, barrier) = (lock.clone(), barrier.clone());
                thread::spawn(move || {
                    let _r = lock.read().unwrap();
                    barrier.wait();
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
}
