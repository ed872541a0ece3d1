//! An event loop on another thread, fed through a queue — and a request
//! made while holding the state the loop needs to answer it.
//!
//! The loop thread owns the work: it takes a request from `requests`, reads
//! the shared `state` to answer it, and sends the answer back on `replies`.
//! The first request, made holding nothing, works. The buggy second one is
//! made while the caller holds `state`: the loop blocks on `state`, never
//! replies, and the caller's `recv` waits forever — the textbook "run it on
//! the loop and wait for the result" hang.
//!
//! lockgraph orders a `recv` after the locks the receiver holds, and a
//! `send` after the locks the sender took on its way to it. The loop took
//! `state` before its first reply; the caller waits for the second reply
//! holding `state`: reported at that `recv`, before it blocks.
//!
//! ```text
//! cargo run --example event_loop             # the bug: the recv under `state` is reported
//! cargo run --example event_loop -- --fixed  # releases `state` before waiting: clean
//! ```

mod common;

use std::sync::Arc;

use lockgraph::sync::mpsc;
use lockgraph::{Mutex, thread};

fn main() {
    common::quiet_reports();
    let fixed = common::fixed();
    let state = Arc::new(Mutex::named("state", 40_u64));
    let (requests, inbox) = mpsc::channel::<u64>();
    let (replies, answers) = mpsc::channel::<u64>();
    let event_loop = {
        let state = state.clone();
        thread::Builder::new()
            .name("event-loop".into())
            .spawn(move || {
                for request in inbox {
                    // (The report's panic poisons `state`: read it anyway.)
                    let answer = *state.lock().unwrap_or_else(|e| e.into_inner()) + request;
                    if replies.send(answer).is_err() {
                        break;
                    }
                }
            })
            .unwrap()
    };

    // A first request, holding nothing: fine.
    requests.send(1).unwrap();
    println!("first answer: {}", answers.recv().unwrap());

    if fixed {
        // The fix: update the state, release it, then wait for the loop.
        *state.lock().unwrap() += 1;
        requests.send(1).unwrap();
        println!("second answer: {}; no report", answers.recv().unwrap());
        drop(requests);
        event_loop.join().unwrap();
        return;
    }

    let outcome = std::panic::catch_unwind(|| {
        let mut state = state.lock().unwrap();
        *state += 1;
        // The bug: waiting for the loop while holding what it needs.
        requests.send(1).unwrap();
        answers.recv().unwrap()
    });
    common::print_outcome("main", outcome.err());
    drop(requests);
    event_loop.join().unwrap();
}
