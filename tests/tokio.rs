//! `lockgraph::tokio::sync`: tokio's Mutex in the lock-order graph, held
//! locks per task. Each reported shape has a clean twin; every scenario
//! runs under a watchdog thread (`common::within`) so a miss fails instead
//! of hanging.
#![cfg(feature = "tokio")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{expect_clean, expect_report, payload_text};
use lockgraph::tokio::sync::Mutex;

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The report a task panicked with, re-raised on the scenario thread.
async fn join<T>(handle: tokio::task::JoinHandle<T>) -> T {
    match handle.await {
        Ok(value) => value,
        Err(err) => match err.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(err) => panic!("task failed: {err}"),
        },
    }
}

#[test]
fn two_tasks_taking_two_locks_in_opposite_orders_are_reported_before_waiting() {
    let report = expect_report(|| {
        multi_thread().block_on(async {
            let a = Arc::new(Mutex::new("a"));
            let b = Arc::new(Mutex::new("b"));
            let first = {
                let (a, b) = (a.clone(), b.clone());
                tokio::spawn(async move {
                    let _a = a.lock().await;
                    tokio::task::yield_now().await;
                    let _b = b.lock().await;
                })
            };
            join(first).await;
            let second = tokio::spawn(async move {
                let _b = b.lock().await;
                tokio::task::yield_now().await;
                let _a = a.lock().await;
            });
            join(second).await;
        })
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion"),
        "{report}"
    );
    for expected in [
        "tokio::sync::Mutex<&str>",
        "tests/tokio.rs:",
        "first taken in task ",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in\n{report}"
        );
    }
}

#[test]
fn two_tasks_taking_two_locks_in_one_order_are_clean() {
    expect_clean(|| {
        multi_thread().block_on(async {
            let a = Arc::new(Mutex::new(0));
            let b = Arc::new(Mutex::new(0));
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let (a, b) = (a.clone(), b.clone());
                    tokio::spawn(async move {
                        for _ in 0..50 {
                            let mut a = a.lock().await;
                            tokio::task::yield_now().await;
                            let mut b = b.lock().await;
                            *a += 1;
                            *b += 1;
                        }
                    })
                })
                .collect();
            for task in tasks {
                join(task).await;
            }
            assert_eq!(*a.lock().await, 400);
        })
    });
}

#[test]
fn a_task_relocking_a_lock_it_holds_is_reported() {
    let report = expect_report(|| {
        current_thread().block_on(async {
            let lock = Arc::new(Mutex::new(()));
            join(tokio::spawn(async move {
                let _first = lock.lock().await;
                let _second = lock.lock().await;
            }))
            .await;
        })
    });
    assert!(
        report.starts_with("deadlock: relocking a tokio::sync::Mutex already held by this task"),
        "{report}"
    );
}

#[test]
fn locks_held_by_different_tasks_on_one_thread_are_not_nested() {
    // On a current-thread runtime, task 1 holds `a` across an `.await` while
    // task 2 takes `b` then `a`... per-task stacks keep `a -> b` out of the
    // graph, so task 1's later `b` is no inversion... and no false edge
    // joins the two tasks' locks.
    expect_clean(|| {
        current_thread().block_on(async {
            let a = Arc::new(Mutex::new(0));
            let b = Arc::new(Mutex::new(0));
            let holder = {
                let a = a.clone();
                tokio::spawn(async move {
                    let _a = a.lock().await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                })
            };
            tokio::task::yield_now().await;
            let other = {
                let b = b.clone();
                tokio::spawn(async move {
                    let _b = b.lock().await;
                })
            };
            join(other).await;
            join(holder).await;
            // Held alone in this context: b then a, the order no task took.
            let _b = b.lock().await;
            let _a = a.lock().await;
        })
    });
}

