//! The per-context bookkeeping of the tokio skin under every interleaving:
//! a task's held stack lives in a registry keyed by task id and is used,
//! without a lock, by whichever thread runs the task's next operation (in
//! place on the hot path, moved into the thread's state otherwise); another
//! context releases one of its guards by posting to its inbox. As under
//! tokio, a task's operations never overlap: a model hands a task from one
//! thread to the next with `spawn`/`join`. loom checks every access to the
//! stack against that. Under loom no tokio task runs, so the models name
//! task ids through lockgraph's `__loom_context` hooks.
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
    // guard of lock 1 meanwhile (a moved guard, an aborted task): the
    // release reaches task 3's stack at its next operation, whichever
    // comes first.
    model(|| {
        context::acquire_in_task(3, 1);
        let dropper = thread::spawn(|| context::release_from_elsewhere(3, 1));
        context::acquire_in_task(3, 2);
        dropper.join().unwrap();
        assert_eq!(context::held_by(3), [2]);
        context::release_in_task(3, 2);
        assert!(context::held_by(3).is_empty());
    });
}

#[test]
fn a_posted_release_is_applied_before_the_task_acquires_again() {
    // Task 3's guard of lock 1 is dropped elsewhere while task 3 runs; its
    // next acquisition of lock 1 finds the stale entry gone, whichever
    // operation the post lands before.
    model(|| {
        context::acquire_in_task(3, 1);
        let dropper = thread::spawn(|| context::release_from_elsewhere(3, 1));
        context::acquire_in_task(3, 2);
        context::release_in_task(3, 2);
        dropper.join().unwrap();
        context::acquire_in_task(3, 1);
        assert_eq!(context::held_by(3), [1]);
    });
}

#[test]
fn two_threads_creating_tasks_in_one_shard_keep_both() {
    // Tasks 1 and 22 share a registry shard; each is created by its own
    // thread at the same time, and each keeps its entries.
    model(|| {
        let other = thread::spawn(|| {
            context::acquire_in_task(22, 1);
            context::acquire_in_task(22, 2);
        });
        context::acquire_in_task(1, 3);
        other.join().unwrap();
        assert_eq!(context::held_by(22), [1, 2]);
        assert_eq!(context::held_by(1), [3]);
    });
}
