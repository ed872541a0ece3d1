//! The detector never deadlocks or corrupts itself: reports raised during
//! thread exit, during a panic's unwinding and from a Condvar wait; locks
//! in statics and thread-locals. (Handlers that panic or take locks are in
//! `policy.rs`.) The policy is process-wide, so these tests run one at a
//! time.

mod common;

use std::cell::RefCell;
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};
use std::thread;

use common::{expect_report, within};
use lockgraph::{Condvar, Mutex, Policy, set_policy};

fn serial() -> StdGuard<'static, ()> {
    static SERIAL: StdMutex<()> = StdMutex::new(());
    common::quiet_reports();
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn take_in_order(first: &Mutex<()>, second: &Mutex<()>) {
    let _f = first.lock().unwrap();
    let _s = second.lock().unwrap();
}

/// After whatever happened, a fresh inversion is still reported.
fn later_reports_still_work() {
    let outcome = within(|| {
        let (a, b) = (Mutex::new(()), Mutex::new(()));
        take_in_order(&a, &b);
        take_in_order(&b, &a);
    });
    assert!(outcome.is_err(), "a later inversion is reported");
    assert!(lockgraph::held_locks().is_empty());
}

type Pair = (Arc<Mutex<()>>, Arc<Mutex<()>>);

/// Takes `b` then `a` when dropped: an inversion raised by a destructor.
struct InvertOnDrop(Pair);

impl Drop for InvertOnDrop {
    fn drop(&mut self) {
        let (a, b) = &self.0;
        take_in_order(b, a);
    }
}

thread_local! {
    static INVERTER: RefCell<Option<InvertOnDrop>> = const { RefCell::new(None) };
}

#[test]
fn a_report_raised_in_a_thread_local_destructor() {
    if !lockgraph::ENABLED {
        return;
    }
    let _serial = serial();
    // Rust aborts on a panic escaping a thread-local destructor, so this
    // runs under the callback policy (documented on `Policy::Panic`).
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let sink = seen.clone();
    set_policy(Policy::callback(move |r| {
        sink.lock().unwrap().push(r.title().to_owned())
    }));
    for detector_first in [true, false] {
        let pair: Pair = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
        take_in_order(&pair.0, &pair.1); // a -> b
        let for_thread = pair.clone();
        thread::spawn(move || {
            if detector_first {
                // The detector's thread-local exists before the user's, so it
                // is torn down after it: the destructor's inversion is seen.
                drop(for_thread.0.lock().unwrap());
            }
            INVERTER.with(|slot| *slot.borrow_mut() = Some(InvertOnDrop(for_thread)));
        })
        .join()
        .expect("thread exit neither panics nor aborts");
    }
    set_policy(Policy::Panic);
    let seen = seen.lock().unwrap();
    // Reported when the detector could still see the thread's locks; in the
    // other order its state was already gone and detection stepped aside.
    assert!(!seen.is_empty(), "{seen:?}");
    assert!(
        seen.iter()
            .all(|t| t == "potential deadlock: lock order inversion")
    );
    drop(seen);
    later_reports_still_work();
}

#[test]
fn a_report_raised_while_unwinding_is_printed_not_raised() {
    if !lockgraph::ENABLED {
        return;
    }
    let _serial = serial();
    let pair: Pair = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
    take_in_order(&pair.0, &pair.1);
    let outcome = within(move || {
        let held = Mutex::new(0);
        let _guard = held.lock().unwrap();
        let _inverter = InvertOnDrop(pair);
        panic!("the original panic");
    });
    // A second panic during unwinding would have aborted the process; the
    // original panic is what the thread ends with.
    let payload = outcome.expect_err("the thread panicked");
    assert_eq!(common::payload_text(&*payload), Some("the original panic"));
    later_reports_still_work();
}

#[test]
fn a_report_from_inside_a_condvar_wait_leaves_the_mutex_usable() {
    if !lockgraph::ENABLED {
        return;
    }
    let _serial = serial();
    let shared = Arc::new((Mutex::new(()), Mutex::new(0), Condvar::new()));
    let inner = shared.clone();
    let report = expect_report(move || {
        let (outer, m, cv) = &*inner;
        {
            let _m = m.lock().unwrap();
            let _o = outer.lock().unwrap(); // m -> outer
        }
        let _o = outer.lock().unwrap();
        let g = m.try_lock().unwrap();
        // Waking up would re-acquire m while holding outer: reported from
        // inside the wait, before it blocks.
        let _ = cv.wait(g);
    });
    assert!(report.contains("lock order inversion"), "{report}");
    let (outer, m, _) = &*shared;
    // The guard given to `wait` and the outer guard were dropped by the
    // unwinding: both locks are free, and poisoned like after any panic.
    assert!(m.is_poisoned() && outer.is_poisoned());
    m.clear_poison();
    *m.lock().unwrap() += 1;
    drop(outer.lock().unwrap_or_else(|e| e.into_inner()));
    later_reports_still_work();
}

static STATIC_A: Mutex<u32> = Mutex::new(0);
static STATIC_B: Mutex<u32> = Mutex::new(0);

thread_local! {
    static PER_THREAD: Mutex<Vec<u32>> = const { Mutex::new(Vec::new()) };
}

#[test]
fn locks_in_statics_and_thread_locals() {
    let _serial = serial();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            thread::spawn(move || {
                for _ in 0..100 {
                    let _a = STATIC_A.lock().unwrap();
                    PER_THREAD.with(|list| list.lock().unwrap().push(i));
                    *STATIC_B.lock().unwrap() += 1;
                }
                PER_THREAD.with(|list| list.lock().unwrap().len())
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), 100);
    }
    assert_eq!(*STATIC_B.lock().unwrap(), 400);
    // The thread-local locks died with their threads; their nodes are gone,
    // and the statics still order correctly.
    if lockgraph::ENABLED {
        let report = expect_report(|| {
            let _b = STATIC_B.lock().unwrap();
            let _a = STATIC_A.lock().unwrap();
        });
        assert!(report.contains("tests/robustness.rs"), "{report}");
    }
}
