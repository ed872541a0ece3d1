//! The two stuck times of a deferred relock (`lockgraph::tokio::stuck`),
//! with the stuck time set to 30 s for this whole test binary: a relock
//! whose waiting `lock()` future lives where the holding one did (the same
//! flow) is reported after a thirtieth of it (1 s here); a sibling branch
//! holding the lock gets the whole 30 s. Each scenario runs under
//! `common::within` (20 s), so the first test fails if the same-flow relock
//! waited the full time.
#![cfg(feature = "tokio")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{expect_clean, expect_report, yield_once};
use lockgraph::tokio::sync::Mutex;

fn setup() {
    lockgraph::tokio::set_stuck_after(Duration::from_secs(30));
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_relock_in_the_same_flow_is_reported_long_before_the_stuck_time() {
    setup();
    let report = expect_report(|| {
        current_thread().block_on(async {
            let m = Mutex::new(0);
            let _first = m.lock().await;
            let _second = m.lock().await;
        })
    });
    assert!(
        report.starts_with("deadlock: relocking a tokio::sync::Mutex already held by this thread"),
        "{report}"
    );
}

/// 1.5 s is past the same-flow time but far inside the stuck time: a
/// sibling's hold is not a same-flow relock.
#[test]
fn a_sibling_holding_the_lock_past_the_same_flow_time_is_clean() {
    setup();
    expect_clean(|| {
        current_thread().block_on(async {
            let m = Mutex::new(0);
            let slow = async {
                let _g = m.lock().await;
                tokio::time::sleep(Duration::from_millis(1500)).await;
            };
            let waiter = async {
                yield_once().await;
                *m.lock().await += 1;
            };
            tokio::join!(slow, waiter);
        })
    });
}

/// A flow hands its guard to a sibling branch, then locks again from the
/// same `.await` slot while the sibling still holds it: the one shape the
/// same-flow rule misreads — clean as long as the sibling lets go within
/// the same-flow time.
#[test]
fn a_guard_handed_to_a_sibling_and_locked_again_is_clean() {
    setup();
    expect_clean(|| {
        current_thread().block_on(async {
            let m = Arc::new(Mutex::new(0));
            let (tx, rx) = futures::channel::oneshot::channel();
            let giver = async {
                let guard = m.clone().lock_owned().await;
                let _ = tx.send(guard);
                *m.clone().lock_owned().await += 1;
            };
            let taker = async {
                let guard = rx.await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
                drop(guard);
            };
            tokio::join!(giver, taker);
            assert_eq!(*m.lock().await, 1);
        })
    });
}
