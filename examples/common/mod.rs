//! Shared by the examples: a panic hook that keeps lockgraph's reports for
//! the example to print itself, and the report text of a panic payload.
#![allow(dead_code)]

use std::any::Any;
use std::panic;

/// Whether a panic message is one of lockgraph's reports.
pub fn is_report(text: &str) -> bool {
    text.starts_with("potential deadlock")
        || text.starts_with("deadlock")
        || text.starts_with("race condition")
}

/// Leaves lockgraph's reports to the example (which prints them with some
/// context); every other panic still reaches the default hook.
pub fn quiet_reports() {
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !report_text(info.payload()).is_some_and(is_report) {
            default_hook(info);
        }
    }));
}

/// The text of a panic payload.
pub fn report_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}

/// Whether the example runs its fixed version (`-- --fixed`).
pub fn fixed() -> bool {
    std::env::args().any(|arg| arg == "--fixed")
}

/// Prints a report caught from a thread or `catch_unwind`, or says there
/// was none.
pub fn print_outcome(what: &str, payload: Option<Box<dyn Any + Send>>) {
    match payload.as_deref().and_then(report_text) {
        Some(report) => println!("{what}: stopped by lockgraph:\n\n{report}\n"),
        None if payload.is_some() => println!("{what}: panicked (not a lockgraph report)"),
        None => println!("{what}: finished, no report"),
    }
}

/// Sends every report to a list the example prints itself (a callback
/// policy), so the program runs to completion.
pub fn collect_reports() -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = reports.clone();
    lockgraph::set_policy(lockgraph::Policy::callback(move |report| {
        sink.lock().unwrap().push(report.to_string());
    }));
    reports
}
