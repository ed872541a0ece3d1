//! Waits as lock-order dependencies: a join, a receive, a send on a full
//! channel while holding a lock the other side needs is reported from a
//! run that does not hang; each has a clean twin, and a hand-off through
//! something other than the lock (a message, a Barrier) keeps the twin
//! clean.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockgraph::sync::{Barrier, mpsc};
use lockgraph::{Mutex, thread};

use common::{expect_clean, expect_report};

/// Waits until `done` holds, by polling (which lockgraph cannot see: no
/// happens-before for it).
fn spin_until(done: impl Fn() -> bool) {
    while !done() {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_join_under_a_lock_the_child_took_is_reported_though_the_run_did_not_hang() {
    let report = expect_report(|| {
        let state = Arc::new(Mutex::new(0));
        let s2 = state.clone();
        let child = thread::spawn(move || *s2.lock().unwrap() += 1);
        spin_until(|| child.is_finished());
        let _state = state.lock().unwrap();
        child.join().unwrap();
    });
    assert!(report.contains("joined while holding"), "{report}");
    assert!(report.contains("join(thread)"), "{report}");
    assert!(report.contains("fix: drop the guard"), "{report}");
}

#[test]
fn a_child_taking_the_lock_its_joiner_holds_is_reported_before_it_hangs() {
    // Whichever comes second is reported: the join (the child blocked on
    // the lock first) or the child's acquisition (the join came first).
    let report = expect_report(|| {
        let state = Arc::new(Mutex::new(0));
        let guard = state.lock().unwrap();
        let s2 = state.clone();
        let child = thread::spawn(move || *s2.lock().unwrap() += 1);
        let joined = child.join();
        drop(guard);
        if let Err(panic) = joined {
            std::panic::resume_unwind(panic);
        }
    });
    assert!(report.contains("joined while holding"), "{report}");
}

#[test]
fn a_join_after_dropping_the_guard_is_clean() {
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let s2 = state.clone();
        let guard = state.lock().unwrap();
        let child = thread::spawn(move || *s2.lock().unwrap() += 1);
        drop(guard);
        child.join().unwrap();
        assert_eq!(*state.lock().unwrap(), 1);
    });
}

#[test]
fn a_child_that_said_done_before_the_parent_locked_and_joined_is_clean() {
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let s2 = state.clone();
        let (done, finished) = mpsc::channel();
        let child = thread::spawn(move || {
            *s2.lock().unwrap() += 1;
            done.send(()).unwrap();
        });
        finished.recv().unwrap();
        let _state = state.lock().unwrap();
        child.join().unwrap();
    });
}

#[test]
fn a_child_that_locks_again_after_saying_done_is_reported() {
    let report = expect_report(|| {
        let state = Arc::new(Mutex::new(0));
        let s2 = state.clone();
        let (done, finished) = mpsc::channel();
        let child = thread::spawn(move || {
            *s2.lock().unwrap() += 1;
            done.send(()).unwrap();
            *s2.lock().unwrap() += 1;
        });
        finished.recv().unwrap();
        spin_until(|| child.is_finished());
        let _state = state.lock().unwrap();
        child.join().unwrap();
    });
    assert!(report.contains("joined while holding"), "{report}");
}

/// A worker that locks and reports back, round after round: the lock it
/// takes before its last message is over once that message arrived.
fn worker_rounds(rounds: usize, lock_after_last: bool) {
    let state = Arc::new(Mutex::new(0));
    let s2 = state.clone();
    let (done, finished) = mpsc::channel();
    let child = thread::spawn(move || {
        for round in 0..rounds {
            *s2.lock().unwrap() += 1;
            done.send(round).unwrap();
        }
        if lock_after_last {
            *s2.lock().unwrap() += 1;
        }
    });
    for _ in 0..rounds {
        finished.recv().unwrap();
    }
    spin_until(|| child.is_finished());
    let _state = state.lock().unwrap();
    child.join().unwrap();
}

#[test]
fn a_worker_that_locked_before_each_of_its_messages_is_clean_once_all_arrived() {
    expect_clean(|| worker_rounds(5, false));
}

