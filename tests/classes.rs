//! Lock classes: inversions that span different instances (the instances of
//! the first order are gone when the second is taken), each with a clean
//! twin. Every scenario here runs with class findings raised through the
//! (default, panic) policy; the `warn` and `off` modes run in child
//! processes, since the mode is process-wide.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{expect_clean, expect_report, here};
use lockgraph::classes::{self, Mode};
use lockgraph::{Mutex, ReentrantLock, RwLock};

fn panic_mode() {
    classes::set_mode(Mode::Panic);
}

struct Pool {
    idle: Mutex<Vec<u32>>,
}

struct Conn {
    state: Mutex<u64>,
}

fn pool() -> (Pool, &'static std::panic::Location<'static>) {
    let site = here();
    (
        Pool {
            idle: Mutex::new(Vec::new()),
        },
        site,
    )
}

fn conn() -> Conn {
    Conn {
        state: Mutex::new(0),
    }
}

fn checkout(pool: &Pool, conn: &Conn) {
    let _idle = pool.idle.lock().unwrap();
    let _state = conn.state.lock().unwrap();
}

fn close(pool: &Pool, conn: &Conn) {
    let _state = conn.state.lock().unwrap();
    let _idle = pool.idle.lock().unwrap();
}

#[test]
fn pool_conn_inversion_across_two_phases_is_reported() {
    require_detection!();
    panic_mode();
    let report = expect_report(|| {
        {
            let (p, _) = pool();
            let c = conn();
            checkout(&p, &c);
        } // both dropped: the instance graph forgets pool -> conn
        let (p, _) = pool();
        let c = conn();
        close(&p, &c);
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion between lock classes"),
        "{report}"
    );
    // Unnamed locks read by type, with their creation sites.
    assert!(
        report.contains("Mutex<Vec<u32>> created at tests/classes.rs:"),
        "{report}"
    );
    assert!(
        report.contains("Mutex<u64> created at tests/classes.rs:"),
        "{report}"
    );
    assert!(
        report.contains("on other instances of the same lock classes"),
        "{report}"
    );
    assert!(
        report.contains("two threads running both paths on the same objects deadlock"),
        "{report}"
    );
    assert!(report.contains("with_class"), "{report}");
    // Both edges, with the sites of `checkout` and `close`.
    assert!(report.contains("now, in thread `scenario`"), "{report}");
    assert!(
        report.contains("first taken in thread `scenario`"),
        "{report}"
    );
    assert!(report.contains("classes::checkout"), "{report}");
    assert!(report.contains("classes::close"), "{report}");
}

#[test]
fn pool_conn_in_one_order_across_phases_is_clean() {
    panic_mode();
    expect_clean(|| {
        for _ in 0..3 {
            let (p, _) = pool();
            let c = conn();
            checkout(&p, &c);
        }
    });
}

#[test]
fn named_instances_are_named_in_a_class_report() {
    require_detection!();
    panic_mode();
    let make = |i: u32| {
        (
            Mutex::named(format!("pool#{i}"), ()),
            Mutex::named(format!("conn#{i}"), ()),
        )
    };
    let report = expect_report(move || {
        {
            let (p, c) = make(1);
            let _p = p.lock().unwrap();
            let _c = c.lock().unwrap();
        }
        let (p, c) = make(2);
        let _c = c.lock().unwrap();
        let _p = p.lock().unwrap();
    });
    assert!(report.contains("between lock classes"), "{report}");
    assert!(report.contains("Mutex \"pool#2\""), "{report}");
    assert!(report.contains("Mutex \"conn#2\""), "{report}");
    assert!(
        report.contains("on the instances \"pool#1\" -> \"conn#1\""),
        "{report}"
    );
}

/// Two lock types in two phases: `first` takes a then b, `second` b then a,
/// on fresh instances each time.
macro_rules! two_phase {
    ($name:ident, $clean:ident, $make_a:expr, $make_b:expr, $lock_a:ident, $lock_b:ident) => {
        #[test]
        fn $name() {
            require_detection!();
            panic_mode();
            let report = expect_report(|| {
                {
                    let (a, b) = ($make_a, $make_b);
                    let _a = $lock_a(&a);
                    let _b = $lock_b(&b);
                }
                let (a, b) = ($make_a, $make_b);
                let _b = $lock_b(&b);
                let _a = $lock_a(&a);
            });
            assert!(report.contains("between lock classes"), "{report}");
        }

        #[test]
        fn $clean() {
            panic_mode();
            expect_clean(|| {
                for _ in 0..3 {
                    let (a, b) = ($make_a, $make_b);
                    let _a = $lock_a(&a);
                    let _b = $lock_b(&b);
                }
            });
        }
    };
}

fn read<T>(lock: &RwLock<T>) -> lockgraph::RwLockReadGuard<'_, T> {
    lock.read().unwrap()
}
fn write<T>(lock: &RwLock<T>) -> lockgraph::RwLockWriteGuard<'_, T> {
    lock.write().unwrap()
}
fn enter<T>(lock: &ReentrantLock<T>) -> lockgraph::ReentrantLockGuard<'_, T> {
    lock.lock()
}
fn pl_lock<T>(
    lock: &lockgraph::parking_lot::Mutex<T>,
) -> lockgraph::parking_lot::MutexGuard<'_, T> {
    lock.lock()
}
fn pl_read<T>(
    lock: &lockgraph::parking_lot::RwLock<T>,
) -> lockgraph::parking_lot::RwLockReadGuard<'_, T> {
    lock.read()
}
fn pl_enter<T>(
    lock: &lockgraph::parking_lot::ReentrantMutex<T>,
) -> lockgraph::parking_lot::ReentrantMutexGuard<'_, T> {
    lock.lock()
}

