//! Concurrent branches of one context — `tokio::join!`, `join_all`,
//! `join4`, `tokio::select!`, `FuturesUnordered`, a `block_on` of a join on
//! a plain thread, `spawn_local` tasks on a `LocalSet` — share that
//! context's held stack. A branch that locks what a sibling holds just waits
//! its turn: never reported. A sequential relock in one branch, and two
//! branches taking two locks in opposite orders, hang for ever: reported
//! once the waiting acquisition is stuck (here 300 ms with the lock never
//! released; see `lockgraph::tokio::set_stuck_after`). Every scenario runs
//! under `common::within`, so a miss fails instead of hanging.
#![cfg(feature = "tokio")]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Context;
use std::time::Duration;

use common::{expect_clean, expect_report, yield_once};
use futures::StreamExt;
use lockgraph::tokio::sync::{Mutex, RwLock};

type Branch = Pin<Box<dyn Future<Output = ()> + Send>>;

const STUCK: Duration = Duration::from_millis(300);

fn setup() {
    lockgraph::tokio::set_stuck_after(STUCK);
}

// ------------------------------------------------------------------ shapes

/// Holds the mutex across two inner `.await`s.
fn holder(m: &Arc<Mutex<u32>>) -> Branch {
    let m = m.clone();
    Box::pin(async move {
        let mut count = m.lock().await;
        yield_once().await;
        yield_once().await;
        *count += 1;
    })
}

fn writer(l: &Arc<RwLock<u32>>) -> Branch {
    let l = l.clone();
    Box::pin(async move {
        let mut value = l.write().await;
        yield_once().await;
        *value += 1;
    })
}

fn reader(l: &Arc<RwLock<u32>>) -> Branch {
    let l = l.clone();
    Box::pin(async move {
        let value = l.read().await;
        yield_once().await;
        let _ = *value;
    })
}

/// `first`, then `second`, each held across an `.await`.
fn in_order(first: &Arc<Mutex<u32>>, second: &Arc<Mutex<u32>>) -> Branch {
    let (a, b) = (first.clone(), second.clone());
    Box::pin(async move {
        let _a = a.lock().await;
        yield_once().await;
        let _b = b.lock().await;
        yield_once().await;
    })
}

/// A sequential relock: the second `lock()` waits for the first guard.
fn relock(m: &Arc<Mutex<u32>>) -> Branch {
    let m = m.clone();
    Box::pin(async move {
        let _first = m.lock().await;
        yield_once().await;
        let _second = m.lock().await;
    })
}

/// A relock through a helper called with the guard alive.
fn relock_in_helper(m: &Arc<Mutex<u32>>) -> Branch {
    async fn bump(m: &Mutex<u32>) {
        *m.lock().await += 1;
    }
    let m = m.clone();
    Box::pin(async move {
        let _guard = m.lock().await;
        bump(&m).await;
    })
}

/// [`holder`], then never finishes (a sibling that cannot end a
/// `select!` before the bug shows).
fn holder_then_idle(m: &Arc<Mutex<u32>>) -> Branch {
    let first = holder(m);
    Box::pin(async move {
        first.await;
        std::future::pending::<()>().await;
    })
}

fn idle() -> Branch {
    Box::pin(async {})
}

fn forever() -> Branch {
    Box::pin(std::future::pending())
}

// ------------------------------------------------------------- combinators

#[derive(Clone, Copy, Debug)]
enum Combinator {
    /// `tokio::join!` of three.
    TokioJoin,
    /// `futures::future::join_all`.
    JoinAll,
    /// `futures::future::join4`.
    Join4,
    /// `tokio::select!` of three (the first to finish cancels the rest).
    Select,
    /// A `FuturesUnordered` drained to the end.
    Unordered,
}

const ALL: [Combinator; 5] = [
    Combinator::TokioJoin,
    Combinator::JoinAll,
    Combinator::Join4,
    Combinator::Select,
    Combinator::Unordered,
];

/// Pads `branches` to `n` with `pad()`.
fn padded(mut branches: Vec<Branch>, n: usize, pad: fn() -> Branch) -> Vec<Branch> {
    assert!(branches.len() <= n);
    while branches.len() < n {
        branches.push(pad());
    }
    branches
}

