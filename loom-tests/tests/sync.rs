//! The happens-before edges of `lockgraph::sync` under every interleaving:
//! a cell's initialisation before every `get` that sees the value, a send
//! before the `try_recv` that takes it, a Release store before the Acquire
//! load that reads it. Each publication is clean in every interleaving; its
//! twin without the edge (a read that does not look at the cell, a
//! `Relaxed` store) is reported in some interleaving.
//!
//! The cells, channels and atomics are std's inside (loom cannot block on
//! them, so no model waits in one); what loom explores is the detector's
//! bookkeeping around them: the per-cell, per-message and per-atomic clocks
//! and the locks that guard them.
#![cfg(loom)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use lockgraph::race::Tracked;
use lockgraph::sync::atomic::{AtomicBool, Ordering};
use lockgraph::sync::{OnceLock, mpsc};
use loom::thread;
use loom_tests::{catch, model};

/// A tracked cell, with race detection turned on (by reading another,
/// throwaway cell) before any thread is spawned. The detector's on-flag is
/// a loom atomic read `Relaxed`: in a real program the std atomic a reader
/// synchronises with orders it too, but loom does not see that atomic and
/// could show a reader a stale flag.
fn tracked() -> Arc<Tracked<u32>> {
    Tracked::new(()).get();
    Arc::new(Tracked::new(0))
}

/// Reads `data`, returning the race report it raised, if any.
fn read(data: &Tracked<u32>) -> Option<String> {
    catch(|| data.get()).err()
}

/// Counts the interleavings in which a model's twin was reported (a
/// process-wide counter: loom's own atomics are reset with each run).
fn reported(counter: &'static AtomicUsize, report: Option<String>) {
    if let Some(report) = report {
        assert!(report.starts_with("race condition:"), "{report}");
        counter.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_cells_initialisation_happens_before_every_get_that_sees_it() {
    model(|| {
        let data = tracked();
        let cell = Arc::new(OnceLock::new());
        let initialiser = {
            let (data, cell) = (data.clone(), cell.clone());
            thread::spawn(move || {
                cell.get_or_init(|| {
                    data.set(1);
                    7
                });
            })
        };
        if cell.get().is_some() {
            assert_eq!(read(&data), None);
        }
        initialiser.join().unwrap();
    });
}

#[test]
fn a_read_that_does_not_look_at_the_cell_is_reported_in_some_interleaving() {
    static REPORTED: AtomicUsize = AtomicUsize::new(0);
    model(|| {
        let data = tracked();
        let cell = Arc::new(OnceLock::new());
        let initialiser = {
            let (data, cell) = (data.clone(), cell.clone());
            thread::spawn(move || {
                let mut report = None;
                cell.get_or_init(|| {
                    report = catch(|| data.set(1)).err();
                    7
                });
                report
            })
        };
        reported(&REPORTED, read(&data));
        reported(&REPORTED, initialiser.join().unwrap());
    });
    assert!(REPORTED.load(SeqCst) > 0);
}

#[test]
fn a_cells_initialiser_taking_a_lock_is_never_reported_against_a_get() {
    // The initialiser orders cell -> lock; a `get` never waits, so a thread
    // holding the lock may read the cell.
    model(|| {
        let lock = Arc::new(lockgraph::Mutex::new(()));
        let cell = Arc::new(OnceLock::new());
        let initialiser = {
            let (lock, cell) = (lock.clone(), cell.clone());
            thread::spawn(move || catch(|| *cell.get_or_init(|| *lock.lock().unwrap())).err())
        };
        let mine = catch(|| {
            let _guard = lock.lock().unwrap();
            cell.get().copied()
        })
        .err();
        assert_eq!((mine, initialiser.join().unwrap()), (None, None));
    });
}

#[test]
fn a_send_happens_before_the_try_recv_that_takes_it() {
    model(|| {
        let data = tracked();
        let (tx, rx) = mpsc::channel();
        let sender = {
            let data = data.clone();
            thread::spawn(move || {
                data.set(1);
                tx.send(()).unwrap();
            })
        };
        if rx.try_recv().is_ok() {
            assert_eq!(read(&data), None);
        }
        sender.join().unwrap();
    });
}

#[test]
fn a_read_before_the_message_is_reported_in_some_interleaving() {
    static REPORTED: AtomicUsize = AtomicUsize::new(0);
    model(|| {
        let data = tracked();
        let (tx, rx) = mpsc::channel();
        let sender = {
            let data = data.clone();
            thread::spawn(move || {
                let report = catch(|| data.set(1)).err();
                tx.send(()).unwrap();
                report
            })
        };
        reported(&REPORTED, read(&data));
        let _ = rx.try_recv();
        reported(&REPORTED, sender.join().unwrap());
    });
    assert!(REPORTED.load(SeqCst) > 0);
}

/// A writer publishes `data` through `flag` stored with `store`; the reader
/// reads `data` once its `Acquire` load sees the flag. Returns the report,
/// if any (the reader raises it: the write comes first).
fn publish(store: Ordering) -> Option<String> {
    let data = tracked();
    let flag = Arc::new(AtomicBool::new(false));
    let writer = {
        let (data, flag) = (data.clone(), flag.clone());
        thread::spawn(move || {
            data.set(1);
            flag.store(true, store);
        })
    };
    // std's atomics are no loom switch point: let the writer run here.
    thread::yield_now();
    let report = if flag.load(Ordering::Acquire) {
        read(&data)
    } else {
        None
    };
    writer.join().unwrap();
    report
}

#[test]
fn a_release_store_happens_before_the_acquire_load_that_reads_it() {
    model(|| assert_eq!(publish(Ordering::Release), None));
}

#[test]
fn a_relaxed_publication_is_reported_in_some_interleaving() {
    static REPORTED: AtomicUsize = AtomicUsize::new(0);
    model(|| reported(&REPORTED, publish(Ordering::Relaxed)));
    assert!(REPORTED.load(SeqCst) > 0);
}