two_phase!(
    rwlock_reads_and_writes_across_instances_are_reported,
    rwlock_in_one_order_is_clean,
    RwLock::new(1u8),
    RwLock::new(2u16),
    read,
    write
);
two_phase!(
    reentrant_locks_across_instances_are_reported,
    reentrant_locks_in_one_order_are_clean,
    ReentrantLock::new(1u8),
    ReentrantLock::new(2u16),
    enter,
    enter
);
two_phase!(
    parking_lot_mutexes_across_instances_are_reported,
    parking_lot_mutexes_in_one_order_are_clean,
    lockgraph::parking_lot::Mutex::new(1u8),
    lockgraph::parking_lot::Mutex::new(2u16),
    pl_lock,
    pl_lock
);
two_phase!(
    parking_lot_rwlock_and_reentrant_across_instances_are_reported,
    parking_lot_rwlock_and_reentrant_in_one_order_are_clean,
    lockgraph::parking_lot::RwLock::new(1u8),
    lockgraph::parking_lot::ReentrantMutex::new(2u16),
    pl_read,
    pl_enter
);
two_phase!(
    std_and_parking_lot_classes_share_one_graph,
    std_and_parking_lot_in_one_order_are_clean,
    Mutex::new(1u8),
    lockgraph::parking_lot::Mutex::new(2u16),
    lock_std,
    pl_lock
);

fn lock_std<T>(lock: &Mutex<T>) -> lockgraph::MutexGuard<'_, T> {
    lock.lock().unwrap()
}