/// The branches as one future. `pad` fills fixed-arity combinators: `idle`
/// for clean runs, `forever` for a twin that must hang (so `select!` does
/// not end it early).
fn combine(how: Combinator, branches: Vec<Branch>, pad: fn() -> Branch) -> Branch {
    match how {
        Combinator::TokioJoin => {
            let mut it = padded(branches, 3, pad).into_iter();
            let (a, b, c) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            Box::pin(async move {
                tokio::join!(a, b, c);
            })
        }
        Combinator::JoinAll => Box::pin(async move {
            futures::future::join_all(branches).await;
        }),
        Combinator::Join4 => {
            let mut it = padded(branches, 4, pad).into_iter();
            let mut next = || it.next().unwrap();
            let (a, b, c, d) = (next(), next(), next(), next());
            Box::pin(async move {
                futures::future::join4(a, b, c, d).await;
            })
        }
        Combinator::Select => {
            let mut it = padded(branches, 3, pad).into_iter();
            let (a, b, c) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            Box::pin(async move {
                tokio::select! {
                    _ = a => {}
                    _ = b => {}
                    _ = c => {}
                }
            })
        }
        Combinator::Unordered => Box::pin(async move {
            let mut all: futures::stream::FuturesUnordered<Branch> = branches.into_iter().collect();
            while all.next().await.is_some() {}
        }),
    }
}

#[derive(Clone, Copy, Debug)]
enum Runner {
    /// In a spawned task of a current-thread runtime.
    CurrentThread,
    /// In a spawned task of a two-worker runtime.
    MultiThread,
    /// In a `spawn_local` task on a `LocalSet`.
    LocalSet,
    /// `futures::executor::block_on` on a plain thread: the thread is the
    /// context.
    BlockOn,
}

const RUNNERS: [Runner; 4] = [
    Runner::CurrentThread,
    Runner::MultiThread,
    Runner::LocalSet,
    Runner::BlockOn,
];

fn runtime(runner: Runner) -> tokio::runtime::Runtime {
    match runner {
        Runner::MultiThread => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    }
}

/// The report a task panicked with, re-raised here.
fn reraise<T>(joined: Result<T, tokio::task::JoinError>) -> T {
    match joined {
        Ok(value) => value,
        Err(err) => match err.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(err) => panic!("task failed: {err}"),
        },
    }
}

fn run(runner: Runner, future: Branch) {
    match runner {
        Runner::CurrentThread | Runner::MultiThread => {
            runtime(runner).block_on(async move { reraise(tokio::spawn(future).await) })
        }
        Runner::LocalSet => {
            let local = tokio::task::LocalSet::new();
            runtime(runner).block_on(
                local.run_until(async move { reraise(tokio::task::spawn_local(future).await) }),
            )
        }
        Runner::BlockOn => futures::executor::block_on(future),
    }
}

/// Every combinator on every runner: clean, and nothing left held.
fn each_clean(make: impl Fn() -> Vec<Branch> + Send + Sync + 'static) {
    setup();
    let make = Arc::new(make);
    for runner in RUNNERS {
        for how in ALL {
            let make = make.clone();
            expect_clean(move || {
                run(runner, combine(how, make(), idle));
                assert!(
                    lockgraph::held_locks().is_empty(),
                    "{how:?} on {runner:?} left {:?}",
                    lockgraph::held_locks()
                );
            });
        }
    }
}

/// Every combinator on every runner: reported, with a title that starts
/// with `title`.
fn each_reported(title: &str, make: impl Fn() -> Vec<Branch> + Send + Sync + 'static) {
    setup();
    let make = Arc::new(make);
    for runner in RUNNERS {
        for how in ALL {
            let make = make.clone();
            let report = expect_report(move || run(runner, combine(how, make(), forever)));
            assert!(
                report.starts_with(title),
                "{how:?} on {runner:?}: {title:?} expected, got\n{report}"
            );
        }
    }
}

// ------------------------------------------------------------------- clean

#[test]
fn branches_holding_one_mutex_across_an_await_are_clean() {
    each_clean(|| {
        let m = Arc::new(Mutex::new(0));
        vec![holder(&m), holder(&m), holder(&m)]
    });
}

#[test]
fn branches_writing_and_reading_one_rwlock_are_clean() {
    each_clean(|| {
        let l = Arc::new(RwLock::new(0));
        vec![writer(&l), reader(&l), reader(&l)]
    });
    each_clean(|| {
        let l = Arc::new(RwLock::new(0));
        vec![reader(&l), writer(&l), writer(&l)]
    });
}

#[test]
fn branches_taking_two_locks_in_one_order_are_clean() {
    each_clean(|| {
        let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
        vec![in_order(&a, &b), in_order(&a, &b), in_order(&a, &b)]
    });
}

