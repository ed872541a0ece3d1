//! ReentrantLock: re-entry by the owner, exclusion of others, the count
//! returning to zero, and owner ids that a new thread cannot inherit.
#![cfg(loom)]

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;
use loom_tests::model;
use std::sync::Arc;

#[test]
fn owner_reenters_and_others_are_excluded() {
    model(|| {
        let lock = Arc::new(lockgraph::ReentrantLock::new(AtomicUsize::new(0)));
        let worker = |lock: Arc<lockgraph::ReentrantLock<AtomicUsize>>| {
            move || {
                let outer = lock.lock();
                let inner = lock.lock(); // re-entry: must not block
                let v = inner.load(SeqCst);
                inner.store(v + 1, SeqCst);
                drop(inner);
                drop(outer);
            }
        };
        let handle = thread::spawn(worker(lock.clone()));
        worker(lock.clone())();
        handle.join().unwrap();
        assert_eq!(lock.lock().load(SeqCst), 2);
    });
}

#[test]
fn the_count_returns_to_zero() {
    model(|| {
        let lock = Arc::new(lockgraph::ReentrantLock::new(()));
        let holder = {
            let lock = lock.clone();
            thread::spawn(move || {
                let a = lock.lock();
                let b = lock.lock();
                let c = lock
                    .try_lock()
                    .expect("the owner may re-enter with try_lock");
                drop((a, c, b));
            })
        };
        holder.join().unwrap();
        // All three levels released: another thread takes it at once.
        let other = {
            let lock = lock.clone();
            thread::spawn(move || lock.try_lock().is_some())
        };
        assert!(other.join().unwrap());
    });
}

#[test]
fn a_thread_that_exits_holding_the_lock_passes_ownership_to_nobody() {
    model(|| {
        let lock = Arc::new(lockgraph::ReentrantLock::new(()));
        let exiting = {
            let lock = lock.clone();
            thread::spawn(move || std::mem::forget(lock.lock()))
        };
        exiting.join().unwrap();
        // A new thread (which may reuse the old one's slot or address) must
        // not be mistaken for the owner.
        let newcomer = {
            let lock = lock.clone();
            thread::spawn(move || lock.try_lock().is_none())
        };
        assert!(newcomer.join().unwrap());
        assert!(lock.try_lock().is_none());
    });
}

#[test]
fn parking_lot_reentrant_mutex_excludes_other_threads() {
    model(|| {
        let lock = Arc::new(lockgraph::parking_lot::ReentrantMutex::new(
            AtomicUsize::new(0),
        ));
        let handle = {
            let lock = lock.clone();
            thread::spawn(move || {
                let g = lock.lock();
                let g2 = lock.lock();
                let v = g2.load(SeqCst);
                g.store(v + 1, SeqCst);
            })
        };
        {
            let g = lock.lock();
            let v = g.load(SeqCst);
            g.store(v + 1, SeqCst);
        }
        handle.join().unwrap();
        assert_eq!(lock.lock().load(SeqCst), 2);
    });
}
