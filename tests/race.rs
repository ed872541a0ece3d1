//! Race conditions on tracked data: lost updates, the wrong lock, fork/join
//! ordering, Condvar hand-off, queues, and an annotated unsafe ring buffer.
//! Every racy scenario has a clean twin.

mod common;

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{expect_clean, expect_report};
use lockgraph::race::{self, Tracked};
use lockgraph::{Condvar, Mutex, thread};

/// Joins every handle, re-raising the first report in the calling thread.
fn join_all(handles: Vec<thread::JoinHandle<()>>) {
    let mut first = None;
    for handle in handles {
        if let Err(payload) = handle.join() {
            first = first.or(common::payload_text(&*payload).map(str::to_owned));
        }
    }
    if let Some(report) = first {
        std::panic::panic_any(report);
    }
}

fn increment_without_lock(counter: &Tracked<u64>) {
    let seen = counter.get();
    counter.set(seen + 1);
}
/// The line of the read in `increment_without_lock`; the write is next.
const READ_LINE: u32 = line!() - 4;

#[test]
fn a_lost_update_is_reported_with_both_sites() {
    require_detection!();
    let report = expect_report(|| {
        // The second update starts after the first ended, told through a std
        // channel, which orders nothing for the detector: this run loses no
        // update, but nothing would stop the next one from interleaving. The
        // fixed schedule makes exactly one report: the second thread's read
        // against the first thread's write (with both threads racing, a
        // second report of two writes could be raised first).
        let counter = Arc::new(Tracked::named("counter", 0));
        let (done, first_done) = std::sync::mpsc::channel();
        let first = {
            let counter = counter.clone();
            thread::spawn(move || {
                increment_without_lock(&counter);
                done.send(()).unwrap();
            })
        };
        let second = {
            let counter = counter.clone();
            thread::spawn(move || {
                first_done.recv().unwrap();
                increment_without_lock(&counter);
            })
        };
        join_all(vec![first, second]);
    });
    assert!(report.starts_with("race condition:"), "{report}");
    assert!(report.contains("Tracked \"counter\""), "{report}");
    // Both accesses are named by their sites in increment_without_lock.
    assert!(
        report.contains(&format!("tests/race.rs:{READ_LINE}:")),
        "the read: {report}"
    );
    assert!(
        report.contains(&format!("tests/race.rs:{}:", READ_LINE + 1)),
        "the write: {report}"
    );
    assert!(
        report.contains("race::increment_without_lock"),
        "backtrace: {report}"
    );
}

#[test]
fn the_same_update_under_a_mutex_is_clean() {
    expect_clean(|| {
        let counter = Arc::new(Tracked::new(0));
        let lock = Arc::new(Mutex::new(()));
        let handles = (0..4)
            .map(|_| {
                let (counter, lock) = (counter.clone(), lock.clone());
                thread::spawn(move || {
                    for _ in 0..20 {
                        let _guard = lock.lock().unwrap();
                        increment_without_lock(&counter);
                    }
                })
            })
            .collect();
        join_all(handles);
        assert_eq!(counter.get(), 80);
    });
}

#[test]
fn writes_under_two_different_locks_are_reported() {
    require_detection!();
    let report = expect_report(|| {
        let data = Arc::new(Tracked::named("balance", 0));
        let locks = [
            Arc::new(Mutex::named("lock-a", ())),
            Arc::new(Mutex::named("lock-b", ())),
        ];
        let handles = locks
            .iter()
            .map(|lock| {
                let (data, lock) = (data.clone(), lock.clone());
                thread::spawn(move || {
                    let _guard = lock.lock().unwrap();
                    data.update(|v| *v += 1);
                })
            })
            .collect();
        join_all(handles);
    });
    assert!(
        report.contains("two writes that nothing orders"),
        "{report}"
    );
    assert!(
        report.contains("lock-a") && report.contains("lock-b"),
        "each access's locks: {report}"
    );
}

#[test]
fn a_write_before_spawn_then_a_read_in_the_child_is_clean() {
    expect_clean(|| {
        let config = Arc::new(Tracked::new(String::new()));
        config.update(|c| c.push_str("ready"));
        let child = {
            let config = config.clone();
            thread::spawn(move || config.with(|c| c.len()))
        };
        assert_eq!(child.join().unwrap(), 5);
    });
}

