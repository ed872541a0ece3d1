//! One-time initialisation in the lock order (`OnceLock`, `LazyLock`,
//! `Once`) and as a happens-before edge, and `Barrier` rounds as
//! happens-before edges; each detection with a clean twin.

mod common;

use std::sync::Arc;

use common::{expect_clean, expect_report};
use lockgraph::race::Tracked;
use lockgraph::sync::{Barrier, LazyLock, Mutex, Once, OnceLock};

#[test]
fn an_initialiser_taking_a_lock_held_by_a_caller_is_an_inversion() {
    require_detection!();
    let report = expect_report(|| {
        let registry = Mutex::named("registry", vec![1, 2]);
        let cell = OnceLock::new();
        // The initialiser locks the registry: cell -> registry.
        assert_eq!(*cell.get_or_init(|| registry.lock().unwrap().len()), 2);
        // Holding the registry, ask for the (initialised) cell: in another
        // run this caller would be the one waiting for the initialiser.
        let _guard = registry.lock().unwrap();
        cell.get_or_init(|| 0);
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion"),
        "{report}"
    );
    assert!(
        report.contains("OnceLock<usize> created at tests/once.rs:"),
        "{report}"
    );
    assert!(report.contains("Mutex \"registry\""), "{report}");
}

#[test]
fn a_caller_that_holds_nothing_and_an_initialiser_taking_a_lock_are_clean() {
    expect_clean(|| {
        let registry = Mutex::named("registry", vec![1, 2]);
        let cell = OnceLock::new();
        assert_eq!(*cell.get_or_init(|| registry.lock().unwrap().len()), 2);
        assert_eq!(*cell.get_or_init(|| 0), 2);
        // Holding the lock after the cell is fine too: cell, then registry.
        let value = *cell.get().unwrap();
        let _guard = registry.lock().unwrap();
        value
    });
}

#[test]
fn an_inversion_across_threads_is_reported_before_it_hangs() {
    require_detection!();
    let report = expect_report(|| {
        let shared = Arc::new((Mutex::named("lock", ()), OnceLock::<u8>::new()));
        let initialiser = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let (lock, cell) = &*shared;
                cell.get_or_init(|| {
                    let _g = lock.lock().unwrap();
                    1
                });
            })
        };
        initialiser.join().unwrap();
        let (lock, cell) = &*shared;
        let _g = lock.lock().unwrap();
        cell.get_or_init(|| 2);
    });
    assert!(report.contains("lock order inversion"), "{report}");
}

#[test]
fn a_re_entrant_initialisation_is_a_self_deadlock_report() {
    require_detection!();
    let report = expect_report(|| {
        let cell: OnceLock<u32> = OnceLock::new();
        cell.get_or_init(|| *cell.get_or_init(|| 1) + 1);
    });
    assert!(
        report.starts_with("deadlock: re-entrant initialisation of a OnceLock on this thread"),
        "{report}"
    );
    assert!(
        report.contains("do not reach the cell from its own initialiser"),
        "{report}"
    );
}

#[test]
fn nested_initialisations_of_different_cells_are_clean() {
    expect_clean(|| {
        let (outer, inner): (OnceLock<u32>, OnceLock<u32>) = (OnceLock::new(), OnceLock::new());
        assert_eq!(*outer.get_or_init(|| *inner.get_or_init(|| 1) + 1), 2);
        assert_eq!(*outer.get_or_init(|| 0), 2);
    });
}

#[test]
fn a_lazy_value_forced_under_the_lock_its_initialiser_takes_is_an_inversion() {
    require_detection!();
    let report = expect_report(|| {
        let lock = Arc::new(Mutex::named("table", 5u32));
        let lazy = {
            let lock = lock.clone();
            LazyLock::new(move || *lock.lock().unwrap() * 2)
        };
        assert_eq!(*lazy, 10); // lazy -> table
        let _g = lock.lock().unwrap();
        assert_eq!(*lazy, 10); // table -> lazy
    });
    assert!(report.contains("lock order inversion"), "{report}");
    assert!(
        report.contains("LazyLock<u32> created at tests/once.rs:"),
        "{report}"
    );
}

#[test]
fn a_lazy_value_forced_first_is_clean() {
    expect_clean(|| {
        let lock = Arc::new(Mutex::named("table", 5u32));
        let lazy = {
            let lock = lock.clone();
            LazyLock::new(move || *lock.lock().unwrap() * 2)
        };
        let doubled = *lazy;
        let _g = lock.lock().unwrap();
        doubled
    });
}

