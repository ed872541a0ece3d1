//! (tokio) Waits as lock-order dependencies: awaiting a task's
//! `JoinHandle`, a oneshot, a Notify, a Semaphore permit or an mpsc message
//! while holding a lock the other side needs, reported from a run that does
//! not hang; each with a clean twin.
#![cfg(feature = "tokio")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use lockgraph::tokio::sync::Mutex;
use lockgraph::tokio::task;

use common::{expect_clean, expect_report};

fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Polls `done` until it holds, with no happens-before lockgraph can see.
async fn until(done: impl Fn() -> bool) {
    while !done() {
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn awaiting_a_task_under_a_lock_it_took_is_reported() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let s2 = state.clone();
            let worker = task::spawn(async move { *s2.lock().await += 1 });
            until(|| worker.is_finished()).await;
            let _state = state.lock().await;
            worker.await.unwrap();
        })
    });
    assert!(
        report.contains("a task's JoinHandle is awaited while holding"),
        "{report}"
    );
    assert!(report.contains("fix: drop the guard"), "{report}");
}

#[test]
fn a_task_taking_the_lock_its_awaiter_holds_is_reported_before_it_hangs() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let guard = state.lock().await;
            let s2 = state.clone();
            let worker = task::spawn(async move { *s2.lock().await += 1 });
            let joined = worker.await;
            drop(guard);
            if let Err(error) = joined {
                std::panic::resume_unwind(error.into_panic());
            }
        })
    });
    assert!(report.contains("awaited while holding"), "{report}");
}

#[test]
fn awaiting_a_task_after_dropping_the_guard_is_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let s2 = state.clone();
            let guard = state.lock().await;
            let worker = task::spawn(async move { *s2.lock().await += 1 });
            drop(guard);
            worker.await.unwrap();
            let mut set = task::JoinSet::new();
            for _ in 0..4 {
                let s3 = state.clone();
                set.spawn(async move { *s3.lock().await += 1 });
            }
            while let Some(done) = set.join_next().await {
                done.unwrap();
            }
            assert_eq!(*state.lock().await, 5);
        })
    });
}

#[test]
fn a_join_set_awaited_under_a_lock_one_task_took_is_reported() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let mut set = task::JoinSet::new();
            set.spawn(async { 1 });
            let s2 = state.clone();
            let took = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let t2 = took.clone();
            set.spawn(async move {
                *s2.lock().await += 1;
                t2.store(true, std::sync::atomic::Ordering::SeqCst);
                2
            });
            until(|| took.load(std::sync::atomic::Ordering::SeqCst)).await;
            let _state = state.lock().await;
            while let Some(joined) = set.join_next().await {
                // (Had the task been the one to report, its panic is it.)
                if let Err(error) = joined {
                    std::panic::resume_unwind(error.into_panic());
                }
            }
        })
    });
    assert!(report.contains("awaited while holding"), "{report}");
}

#[test]
fn a_task_that_ended_before_its_spawner_locked_through_a_message_is_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let s2 = state.clone();
            let (done, finished) = lockgraph::tokio::sync::oneshot::channel();
            let worker = task::spawn(async move {
                *s2.lock().await += 1;
                done.send(()).unwrap();
            });
            finished.await.unwrap();
            let _state = state.lock().await;
            worker.await.unwrap();
        })
    });
}

#[test]
fn spawn_blocking_under_a_lock_its_closure_takes_is_reported() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(std::sync::Mutex::new(0));
            let state = Arc::new(lockgraph::Mutex::new(*state.lock().unwrap()));
            let s2 = state.clone();
            let worker = task::spawn_blocking(move || *s2.lock().unwrap() += 1);
            until(|| worker.is_finished()).await;
            let guard = state.lock().unwrap();
            let joined = worker.await;
            drop(guard);
            joined.unwrap();
        })
    });
    assert!(report.contains("awaited while holding"), "{report}");
}

#[test]
fn awaiting_a_oneshot_under_a_lock_its_sender_took_is_reported() {
    // The third program of the issue: a task holding a Mutex awaits a
    // reply from a task that needs that Mutex.
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let (tx, rx) = lockgraph::tokio::sync::oneshot::channel();
            let s2 = state.clone();
            let replier = tokio::spawn(async move {
                let value = *s2.lock().await + 1;
                tx.send(value).unwrap();
            });
            until(|| replier.is_finished()).await;
            let _state = state.lock().await;
            rx.await.unwrap();
        })
    });
    assert!(
        report.contains("a receiver waits holding a lock its sender needs"),
        "{report}"
    );
    assert!(report.contains("recv(oneshot channel)"), "{report}");
}