#[test]
fn a_child_write_then_a_read_after_join_is_clean() {
    expect_clean(|| {
        let result = Arc::new(Tracked::new(0));
        let child = {
            let result = result.clone();
            thread::spawn(move || result.set(42))
        };
        child.join().unwrap();
        assert_eq!(result.get(), 42);
        // Scoped threads: everything they did is ordered before `scope` returns.
        thread::scope(|s| {
            s.spawn(|| result.set(1));
        });
        result.set(result.get() + 1);
        assert_eq!(result.get(), 2);
    });
}

#[test]
fn a_read_in_the_parent_before_joining_the_writing_child_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let result = Arc::new(Tracked::named("result", 0));
        let child = {
            let result = result.clone();
            thread::spawn(move || result.set(42))
        };
        while !child.is_finished() {
            std::thread::yield_now();
        }
        // Finished, but not joined: nothing orders the child's write before this.
        let _ = result.get();
        let _ = child.join();
    });
    assert!(
        report.contains("a read and a write that nothing orders"),
        "{report}"
    );
}

#[test]
fn a_condvar_hand_off_is_clean() {
    expect_clean(|| {
        let shared = Arc::new((Mutex::new(false), Condvar::new(), Tracked::new(Vec::new())));
        let producer = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (ready, cv, data) = &*shared;
                data.update(|d| d.extend([1, 2, 3]));
                *ready.lock().unwrap() = true;
                cv.notify_one();
            })
        };
        let (ready, cv, data) = &*shared;
        drop(cv.wait_while(ready.lock().unwrap(), |r| !*r).unwrap());
        assert_eq!(data.with(|d| d.iter().sum::<i32>()), 6);
        producer.join().unwrap();
    });
}

/// A notify→wake hand-off through every wait form: the waiter holds the
/// mutex while it starts the notifier, which takes the mutex only to know
/// the waiter waits, then writes the data and notifies; so only the
/// notification orders the write before the waiter's read. `$wait` waits
/// on `$cv` with guard `$g` while `$pending()` (a std atomic, invisible to
/// the detector, to tell a spurious wake-up from the notification).
macro_rules! wake_ordering_test {
    ($name:ident, $mutex:ty, $condvar:ty, $lock:expr,
     |$cv:ident, $g:ident, $pending:ident| $wait:expr) => {
        #[test]
        fn $name() {
            expect_clean(|| {
                let shared = Arc::new((
                    <$mutex>::new(()),
                    <$condvar>::new(),
                    Tracked::new(0u64),
                    AtomicBool::new(false),
                ));
                let lock = $lock;
                #[allow(unused_mut)]
                let mut $g = lock(&shared.0);
                let notifier = {
                    let shared = shared.clone();
                    thread::spawn(move || {
                        let (mutex, condvar, data, notified) = &*shared;
                        drop(lock(mutex)); // the waiter is waiting now
                        data.set(7);
                        notified.store(true, Ordering::SeqCst);
                        condvar.notify_one();
                    })
                };
                let (_, $cv, data, notified) = &*shared;
                let $pending = || !notified.load(Ordering::SeqCst);
                let guard = $wait;
                drop(guard);
                assert_eq!(data.get(), 7);
                notifier.join().unwrap();
            });
        }
    };
}

const WAKE_LIMIT: Duration = Duration::from_secs(60);

fn std_lock(mutex: &Mutex<()>) -> lockgraph::MutexGuard<'_, ()> {
    mutex.lock().unwrap()
}

fn pl_lock(
    mutex: &lockgraph::parking_lot::Mutex<()>,
) -> lockgraph::parking_lot::MutexGuard<'_, ()> {
    mutex.lock()
}