#[test]
fn call_once_under_the_lock_its_closure_takes_is_an_inversion() {
    require_detection!();
    let report = expect_report(|| {
        let (once, lock) = (Once::new(), Mutex::named("setup", 0));
        once.call_once(|| *lock.lock().unwrap() += 1);
        let _g = lock.lock().unwrap();
        once.call_once(|| {});
    });
    assert!(report.contains("lock order inversion"), "{report}");
    assert!(
        report.contains("Once<()> created at tests/once.rs:"),
        "{report}"
    );
}

#[test]
fn call_once_outside_the_lock_is_clean() {
    expect_clean(|| {
        let (once, lock) = (Once::new(), Mutex::named("setup", 0));
        once.call_once(|| *lock.lock().unwrap() += 1);
        once.call_once(|| {});
        assert!(once.is_completed());
        *lock.lock().unwrap()
    });
}

#[test]
fn data_published_by_an_initialiser_is_ordered_for_every_reader() {
    expect_clean(|| {
        let shared = Arc::new((Tracked::named("settings", 0u32), OnceLock::<()>::new()));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let shared = shared.clone();
                // std threads: only the cell orders them.
                std::thread::spawn(move || {
                    let (data, cell) = &*shared;
                    cell.get_or_init(|| data.set(42));
                    data.get()
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.join().unwrap(), 42);
        }
    });
}

#[test]
fn data_published_by_a_lazy_initialiser_or_a_once_is_ordered_for_every_reader() {
    expect_clean(|| {
        let table = Arc::new(Tracked::named("table", 0u32));
        let setup = Arc::new(Tracked::named("setup", 0u32));
        let lazy = {
            let table = table.clone();
            Arc::new(LazyLock::new(move || table.set(5)))
        };
        let once = Arc::new(Once::new());
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (table, setup) = (table.clone(), setup.clone());
                let (lazy, once) = (lazy.clone(), once.clone());
                // std threads: only the cells order them.
                std::thread::spawn(move || {
                    let () = **lazy;
                    once.call_once(|| setup.set(6));
                    (table.get(), setup.get())
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.join().unwrap(), (5, 6));
        }
    });
}

#[test]
fn data_written_after_the_initialisation_is_not_ordered_by_it() {
    require_detection!();
    let report = expect_report(|| {
        let shared = Arc::new((Tracked::named("settings", 0u32), OnceLock::<()>::new()));
        let (done, first_done) = std::sync::mpsc::channel();
        let writer = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let (data, cell) = &*shared;
                cell.get_or_init(|| ());
                data.set(1); // after the initialisation: nothing orders it
                done.send(()).unwrap();
            })
        };
        first_done.recv().unwrap(); // a std channel: invisible to the detector
        let (data, cell) = &*shared;
        cell.get_or_init(|| ());
        let _value = data.get();
        writer.join().unwrap();
    });
    assert!(report.starts_with("race condition:"), "{report}");
}

#[test]
fn a_barrier_orders_every_arrival_before_every_return() {
    expect_clean(|| {
        let slots = || Tracked::named("slot", 0u32);
        let shared = Arc::new((Barrier::new(3), [slots(), slots(), slots()]));
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let shared = shared.clone();
                // std threads: only the barrier orders them.
                std::thread::spawn(move || {
                    let (barrier, slots) = &*shared;
                    for round in 1..=3 {
                        slots[i].set(round);
                        barrier.wait();
                        // Every party's write of this round is visible.
                        assert!(slots.iter().all(|slot| slot.get() == round));
                        barrier.wait();
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
fn a_read_before_the_barrier_races_with_another_partys_write() {
    require_detection!();
    let report = expect_report(|| {
        let shared = Arc::new((Barrier::new(2), Tracked::named("slot", 0u32)));
        let (written, first_written) = std::sync::mpsc::channel();
        let writer = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let (barrier, slot) = &*shared;
                slot.set(1);
                written.send(()).unwrap();
                barrier.wait();
            })
        };
        let (barrier, slot) = &*shared;
        first_written.recv().unwrap(); // invisible to the detector
        let _early = slot.get(); // before the barrier: a race
        barrier.wait();
        writer.join().unwrap();
    });
    assert!(report.starts_with("race condition:"), "{report}");
}