#[test]
fn a_oneshot_sent_without_the_lock_is_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let (tx, rx) = lockgraph::tokio::sync::oneshot::channel();
            let s2 = state.clone();
            tokio::spawn(async move {
                let value = *s2.lock().await + 1;
                tx.send(value).unwrap();
            });
            let value = rx.await.unwrap();
            *state.lock().await += value;
        })
    });
}

#[test]
fn awaiting_a_notify_under_a_lock_its_notifier_takes_is_reported() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let notify = Arc::new(lockgraph::tokio::sync::Notify::new());
            let (s2, n2) = (state.clone(), notify.clone());
            let notifier = tokio::spawn(async move {
                *s2.lock().await += 1;
                n2.notify_one();
            });
            until(|| notifier.is_finished()).await;
            let _state = state.lock().await;
            notify.notified().await;
        })
    });
    assert!(
        report.contains("awaits a Notify holding a lock its notifier needs"),
        "{report}"
    );
}

#[test]
fn a_notify_awaited_without_the_lock_is_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let notify = Arc::new(lockgraph::tokio::sync::Notify::new());
            let (s2, n2) = (state.clone(), notify.clone());
            tokio::spawn(async move {
                *s2.lock().await += 1;
                n2.notify_one();
            });
            notify.notified().await;
            assert_eq!(*state.lock().await, 1);
        })
    });
}

#[test]
fn waiting_for_a_permit_under_a_lock_a_permit_holder_takes_is_reported() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let pool = Arc::new(lockgraph::tokio::sync::Semaphore::new(1));
            let permit = pool.clone().acquire_owned().await.unwrap();
            let s2 = state.clone();
            let holder = tokio::spawn(async move {
                *s2.lock().await += 1; // holding a permit
                drop(permit);
            });
            until(|| holder.is_finished()).await;
            let _state = state.lock().await;
            let _permit = pool.acquire().await.unwrap();
        })
    });
    assert!(report.contains("pool exhaustion"), "{report}");
}

#[test]
fn a_permit_awaited_before_taking_the_lock_is_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let pool = Arc::new(lockgraph::tokio::sync::Semaphore::new(2));
            let mut tasks = Vec::new();
            for _ in 0..4 {
                let (pool, state) = (pool.clone(), state.clone());
                tasks.push(tokio::spawn(async move {
                    let _permit = pool.acquire().await.unwrap();
                    *state.lock().await += 1;
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(*state.lock().await, 4);
            assert_eq!(pool.available_permits(), 2);
        })
    });
}

#[test]
fn receiving_from_a_tokio_channel_under_a_lock_its_sender_took_is_reported() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let (tx, mut rx) = lockgraph::tokio::sync::mpsc::channel(4);
            let s2 = state.clone();
            let sender = tokio::spawn(async move {
                *s2.lock().await += 1;
                tx.send(1).await.unwrap();
            });
            until(|| sender.is_finished()).await;
            let _state = state.lock().await;
            rx.recv().await;
        })
    });
    assert!(
        report.contains("a receiver waits holding a lock its sender needs"),
        "{report}"
    );
    assert!(report.contains("recv(tokio mpsc channel)"), "{report}");
}

#[test]
fn a_tokio_channel_drained_without_the_lock_is_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let (tx, mut rx) = lockgraph::tokio::sync::mpsc::unbounded_channel();
            for _ in 0..3 {
                let (tx, state) = (tx.clone(), state.clone());
                tokio::spawn(async move {
                    *state.lock().await += 1;
                    tx.send(1).unwrap();
                });
            }
            drop(tx);
            let mut total = 0;
            while let Some(n) = rx.recv().await {
                total += n;
            }
            assert_eq!(total, 3);
            assert_eq!(*state.lock().await, 3);
        })
    });
}