wake_ordering_test!(
    std_wait_is_ordered_after_the_notification,
    Mutex<()>,
    Condvar,
    std_lock,
    |cv, g, pending| {
        while pending() {
            g = cv.wait(g).unwrap();
        }
        g
    }
);
wake_ordering_test!(
    std_wait_timeout_is_ordered_after_the_notification,
    Mutex<()>,
    Condvar,
    std_lock,
    |cv, g, pending| {
        while pending() {
            g = cv.wait_timeout(g, WAKE_LIMIT).unwrap().0;
        }
        g
    }
);
wake_ordering_test!(
    std_wait_timeout_while_is_ordered_after_the_notification,
    Mutex<()>,
    Condvar,
    std_lock,
    |cv, g, pending| cv
        .wait_timeout_while(g, WAKE_LIMIT, |_| pending())
        .unwrap()
        .0
);
wake_ordering_test!(
    parking_lot_wait_is_ordered_after_the_notification,
    lockgraph::parking_lot::Mutex<()>,
    lockgraph::parking_lot::Condvar,
    pl_lock,
    |cv, g, pending| {
        while pending() {
            cv.wait(&mut g);
        }
        g
    }
);
wake_ordering_test!(
    parking_lot_wait_for_is_ordered_after_the_notification,
    lockgraph::parking_lot::Mutex<()>,
    lockgraph::parking_lot::Condvar,
    pl_lock,
    |cv, g, pending| {
        while pending() {
            cv.wait_for(&mut g, WAKE_LIMIT);
        }
        g
    }
);
wake_ordering_test!(
    parking_lot_wait_until_is_ordered_after_the_notification,
    lockgraph::parking_lot::Mutex<()>,
    lockgraph::parking_lot::Condvar,
    pl_lock,
    |cv, g, pending| {
        while pending() {
            cv.wait_until(&mut g, Instant::now() + WAKE_LIMIT);
        }
        g
    }
);

/// A consumer that polls with `try_lock` takes the releaser's clock just as
/// a blocking `lock` does.
#[test]
fn a_hand_off_seen_through_try_lock_is_clean() {
    expect_clean(|| {
        let shared = Arc::new((Mutex::new(false), Tracked::new(0u64)));
        let producer = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (ready, data) = &*shared;
                let mut ready = ready.lock().unwrap();
                data.set(42);
                *ready = true;
            })
        };
        let (ready, data) = &*shared;
        loop {
            if let Ok(ready) = ready.try_lock()
                && *ready
            {
                break;
            }
            std::thread::yield_now();
        }
        assert_eq!(data.get(), 42);
        producer.join().unwrap();
    });
}

#[test]
fn producer_consumer_through_a_locked_queue_is_clean() {
    expect_clean(|| {
        let items: Arc<Vec<Tracked<u64>>> = Arc::new((0..32).map(|_| Tracked::new(0)).collect());
        let queue = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
        let producer = {
            let (items, queue) = (items.clone(), queue.clone());
            thread::spawn(move || {
                for (i, item) in items.iter().enumerate() {
                    item.set(i as u64 * 10); // written before it is queued
                    queue.0.lock().unwrap().push_back(i);
                    queue.1.notify_one();
                }
            })
        };
        let mut sum = 0;
        for _ in 0..items.len() {
            let mut q = queue
                .1
                .wait_while(queue.0.lock().unwrap(), |q| q.is_empty())
                .unwrap();
            let i = q.pop_front().unwrap();
            drop(q);
            sum += items[i].get();
        }
        producer.join().unwrap();
        assert_eq!(sum, (0..32).map(|i| i * 10).sum());
    });
}

#[test]
fn the_lockset_check_reports_data_no_single_lock_protects() {
    require_detection!();
    let report = expect_report(|| {
        // Each access is ordered (the threads run one after another), so
        // happens-before is satisfied; only the lockset check sees that
        // the two threads use different locks.
        let data = Arc::new(Tracked::named("shared-total", 0).lockset(true));
        let (a, b) = (
            Arc::new(Mutex::named("lock-a", ())),
            Arc::new(Mutex::named("lock-b", ())),
        );
        for lock in [&a, &b, &a] {
            let (data, lock) = (data.clone(), lock.clone());
            thread::spawn(move || {
                let _guard = lock.lock().unwrap();
                data.update(|v| *v += 1);
            })
            .join()
            .map_err(|p| std::panic::panic_any(common::payload_text(&*p).unwrap().to_owned()))
            .unwrap();
        }
    });
    assert!(
        report.starts_with("race condition: no lock protects every access"),
        "{report}"
    );
}

