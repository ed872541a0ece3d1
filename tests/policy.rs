//! Policies: panic (default), log through `tracing`, callback, off, and the
//! `LOCKGRAPH` environment variable; handlers that panic or take locks
//! never deadlock or corrupt the detector. The policy is process-wide, so
//! the tests in this file run one at a time.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};

use common::within;
use lockgraph::{Mutex, Policy, Report, ReportKind, RwLock, set_policy};

/// Serialises this file's tests and restores the panic policy afterwards.
fn serial() -> StdGuard<'static, ()> {
    static SERIAL: StdMutex<()> = StdMutex::new(());
    common::quiet_reports();
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

struct Restore;
impl Drop for Restore {
    fn drop(&mut self) {
        set_policy(Policy::Panic);
    }
}

/// Records every report a callback policy receives.
fn recording() -> (Arc<StdMutex<Vec<Report>>>, Restore) {
    let reports = Arc::new(StdMutex::new(Vec::new()));
    let sink = reports.clone();
    set_policy(Policy::callback(move |report| {
        sink.lock().unwrap().push(report.clone())
    }));
    (reports, Restore)
}

#[inline(never)]
fn take_in_order(first: &Mutex<()>, second: &Mutex<()>) {
    let _f = first.lock().unwrap();
    let _s = second.lock().unwrap();
}

#[test]
fn a_callback_gets_the_report_with_all_its_parts() {
    require_detection!();
    let _serial = serial();
    let (reports, _restore) = recording();
    let a = Mutex::named("a", ());
    let b = Mutex::named("b", ());
    take_in_order(&a, &b);
    take_in_order(&b, &a); // reported, then allowed to proceed (no overlap here)
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report.kind(), ReportKind::LockOrderInversion);
    assert_eq!(report.title(), "potential deadlock: lock order inversion");
    assert_eq!(report.acquiring().and_then(|l| l.name()), Some("a"));
    assert_eq!(report.locks().len(), 2);
    assert_eq!(report.edges().len(), 2);
    assert_eq!(report.held_locks().len(), 1);
    assert_eq!(report.held_locks()[0].lock().name(), Some("b"));
    let earlier = &report.edges()[1];
    assert_eq!(report.locks()[earlier.from()].name(), Some("a"));
    assert_eq!(report.locks()[earlier.to()].name(), Some("b"));
    let frames = earlier
        .backtrace()
        .expect("a backtrace of the first a -> b");
    assert!(
        frames
            .iter()
            .any(|f| f.function().contains("take_in_order")),
        "{frames:?}"
    );
    assert!(report.location().file().ends_with("policy.rs"));
}

#[test]
fn each_distinct_cycle_is_reported_once_under_a_callback() {
    require_detection!();
    let _serial = serial();
    let (reports, _restore) = recording();
    let (a, b, c) = (Mutex::new(()), Mutex::new(()), Mutex::new(()));
    take_in_order(&a, &b);
    for _ in 0..100 {
        take_in_order(&b, &a);
    }
    assert_eq!(reports.lock().unwrap().len(), 1);
    take_in_order(&b, &c);
    for _ in 0..10 {
        take_in_order(&c, &a); // a new cycle: a -> b -> c -> a
    }
    assert_eq!(reports.lock().unwrap().len(), 2);
}

#[test]
fn the_panic_policy_reports_every_attempt() {
    require_detection!();
    let _serial = serial();
    let (a, b) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
    take_in_order(&a, &b);
    for _ in 0..3 {
        let (a, b) = (a.clone(), b.clone());
        assert!(within(move || take_in_order(&b, &a)).is_err());
    }
}

#[test]
fn a_panicking_callback_unwinds_the_caller_and_leaves_the_detector_consistent() {
    require_detection!();
    let _serial = serial();
    let _restore = Restore;
    set_policy(Policy::callback(|_| panic!("handler gives up")));
    let result = within(|| {
        let (a, b) = (Mutex::new(()), Mutex::new(()));
        take_in_order(&a, &b);
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| take_in_order(&b, &a)));
        assert!(caught.is_err());
        // The guard of b was dropped while unwinding: nothing is held.
        assert!(lockgraph::held_locks().is_empty());
        // Later acquisitions and reports still work.
        let (c, d) = (Mutex::new(()), Mutex::new(()));
        take_in_order(&c, &d);
        take_in_order(&c, &d);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| take_in_order(&d, &c))).is_err()
    });
    assert!(result.expect("no hang, no stray panic"));
}

