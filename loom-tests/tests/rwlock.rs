//! RwLock: readers share, writers exclude, no write is lost.
#![cfg(loom)]

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;
use loom_tests::model;
use std::sync::Arc;

#[test]
fn readers_share_the_lock() {
    model(|| {
        let lock = Arc::new(lockgraph::RwLock::new(5));
        let outer = lock.read().unwrap();
        // If readers excluded each other, this thread would wait for `outer`
        // while we wait for it: loom would report the deadlock.
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || *lock.read().unwrap())
        };
        assert_eq!(reader.join().unwrap(), 5);
        drop(outer);
    });
}

#[test]
fn writers_exclude_and_no_write_is_lost() {
    model(|| {
        let lock = Arc::new(lockgraph::RwLock::new(()));
        let value = Arc::new(AtomicUsize::new(0));
        let writing = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (lock, value, writing) = (lock.clone(), value.clone(), writing.clone());
            thread::spawn(move || {
                let _w = lock.write().unwrap();
                writing.store(1, SeqCst);
                let v = value.load(SeqCst);
                value.store(v + 1, SeqCst);
                writing.store(0, SeqCst);
            })
        };
        let reader = {
            let (lock, writing) = (lock.clone(), writing.clone());
            thread::spawn(move || {
                let _r = lock.read().unwrap();
                assert_eq!(writing.load(SeqCst), 0, "a reader saw a writer inside");
            })
        };
        {
            let _w = lock.write().unwrap();
            let v = value.load(SeqCst);
            value.store(v + 1, SeqCst);
        }
        writer.join().unwrap();
        reader.join().unwrap();
        assert_eq!(value.load(SeqCst), 2);
    });
}

#[test]
fn upgradable_read_upgrades_without_losing_writes() {
    model(|| {
        let lock = Arc::new(lockgraph::parking_lot::RwLock::new(0));
        let other = {
            let lock = lock.clone();
            thread::spawn(move || *lock.write() += 1)
        };
        {
            let up = lock.upgradable_read();
            let seen = *up;
            let mut w = lockgraph::parking_lot::RwLockUpgradableReadGuard::upgrade(up);
            // Nobody wrote between our read and our write.
            assert_eq!(*w, seen);
            *w += 1;
        }
        other.join().unwrap();
        assert_eq!(*lock.read(), 2);
    });
}
