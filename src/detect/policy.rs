//! What happens when the detector finds something: panic (the default), log
//! through `tracing`, call a user callback, or nothing.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use crate::facade::{self as sync, AtomicU8, Ordering};
use crate::report::{Report, ReportKind};

/// A user callback that receives every report.
pub type Callback = Arc<dyn Fn(&Report) + Send + Sync + 'static>;

/// What lockgraph does when it finds a potential deadlock.
///
/// Set it with [`set_policy`]; the environment variable
/// `LOCKGRAPH=panic|log|off` picks the starting policy without rebuilding
/// (an explicit [`set_policy`] call wins over the environment).
///
/// ```
/// use lockgraph::{set_policy, Policy};
///
/// // Collect reports instead of panicking, e.g. in a test harness.
/// let previous = set_policy(Policy::callback(|report| {
///     eprintln!("lockgraph found: {}", report.title());
/// }));
/// assert!(matches!(lockgraph::policy(), Policy::Callback(_)));
/// # set_policy(previous);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Panic in the thread that was about to block, with the full report
    /// text as the panic payload (a `String`). The default.
    ///
    /// The panicking thread unwinds while holding its other guards, which
    /// poisons those std-flavoured locks, exactly as any panic would. A
    /// report raised while the thread is already unwinding is printed
    /// instead (a second panic would abort). Rust aborts the process when a
    /// panic escapes a thread-local destructor, so code that takes locks in
    /// thread-local destructors should use the log or callback policy.
    #[default]
    Panic,
    /// Log the report through `tracing` at `ERROR` level, target
    /// `lockgraph`, and carry on. Each distinct cycle is logged once.
    ///
    /// Fields: `kind` (the [`ReportKind`], Debug-formatted), `thread`,
    /// `location` (`file:line:col` of the acquisition), `locks` (the labels
    /// of the locks involved) and the message, which is the full report.
    Log,
    /// Call this function with each report and carry on. Each distinct cycle
    /// is reported once. Locks taken inside the callback are tracked but
    /// cannot trigger a nested report.
    Callback(Callback),
    /// Detect nothing: acquisitions skip the detector entirely.
    Off,
}

impl Policy {
    /// A [`Policy::Callback`] from a closure.
    pub fn callback(f: impl Fn(&Report) + Send + Sync + 'static) -> Self {
        Policy::Callback(Arc::new(f))
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Panic => "Panic",
            Policy::Log => "Log",
            Policy::Callback(_) => "Callback(..)",
            Policy::Off => "Off",
        })
    }
}

// `MODE` holds the policy in its low bits, in `PUBLISHING` whether threads
// publish what they hold and wait for (while a watchdog reads it) and in
// `RACING` whether race detection tracks happens-before, so an acquisition
// learns all three from one load.
const UNSET: u8 = 0;
const PANIC: u8 = 1;
const LOG: u8 = 2;
const CALLBACK: u8 = 3;
const OFF: u8 = 4;
const POLICY: u8 = 0b0111;
const PUBLISHING: u8 = 0b1000;
const RACING: u8 = 0b1_0000;

sync::global! {
    static MODE: AtomicU8 = const AtomicU8::new(UNSET);
}
sync::global! {
    static HANDLER: sync::Mutex<Option<Callback>> = lazy sync::Mutex::new(None);
}
sync::local! {
    static IN_HANDLER: Cell<bool> = Cell::new(false);
}

/// The policy and watchdog state: one relaxed load of a read-mostly byte.
#[inline(always)]
pub(crate) fn state() -> u8 {
    let mode = sync::hot_load_u8_relaxed(&MODE);
    if mode & POLICY == UNSET {
        return init_from_env();
    }
    mode
}

/// Whether the detector runs with no hook (no watchdog, no race
/// detection): the acquisitions' fast case, from one relaxed load and one
/// compare. `false` before the environment was read, too: the caller's slow
/// path calls [`state`], which reads it.
#[inline(always)]
pub(crate) fn plain() -> bool {
    is_plain(sync::hot_load_u8_relaxed(&MODE))
}