#[test]
fn a_ring_of_three_classes_is_reported() {
    require_detection!();
    panic_mode();
    let report = expect_report(|| {
        let make = || (Mutex::new(1u8), Mutex::new(2u16), Mutex::new(3u32));
        {
            let (a, b, _) = make();
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        {
            let (_, b, c) = make();
            let _b = b.lock().unwrap();
            let _c = c.lock().unwrap();
        }
        let (a, _, c) = make();
        let _c = c.lock().unwrap();
        let _a = a.lock().unwrap();
    });
    assert!(report.contains("between lock classes"), "{report}");
    assert!(report.contains("Mutex<u8>"), "{report}");
    assert!(report.contains("Mutex<u16>"), "{report}");
    assert!(report.contains("Mutex<u32>"), "{report}");
}

#[test]
fn a_chain_of_three_classes_in_one_order_is_clean() {
    panic_mode();
    expect_clean(|| {
        for _ in 0..3 {
            let (a, b, c) = (Mutex::new(1u8), Mutex::new(2u16), Mutex::new(3u32));
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
            let _c = c.lock().unwrap();
        }
    });
}

struct Account {
    id: u32,
    balance: Mutex<i64>,
}

fn account(id: u32) -> Account {
    Account {
        id,
        balance: Mutex::new(100),
    }
}

/// Locks two accounts of one class in id order: one class nested in itself.
fn transfer(from: &Account, to: &Account, amount: i64) {
    let (first, second) = if from.id < to.id {
        (from, to)
    } else {
        (to, from)
    };
    let mut a = first.balance.lock().unwrap();
    let mut b = second.balance.lock().unwrap();
    if first.id == from.id {
        *a -= amount;
        *b += amount;
    } else {
        *b -= amount;
        *a += amount;
    }
}

#[test]
fn locks_of_one_class_nested_in_id_order_are_clean() {
    panic_mode();
    expect_clean(|| {
        let accounts: Vec<Account> = (0..4).map(account).collect();
        transfer(&accounts[0], &accounts[1], 5);
        transfer(&accounts[3], &accounts[1], 5);
        transfer(&accounts[2], &accounts[0], 5);
        // A parent and a child node of one tree: one class, either order on
        // different instances.
        let (parent, child) = (account(10), account(11));
        let _p = parent.balance.lock().unwrap();
        let _c = child.balance.lock().unwrap();
        drop((_c, _p));
        let (parent, child) = (account(12), account(13));
        let _c = child.balance.lock().unwrap();
        let _p = parent.balance.lock().unwrap();
    });
}

#[test]
fn the_instance_rules_still_apply_within_one_class() {
    require_detection!();
    panic_mode();
    let report = expect_report(|| {
        let (a, b) = (account(1), account(2));
        {
            let _a = a.balance.lock().unwrap();
            let _b = b.balance.lock().unwrap();
        }
        let _b = b.balance.lock().unwrap();
        let _a = a.balance.lock().unwrap();
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion\n"),
        "{report}"
    );
}

#[derive(Default)]
struct LayerA(#[allow(dead_code)] u32);
#[derive(Default)]
struct LayerB(#[allow(dead_code)] u32);

/// One generic constructor: its locks split into one class per type.
fn make<T: Default>() -> Mutex<T> {
    Mutex::new(T::default())
}

#[test]
fn one_generic_constructor_for_different_layers_is_clean() {
    panic_mode();
    expect_clean(|| {
        for _ in 0..2 {
            let outer = make::<LayerA>();
            let x = Mutex::new(0u64);
            let inner = make::<LayerB>();
            let _a = outer.lock().unwrap();
            let _x = x.lock().unwrap();
            let _b = inner.lock().unwrap();
        }
    });
}

#[test]
fn one_generic_constructor_for_one_type_in_two_layers_is_reported() {
    require_detection!();
    panic_mode();
    let report = expect_report(|| {
        let outer = make::<u8>();
        let x = Mutex::new(0u64);
        let inner = make::<u8>();
        let _a = outer.lock().unwrap();
        let _x = x.lock().unwrap();
        let _b = inner.lock().unwrap();
    });
    assert!(report.contains("between lock classes"), "{report}");
}

#[test]
fn an_explicit_class_split_is_clean() {
    panic_mode();
    expect_clean(|| {
        let outer = make::<u16>().with_class("layer.outer");
        let x = Mutex::new(0u64);
        let inner = make::<u16>().with_class("layer.inner");
        let _a = outer.lock().unwrap();
        let _x = x.lock().unwrap();
        let _b = inner.lock().unwrap();
    });
}

#[test]
fn one_explicit_class_spans_creation_sites() {
    require_detection!();
    panic_mode();
    let report = expect_report(|| {
        let x = Mutex::new(0u64);
        {
            let a = Mutex::new(1u8).with_class("shared.queue");
            let _a = a.lock().unwrap();
            let _x = x.lock().unwrap();
        }
        let b = Mutex::new(2u8).with_class("shared.queue");
        let _x = x.lock().unwrap();
        let _b = b.lock().unwrap();
    });
    assert!(report.contains("between lock classes"), "{report}");
    assert!(report.contains("\"shared.queue\""), "{report}");
}

static REGISTRY: Mutex<u32> = Mutex::new(0);

fn session() -> Mutex<String> {
    Mutex::new(String::new())
}

#[test]
fn a_static_and_per_call_locks_are_reported() {
    require_detection!();
    panic_mode();
    let report = expect_report(|| {
        {
            let s = session();
            let _r = REGISTRY.lock().unwrap();
            let _s = s.lock().unwrap();
        }
        let s = session();
        let _s = s.lock().unwrap();
        let _r = REGISTRY.lock().unwrap();
    });
    assert!(report.contains("between lock classes"), "{report}");
    assert!(
        report.contains("Mutex<u32> created at tests/classes.rs:"),
        "{report}"
    );
    assert!(report.contains("Mutex<String>"), "{report}");
}

static CONFIG: Mutex<u8> = Mutex::new(0);

#[test]
fn a_static_and_per_call_locks_in_one_order_are_clean() {
    panic_mode();
    expect_clean(|| {
        for _ in 0..3 {
            let s = session();
            let _r = CONFIG.lock().unwrap();
            let _s = s.lock().unwrap();
        }
    });
}

#[test]
fn a_timed_acquisition_never_reports_a_class_cycle() {
    panic_mode();
    expect_clean(|| {
        let make = || {
            (
                lockgraph::parking_lot::Mutex::new(1i8),
                lockgraph::parking_lot::Mutex::new(2i16),
            )
        };
        {
            let (a, b) = make();
            let _a = a.lock();
            let _b = b.lock();
        }
        let (a, b) = make();
        let _b = b.lock();
        let _a = a.try_lock_for(Duration::from_millis(10)).expect("free");
    });
}

struct LoopData;

#[test]
fn the_class_graph_stays_bounded_by_the_classes() {
    require_detection!();
    panic_mode();
    expect_clean(|| {
        let outer = Mutex::new(0i32);
        let _o = outer.lock().unwrap();
        for _ in 0..1000 {
            let inner = Mutex::new(LoopData);
            drop(inner.lock().unwrap());
        }
        let stats = classes::stats();
        // The loop made 1,000 instances but one class and one class edge.
        let dot = classes::dot();
        assert_eq!(
            dot.matches("Mutex<LoopData>").count(),
            1,
            "one class for the loop's locks: {dot}"
        );
        assert!(stats.classes >= 2 && stats.edges >= 1, "{stats:?}");
    });
}

/// Runs one `#[ignore]`d child scenario of this binary in a process of its
/// own with `LOCKGRAPH_CLASSES` set, libtest capturing its output.
fn run_child(name: &str, classes: &str) -> (bool, String, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--ignored", "--test-threads=1"])
        .env("LOCKGRAPH_CLASSES", classes)
        .output()
        .expect("run the test binary");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
#[ignore = "run by warn_mode_prints_each_class_cycle_once"]
fn repeated_inversion_child() {
    for _ in 0..3 {
        {
            let (p, _) = pool();
            let c = conn();
            checkout(&p, &c);
        }
        let (p, _) = pool();
        let c = conn();
        close(&p, &c);
    }
    let findings = classes::findings();
    println!("findings: {}", findings.len());
    if let Some(finding) = findings.first() {
        println!("count: {}", finding.count());
    }
}

#[test]
fn warn_mode_prints_each_class_cycle_once_through_the_capture() {
    require_detection!();
    let (ok, stdout, stderr) = run_child("repeated_inversion_child", "warn");
    assert!(
        ok,
        "a class finding does not fail the test in warn mode: {stderr}"
    );
    assert_eq!(
        stderr
            .matches("potential deadlock: lock order inversion between lock classes")
            .count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("printed once"), "{stderr}");
    // libtest captured the child's stdout and shows it only for failures,
    // so the counts are not there; the finding was made once and repeated.
    assert!(!stdout.contains("findings:"), "{stdout}");
}

#[test]
#[ignore = "run by warn_mode_counts_the_repeats"]
fn repeated_inversion_counts_child() {
    repeated_inversion_child();
    let findings = classes::findings();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].count(), 3);
    assert_eq!(
        findings[0].report().kind(),
        lockgraph::ReportKind::ClassOrderInversion
    );
}

#[test]
fn warn_mode_counts_the_repeats() {
    require_detection!();
    let (ok, _, stderr) = run_child("repeated_inversion_counts_child", "warn");
    assert!(ok, "{stderr}");
}

#[test]
#[ignore = "run by off_mode_records_no_classes"]
fn off_mode_child() {
    assert_eq!(classes::mode(), Mode::Off);
    repeated_inversion_child();
    assert!(classes::findings().is_empty());
    assert_eq!(classes::stats().classes, 0);
}

#[test]
fn off_mode_records_no_classes() {
    require_detection!();
    let (ok, _, stderr) = run_child("off_mode_child", "off");
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("lock classes"), "{stderr}");
}

#[test]
#[ignore = "run by panic_mode_from_the_environment_raises_through_the_policy"]
fn panic_mode_child() {
    assert_eq!(classes::mode(), Mode::Panic);
    repeated_inversion_child();
}

#[test]
fn panic_mode_from_the_environment_raises_through_the_policy() {
    require_detection!();
    let (ok, stdout, stderr) = run_child("panic_mode_child", "panic");
    assert!(!ok, "the class finding panics the test: {stdout}");
    assert!(
        stdout.contains("potential deadlock: lock order inversion between lock classes"),
        "{stdout}{stderr}"
    );
}