#[test]
fn a_callback_may_take_locks_including_the_one_being_reported() {
    require_detection!();
    let _serial = serial();
    let _restore = Restore;
    let a = Arc::new(Mutex::new(0u32));
    let b = Arc::new(Mutex::new(0u32));
    let side = Arc::new(Mutex::new(Vec::new()));
    let (a2, side2) = (a.clone(), side.clone());
    set_policy(Policy::callback(move |report| {
        // Another lock, held while taking the reported one: tracked, but no
        // nested report and no deadlock.
        let mut log = side2.lock().unwrap();
        log.push(report.title().to_owned());
        *a2.lock().unwrap() += 1;
    }));
    let (a3, b3) = (a.clone(), b.clone());
    within(move || {
        let _a = a3.lock().unwrap();
        let _b = b3.lock().unwrap();
        drop((_a, _b));
        let _b = b3.lock().unwrap();
        let _a = a3.lock().unwrap(); // reported; the callback locks `a` first
    })
    .expect("no hang, no panic");
    assert_eq!(side.lock().unwrap().len(), 1);
    assert_eq!(*a.lock().unwrap(), 1);
}

#[test]
fn a_self_deadlock_panics_even_under_a_callback() {
    require_detection!();
    let _serial = serial();
    let (reports, _restore) = recording();
    let outcome = within(|| {
        let m = Mutex::new(());
        let _g = m.lock().unwrap();
        let _again = m.lock();
    });
    let payload = outcome.expect_err("blocking would hang forever, so it panics");
    let text = common::payload_text(&*payload).unwrap();
    assert!(text.contains("deadlock: relocking a Mutex"), "{text}");
    assert_eq!(reports.lock().unwrap().len(), 1);
}

#[test]
fn a_recursive_read_is_logged_once_and_allowed_under_a_callback() {
    require_detection!();
    let _serial = serial();
    let (reports, _restore) = recording();
    within(|| {
        let rw = RwLock::new(0);
        for _ in 0..5 {
            let _r1 = rw.read().unwrap();
            let _r2 = rw.read().unwrap();
        }
    })
    .expect("a recursive read without a queued writer completes");
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].kind(), ReportKind::RecursiveRead);
}

#[test]
fn the_off_policy_records_nothing() {
    let _serial = serial();
    let _restore = Restore;
    assert!(matches!(set_policy(Policy::Off), Policy::Panic));
    within(|| {
        let (a, b) = (Mutex::new(()), Mutex::new(()));
        take_in_order(&a, &b);
        take_in_order(&b, &a);
        let _g = a.lock().unwrap();
        assert!(lockgraph::held_locks().is_empty());
    })
    .expect("nothing is reported with the off policy");
    assert!(matches!(lockgraph::policy(), Policy::Off));
}

/// Collects `tracing` events of target `lockgraph` into strings.
mod capture {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, Layer};

    #[derive(Clone, Default)]
    pub struct Events(pub Arc<Mutex<Vec<String>>>);

    struct Fields(String);
    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, "{}={:?};", field.name(), value);
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Events {
        fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
            let meta = event.metadata();
            let mut fields = Fields(format!("{} {} ", meta.level(), meta.target()));
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
    }
}

#[test]
fn the_log_policy_emits_one_error_event_per_cycle() {
    use tracing_subscriber::layer::SubscriberExt;
    require_detection!();
    let _serial = serial();
    let _restore = Restore;
    set_policy(Policy::Log);
    let events = capture::Events::default();
    let subscriber = tracing_subscriber::registry().with(events.clone());
    tracing::subscriber::with_default(subscriber, || {
        let (a, b) = (Mutex::named("log-a", ()), Mutex::named("log-b", ()));
        take_in_order(&a, &b);
        for _ in 0..10 {
            take_in_order(&b, &a);
        }
    });
    let events = events.0.lock().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert!(event.starts_with("ERROR lockgraph "), "{event}");
    for field in [
        "kind=LockOrderInversion",
        "thread=",
        "location=",
        "locks=",
        "log-a",
        "message=",
    ] {
        assert!(event.contains(field), "{field} in {event}");
    }
    assert!(
        event.contains("potential deadlock: lock order inversion"),
        "{event}"
    );
}

/// Run only as a child process by `the_environment_variable_sets_the_policy`.
#[test]
#[ignore = "run as a child process"]
fn env_child() {
    let expected = std::env::var("LOCKGRAPH_EXPECT").expect("run by the parent test");
    assert_eq!(format!("{:?}", lockgraph::policy()), expected);
}

fn run_child(value: &str, expect: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "env_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LOCKGRAPH", value)
        .env("LOCKGRAPH_EXPECT", expect)
        .output()
        .expect("run the test binary");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "LOCKGRAPH={value}: {stderr}");
    stderr
}

#[test]
fn the_environment_variable_sets_the_policy() {
    assert!(run_child("log", "Log").is_empty());
    assert!(run_child("off", "Off").is_empty());
    assert!(run_child("PANIC", "Panic").is_empty());
    let warning = run_child("loud", "Panic");
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(
        warning.contains("lockgraph: ignoring LOCKGRAPH=\"loud\""),
        "{warning}"
    );
}