/// [`plain`] of a `MODE` value: a policy in PANIC..=CALLBACK with neither
/// flag set (the flags lie above `POLICY`, and UNSET wraps around).
#[inline(always)]
fn is_plain(mode: u8) -> bool {
    mode.wrapping_sub(PANIC) < CALLBACK
}

/// Whether `state` has the detector running at all.
#[inline(always)]
pub(crate) fn is_active(state: u8) -> bool {
    state & POLICY != OFF
}

/// Whether `state` has threads publish their held locks and waits (see
/// [`super::publish`]).
#[inline(always)]
pub(crate) fn is_publishing(state: u8) -> bool {
    state & PUBLISHING != 0 && is_active(state)
}

/// Whether `state` has race detection tracking happens-before.
#[inline(always)]
pub(crate) fn is_racing(state: u8) -> bool {
    state & RACING != 0 && is_active(state)
}

/// Whether an acquisition in `state` takes the slow path for the watchdog
/// or the race detector.
#[inline(always)]
pub(crate) fn has_hooks(state: u8) -> bool {
    state & (PUBLISHING | RACING) != 0 && is_active(state)
}

/// Whether race detection has started: the racing bit alone, one load and
/// a test, for the atomics' fast path (with the policy off it only makes
/// them track clocks whose reports go nowhere).
#[inline(always)]
pub(crate) fn racing_started() -> bool {
    sync::hot_load_u8_relaxed(&MODE) & RACING != 0
}

/// Turns happens-before tracking on for good (the first tracked cell or
/// annotation does).
pub(crate) fn set_racing() {
    state();
    MODE.fetch_or(RACING, Ordering::Relaxed);
}

/// Whether the detector runs at all.
#[inline(always)]
pub(crate) fn active() -> bool {
    is_active(state())
}

/// Records whether threads publish (an observer such as a watchdog runs).
pub(crate) fn set_publishing(on: bool) {
    state();
    if on {
        MODE.fetch_or(PUBLISHING, Ordering::Relaxed);
    } else {
        MODE.fetch_and(!PUBLISHING, Ordering::Relaxed);
    }
}

/// The `LOCKGRAPH` environment variable's meaning, or `None` (with a one-line
/// warning on stderr) for a value we do not know.
fn parse_env(value: &str) -> Option<u8> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "panic" | "on" => Some(PANIC),
        "log" => Some(LOG),
        "off" | "0" | "none" => Some(OFF),
        _ => None,
    }
}

/// The value of the environment variable `name` through `parse`; unset,
/// `default`; unknown, `default` with a one-line warning on stderr naming
/// what was `expected`.
pub(crate) fn env_choice(
    name: &str,
    parse: fn(&str) -> Option<u8>,
    expected: &str,
    (default, default_name): (u8, &str),
) -> u8 {
    match std::env::var(name) {
        Ok(value) => parse(&value).unwrap_or_else(|| {
            eprintln!(
                "lockgraph: ignoring {name}={value:?} (expected {expected}); using {default_name}"
            );
            default
        }),
        Err(_) => default,
    }
}

#[cold]
#[inline(never)]
fn init_from_env() -> u8 {
    let mode = env_choice(
        "LOCKGRAPH",
        parse_env,
        "panic, log or off",
        (PANIC, "panic"),
    );
    let current = MODE.load(Ordering::Relaxed);
    if current & POLICY != UNSET {
        return current;
    }
    match MODE.compare_exchange(
        current,
        current | mode,
        Ordering::Relaxed,
        Ordering::Relaxed,
    ) {
        Ok(_) => {
            // The thread that set the starting policy runs what starts
            // with the detector (the environment's watchdog), once.
            for start in crate::AT_START {
                start();
            }
            MODE.load(Ordering::Relaxed)
        }
        Err(set_meanwhile) => set_meanwhile,
    }
}