#[test]
fn a_worker_that_locks_once_more_after_its_last_message_is_reported() {
    let report = expect_report(|| worker_rounds(5, true));
    assert!(report.contains("joined while holding"), "{report}");
}

#[test]
fn a_barrier_between_the_childs_lock_and_the_parents_is_clean() {
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let barrier = Arc::new(Barrier::new(2));
        let (s2, b2) = (state.clone(), barrier.clone());
        let child = thread::spawn(move || {
            *s2.lock().unwrap() += 1;
            b2.wait();
        });
        barrier.wait();
        let _state = state.lock().unwrap();
        child.join().unwrap();
    });
}

#[test]
fn the_end_of_a_scope_under_a_lock_a_scoped_thread_took_is_reported() {
    let report = expect_report(|| {
        let state = Mutex::new(0);
        let taken = AtomicBool::new(false);
        let guard = std::cell::RefCell::new(None);
        thread::scope(|s| {
            s.spawn(|| {
                *state.lock().unwrap() += 1;
                taken.store(true, Ordering::SeqCst);
            });
            spin_until(|| taken.load(Ordering::SeqCst));
            std::thread::sleep(Duration::from_millis(20));
            *guard.borrow_mut() = Some(state.lock().unwrap());
        });
    });
    assert!(report.contains("joined while holding"), "{report}");
}

#[test]
fn a_scope_whose_threads_are_joined_before_locking_is_clean() {
    expect_clean(|| {
        let state = Mutex::new(0);
        thread::scope(|s| {
            let child = s.spawn(|| *state.lock().unwrap() += 1);
            child.join().unwrap();
            let _state = state.lock().unwrap();
        });
    });
}

#[test]
fn a_recv_under_a_lock_the_sender_took_before_sending_is_reported() {
    let report = expect_report(|| {
        let state = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::channel();
        let s2 = state.clone();
        let worker = std::thread::spawn(move || {
            *s2.lock().unwrap() += 1;
            tx.send(1).unwrap();
        });
        spin_until(|| worker.is_finished());
        let _state = state.lock().unwrap();
        rx.recv().unwrap();
    });
    assert!(
        report.contains("a receiver waits holding a lock its sender needs"),
        "{report}"
    );
    assert!(report.contains("recv(mpsc channel)"), "{report}");
    assert!(report.contains("fix: receive without holding"), "{report}");
}

#[test]
fn a_send_under_the_lock_the_receiver_holds_while_receiving_is_reported() {
    let report = expect_report(|| {
        let state = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::channel::<u32>();
        let ready = Arc::new(AtomicBool::new(false));
        let s2 = state.clone();
        let r2 = ready.clone();
        // The receiver waits holding the state: state -> channel ...
        let receiver = std::thread::spawn(move || {
            let _state = s2.lock().unwrap();
            r2.store(true, Ordering::SeqCst);
            rx.recv()
        });
        spin_until(|| ready.load(Ordering::SeqCst));
        std::thread::sleep(Duration::from_millis(100)); // it waits by now
        drop(receiver);
        // ... and gets a message sent holding nothing: clean so far. Then a
        // send under the state: channel -> state closes the cycle (in
        // another run the receiver holds the state and this send never
        // comes).
        tx.send(1).unwrap();
        let _state = state.lock().unwrap(); // once the receiver let go of it
        tx.send(2).unwrap();
    });
    assert!(report.contains("receiver waits holding"), "{report}");
}

#[test]
fn a_recv_after_dropping_the_guard_is_clean() {
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::channel();
        let s2 = state.clone();
        let worker = std::thread::spawn(move || {
            for _ in 0..3 {
                *s2.lock().unwrap() += 1;
                tx.send(1).unwrap();
            }
        });
        let total: u32 = rx.iter().sum();
        worker.join().unwrap();
        assert_eq!(total, 3);
        assert_eq!(*state.lock().unwrap(), 3);
    });
}

