//! The tracing span stack in reports: under each edge of an inversion, the
//! spans that were current when that edge was first taken; nothing at all
//! without a subscriber or without the layer. Each scenario installs its
//! subscriber on its own thread (`with_default`), so the tests of this file
//! do not see each other's.
#![cfg(feature = "spans")]

mod common;

use std::sync::{Arc, Mutex as StdMutex};

use common::expect_report;
use lockgraph::Mutex;
use tracing_subscriber::prelude::*;

/// One scenario at a time: one of them switches the process-wide policy.
static SERIAL: StdMutex<()> = StdMutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn with_layer<T>(f: impl FnOnce() -> T) -> T {
    let subscriber = tracing_subscriber::registry().with(lockgraph::tracing_layer());
    tracing::subscriber::with_default(subscriber, f)
}

/// Two requests taking two accounts in opposite orders, each in its own
/// `request` span with a nested `db_txn` span.
fn two_requests() {
    let a = Mutex::named("accounts[0]", 100);
    let b = Mutex::named("accounts[1]", 100);
    let transfer = |id: u32, from: &Mutex<i32>, to: &Mutex<i32>| {
        let request = tracing::info_span!("request", id, path = "/transfer");
        let _request = request.enter();
        let txn = tracing::info_span!("db_txn", table = "accounts");
        let _txn = txn.enter();
        let _from = from.lock().unwrap();
        let _to = to.lock().unwrap();
    };
    transfer(7, &a, &b);
    transfer(8, &b, &a);
}

#[test]
fn each_edge_shows_the_spans_it_was_taken_in() {
    require_detection!();
    let _serial = serial();
    let report = expect_report(|| with_layer(two_requests));
    assert!(report.contains("in spans (innermost first):"), "{report}");
    // The closing edge: request 8.
    assert!(
        report.contains("db_txn{table=\"accounts\"}")
            && report.contains("request{id=8 path=\"/transfer\"}"),
        "{report}"
    );
    // The earlier edge: request 7, whose spans are long closed.
    assert!(
        report.contains("request{id=7 path=\"/transfer\"}"),
        "{report}"
    );
    // Innermost first, under each edge.
    let seven = report.find("request{id=7").unwrap();
    let txn_before_seven = report[..seven].rfind("db_txn{").unwrap();
    assert!(
        report[txn_before_seven..seven].lines().count() <= 3,
        "{report}"
    );
}

#[test]
fn a_callback_reads_the_spans_as_data() {
    require_detection!();
    let _serial = serial();
    let spans = Arc::new(StdMutex::new(Vec::new()));
    let sink = spans.clone();
    // The callback runs on the scenario thread; the policy is process-wide,
    // so this scenario stays on one thread and restores the policy.
    let outcome = common::within(move || {
        let previous = lockgraph::set_policy(lockgraph::Policy::callback(move |report| {
            let edges: Vec<Vec<(String, String)>> = report
                .edges()
                .iter()
                .map(|e| {
                    e.spans()
                        .iter()
                        .map(|s| (s.name().to_owned(), s.fields().to_owned()))
                        .collect()
                })
                .collect();
            sink.lock().unwrap().push((edges, report.spans().len()));
        }));
        with_layer(two_requests);
        lockgraph::set_policy(previous);
    });
    assert!(outcome.is_ok());
    let spans = spans.lock().unwrap();
    let (edges, current) = spans
        .iter()
        .find(|(edges, _)| edges.iter().any(|e| !e.is_empty()))
        .expect("a report with spans")
        .clone();
    assert_eq!(current, 2);
    assert_eq!(edges.len(), 2);
    assert_eq!(
        edges[0][0],
        ("db_txn".to_owned(), "table=\"accounts\"".to_owned())
    );
    assert_eq!(edges[0][1].0, "request");
    assert!(edges[0][1].1.contains("id=8"), "{edges:?}");
    assert!(edges[1][1].1.contains("id=7"), "{edges:?}");
}

#[test]
fn without_a_subscriber_the_report_has_no_span_heading() {
    require_detection!();
    let _serial = serial();
    let report = expect_report(two_requests);
    assert!(
        report.starts_with("potential deadlock: lock order inversion"),
        "{report}"
    );
    assert!(!report.contains("in spans ("), "{report}");
}

#[test]
fn a_subscriber_without_the_layer_changes_nothing() {
    require_detection!();
    let _serial = serial();
    let report = expect_report(|| {
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, two_requests)
    });
    assert!(!report.contains("in spans ("), "{report}");
}

#[test]
fn a_report_with_no_current_span_prints_cleanly() {
    require_detection!();
    let _serial = serial();
    let report = expect_report(|| {
        with_layer(|| {
            let (a, b) = (Mutex::named("a", ()), Mutex::named("b", ()));
            {
                let _a = a.lock().unwrap();
                let _b = b.lock().unwrap();
            }
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        })
    });
    assert!(!report.contains("in spans ("), "{report}");
    assert!(report.contains("possible deadlock scenario"), "{report}");
}

#[test]
fn a_report_raised_while_a_span_closes_prints_cleanly() {
    require_detection!();
    let _serial = serial();
    // A lock taken in a span's drop, i.e. while the span is being closed:
    // the span stack is captured without the layer deadlocking or panicking.
    struct LocksOnDrop(Arc<(Mutex<()>, Mutex<()>)>);
    impl Drop for LocksOnDrop {
        fn drop(&mut self) {
            let (a, b) = &*self.0;
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        }
    }
    let report = expect_report(|| {
        with_layer(|| {
            let locks = Arc::new((Mutex::named("first", ()), Mutex::named("second", ())));
            {
                let _a = locks.0.lock().unwrap();
                let _b = locks.1.lock().unwrap();
            }
            let span = tracing::info_span!("closing", step = 1);
            let guard = LocksOnDrop(locks);
            let entered = span.entered();
            drop(guard); // inside the span
            drop(entered);
        })
    });
    assert!(report.contains("closing{step=1}"), "{report}");
    assert!(report.contains("lock order inversion"), "{report}");
}

#[test]
fn each_access_of_a_race_shows_its_spans() {
    require_detection!();
    let _serial = serial();
    use lockgraph::race::Tracked;
    let report = expect_report(|| {
        let counter = Arc::new(Tracked::named("hits", 0u64));
        let (done, first_done) = std::sync::mpsc::channel();
        let worker = |job: u32, counter: Arc<Tracked<u64>>| {
            with_layer(|| {
                let span = tracing::info_span!("job", job);
                let _entered = span.enter();
                let n = counter.get();
                counter.set(n + 1);
            })
        };
        let first = {
            let counter = counter.clone();
            std::thread::spawn(move || {
                worker(1, counter);
                done.send(()).unwrap();
            })
        };
        let second = {
            let counter = counter.clone();
            std::thread::spawn(move || {
                first_done.recv().unwrap();
                worker(2, counter);
            })
        };
        // A report panics its thread: re-raise it here.
        for handle in [first, second] {
            if let Err(payload) = handle.join() {
                std::panic::resume_unwind(payload);
            }
        }
    });
    assert!(report.starts_with("race condition:"), "{report}");
    assert!(report.contains("job{job=2}"), "{report}");
    assert!(report.contains("job{job=1}"), "{report}");
}
