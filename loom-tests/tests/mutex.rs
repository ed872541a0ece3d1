//! Mutex: mutual exclusion, try_lock, poisoning.
#![cfg(loom)]

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;
use loom_tests::{catch, model};
use std::sync::{Arc, TryLockError};

/// A read-modify-write split into a load and a store: two threads inside the
/// critical section at once lose an update, which loom finds.
fn increment(counter: &AtomicUsize) {
    let value = counter.load(SeqCst);
    counter.store(value + 1, SeqCst);
}

#[test]
fn two_threads_increment_exactly() {
    model(|| {
        let lock = Arc::new(lockgraph::Mutex::new(()));
        let counter = Arc::new(AtomicUsize::new(0));
        let handle = {
            let (lock, counter) = (lock.clone(), counter.clone());
            thread::spawn(move || {
                let _guard = lock.lock().unwrap();
                increment(&counter);
            })
        };
        {
            let _guard = lock.lock().unwrap();
            increment(&counter);
        }
        handle.join().unwrap();
        assert_eq!(counter.load(SeqCst), 2);
    });
}

#[test]
fn three_threads_increment_exactly() {
    model(|| {
        let lock = Arc::new(lockgraph::parking_lot::Mutex::new(()));
        let counter = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (lock, counter) = (lock.clone(), counter.clone());
                thread::spawn(move || {
                    let _guard = lock.lock();
                    increment(&counter);
                })
            })
            .collect();
        {
            let _guard = lock.lock();
            increment(&counter);
        }
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(counter.load(SeqCst), 3);
    });
}

#[test]
fn try_lock_never_blocks_and_fails_only_while_held() {
    model(|| {
        let lock = Arc::new(lockgraph::Mutex::new(()));
        let counter = Arc::new(AtomicUsize::new(0));
        let holder = {
            let (lock, counter) = (lock.clone(), counter.clone());
            thread::spawn(move || {
                let _guard = lock.lock().unwrap();
                increment(&counter);
            })
        };
        // Never blocks: if it waited for the holder while the holder waited
        // for us, loom would report a deadlock.
        let took = match lock.try_lock() {
            Ok(_guard) => {
                increment(&counter);
                true
            }
            Err(TryLockError::WouldBlock) => false,
            Err(TryLockError::Poisoned(_)) => unreachable!("nobody panicked"),
        };
        holder.join().unwrap();
        // Exclusion: each successful holder counted once.
        assert_eq!(counter.load(SeqCst), 1 + usize::from(took));
        // Free again: it must succeed now.
        assert!(lock.try_lock().is_ok());
    });
}

#[test]
fn poisoning_is_visible_to_the_next_locker() {
    model(|| {
        let lock = Arc::new(lockgraph::Mutex::new(0));
        let panicker = {
            let lock = lock.clone();
            thread::spawn(move || {
                let result = catch(|| {
                    let mut guard = lock.lock().unwrap();
                    *guard += 1;
                    panic!("{} while holding the lock", loom_tests::DELIBERATE);
                });
                assert!(result.is_err());
            })
        };
        let observed = lock.lock().map(|g| *g).map_err(|e| *e.into_inner());
        panicker.join().unwrap();
        match observed {
            // Locked before the panicker: clean.
            Ok(value) => assert_eq!(value, 0),
            // Locked after: poisoned, with the panicker's write visible.
            Err(value) => assert_eq!(value, 1),
        }
        assert!(lock.is_poisoned());
        assert!(lock.lock().is_err());
    });
}