#[test]
fn the_lockset_check_is_clean_with_one_lock_and_after_initialisation() {
    expect_clean(|| {
        let data = Arc::new(Tracked::new(0).lockset(true));
        data.set(5); // initialisation by one thread, before sharing
        let lock = Arc::new(Mutex::new(()));
        for _ in 0..3 {
            let (data, lock) = (data.clone(), lock.clone());
            thread::spawn(move || {
                let _guard = lock.lock().unwrap();
                data.update(|v| *v += 1);
            })
            .join()
            .unwrap();
        }
        let _guard = lock.lock().unwrap();
        assert_eq!(data.get(), 8);
    });
}

/// A single-producer, single-consumer ring buffer over `UnsafeCell` slots,
/// annotated for the race detector. `publish` decides how the producer
/// hands a slot over: through a lockgraph mutex (correct and visible), or
/// through a relaxed atomic counter (the bug: nothing orders the slot's
/// write before the consumer's read).
struct Ring {
    slots: Vec<UnsafeCell<u64>>,
    written: AtomicUsize,
    published: Mutex<usize>,
    use_mutex: bool,
}

// SAFETY: slots are handed from producer to consumer through `written` or
// `published`; the racy variant is the test's deliberate bug, and each slot
// is still written once before it is read.
unsafe impl Sync for Ring {}

impl Ring {
    fn new(size: usize, use_mutex: bool) -> Ring {
        let ring = Ring {
            slots: (0..size).map(|_| UnsafeCell::new(0)).collect(),
            written: AtomicUsize::new(0),
            published: Mutex::new(0),
            use_mutex,
        };
        for slot in &ring.slots {
            race::annotate_free(slot.get().cast(), 8); // fresh memory
        }
        ring
    }

    fn push(&self, i: usize, value: u64) {
        let slot = self.slots[i].get();
        race::annotate_write(slot.cast(), 8);
        // SAFETY: only the producer writes slot `i`, before publishing it.
        unsafe { *slot = value };
        if self.use_mutex {
            *self.published.lock().unwrap() = i + 1;
        } else {
            self.written.store(i + 1, Ordering::Release);
        }
    }

    fn pop(&self, i: usize) -> Option<u64> {
        let available = if self.use_mutex {
            *self.published.lock().unwrap()
        } else {
            self.written.load(Ordering::Acquire)
        };
        if available <= i {
            return None;
        }
        let slot = self.slots[i].get();
        race::annotate_read(slot.cast(), 8);
        // SAFETY: slot `i` was written before it was published.
        Some(unsafe { *slot })
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        for slot in &self.slots {
            race::annotate_free(slot.get().cast(), 8);
        }
    }
}

fn run_ring(use_mutex: bool) -> u64 {
    let ring = Arc::new(Ring::new(16, use_mutex));
    let producer = {
        let ring = ring.clone();
        thread::spawn(move || {
            for i in 0..16 {
                ring.push(i, i as u64 + 1);
            }
        })
    };
    let mut sum = 0;
    for i in 0..16 {
        loop {
            if let Some(v) = ring.pop(i) {
                sum += v;
                break;
            }
            std::thread::yield_now();
        }
    }
    join_all(vec![producer]);
    sum
}

#[test]
fn an_annotated_ring_buffer_published_through_a_plain_atomic_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        run_ring(false);
    });
    assert!(report.contains("memory at 0x"), "{report}");
    assert!(
        report.contains("a read and a write that nothing orders"),
        "{report}"
    );
}

#[test]
fn the_ring_buffer_published_under_a_lockgraph_mutex_is_clean() {
    assert_eq!(expect_clean(|| run_ring(true)), (1..=16).sum());
}

#[test]
fn tracked_cells_work_like_cells() {
    let cell = Tracked::new(vec![1]);
    cell.write().push(2);
    assert_eq!(cell.read().len(), 2);
    assert_eq!(format!("{cell:?}"), "Tracked { data: [1, 2], .. }");
    let mut cell = cell;
    cell.get_mut().push(3);
    assert_eq!(cell.into_inner(), [1, 2, 3]);
    // Nested access on one thread is refused instead of deadlocking.
    let cell = Tracked::new(1);
    let guard = cell.read();
    let nested = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cell.get()));
    assert!(nested.is_err());
    drop(guard);
    assert_eq!(cell.get(), 1);
}
