//! lockgraph's stand-in for [`lock_api`](https://docs.rs/lock_api/0.4.14)
//! 0.4: the same types, traits, methods and features, with every lock
//! checked by lockgraph's deadlock detector.
//!
//! `cargo lockgraph test --deps` patches it over `lock_api` for the whole
//! dependency graph (`--config patch.crates-io.lock_api.path=...`; the
//! user's `Cargo.toml` and `Cargo.lock` stay as they were), so that
//! parking_lot's `Mutex`, `RwLock` and `ReentrantMutex`, dashmap's shards
//! and any other crate's `lock_api` lock enter the same lock-order graph as
//! the program's own lockgraph locks. The raw lock (`R`) still does the
//! locking; the wrappers here add lockgraph's record of each lock and tell
//! the detector before an acquisition blocks, after it succeeds and when
//! the guard goes, on whichever thread that happens.
//!
//! What each acquisition means to the detector:
//!
//! | call | access | reported |
//! |---|---|---|
//! | `lock`, `write` | exclusive | relock, cycle |
//! | `read` | read | relock, cycle; a second read of a lock this thread reads only where the raw lock queues new readers behind a waiting writer (see below) |
//! | `read_recursive` | recursive read | never as a relock of a read |
//! | `upgradable_read` | upgradable | relock, cycle |
//! | `ReentrantMutex::lock` | reentrant | cycle (re-entry is free) |
//! | `try_*` | as above | never; no edge leads to it |
//! | `try_*_for`, `try_*_until` | as above | never; its edges are added |
//!
//! **A second read of one lock.** A thread that reads a lock it already
//! reads deadlocks only if the raw lock makes new readers wait behind a
//! waiting writer. parking_lot's `RawRwLock` does (its documentation says
//! so), and there the second `read` is reported. A raw lock that lets
//! readers in while a writer waits (dashmap 5.3 and later) cannot deadlock
//! that way, and is not reported. The raw locks known to queue readers:
//! `parking_lot::RawRwLock` (`parking_lot::raw_rwlock::RawRwLock`).
//!
//! With detection compiled out (a build without `debug_assertions` and
//! without lockgraph's `always` feature) every wrapper is lock_api's:
//! the record is zero-sized and the calls are empty.
//!
//! Features: lock_api's, with the same names: `atomic_usize` (default:
//! `ReentrantMutex`), `arc_lock` (guards owning an `Arc` of their lock),
//! `owning_ref` (`StableAddress` for the guards), `serde` (`Serialize` and
//! `Deserialize` of the locks), `nightly` (nothing, as in lock_api 0.4.14).

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

use lockgraph::hooks::{Access, LockKind, Owner, Record};

mod mutex;
#[cfg(feature = "atomic_usize")]
mod remutex;
mod rwlock;

pub use crate::mutex::*;
#[cfg(feature = "atomic_usize")]
pub use crate::remutex::*;
pub use crate::rwlock::*;

/// Marker type which indicates that the Guard type for a lock is `Send`.
pub struct GuardSend(());

/// Marker type which indicates that the Guard type for a lock is not `Send`.
#[allow(dead_code)]
pub struct GuardNoSend(*mut ());

// SAFETY: a marker with no data; only its `!Send` matters.
unsafe impl Sync for GuardNoSend {}

/// Prints `<locked>` in the `Debug` output of a lock that is held.
struct LockedPlaceholder;

impl core::fmt::Debug for LockedPlaceholder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("<locked>")
    }
}

/// Releases the guard's lock through `unlock` (the detector first) while
/// `f` runs, then acquires it again through `relock` — also when `f`
/// unwinds — updating the guard's `owner`.
#[inline]
fn unlocked_with<U>(
    record: &Record,
    owner: &mut Owner,
    unlock: impl FnOnce(),
    mut relock: impl FnMut() -> Owner,
    f: impl FnOnce() -> U,
) -> U {
    record.unlock(*owner);
    unlock();
    let _relock = Relock(|| *owner = relock());
    f()
}

/// A bump: a release and a blocking re-acquisition (in mode `access`, of a
/// lock of `kind`) for the detector, around the raw lock's own bump.
#[inline]
#[track_caller]
fn bump(
    record: &Record,
    owner: &mut Owner,
    kind: LockKind,
    access: Access,
    raw_bump: impl FnOnce(),
) {
    record.unlock(*owner);
    *owner = record.lock(kind, access, || false, raw_bump);
}

/// Runs a closure when dropped: the re-acquisition after `unlocked`, which
/// must happen even if the closure panics.
struct Relock<F: FnMut()>(F);

impl<F: FnMut()> Drop for Relock<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}
