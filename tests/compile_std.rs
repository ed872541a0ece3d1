//! Drop-in proof: a program written against `std::sync` compiles and runs
//! unchanged against `lockgraph` with only the `use` line swapped; the lock
//! types have std's auto traits (guards are `!Send`).

// The drop-in programs pin exact signatures with long fn-pointer types.
#![allow(clippy::type_complexity)]

mod with_std {
    #[allow(unused_imports)]
    use std::sync::{
        Condvar, LockResult, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard,
        RwLockWriteGuard, TryLockError, TryLockResult, WaitTimeoutResult,
    };
    include!("dropin/std_program.rs");
}

mod with_lockgraph {
    #[allow(unused_imports)]
    use lockgraph::{
        Condvar, LockResult, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard,
        RwLockWriteGuard, TryLockError, TryLockResult, WaitTimeoutResult,
    };
    include!("dropin/std_program.rs");
}

#[test]
fn the_same_program_runs_with_std_and_with_lockgraph() {
    with_std::run();
    with_lockgraph::run();
}

#[test]
fn error_types_are_std_s_own() {
    fn same<T>(_: std::marker::PhantomData<T>, _: std::marker::PhantomData<T>) {}
    use std::marker::PhantomData as P;
    same(
        P::<lockgraph::PoisonError<u8>>,
        P::<std::sync::PoisonError<u8>>,
    );
    same(
        P::<lockgraph::TryLockError<u8>>,
        P::<std::sync::TryLockError<u8>>,
    );
    same(
        P::<lockgraph::LockResult<u8>>,
        P::<std::sync::LockResult<u8>>,
    );
    same(
        P::<lockgraph::WaitTimeoutResult>,
        P::<std::sync::WaitTimeoutResult>,
    );
}

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}
fn assert_unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}

/// `<T as NotSend<_>>::check()` is ambiguous, and fails to compile, exactly
/// when `T: Send`; each call below therefore proves a type is `!Send`.
trait NotSend<A> {
    fn check() {}
}
impl<T: ?Sized> NotSend<()> for T {}
impl<T: ?Sized + Send> NotSend<u8> for T {}

#[test]
fn auto_traits_match_std() {
    use lockgraph::*;
    assert_send::<Mutex<u8>>();
    assert_sync::<Mutex<u8>>();
    assert_send::<RwLock<u8>>();
    assert_sync::<RwLock<u8>>();
    assert_send::<ReentrantLock<u8>>();
    assert_sync::<ReentrantLock<u8>>();
    assert_send::<Condvar>();
    assert_sync::<Condvar>();
    assert_sync::<MutexGuard<'static, u8>>();
    assert_sync::<RwLockReadGuard<'static, u8>>();
    assert_sync::<RwLockWriteGuard<'static, u8>>();
    assert_sync::<ReentrantLockGuard<'static, u8>>();
    assert_unwind_safe::<Mutex<std::cell::Cell<u8>>>();
    assert_unwind_safe::<RwLock<std::cell::Cell<u8>>>();
    assert_unwind_safe::<Condvar>();
    // `Mutex<Cell<_>>` is Sync (only one thread reaches the Cell), as in std.
    assert_sync::<Mutex<std::cell::Cell<u8>>>();
    <MutexGuard<'static, u8> as NotSend<_>>::check();
    <RwLockReadGuard<'static, u8> as NotSend<_>>::check();
    <RwLockWriteGuard<'static, u8> as NotSend<_>>::check();
    <ReentrantLockGuard<'static, u8> as NotSend<_>>::check();
}

#[test]
fn reentrant_lock_has_the_unstable_std_signatures() {
    use lockgraph::{ReentrantLock, ReentrantLockGuard};
    let _: fn(u8) -> ReentrantLock<u8> = ReentrantLock::new;
    let _: for<'a> fn(&'a ReentrantLock<u8>) -> ReentrantLockGuard<'a, u8> = ReentrantLock::lock;
    let _: for<'a> fn(&'a ReentrantLock<u8>) -> Option<ReentrantLockGuard<'a, u8>> =
        ReentrantLock::try_lock;
    let _: fn(&mut ReentrantLock<u8>) -> &mut u8 = ReentrantLock::get_mut;
    let _: fn(ReentrantLock<u8>) -> u8 = ReentrantLock::into_inner;
}