/// Whether every occurrence is reported (panic policy) rather than once per
/// distinct cycle (log and callback policies).
pub(crate) fn reports_repeats() -> bool {
    let mode = MODE.load(Ordering::Relaxed) & POLICY;
    mode == PANIC || mode == UNSET
}

/// Sets what happens when a potential deadlock is found, returning the
/// previous policy.
///
/// Takes effect for every thread at once. An explicit call wins over the
/// `LOCKGRAPH` environment variable.
///
/// ```
/// use lockgraph::{set_policy, Policy};
///
/// let previous = set_policy(Policy::Log);
/// // ... run a program that has a lock-order bug to completion,
/// // logging each distinct cycle once through `tracing` ...
/// assert!(matches!(set_policy(previous), Policy::Log));
/// ```
pub fn set_policy(policy: Policy) -> Policy {
    let (mode, callback) = match policy {
        Policy::Panic => (PANIC, None),
        Policy::Log => (LOG, None),
        Policy::Callback(f) => (CALLBACK, Some(f)),
        Policy::Off => (OFF, None),
    };
    // Read the environment first (it also starts `LOCKGRAPH_WATCHDOG`'s
    // watchdog), so that this call wins over it rather than preempting it.
    state();
    let old_callback = std::mem::replace(&mut *HANDLER.lock(), callback);
    let old_mode = MODE
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            Some(old & !POLICY | mode)
        })
        .unwrap_or_else(|old| old)
        & POLICY;
    match (old_mode, old_callback) {
        (LOG, _) => Policy::Log,
        (OFF, _) => Policy::Off,
        (CALLBACK, Some(f)) => Policy::Callback(f),
        _ => Policy::Panic,
    }
}

/// The policy in force.
pub fn policy() -> Policy {
    match state() & POLICY {
        LOG => Policy::Log,
        OFF => Policy::Off,
        CALLBACK => HANDLER
            .lock()
            .clone()
            .map_or(Policy::Panic, Policy::Callback),
        _ => Policy::Panic,
    }
}

/// Resets `IN_HANDLER` even when the handler unwinds.
struct HandlerScope;

impl HandlerScope {
    fn enter() -> Option<HandlerScope> {
        let entered = IN_HANDLER
            .try_with(|flag| !flag.replace(true))
            .unwrap_or(false);
        entered.then_some(HandlerScope)
    }
}

impl Drop for HandlerScope {
    fn drop(&mut self) {
        let _ = IN_HANDLER.try_with(|flag| flag.set(false));
    }
}

/// Acts on a finding. Called with no detector lock or borrow held, so a
/// handler may take locks (they are tracked, but cannot start a nested
/// report) or panic (the detector's state is already consistent).
///
/// A certain self-deadlock never returns: after a non-panicking policy has
/// seen it, blocking would hang the thread forever, so this panics instead
/// (std documents that relocking a held `Mutex` may panic).
///
/// Under the panic policy, a report raised while the thread is already
/// unwinding (a `Drop` taking locks during a panic) is printed to stderr
/// instead, since a second panic would abort the process.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn dispatch(report: Box<Report>) {
    if report.kind() == ReportKind::ClassOrderInversion
        && super::class::mode() != super::class::PANIC
    {
        super::class::warn(&report);
        return;
    }
    let certain = report.kind() == ReportKind::SelfDeadlock;
    match HandlerScope::enter() {
        None => {
            // A handler on this thread is already running: report nothing
            // new, but never block forever.
            if certain {
                std::panic::panic_any(report.to_string());
            }
            return;
        }
        Some(_scope) => match MODE.load(Ordering::Relaxed) & POLICY {
            LOG => log(&report),
            CALLBACK => call_handler(&report),
            OFF => {}
            _ if std::thread::panicking() => {
                // A second panic while unwinding would abort the process:
                // print the report instead, and carry on unwinding.
                let text = raised(&report);
                eprintln!(
                    "{text}\n(lockgraph: not raised as a panic: this thread is already unwinding)"
                );
                if certain {
                    // Blocking would hang this thread forever, and panicking
                    // would abort anyway.
                    eprintln!("lockgraph: aborting instead of deadlocking");
                    std::process::abort();
                }
                return;
            }
            _ => std::panic::panic_any(raised(&report)),
        },
    }
    if certain {
        panic!(
            "{} at {}: lockgraph panics instead of letting the thread wait for itself forever",
            report.title(),
            report.location()
        );
    }
}