#[test]
fn waiting_on_the_event_loop_for_a_result_under_the_lock_it_takes_is_reported() {
    // The event loop on another thread fed through a queue: main holds the
    // state, the loop's task locks it and sends the result back.
    let report = expect_report(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let state = Arc::new(lockgraph::Mutex::new(0));
        let (tx, rx) = lockgraph::sync::mpsc::channel();
        let s2 = state.clone();
        let job = runtime.spawn(async move {
            let value = *s2.lock().unwrap() + 1;
            tx.send(value).unwrap();
        });
        while !job.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _state = state.lock().unwrap();
        rx.recv().unwrap();
    });
    assert!(
        report.contains("a receiver waits holding a lock its sender needs"),
        "{report}"
    );
}

#[test]
fn awaiting_an_aborted_task_under_the_lock_it_holds_is_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let s2 = state.clone();
            let (locked, is_locked) = tokio::sync::oneshot::channel();
            let worker = task::spawn(async move {
                let _state = s2.lock().await;
                locked.send(()).unwrap();
                std::future::pending::<()>().await;
            });
            is_locked.await.unwrap();
            worker.abort(); // ends it holding the state: the guard is dropped
            let _state = state.lock().await;
            assert!(worker.await.unwrap_err().is_cancelled());
        })
    });
}

#[test]
fn a_task_aborted_while_it_waits_leaves_no_dependency() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let guard = state.lock().await;
            let s2 = state.clone();
            let worker = task::spawn(async move { *s2.lock().await += 1 });
            tokio::time::sleep(Duration::from_millis(20)).await;
            worker.abort();
            assert!(worker.await.unwrap_err().is_cancelled());
            drop(guard);
            // Later, a fresh task awaited under the lock it never takes.
            let _state = state.lock().await;
            task::spawn(async { 1 }).await.unwrap();
        })
    });
}

#[test]
fn arriving_at_a_tokio_barrier_under_a_lock_another_party_takes_first_is_reported() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let barrier = Arc::new(lockgraph::tokio::sync::Barrier::new(2));
            let (s2, b2) = (state.clone(), barrier.clone());
            let arriving = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let a2 = arriving.clone();
            let party = tokio::spawn(async move {
                *s2.lock().await += 1; // on its way to arriving
                a2.store(true, std::sync::atomic::Ordering::SeqCst);
                b2.wait().await;
            });
            // Once the party is about to arrive, and had time to.
            until(|| arriving.load(std::sync::atomic::Ordering::SeqCst)).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _state = state.lock().await;
            barrier.wait().await;
            drop(party);
        })
    });
    assert!(
        report.contains("waits at a Barrier holding a lock another party needs"),
        "{report}"
    );
}

#[test]
fn tokio_barrier_parties_that_release_before_arriving_are_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let barrier = Arc::new(lockgraph::tokio::sync::Barrier::new(3));
            let mut parties = Vec::new();
            for _ in 0..3 {
                let (state, barrier) = (state.clone(), barrier.clone());
                parties.push(tokio::spawn(async move {
                    *state.lock().await += 1;
                    barrier.wait().await.is_leader()
                }));
            }
            let mut leaders = 0;
            for party in parties {
                leaders += party.await.unwrap() as u32;
            }
            assert_eq!(leaders, 1);
        })
    });
}

#[test]
fn awaiting_a_watch_change_under_a_lock_its_sender_takes_is_reported() {
    let report = expect_report(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let (tx, mut rx) = lockgraph::tokio::sync::watch::channel(0);
            let s2 = state.clone();
            let sender = tokio::spawn(async move {
                let value = *s2.lock().await + 1;
                tx.send(value).unwrap();
                tx
            });
            until(|| sender.is_finished()).await;
            let _state = state.lock().await;
            rx.changed().await.unwrap();
        })
    });
    assert!(
        report.contains("a receiver waits holding a lock its sender needs"),
        "{report}"
    );
    assert!(report.contains("recv(watch channel)"), "{report}");
}

#[test]
fn a_watch_change_awaited_without_the_lock_is_clean() {
    expect_clean(|| {
        run(async {
            let state = Arc::new(Mutex::new(0));
            let (tx, mut rx) = lockgraph::tokio::sync::watch::channel(0);
            let s2 = state.clone();
            tokio::spawn(async move {
                let value = *s2.lock().await + 1;
                tx.send(value).unwrap();
            });
            rx.changed().await.unwrap();
            assert_eq!(*rx.borrow_and_update(), 1);
            *state.lock().await += 1;
        })
    });
}
