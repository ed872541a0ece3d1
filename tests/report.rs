//! What a report says: every lock in the cycle with its creation site, each
//! edge with the thread, sites and a backtrace naming the user function that
//! took it, the thread's held locks and a scenario — for locks created in
//! user code, in `static`s and inside std on the user's behalf.

mod common;

use std::sync::{Arc, mpsc};
use std::thread;

use common::{expect_report, file_line, here};
use lockgraph::{Mutex, RwLock};

#[inline(never)]
fn first_taker(a: &Mutex<u8>, b: &Mutex<u8>) {
    let _a = a.lock().unwrap();
    let _b = b.lock().unwrap();
}

#[inline(never)]
fn second_taker(a: &Mutex<u8>, b: &Mutex<u8>) {
    let _b = b.lock().unwrap();
    let _a = a.lock().unwrap();
}

#[test]
fn an_inversion_names_locks_sites_threads_and_user_functions() {
    require_detection!();
    let (tx, rx) = mpsc::channel();
    let report = expect_report(move || {
        let (a, a_site) = (Arc::new(Mutex::named("alpha", 0)), here());
        let (b, b_site) = (Arc::new(Mutex::new(0)), here());
        tx.send([a_site, b_site]).unwrap();
        let (a1, b1) = (a.clone(), b.clone());
        thread::Builder::new()
            .name("first-thread".into())
            .spawn(move || first_taker(&a1, &b1))
            .unwrap()
            .join()
            .unwrap();
        let second = thread::Builder::new()
            .name("second-thread".into())
            .spawn(move || second_taker(&a, &b))
            .unwrap();
        if let Some(report) = common::join_report(second) {
            std::panic::panic_any(report);
        }
    });
    for site in rx.recv().unwrap() {
        assert!(
            report.contains(&file_line(site)),
            "creation site {site}: {report}"
        );
    }
    let must_contain = [
        "potential deadlock: lock order inversion",
        "thread `second-thread` is acquiring",
        "Mutex \"alpha\"",
        "first taken in thread `first-thread`",
        "now, in thread `second-thread`",
        // The backtraces name the functions that took each edge.
        "report::first_taker",
        "report::second_taker",
        "possible deadlock scenario:",
        "lock(alpha)  <- blocks",
        "locks held by thread `second-thread`",
        "fix: take these locks in one global order",
    ];
    for needle in must_contain {
        assert!(report.contains(needle), "missing {needle:?} in:\n{report}");
    }
    // Backtraces are trimmed to user code.
    assert!(!report.contains("lockgraph::detect"), "{report}");
    assert!(!report.contains("std::panicking"), "{report}");
}

static STATIC_A: Mutex<u8> = Mutex::new(0);
static STATIC_B: RwLock<u8> = RwLock::new(0);
const STATIC_A_LINE: u32 = line!() - 2;

#[test]
fn a_static_lock_is_named_by_its_declaration_line() {
    require_detection!();
    let report = expect_report(|| {
        {
            let _a = STATIC_A.lock().unwrap();
            let _b = STATIC_B.write().unwrap();
        }
        let _b = STATIC_B.read().unwrap();
        let _a = STATIC_A.lock().unwrap();
    });
    assert!(
        report.contains(&format!("tests/report.rs:{STATIC_A_LINE}:")),
        "{report}"
    );
    assert!(
        report.contains(&format!("tests/report.rs:{}:", STATIC_A_LINE + 1)),
        "{report}"
    );
}

#[derive(Default)]
struct Shared {
    left: Mutex<u8>,
    right: Mutex<u8>,
}

#[test]
fn a_lock_created_inside_std_is_also_named_by_its_first_locking_site() {
    require_detection!();
    let (tx, rx) = mpsc::channel();
    let report = expect_report(move || {
        let x: Arc<Mutex<u8>> = Arc::default();
        let shared = Shared::default();
        let (_g, first) = (x.lock().unwrap(), here());
        let _l = shared.left.lock().unwrap();
        drop((_g, _l));
        let _l = shared.left.lock().unwrap();
        let _r = shared.right.lock().unwrap();
        drop(_r);
        tx.send(first).unwrap();
        let _x = x.lock().unwrap(); // left -> x, against x -> left
    });
    let first = rx.recv().unwrap();
    assert!(
        report.contains(&file_line(first)),
        "first locked at {first}: {report}"
    );
    // Every lock in the report can be found in the user's source.
    assert!(
        report.contains("first locked at tests/report.rs"),
        "{report}"
    );
}

#[test]
fn a_self_deadlock_report_names_both_acquisitions() {
    require_detection!();
    let (tx, rx) = mpsc::channel();
    let report = expect_report(move || {
        let (m, created) = (Mutex::named("config", ()), here());
        let (_first, first) = (m.lock().unwrap(), here());
        tx.send([created, first]).unwrap();
        let _second = m.lock();
    });
    for site in rx.recv().unwrap() {
        assert!(report.contains(&file_line(site)), "{site}: {report}");
    }
    assert!(report.contains("Mutex \"config\""), "{report}");
    assert!(report.contains("backtrace of this acquisition"), "{report}");
    assert!(
        report.contains("ReentrantLock"),
        "suggests the reentrant fix: {report}"
    );
}

#[test]
fn a_long_cycle_lists_every_lock_and_uses_a_list_scenario() {
    require_detection!();
    let report = expect_report(|| {
        let locks: Vec<Mutex<u8>> = (0..6)
            .map(|i| Mutex::named(format!("ring[{i}]"), 0))
            .collect();
        for pair in locks.windows(2) {
            let _a = pair[0].lock().unwrap();
            let _b = pair[1].lock().unwrap();
        }
        let _last = locks[5].lock().unwrap();
        let _first = locks[0].lock().unwrap();
    });
    for i in 0..6 {
        assert!(report.contains(&format!("ring[{i}]")), "{report}");
    }
    assert!(report.contains("closes a cycle of 6 locks"), "{report}");
    assert!(
        report.contains("holds ring[0] and waits for ring[1]"),
        "{report}"
    );
}