/// Acts on a finding about other threads, made by an observer of their
/// publications (the watchdog) on its own thread. The panic policy cannot
/// unwind the stuck threads: the report is printed to stderr, and a wait
/// cycle (a certain deadlock) aborts the process so a test or CI run fails
/// instead of hanging. With `no_hang` (the observer was started for a test
/// run) a wait cycle aborts under every policy but off, after the policy
/// has seen it.
pub(crate) fn dispatch_observed(report: Box<Report>, no_hang: bool) {
    let Some(_scope) = HandlerScope::enter() else {
        return;
    };
    let certain = report.kind() == ReportKind::WaitCycle;
    match MODE.load(Ordering::Relaxed) & POLICY {
        OFF => return,
        LOG => log(&report),
        CALLBACK => call_handler(&report),
        _ => {
            eprintln!("{}", raised(&report));
            if certain {
                abort_deadlocked();
            }
        }
    }
    // No test may hang, whatever the policy did with the report.
    if certain && no_hang {
        eprintln!("{}", raised(&report));
        abort_deadlocked();
    }
}

fn abort_deadlocked() -> ! {
    eprintln!("lockgraph: aborting: these threads are deadlocked and cannot be woken");
    std::process::abort();
}

/// A positive number of seconds from environment variable `name`; a value
/// that is not one is ignored with a warning naming it.
pub(crate) fn seconds_from_env(name: &str) -> Option<std::time::Duration> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs.is_finite() => {
            Some(std::time::Duration::from_secs_f64(secs))
        }
        _ => {
            eprintln!("lockgraph: ignoring {name}={value:?} (expected a number of seconds)");
            None
        }
    }
}

/// The text of a report the panic policy raises, also written beside the
/// process's record when recording (`cargo lockgraph` prints it if the
/// process dies before libtest could): rendered once, for both.
fn raised(report: &Report) -> String {
    let text = report.to_string();
    if super::record::enabled() {
        super::record::report_raised(&text);
    }
    text
}

/// Calls the user's callback, outside the lock that stores it (so the
/// callback may call `set_policy`).
fn call_handler(report: &Report) {
    let handler = HANDLER.lock().clone();
    if let Some(handler) = handler {
        handler(report);
    }
}

fn log(report: &Report) {
    let labels: Vec<String> = report
        .locks()
        .iter()
        .map(|lock| match lock.name() {
            Some(name) => format!("{} {name:?} ({})", lock.kind(), lock.created_at()),
            None => format!("{} ({})", lock.kind(), lock.created_at()),
        })
        .collect();
    tracing::error!(
        target: "lockgraph",
        kind = ?report.kind(),
        thread = report.thread_name(),
        location = %report.location(),
        locks = ?labels,
        "{report}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values() {
        assert_eq!(parse_env("log"), Some(LOG));
        assert_eq!(parse_env(" OFF "), Some(OFF));
        assert_eq!(parse_env("panic"), Some(PANIC));
        assert_eq!(parse_env("verbose"), None);
    }

    /// The one-compare fast case is exactly "a policy set, active, with no
    /// hook", for every byte `MODE` could hold.
    #[test]
    fn plain_is_an_active_set_policy_without_hooks() {
        for mode in 0..=u8::MAX {
            let expected = mode & POLICY != UNSET && is_active(mode) && !has_hooks(mode);
            let in_range = mode & !(POLICY | PUBLISHING | RACING) == 0 && mode & POLICY <= OFF;
            if in_range {
                assert_eq!(is_plain(mode), expected, "mode {mode:#010b}");
            } else {
                // Bits `MODE` never holds: the fast case must not take them.
                assert!(!is_plain(mode), "mode {mode:#010b}");
            }
        }
    }
}