#[test]
fn a_sync_guard_held_across_an_await_is_reported_when_another_task_locks() {
    let report = expect_report(|| {
        let local = tokio::task::LocalSet::new();
        current_thread().block_on(local.run_until(async {
            let config = std::rc::Rc::new(lockgraph::Mutex::named("config", 1));
            let stats = std::rc::Rc::new(lockgraph::Mutex::named("stats", 0));
            let holder = {
                let config = config.clone();
                tokio::task::spawn_local(async move {
                    let _config = config.lock().unwrap();
                    tokio::task::yield_now().await; // the bug: a std guard across `.await`
                })
            };
            let other = {
                let stats = stats.clone();
                tokio::task::spawn_local(async move {
                    *stats.lock().unwrap() += 1;
                })
            };
            join(holder).await;
            join(other).await;
        }))
    });
    assert!(
        report.starts_with("potential deadlock: a lock held across an `.await`"),
        "{report}"
    );
    for expected in [
        "holds\n    Mutex \"config\"",
        "is acquiring\n    Mutex \"stats\"",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in\n{report}"
        );
    }
}

#[test]
fn a_sync_guard_dropped_before_the_await_is_clean_and_makes_no_false_edge() {
    expect_clean(|| {
        let local = tokio::task::LocalSet::new();
        current_thread().block_on(local.run_until(async {
            let config = std::rc::Rc::new(lockgraph::Mutex::named("config", 1));
            let stats = std::rc::Rc::new(lockgraph::Mutex::named("stats", 0));
            let holder = {
                let (config, stats) = (config.clone(), stats.clone());
                tokio::task::spawn_local(async move {
                    let value = *config.lock().unwrap();
                    tokio::task::yield_now().await;
                    // stats then config, inside one task: no inversion with
                    // the other task's orders, which never nest them.
                    let _stats = stats.lock().unwrap();
                    let _config = config.lock().unwrap();
                    value
                })
            };
            let other = {
                let stats = stats.clone();
                tokio::task::spawn_local(async move {
                    *stats.lock().unwrap() += 1;
                })
            };
            join(holder).await;
            join(other).await;
        }))
    });
}

#[test]
fn an_owned_guard_moved_into_another_task_is_released_there() {
    expect_clean(|| {
        multi_thread().block_on(async {
            let a = Arc::new(Mutex::new(0));
            let b = Arc::new(Mutex::new(0));
            let guard = a.clone().lock_owned().await;
            let mover = tokio::spawn(async move {
                let mut guard = guard;
                *guard += 1; // first use: this task owns it now
                drop(guard);
            });
            join(mover).await;
            // Nothing stale in this context: b then a is no nesting under a.
            assert!(lockgraph::held_locks().is_empty());
            let _b = b.lock().await;
            let _a = a.lock().await;
        })
    });
}

#[test]
fn a_guard_a_task_handed_to_another_task_leaves_the_first_task_clean() {
    // Task T locks `a` and hands the owned guard to task U, which uses and
    // drops it while T goes on: T's entry for `a` is released by U (posted
    // to T), so T taking `b` then `a` afterwards is no nesting under `a`.
    expect_clean(|| {
        multi_thread().block_on(async {
            let a = Arc::new(Mutex::new(0));
            let b = Arc::new(Mutex::new(0));
            let t = tokio::spawn(async move {
                let guard = a.clone().lock_owned().await;
                let (done_tx, done_rx) = tokio::sync::oneshot::channel();
                tokio::spawn(async move {
                    let mut guard = guard;
                    *guard += 1; // first use: U owns it now
                    drop(guard);
                    done_tx.send(()).unwrap();
                });
                done_rx.await.unwrap();
                let _b = b.lock().await;
                let _a = a.lock().await;
            });
            join(t).await;
        })
    });
}

