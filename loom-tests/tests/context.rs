//! The per-context bookkeeping of the tokio skin under every interleaving:
//! a task's held stack lives in a registry keyed by task id, is swapped into
//! whichever thread runs the task for one operation at a time, and can be
//! released from another context (a guard dropped elsewhere). Under loom no
//! tokio task runs, so the models name task ids through lockgraph's
//! `__loom_context` hooks.
#![cfg(loom)]

use lockgraph::__loom_context as context;
use loom::thread;
use loom_tests::model;

#[test]
fn a_task_that_moves_between_threads_keeps_every_entry() {
    // Task 7 takes lock 1 on one worker, then lock 2 on another, while the
    // first worker's own context takes lock 9: nothing lost, nothing mixed.
    model(|| {
        context::acquire_in_task(7, 1);
        let other = thread::spawn(|| {
            context::acquire_in_task(7, 2);
            context::held_by_this_thread()
        });
        context::acquire_in_task(8, 5);
        let other_thread_own = other.join().unwrap();
        assert!(other_thread_own.is_empty(), "{other_thread_own:?}");
        assert_eq!(context::held_by(7), [1, 2]);
        assert_eq!(context::held_by(8), [5]);
        assert!(context::held_by_this_thread().is_empty());
        context::release_in_task(7, 2);
        context::release_in_task(7, 1);
        context::release_in_task(8, 5);
        assert!(context::held_by(7).is_empty());
    });
}

#[test]
fn a_release_from_another_context_is_exact_whatever_the_order() {
    // Task 3 holds lock 1 and takes lock 2; another thread drops task 3's
    // guard of lock 1 meanwhile (a moved guard, an aborted task).
    model(|| {
        context::acquire_in_task(3, 1);
        let dropper = thread::spawn(|| context::release_from_elsewhere(3, 1));
        context::acquire_in_task(3, 2);
        assert!(dropper.join().unwrap(), "the entry was there to release");
        assert_eq!(context::held_by(3), [2]);
        context::release_in_task(3, 2);
        assert!(context::held_by(3).is_empty());
    });
}

#[test]
fn two_threads_entering_one_new_task_create_one_context() {
    model(|| {
        let other = thread::spawn(|| context::acquire_in_task(11, 1));
        context::acquire_in_task(11, 2);
        other.join().unwrap();
        let mut held = context::held_by(11);
        held.sort_unstable();
        assert_eq!(held, [1, 2]);
    });
}
