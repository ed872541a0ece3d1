//! Shared scaffolding: run a scenario under a watchdog, catch the report a
//! scenario panics with, assert a scenario stays clean.
#![allow(dead_code)]

use std::any::Any;
use std::panic;
use std::sync::Once;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long any scenario may take before it counts as hung: 20 s, or
/// `LOCKGRAPH_TEST_TIMEOUT` seconds (valgrind runs set it higher: the first
/// report of a process resolves symbols, which valgrind slows a hundredfold).
pub fn watchdog() -> Duration {
    let secs = std::env::var("LOCKGRAPH_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// Keeps the expected report panics out of the test output; every other
/// panic still goes to the default hook.
pub fn quiet_reports() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let is_report = payload_text(info.payload()).is_some_and(is_report_text);
            if !is_report {
                default_hook(info);
            }
        }));
    });
}

fn is_report_text(text: &str) -> bool {
    text.starts_with("potential deadlock")
        || text.starts_with("deadlock")
        || text.starts_with("race condition")
}

/// The text of a panic payload (`&str` or `String`).
pub fn payload_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}

/// Runs `f` on its own thread and waits at most [`watchdog()`]: a scenario
/// that deadlocks fails the test instead of hanging it.
pub fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> thread::Result<T> {
    quiet_reports();
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("scenario".into())
        .spawn(move || {
            let result = panic::catch_unwind(panic::AssertUnwindSafe(f));
            let _ = tx.send(result);
        })
        .expect("spawn scenario thread");
    let limit = watchdog();
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(_) => panic!("scenario hung for {limit:?}: a deadlock was not detected"),
    }
}

/// Runs the scenario and returns the report it panicked with.
#[track_caller]
pub fn expect_report(f: impl FnOnce() + Send + 'static) -> String {
    match within(f) {
        Ok(()) => panic!("expected a lockgraph report, but the scenario ran clean"),
        Err(payload) => match payload_text(&*payload) {
            Some(text) if is_report_text(text) => text.to_owned(),
            Some(text) => panic!("expected a lockgraph report, got another panic: {text}"),
            None => panic!("expected a lockgraph report, got a non-text panic"),
        },
    }
}

/// Runs the scenario and fails if it panics (with a report or otherwise).
#[track_caller]
pub fn expect_clean<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match within(f) {
        Ok(value) => value,
        Err(payload) => panic!(
            "expected a clean run, but the scenario panicked:\n{}",
            payload_text(&*payload).unwrap_or("(non-text panic)")
        ),
    }
}

/// Joins a thread, returning its report if it panicked with one.
pub fn join_report<T>(handle: thread::JoinHandle<T>) -> Option<String> {
    match handle.join() {
        Ok(_) => None,
        Err(payload) => payload_text(&*payload)
            .filter(|t| is_report_text(t))
            .map(str::to_owned),
    }
}

/// `file:line` of a `Location`, as a report prints it (without the column).
pub fn file_line(location: &std::panic::Location<'_>) -> String {
    format!("{}:{}", location.file(), location.line())
}

/// The location of the caller, for checking sites in reports.
#[track_caller]
pub fn here() -> &'static std::panic::Location<'static> {
    std::panic::Location::caller()
}

/// Resident set size in bytes (Linux), or `None` elsewhere, and `None`
/// when the process records its lock order (`LOCKGRAPH_RECORD`, as under
/// `cargo lockgraph test`): recording resolves backtraces on a background
/// thread, loading the binary's debug information, which, not what a test
/// measures, is then what the memory shows.
pub fn rss_bytes() -> Option<u64> {
    if std::env::var_os("LOCKGRAPH_RECORD").is_some() {
        return None;
    }
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(resident_pages * 4096)
}

/// Skips a detection test in builds where detection is compiled out.
#[macro_export]
macro_rules! require_detection {
    () => {
        if !lockgraph::ENABLED {
            eprintln!("detection is off in this build: skipped");
            return;
        }
    };
}

/// Returns `Pending` once (waking itself), like tokio's `yield_now`, on any
/// executor.
pub fn yield_once() -> impl std::future::Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx: &mut std::task::Context<'_>| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
}