/// One branch holds `a` while a sibling takes `b`: no edge `a -> b` that a
/// later `b -> a` in the same task could close.
#[test]
fn a_lock_one_branch_holds_orders_nothing_for_a_sibling() {
    each_clean(|| {
        let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
        let later = {
            let (a, b) = (a.clone(), b.clone());
            Box::pin(async move {
                for _ in 0..3 {
                    yield_once().await;
                }
                let _b = b.lock().await;
                let _a = a.lock().await;
            }) as Branch
        };
        vec![holder(&a), holder(&b), later]
    });
}

/// The holder is slow (three sleeps of 200 ms, each under the stuck time,
/// 600 ms in all): the third branch waits longer than the stuck time, but
/// every release starts it again.
#[test]
fn a_sibling_that_holds_the_lock_a_while_is_not_reported() {
    setup();
    for runner in [Runner::CurrentThread, Runner::MultiThread] {
        expect_clean(move || {
            let m = Arc::new(Mutex::new(0));
            let slow = || {
                let m = m.clone();
                Box::pin(async move {
                    let mut count = m.lock().await;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    *count += 1;
                }) as Branch
            };
            run(
                runner,
                combine(Combinator::TokioJoin, vec![slow(), slow(), slow()], idle),
            );
            assert_eq!(*m.try_lock().unwrap(), 3);
        });
    }
}

// ---------------------------------------------------------------- reported

#[test]
fn a_sequential_relock_among_siblings_is_reported() {
    each_reported(
        "deadlock: relocking a tokio::sync::Mutex already held by this",
        || {
            let m = Arc::new(Mutex::new(0));
            vec![relock(&m), holder_then_idle(&m)]
        },
    );
}

#[test]
fn a_relock_in_a_helper_is_reported() {
    each_reported(
        "deadlock: relocking a tokio::sync::Mutex already held by this",
        || {
            let m = Arc::new(Mutex::new(0));
            vec![relock_in_helper(&m)]
        },
    );
}

#[test]
fn two_branches_taking_two_locks_in_opposite_orders_are_reported() {
    each_reported("potential deadlock: lock order inversion", || {
        let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
        vec![in_order(&a, &b), in_order(&b, &a)]
    });
}

#[test]
fn a_write_after_a_read_in_one_branch_is_reported() {
    setup();
    let report = expect_report(|| {
        run(
            Runner::CurrentThread,
            Box::pin(async {
                let l = RwLock::new(0);
                let _read = l.read().await;
                let _write = l.write().await;
            }),
        )
    });
    assert!(
        report.starts_with("deadlock: write-locking a tokio::sync::RwLock already held"),
        "{report}"
    );
}

/// A second read in one flow hangs only if a writer queues between the
/// two: then it is stuck, and reported.
#[test]
fn a_second_read_behind_a_queued_writer_is_reported() {
    setup();
    let report = expect_report(|| {
        run(
            Runner::CurrentThread,
            Box::pin(async {
                let l = Arc::new(RwLock::new(0));
                let _first = l.read().await;
                let _writer = {
                    let l = l.clone();
                    tokio::spawn(async move {
                        *l.write().await += 1;
                    })
                };
                while l.try_write().is_ok() || !writer_queued(&l) {
                    tokio::task::yield_now().await;
                }
                let _second = l.read().await;
            }),
        )
    });
    assert!(
        report.starts_with("potential deadlock: recursive read of a tokio::sync::RwLock"),
        "{report}"
    );
}

/// Whether a writer waits for `l` (a read is refused only then, while
/// this flow reads).
fn writer_queued(l: &RwLock<u32>) -> bool {
    l.try_read().is_err()
}

// --------------------------------------------------------------- bad input

#[test]
fn a_branch_cancelled_while_its_lock_waits_leaves_nothing() {
    setup();
    expect_clean(|| {
        run(
            Runner::CurrentThread,
            Box::pin(async {
                let m = Arc::new(Mutex::new(0));
                // The holder finishes first; the waiting branch is dropped.
                tokio::select! {
                    biased;
                    _ = holder(&m) => {}
                    _ = holder(&m) => {}
                }
                assert_eq!(lockgraph::held_locks().len(), 0);
                // And nothing stale makes a later, sequential use a relock.
                let _guard = m.lock().await;
                tokio::time::sleep(STUCK * 2).await;
            }),
        )
    });
}

#[test]
fn a_guard_dropped_in_another_branch_is_released() {
    setup();
    for runner in RUNNERS {
        expect_clean(move || {
            run(
                runner,
                Box::pin(async {
                    let m = Arc::new(Mutex::new(0));
                    let (tx, rx) = futures::channel::oneshot::channel();
                    let taker = {
                        let m = m.clone();
                        async move {
                            let guard = m.clone().lock_owned().await;
                            let _ = tx.send(guard);
                        }
                    };
                    let dropper = async move {
                        drop(rx.await.unwrap());
                    };
                    futures::future::join(taker, dropper).await;
                    assert_eq!(lockgraph::held_locks().len(), 0);
                    let _again = m.lock().await;
                    yield_once().await;
                }),
            )
        });
    }
}