#[test]
fn a_guard_handed_to_another_task_orders_that_tasks_locks_after_it() {
    // The twin: U, holding the guard it was handed, takes `b` (a -> b in
    // U); T later takes `b` then `a`: an inversion between the two tasks.
    let report = expect_report(|| {
        multi_thread().block_on(async {
            let a = Arc::new(Mutex::new(0));
            let b = Arc::new(Mutex::new(0));
            let t = tokio::spawn(async move {
                let guard = a.clone().lock_owned().await;
                let u = {
                    let b = b.clone();
                    tokio::spawn(async move {
                        let mut guard = guard;
                        *guard += 1; // first use: U owns it now
                        let _b = b.lock().await;
                        drop(guard);
                    })
                };
                join(u).await;
                let _b = b.lock().await;
                let _a = a.lock().await;
            });
            join(t).await;
        })
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion"),
        "{report}"
    );
}

#[test]
fn an_aborted_task_leaves_no_held_entry_behind() {
    expect_clean(|| {
        multi_thread().block_on(async {
            let a = Arc::new(Mutex::new(0));
            let b = Arc::new(Mutex::new(0));
            let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
            let holder = {
                let a = a.clone();
                tokio::spawn(async move {
                    let _a = a.lock().await;
                    locked_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                })
            };
            locked_rx.await.unwrap();
            holder.abort();
            assert!(holder.await.unwrap_err().is_cancelled());
            let _b = b.lock().await;
            let _a = a.lock().await;
        })
    });
}

#[test]
fn a_cancelled_lock_future_leaves_no_entry() {
    expect_clean(|| {
        current_thread().block_on(async {
            let a = Arc::new(Mutex::new(0));
            let b = Arc::new(Mutex::new(0));
            let held = a.clone().lock_owned().await;
            let task = {
                let (a, b) = (a.clone(), b.clone());
                tokio::spawn(async move {
                    // Waits for `a`, then gives up: no entry, no edge a -> b.
                    tokio::select! {
                        _ = a.lock() => unreachable!("a is held"),
                        _ = tokio::time::sleep(Duration::from_millis(10)) => {}
                    }
                    let _b = b.lock().await;
                })
            };
            join(task).await;
            drop(held);
            let _b = b.lock().await;
            let _a = a.lock().await;
        })
    });
}

#[test]
fn async_and_sync_locks_share_one_graph() {
    let report = expect_report(|| {
        multi_thread().block_on(async {
            let shared = Arc::new(Mutex::new(0));
            let ledger = Arc::new(lockgraph::Mutex::named("ledger", 0));
            {
                let (shared, ledger) = (shared.clone(), ledger.clone());
                join(tokio::spawn(async move {
                    let _shared = shared.lock().await;
                    *ledger.lock().unwrap() += 1; // shared -> ledger
                }))
                .await;
            }
            let blocking = tokio::task::spawn_blocking(move || {
                let _ledger = ledger.lock().unwrap();
                let _shared = shared.blocking_lock(); // ledger -> shared
            });
            join(blocking).await;
        })
    });
    assert!(
        report.starts_with("potential deadlock: lock order inversion"),
        "{report}"
    );
    assert!(report.contains("Mutex \"ledger\""), "{report}");
}

#[test]
fn blocking_lock_inside_a_runtime_panics_with_tokios_message() {
    let result = common::within(|| {
        current_thread().block_on(async {
            let lock = Mutex::new(0);
            let _guard = lock.blocking_lock();
        })
    });
    let payload = result.expect_err("tokio panics");
    let text = payload_text(&*payload).unwrap_or_default().to_owned();
    assert!(text.contains("Cannot block the current thread"), "{text}");
    // The failed attempt left no held entry on this thread.
    assert!(lockgraph::held_locks().is_empty());
}

#[test]
fn ten_thousand_short_tasks_leave_the_graph_flat() {
    expect_clean(|| {
        multi_thread().block_on(async {
            let a = Arc::new(Mutex::new(0u64));
            let before = lockgraph::graph_stats();
            for round in 0..10 {
                let tasks: Vec<_> = (0..1000)
                    .map(|_| {
                        let a = a.clone();
                        tokio::spawn(async move {
                            let fresh = Mutex::new(round);
                            let _a = a.lock().await;
                            let _fresh = fresh.lock().await;
                        })
                    })
                    .collect();
                for task in tasks {
                    join(task).await;
                }
            }
            let after = lockgraph::graph_stats();
            assert!(after.locks < before.locks + 50, "{before:?} -> {after:?}");
            assert!(after.edges < before.edges + 50, "{before:?} -> {after:?}");
            assert_eq!(*a.lock().await, 0);
        })
    });
}

#[test]
fn outside_any_runtime_the_thread_is_the_context() {
    expect_clean(|| {
        let a = Mutex::new(1);
        let b = Mutex::new(2);
        let ga = a.blocking_lock();
        let gb = b.try_lock().unwrap();
        assert_eq!(*ga + *gb, 3);
        if lockgraph::ENABLED {
            assert_eq!(lockgraph::held_locks().len(), 2);
        }
    });
}

mod rwlock {
    use super::*;
    use lockgraph::tokio::sync::RwLock;

    /// A second read in one task cannot hang unless a writer queues
    /// between the two (`tests/branches.rs` has that twin), and concurrent
    /// branches reading one lock look the same: not reported.
    #[test]
    fn a_second_read_in_the_same_task_that_gets_the_lock_is_clean() {
        expect_clean(|| {
            current_thread().block_on(async {
                let lock = Arc::new(RwLock::new(0));
                join(tokio::spawn(async move {
                    let _first = lock.read().await;
                    let _second = lock.read().await;
                }))
                .await;
            })
        });
    }

    #[test]
    fn reads_in_different_tasks_are_clean() {
        expect_clean(|| {
            multi_thread().block_on(async {
                let lock = Arc::new(RwLock::new(1));
                let first = lock.clone().read_owned().await;
                let other = {
                    let lock = lock.clone();
                    tokio::spawn(async move { *lock.read().await })
                };
                assert_eq!(join(other).await, 1);
                drop(first);
                *lock.write().await += 1;
                assert_eq!(*lock.read().await, 2);
            })
        });
    }

    #[test]
    fn a_write_while_the_task_reads_is_reported() {
        let report = expect_report(|| {
            current_thread().block_on(async {
                let lock = RwLock::new(0);
                let _read = lock.read().await;
                let _write = lock.write().await;
            })
        });
        assert!(
            report.starts_with("deadlock: write-locking a tokio::sync::RwLock already held"),
            "{report}"
        );
    }

    #[test]
    fn a_read_orders_the_locks_held_before_it_like_a_write() {
        let report = expect_report(|| {
            multi_thread().block_on(async {
                let (a, b) = (Arc::new(RwLock::new(0)), Arc::new(RwLock::new(0)));
                {
                    let (a, b) = (a.clone(), b.clone());
                    join(tokio::spawn(async move {
                        let _a = a.write().await;
                        let _b = b.read().await; // a -> b
                    }))
                    .await;
                }
                join(tokio::spawn(async move {
                    let _b = b.write().await;
                    let _a = a.read().await; // b -> a
                }))
                .await;
            })
        });
        assert!(
            report.starts_with("potential deadlock: lock order inversion"),
            "{report}"
        );
    }

    #[test]
    fn downgrade_map_and_owned_guards_keep_the_entry_exact() {
        expect_clean(|| {
            multi_thread().block_on(async {
                let lock = Arc::new(RwLock::new((1, 2)));
                let other = Arc::new(RwLock::new(0));
                {
                    let write = lock.write().await;
                    let read = write.downgrade();
                    let first = lockgraph::tokio::sync::RwLockReadGuard::map(read, |pair| &pair.0);
                    assert_eq!(*first, 1);
                }
                let owned = lock.clone().write_owned().await;
                let mapped =
                    lockgraph::tokio::sync::OwnedRwLockWriteGuard::map(owned, |p| &mut p.1);
                join(tokio::spawn(async move {
                    let mut mapped = mapped;
                    *mapped += 1; // this task owns it now
                }))
                .await;
                assert!(lockgraph::held_locks().is_empty());
                // other then lock here, lock alone elsewhere: no cycle.
                let _other = other.write().await;
                assert_eq!(lock.read().await.1, 3);
            })
        });
    }
}

#[test]
fn concurrent_branches_of_one_task_are_clean_with_or_without_scope() {
    async fn branch(counter: &Mutex<u32>) {
        let mut count = counter.lock().await;
        tokio::task::yield_now().await; // the other branch runs, and waits
        *count += 1;
    }
    let total = expect_clean(|| {
        current_thread().block_on(async {
            join(tokio::spawn(async {
                let counter = Mutex::new(0);
                tokio::join!(branch(&counter), branch(&counter));
                *counter.lock().await
            }))
            .await
        })
    });
    assert_eq!(total, 2);
    let total = expect_clean(|| {
        current_thread().block_on(async {
            join(tokio::spawn(async {
                use lockgraph::tokio::scope;
                let counter = Mutex::new(0);
                tokio::join!(scope(branch(&counter)), scope(branch(&counter)));
                *counter.lock().await
            }))
            .await
        })
    });
    assert_eq!(total, 2);
}

mod tokio_test_bodies {
    use super::*;

    /// A `#[tokio::test]` body is its thread's context: its order and a
    /// spawned task's opposite order are one inversion.
    #[tokio::test]
    #[should_panic(expected = "potential deadlock: lock order inversion")]
    async fn a_test_body_and_a_task_taking_two_locks_in_opposite_orders() {
        if !lockgraph::ENABLED {
            panic!("potential deadlock: lock order inversion (detection is off in this build)");
        }
        common::quiet_reports();
        let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
        {
            let (a, b) = (a.clone(), b.clone());
            join(tokio::spawn(async move {
                let _b = b.lock().await;
                let _a = a.lock().await; // b -> a, in a task
            }))
            .await;
        }
        let _a = a.lock().await;
        let _b = b.lock().await; // a -> b, in the test body: reported here
    }

    #[tokio::test]
    async fn a_test_body_and_a_task_taking_two_locks_in_one_order() {
        let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
        {
            let (a, b) = (a.clone(), b.clone());
            join(tokio::spawn(async move {
                let _a = a.lock().await;
                let _b = b.lock().await;
            }))
            .await;
        }
        let _a = a.lock().await;
        let _b = b.lock().await;
    }
}

#[test]
fn an_aborted_task_holding_a_sync_guard_leaves_no_false_held_across_await() {
    expect_clean(|| {
        let local = tokio::task::LocalSet::new();
        current_thread().block_on(local.run_until(async {
            let config = std::rc::Rc::new(lockgraph::Mutex::named("config", 1));
            let stats = std::rc::Rc::new(lockgraph::Mutex::named("stats", 0));
            let (held_tx, held_rx) = tokio::sync::oneshot::channel();
            let holder = {
                let config = config.clone();
                tokio::task::spawn_local(async move {
                    let _config = config.lock().unwrap();
                    held_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                })
            };
            held_rx.await.unwrap();
            holder.abort();
            assert!(holder.await.unwrap_err().is_cancelled());
            // The aborted task's guard is gone: this is no lock held
            // across an `.await`.
            let other = {
                let stats = stats.clone();
                tokio::task::spawn_local(async move {
                    *stats.lock().unwrap() += 1;
                })
            };
            join(other).await;
            *stats.lock().unwrap() += 1;
        }))
    });
}

/// How many acquisitions of a free lock a task makes before it yields to
/// another ready task (`None`: it never yields within 1,000).
async fn acquisitions_before_yielding<F: std::future::Future>(
    mut acquire: impl FnMut() -> F,
) -> Option<usize> {
    let other_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _other = {
        let other_ran = other_ran.clone();
        tokio::spawn(async move { other_ran.store(true, std::sync::atomic::Ordering::SeqCst) })
    };
    for i in 0..1000 {
        drop(acquire().await);
        if other_ran.load(std::sync::atomic::Ordering::SeqCst) {
            return Some(i);
        }
    }
    None
}

/// lockgraph takes a free lock with tokio's `try_*` instead of tokio's
/// future, after spending the unit of cooperative budget tokio's future
/// would: a task looping on a free lock still yields as often.
#[test]
fn acquiring_a_free_lock_spends_the_coop_budget_as_tokios_does() {
    expect_clean(|| {
        let rt = current_thread();
        let tokio_lock = tokio::sync::Mutex::new(0);
        let tokio_rw = tokio::sync::RwLock::new(0);
        let ours = Mutex::new(0);
        let ours_rw = lockgraph::tokio::sync::RwLock::new(0);
        let expected = rt.block_on(acquisitions_before_yielding(|| tokio_lock.lock()));
        assert!(expected.is_some(), "tokio's own lock never yielded");
        assert_eq!(
            rt.block_on(acquisitions_before_yielding(|| tokio_rw.read())),
            expected
        );
        assert_eq!(
            rt.block_on(acquisitions_before_yielding(|| ours.lock())),
            expected
        );
        assert_eq!(
            rt.block_on(acquisitions_before_yielding(|| ours_rw.read())),
            expected
        );
        assert_eq!(
            rt.block_on(acquisitions_before_yielding(|| ours_rw.write())),
            expected
        );
        let ours_arc = Arc::new(Mutex::new(0));
        assert_eq!(
            rt.block_on(acquisitions_before_yielding(|| ours_arc
                .clone()
                .lock_owned())),
            expected
        );
        let ours_rw_arc = Arc::new(lockgraph::tokio::sync::RwLock::new(0));
        assert_eq!(
            rt.block_on(acquisitions_before_yielding(|| ours_rw_arc
                .clone()
                .read_owned())),
            expected
        );
    });
}

/// A lock released while a task waits for it goes to that task, not to
/// the releaser locking again at once: taking a free lock directly never
/// jumps tokio's queue. tokio's own Mutex is the twin.
#[test]
fn a_released_lock_goes_to_the_waiting_task_first_as_with_tokios() {
    macro_rules! order {
        ($mutex:ty) => {
            current_thread().block_on(async {
                let log = Arc::new(<$mutex>::new(Vec::new()));
                let held = log.lock().await;
                let waiter = {
                    let log = log.clone();
                    tokio::spawn(async move { log.lock().await.push("waiter") })
                };
                tokio::task::yield_now().await; // the waiter queues
                drop(held);
                log.lock().await.push("releaser");
                join(waiter).await;
                let order = log.lock().await.clone();
                order
            })
        };
    }
    expect_clean(|| {
        assert_eq!(
            order!(tokio::sync::Mutex<Vec<&str>>),
            ["waiter", "releaser"]
        );
        assert_eq!(order!(Mutex<Vec<&str>>), ["waiter", "releaser"]);
    });
}

/// Polling a completed `lock()` future again is a caller's bug, and panics
/// as tokio's does; it leaves no held entry behind, so the thread's later
/// acquisitions of the lock are clean.
#[test]
fn a_completed_lock_future_polled_again_panics_and_leaves_no_entry() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    expect_clean(|| {
        let lock = Mutex::new(0);
        let mut cx = Context::from_waker(Waker::noop());
        {
            let mut acquire = std::pin::pin!(lock.lock());
            let Poll::Ready(guard) = acquire.as_mut().poll(&mut cx) else {
                panic!("the lock is free");
            };
            drop(guard);
            let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = acquire.as_mut().poll(&mut cx);
            }));
            assert!(again.is_err(), "polled again after completing");
        }
        let first = lock.blocking_lock();
        drop(first);
        let _again = lock.blocking_lock();
    });
}

