//! Helpers for the loom models under `tests/`. Run them with
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release
//! ```
//!
//! Without `--cfg loom` this crate and its tests are empty: the real library
//! code only switches to loom's atomics, locks and thread-locals under that
//! cfg (see lockgraph's `src/facade.rs`).
#![cfg(loom)]

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// Runs `f` under `loom::model`, with reports kept out of the output.
/// `LOOM_MAX_PREEMPTIONS` and the other `LOOM_*` variables apply.
pub fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    quiet_panics();
    loom::model(f);
}

/// Reports are panics in the default policy, and a model catches thousands
/// of them (and of the models' own deliberate panics): the hook prints only
/// other panics, such as a failed assertion.
fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let text = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            let expected = text.starts_with("potential deadlock")
                || text.starts_with("deadlock:")
                || text.starts_with(DELIBERATE);
            if !expected || std::env::var_os("LOOM_TESTS_VERBOSE").is_some() {
                default_hook(info);
            }
        }));
    });
}

/// The start of a model's deliberate panic message, kept out of the output.
pub const DELIBERATE: &str = "deliberate panic";

/// Runs `f`, returning the text of the panic it raised, if any.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}
