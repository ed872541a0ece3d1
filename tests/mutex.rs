//! `lockgraph::Mutex` behaves as `std::sync::Mutex` (poisoning, Debug,
//! Display, statics, unsized data) and reports relocking.

mod common;

use std::fmt;
use std::sync::{Arc, TryLockError};
use std::thread;

use common::{expect_clean, expect_report};
use lockgraph::{Mutex, MutexGuard};

#[test]
fn lock_gives_exclusive_access_across_threads() {
    let counter = Arc::new(Mutex::new(0u32));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            thread::spawn(move || {
                for _ in 0..1000 {
                    *counter.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(*counter.lock().unwrap(), 4000);
}

#[test]
fn try_lock_fails_while_another_thread_holds_it() {
    let m = Arc::new(Mutex::new(()));
    let guard = m.lock().unwrap();
    let other = m.clone();
    let result = thread::spawn(move || matches!(other.try_lock(), Err(TryLockError::WouldBlock)))
        .join()
        .unwrap();
    assert!(result);
    drop(guard);
    assert!(m.try_lock().is_ok());
}

#[test]
fn a_panic_while_locked_poisons_and_clear_poison_clears() {
    common::quiet_reports();
    let m = Arc::new(Mutex::new(1));
    let other = m.clone();
    let _ = thread::spawn(move || {
        let _guard = other.lock().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(m.is_poisoned());
    let err = m.lock().unwrap_err();
    assert_eq!(**err.get_ref(), 1);
    drop(err);
    assert!(matches!(m.try_lock(), Err(TryLockError::Poisoned(_))));
    assert_eq!(format!("{m:?}"), "Mutex { data: 1, poisoned: true, .. }");
    m.clear_poison();
    assert!(!m.is_poisoned());
    assert_eq!(*m.lock().unwrap(), 1);
}

#[test]
fn poisoned_into_inner_and_get_mut_still_give_the_data() {
    let mut m = Mutex::new(vec![1]);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _guard = m.lock().unwrap();
        panic!("poison it");
    }));
    m.get_mut().unwrap_err().into_inner().push(2);
    assert_eq!(m.into_inner().unwrap_err().into_inner(), [1, 2]);
}

#[test]
fn a_guard_taken_while_panicking_does_not_poison() {
    struct LockOnDrop<'a>(&'a Mutex<i32>);
    impl Drop for LockOnDrop<'_> {
        fn drop(&mut self) {
            *self.0.lock().unwrap() += 1;
        }
    }
    let m = Mutex::new(0);
    let _ = std::panic::catch_unwind(|| {
        let _l = LockOnDrop(&m);
        panic!("unwinding");
    });
    assert!(!m.is_poisoned());
    assert_eq!(*m.lock().unwrap(), 1);
}

#[test]
fn debug_display_default_from() {
    let m = Mutex::new(7);
    assert_eq!(format!("{m:?}"), "Mutex { data: 7, poisoned: false, .. }");
    {
        let guard = m.lock().unwrap();
        assert_eq!(
            format!("{m:?}"),
            "Mutex { data: \"<locked>\", poisoned: false, .. }"
        );
        assert_eq!(format!("{guard:?} {guard}"), "7 7");
        let std_m = std::sync::Mutex::new(7);
        let std_guard = std_m.lock().unwrap();
        assert_eq!(format!("{m:?}"), format!("{std_m:?}"));
        assert_eq!(format!("{guard:?}"), format!("{std_guard:?}"));
    }
    let d: Mutex<String> = Mutex::default();
    assert_eq!(*d.lock().unwrap(), "");
    let f = Mutex::from(3u8);
    assert_eq!(f.into_inner().unwrap(), 3);
}

static GLOBAL: Mutex<Vec<u32>> = Mutex::new(Vec::new());

#[test]
fn const_new_works_in_a_static() {
    GLOBAL.lock().unwrap().push(1);
    assert!(!GLOBAL.lock().unwrap().is_empty());
}

#[test]
fn unsized_data() {
    let slice: &Mutex<[u8]> = &Mutex::new([1, 2, 3]);
    slice.lock().unwrap()[0] = 9;
    assert_eq!(&*slice.lock().unwrap(), &[9, 2, 3]);

    let boxed: Box<Mutex<dyn fmt::Debug + Send>> = Box::new(Mutex::new(5));
    assert_eq!(format!("{:?}", &*boxed.lock().unwrap()), "5");
}

#[test]
fn guard_deref_mut_and_drop_unlocks() {
    let m = Mutex::new(String::from("a"));
    {
        let mut g: MutexGuard<'_, String> = m.lock().unwrap();
        g.push('b');
    }
    assert_eq!(m.try_lock().unwrap().as_str(), "ab");
}

#[test]
fn relocking_a_held_mutex_is_a_self_deadlock_report() {
    require_detection!();
    let (tx, rx) = std::sync::mpsc::channel();
    let report = expect_report(move || {
        let (m, created) = (Mutex::new(0), common::here());
        let (_first, first) = (m.lock().unwrap(), common::here());
        let _second = (tx.send([created, first, common::here()]).unwrap(), m.lock());
    });
    assert!(
        report.starts_with("deadlock: relocking a Mutex already held by this thread"),
        "{report}"
    );
    for site in rx.recv().unwrap() {
        assert!(
            report.contains(&common::file_line(site)),
            "{site}: {report}"
        );
    }
}

#[test]
fn locking_again_after_the_guard_is_dropped_is_clean() {
    expect_clean(|| {
        let m = Mutex::new(0);
        {
            let _first = m.lock().unwrap();
        }
        let _second = m.lock().unwrap();
    });
}

#[test]
fn a_guard_kept_alive_by_a_match_scrutinee_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let queue = Mutex::new(vec![1, 2, 3]);
        match queue.lock().unwrap().pop() {
            // The guard from the scrutinee lives until the end of the match.
            Some(item) => queue.lock().unwrap().push(item * 2),
            None => queue.lock().unwrap().clear(),
        }
    });
    assert!(report.contains("relocking a Mutex"), "{report}");
    assert!(
        report.contains("scrutinee"),
        "the report explains the footgun: {report}"
    );
}

#[test]
fn the_same_code_with_the_value_taken_out_first_is_clean() {
    expect_clean(|| {
        let queue = Mutex::new(vec![1, 2, 3]);
        let popped = queue.lock().unwrap().pop();
        if popped.is_some() {
            queue.lock().unwrap().push(0);
        }
    });
}

#[test]
fn assert_held_and_assert_not_held() {
    let m = Mutex::new(());
    m.assert_not_held();
    let g = m.lock().unwrap();
    m.assert_held();
    drop(g);
    m.assert_not_held();
    if lockgraph::ENABLED {
        let result = std::panic::catch_unwind(|| m.assert_held());
        assert!(result.is_err());
    }
}