/// A reentrant lock has one held entry per owning thread, pushed at its
/// outermost level. When a task on the same thread releases the last
/// level (the thread's own context took the first), that entry is the one
/// released: no stale entry is left to order the thread's later locks.
#[test]
fn a_reentrant_lock_released_last_in_a_task_leaves_no_stale_entry() {
    expect_clean(|| {
        let local = tokio::task::LocalSet::new();
        current_thread().block_on(local.run_until(async {
            let lock = Arc::new(lockgraph::ReentrantLock::new(0));
            let other = Arc::new(lockgraph::Mutex::new(0));
            let outer = lock.lock(); // the thread's context: the entry
            let (entered_tx, entered_rx) = tokio::sync::oneshot::channel();
            let (leave_tx, leave_rx) = tokio::sync::oneshot::channel::<()>();
            let task = {
                let lock = lock.clone();
                tokio::task::spawn_local(async move {
                    let inner = lock.lock(); // a re-entry: no entry of its own
                    entered_tx.send(()).unwrap();
                    leave_rx.await.unwrap();
                    drop(inner); // the last level: the release
                })
            };
            entered_rx.await.unwrap();
            drop(outer);
            leave_tx.send(()).unwrap();
            join(task).await;
            // Had the entry stayed, `lock` would still count as held here,
            // and this would order `other` after it; another thread's
            // `other` then `lock` would close a false cycle.
            drop(other.lock().unwrap());
            std::thread::spawn(move || {
                let _other = other.lock().unwrap();
                let _lock = lock.lock();
            })
            .join()
            .unwrap();
        }))
    });
}
