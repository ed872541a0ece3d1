//! The race detector's happens-before rule under every interleaving: an
//! unlocked read-then-write from two threads is always reported; the same
//! under a lockgraph mutex never is.
#![cfg(loom)]

use loom::thread;
use loom_tests::{catch, model};
use std::sync::Arc;

fn increment(counter: &lockgraph::race::Tracked<u32>) -> Option<String> {
    catch(|| {
        let seen = counter.get();
        counter.set(seen + 1);
    })
    .err()
}

#[test]
fn an_unlocked_read_then_write_is_always_reported() {
    model(|| {
        let counter = Arc::new(lockgraph::race::Tracked::new(0));
        let other = {
            let counter = counter.clone();
            thread::spawn(move || increment(&counter))
        };
        let mine = increment(&counter);
        let theirs = other.join().unwrap();
        let reports: Vec<String> = [mine, theirs].into_iter().flatten().collect();
        assert!(
            !reports.is_empty(),
            "a lost update must be reported in every interleaving"
        );
        assert!(
            reports.iter().all(|r| r.starts_with("race condition:")),
            "{reports:?}"
        );
    });
}

#[test]
fn the_same_under_a_mutex_is_never_reported() {
    model(|| {
        let counter = Arc::new(lockgraph::race::Tracked::new(0));
        let lock = Arc::new(lockgraph::Mutex::new(()));
        let other = {
            let (counter, lock) = (counter.clone(), lock.clone());
            thread::spawn(move || {
                let _guard = lock.lock().unwrap();
                increment(&counter)
            })
        };
        let mine = {
            let _guard = lock.lock().unwrap();
            increment(&counter)
        };
        assert_eq!((mine, other.join().unwrap()), (None, None));
        // loom's join is not lockgraph::thread's: order the read by the lock.
        let _guard = lock.lock().unwrap();
        assert_eq!(counter.get(), 2);
    });
}