#[test]
fn a_recv_under_the_lock_an_event_loop_takes_for_every_reply_is_reported() {
    // The event loop on another thread fed through a queue: the first
    // request, made holding nothing, works; the second, made holding the
    // state the loop locks for every reply, would hang. The first reply
    // reached this thread after the loop's first use of the state, but the
    // loop takes it again for the next one: reported.
    let report = expect_report(|| {
        let state = Arc::new(Mutex::new(0));
        let (jobs, queue) = mpsc::channel::<u32>();
        let (replies, reply) = mpsc::channel();
        let s2 = state.clone();
        std::thread::spawn(move || {
            for job in queue {
                let value = *s2.lock().unwrap() + job;
                if replies.send(value).is_err() {
                    break;
                }
            }
        });
        jobs.send(1).unwrap();
        reply.recv().unwrap();
        let _state = state.lock().unwrap();
        jobs.send(2).unwrap();
        reply.recv().unwrap();
    });
    assert!(
        report.contains("a receiver waits holding a lock its sender needs"),
        "{report}"
    );
}

#[test]
fn a_timed_recv_under_the_senders_lock_is_not_reported() {
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::channel();
        let s2 = state.clone();
        let worker = std::thread::spawn(move || {
            *s2.lock().unwrap() += 1;
            tx.send(1).unwrap();
        });
        spin_until(|| worker.is_finished());
        let _state = state.lock().unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
    });
}

#[test]
fn a_send_on_a_full_sync_channel_under_a_lock_the_receiver_takes_is_reported() {
    let report = expect_report(|| {
        let state = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::sync_channel(1);
        tx.send(0).unwrap();
        let took = Arc::new(AtomicBool::new(false));
        let (s2, t2) = (state.clone(), took.clone());
        let _receiver = std::thread::spawn(move || {
            *s2.lock().unwrap() += 1;
            rx.recv().unwrap(); // room, after the state
            t2.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
            while rx.recv().is_ok() {}
        });
        spin_until(|| took.load(Ordering::SeqCst));
        let _state = state.lock().unwrap();
        tx.send(1).unwrap(); // fits
        tx.send(2).unwrap(); // full: waits for room holding the state
    });
    assert!(
        report.contains("a sender waits on a full channel"),
        "{report}"
    );
}

#[test]
fn a_send_on_a_sync_channel_with_room_is_not_a_wait() {
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::sync_channel(4);
        let s2 = state.clone();
        let receiver = std::thread::spawn(move || {
            *s2.lock().unwrap() += 1;
            rx.recv().unwrap()
        });
        spin_until(|| *state.lock().unwrap() == 1);
        let _state = state.lock().unwrap();
        tx.send(1).unwrap();
        drop(_state);
        assert_eq!(receiver.join().unwrap(), 1);
    });
}

#[test]
fn a_handle_dropped_without_joining_leaves_no_dependency() {
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let s2 = state.clone();
        let detached = thread::spawn(move || *s2.lock().unwrap() += 1);
        spin_until(|| detached.is_finished());
        drop(detached);
        // Another thread, which never takes the state, joined under it.
        let _state = state.lock().unwrap();
        let other = thread::spawn(|| 1);
        assert_eq!(other.join().unwrap(), 1);
    });
}

#[test]
fn a_sender_dropped_without_sending_leaves_no_dependency() {
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::channel::<u32>();
        let s2 = state.clone();
        let worker = std::thread::spawn(move || {
            *s2.lock().unwrap() += 1;
            drop(tx); // gives up: no message, so nothing was produced
        });
        worker.join().unwrap();
        let _state = state.lock().unwrap();
        assert!(rx.recv().is_err());
    });
}

#[test]
fn a_panicking_child_is_still_joined_under_its_lock_but_nothing_after_is_reported() {
    // The child takes the lock and panics: a join under the lock would
    // still have hung had the parent locked first (reported); a later join
    // of another child under it is clean.
    let report = expect_report(|| {
        let state = Arc::new(Mutex::new(0));
        let s2 = state.clone();
        let child = thread::spawn(move || {
            let _state = s2.lock().unwrap_or_else(|e| e.into_inner());
            panic!("the child fails");
        });
        spin_until(|| child.is_finished());
        let _state = state.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.join();
    });
    assert!(report.contains("joined while holding"), "{report}");
    expect_clean(|| {
        let state = Arc::new(Mutex::new(0));
        let _state = state.lock().unwrap();
        thread::spawn(|| 2).join().unwrap();
    });
}
