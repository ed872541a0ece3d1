//! `lockgraph::sync::atomic`: Release/Acquire publication orders the race
//! detector; Relaxed does not (its racing twin); fences and
//! read-modify-write release sequences.

mod common;

use std::sync::Arc;

use common::{expect_clean, expect_report};
use lockgraph::race::Tracked;
use lockgraph::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};

/// One thread writes the data then sets the flag with `store`; the other
/// spins on the flag with `load`, then reads the data. std threads: only
/// the flag orders them.
fn publish(store: Ordering, load: Ordering) {
    let shared = Arc::new((Tracked::named("payload", 0u32), AtomicBool::new(false)));
    let writer = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            shared.0.set(42);
            shared.1.store(true, store);
        })
    };
    while !shared.1.load(load) {
        std::hint::spin_loop();
    }
    assert_eq!(shared.0.get(), 42);
    writer.join().unwrap();
}

#[test]
fn release_acquire_publication_is_clean() {
    expect_clean(|| publish(Ordering::Release, Ordering::Acquire));
    expect_clean(|| publish(Ordering::SeqCst, Ordering::SeqCst));
}

#[test]
fn relaxed_publication_is_a_race() {
    require_detection!();
    let report = expect_report(|| publish(Ordering::Relaxed, Ordering::Relaxed));
    assert!(report.starts_with("race condition:"), "{report}");
    assert!(report.contains("Tracked \"payload\""), "{report}");
}

#[test]
fn a_release_store_read_by_a_relaxed_load_is_a_race() {
    require_detection!();
    let report = expect_report(|| publish(Ordering::Release, Ordering::Relaxed));
    assert!(report.starts_with("race condition:"), "{report}");
}

#[test]
fn fences_around_relaxed_operations_order() {
    expect_clean(|| {
        let shared = Arc::new((Tracked::named("payload", 0u32), AtomicBool::new(false)));
        let writer = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                shared.0.set(7);
                fence(Ordering::Release);
                shared.1.store(true, Ordering::Relaxed);
            })
        };
        while !shared.1.load(Ordering::Relaxed) {
            std::hint::spin_loop();
        }
        fence(Ordering::Acquire);
        assert_eq!(shared.0.get(), 7);
        writer.join().unwrap();
    });
}

#[test]
fn a_relaxed_read_modify_write_continues_the_release_sequence() {
    expect_clean(|| {
        let shared = Arc::new((Tracked::named("payload", 0u32), AtomicUsize::new(0)));
        let writer = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                shared.0.set(9);
                shared.1.fetch_add(1, Ordering::Release);
            })
        };
        // A relaxed increment by this thread after the release...
        while shared
            .1
            .compare_exchange(1, 2, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        writer.join().unwrap();
        // ...does not end it: an acquire load of its value still synchronises
        // with the release (checked from a third thread).
        let reader = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                assert_eq!(shared.1.load(Ordering::Acquire), 2);
                shared.0.get()
            })
        };
        assert_eq!(reader.join().unwrap(), 9);
    });
}

#[test]
fn the_atomics_behave_as_std_s() {
    let counter = AtomicUsize::new(5);
    assert_eq!(counter.fetch_add(2, Ordering::SeqCst), 5);
    assert_eq!(counter.fetch_max(10, Ordering::SeqCst), 7);
    assert_eq!(counter.swap(1, Ordering::SeqCst), 10);
    assert_eq!(
        counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| Some(n * 3)),
        Ok(1)
    );
    #[allow(deprecated)]
    let previous = counter.compare_and_swap(3, 4, Ordering::AcqRel);
    assert_eq!(previous, 3);
    assert_eq!(counter.into_inner(), 4);
    let flag = AtomicBool::default();
    assert!(!flag.fetch_not(Ordering::SeqCst));
    assert_eq!(format!("{flag:?}"), "true");
}