#[test]
fn a_scope_polled_after_it_completed_leaves_nothing() {
    setup();
    expect_clean(|| {
        run(
            Runner::BlockOn,
            Box::pin(async {
                let m = Arc::new(Mutex::new(0));
                let mut scoped = Box::pin(lockgraph::tokio::scope(holder(&m)));
                (&mut scoped).await;
                let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let waker = futures::task::noop_waker();
                    let _ = scoped.as_mut().poll(&mut Context::from_waker(&waker));
                }));
                assert!(again.is_ok() || lockgraph::held_locks().is_empty());
                assert!(lockgraph::held_locks().is_empty());
                let _guard = m.lock().await;
            }),
        )
    });
}

/// `scope` still gives each branch a context of its own: no verdict to
/// defer, nothing shared.
#[test]
fn scoped_branches_are_clean() {
    setup();
    expect_clean(|| {
        run(
            Runner::CurrentThread,
            Box::pin(async {
                use lockgraph::tokio::scope;
                let m = Arc::new(Mutex::new(0));
                tokio::join!(scope(holder(&m)), scope(holder(&m)));
                assert_eq!(*m.lock().await, 2);
            }),
        )
    });
}

/// The loader: `load` holds one mutex across an inner `.await`;
/// four calls at once in `join4`, driven by `block_on` on a plain thread.
#[test]
fn a_loader_called_four_times_at_once_is_clean() {
    struct Loader {
        cache: Mutex<Vec<u32>>,
        calls: AtomicU32,
    }
    impl Loader {
        async fn load(&self, key: u32) -> u32 {
            let mut cache = self.cache.lock().await;
            yield_once().await; // the fetch
            self.calls.fetch_add(1, Ordering::Relaxed);
            cache.push(key);
            key * 10
        }
        async fn load_many(&self, keys: &[u32]) -> Vec<u32> {
            let mut out = Vec::new();
            for &key in keys {
                out.push(self.load(key).await);
            }
            out
        }
    }
    setup();
    let calls = expect_clean(|| {
        let l = Loader {
            cache: Mutex::new(Vec::new()),
            calls: AtomicU32::new(0),
        };
        let (a, b, c, many) = futures::executor::block_on(futures::future::join4(
            l.load(1),
            l.load(2),
            l.load(3),
            l.load_many(&[4, 5]),
        ));
        assert_eq!((a, b, c, many), (10, 20, 30, vec![40, 50]));
        l.calls.load(Ordering::Relaxed)
    });
    assert_eq!(calls, 5);
}

/// One flow taking two locks in both orders (no branches): its edges are
/// certain — each `lock()` future lives where the one before it did — so
/// the inversion is reported before it waits, as between two tasks.
#[test]
fn one_flow_taking_two_locks_in_both_orders_is_reported_at_once() {
    setup();
    for runner in RUNNERS {
        let report = expect_report(move || {
            run(
                runner,
                Box::pin(async {
                    let (a, b) = (Mutex::new(0), Mutex::new(0));
                    {
                        let _a = a.lock().await;
                        let _b = b.lock().await;
                    }
                    let _b = b.lock().await;
                    let _a = a.lock().await;
                }),
            )
        });
        assert!(
            report.starts_with("potential deadlock: lock order inversion"),
            "{runner:?}: {report}"
        );
    }
}

/// A lock handed from one branch to a queued sibling: the first branch
/// then takes `n`, but `m` is the sibling's now — no edge `m -> n` that
/// another task's `n -> m` could close.
#[test]
fn a_lock_passed_to_a_queued_sibling_orders_nothing_for_the_first_branch() {
    setup();
    for runner in [Runner::CurrentThread, Runner::MultiThread] {
        expect_clean(move || {
            let (m, n) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
            let first = {
                let (m, n) = (m.clone(), n.clone());
                Box::pin(async move {
                    let held = m.lock().await;
                    yield_once().await;
                    drop(held); // the sibling queued for it gets it
                    let _n = n.lock().await;
                    yield_once().await;
                }) as Branch
            };
            let second = holder(&m);
            run(
                runner,
                combine(Combinator::TokioJoin, vec![first, second], idle),
            );
            // Another context, the other order.
            run(
                runner,
                Box::pin(async move {
                    let _n = n.lock().await;
                    let _m = m.lock().await;
                }),
            );
        });
    }
}
