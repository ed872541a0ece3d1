//! The detector's entry points for lock types written outside this crate:
//! what lockgraph's `lock_api` 0.4 shim calls.
//!
//! `cargo lockgraph test --deps` patches `lock_api` for the whole
//! dependency graph with the shim (`shim/lock_api` in lockgraph's
//! repository), so every `lock_api` lock — parking_lot's `Mutex`,
//! `RwLock` and `ReentrantMutex`, dashmap's shards, any crate's own raw
//! lock behind `lock_api` — keeps a [`Record`] and reports through it.
//! Nothing here is meant for code that uses locks: use
//! [`crate::Mutex`] or [`crate::parking_lot`]. The module follows the
//! shim, not semver.
//!
//! Each acquisition reaches the detector twice or three times: before it
//! blocks ([`Record::lock`], where a relock or a cycle is reported instead
//! of hanging), or after a non-blocking success ([`Record::locked`]); and
//! at the release ([`Record::unlock`]), from whichever thread drops the
//! guard. With detection compiled out (no `debug_assertions`, no `always`
//! feature) a `Record` is zero-sized and every call is empty.

use crate::detect::{Meta, TypeName};
use crate::facade::{self as sync, maybe_const_fn};
pub use crate::report::{Access, LockKind};

/// The detector's record of one lock: its identity in the lock-order
/// graph (assigned at the first acquisition) and its creation site.
pub struct Record {
    meta: Meta,
}

/// The thread that acquired a guard, kept by the guard so that a release
/// on another thread (a `Send` guard, dashmap's `Ref`) reaches the stack
/// of the thread that holds the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner(u64);

impl Owner {
    /// No thread: the acquisition was not recorded (detection off or
    /// compiled out), so its release has nothing to remove.
    pub const NONE: Owner = Owner(0);
}

impl Record {
    maybe_const_fn! {
        /// A lock created at the caller's site (`#[track_caller]` all the
        /// way from the user's `Mutex::new`), protecting data of the type
        /// `data` names.
        #[track_caller]
        #[inline(always)]
        pub fn new(data: TypeName) -> Record {
            Record { meta: Meta::new(data) }
        }
    }

    /// A blocking acquisition in mode `access`: checked before `block`
    /// runs (a relock or a cycle is reported before the thread blocks), then
    /// `block` acquires. While a watchdog runs, `try_now` is tried first so
    /// that only a real wait is published. Returns the guard's owner.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub fn lock(
        &self,
        kind: LockKind,
        access: Access,
        try_now: impl FnOnce() -> bool,
        block: impl FnOnce(),
    ) -> Owner {
        if self.meta.acquire(kind, access) {
            self.meta.watched(access, try_now, block);
        } else {
            block();
        }
        owner()
    }

    /// A non-blocking (`try_`) or timed acquisition succeeded, or a guard
    /// was made for a lock the caller says it holds: the lock is held, no
    /// edge leads to it. Returns the guard's owner.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[track_caller]
    pub fn locked(&self, kind: LockKind, access: Access) -> Owner {
        self.meta.acquired(kind, access);
        owner()
    }

    /// Before a timed acquisition: its edges are added (it may block), but
    /// it is never reported, since its timeout ends the wait by itself.
    #[inline(always)]
    #[track_caller]
    pub fn before_timed(&self, kind: LockKind, access: Access) {
        self.meta.before_timed(kind, access);
    }

    /// The lock acquired by `owner` is released here (a guard dropped, a
    /// `force_unlock`).
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn unlock(&self, owner: Owner) {
        if owner == Owner::NONE || owner == owner_here() {
            self.meta.release();
        } else {
            self.meta.release_elsewhere(owner.0);
        }
    }

    /// The held lock changes mode (upgrade, downgrade) on the owner's
    /// thread, without blocking on anything this thread holds.
    #[inline]
    pub fn change_access(&self, access: Access) {
        self.meta.change_access(access);
    }

    /// Whether the current thread holds this lock; `None` when unknown
    /// (detection off, or the detector busy on this thread).
    pub fn held_by_current_thread(&self) -> Option<bool> {
        self.meta.held_by_current_thread()
    }
}

sync::local! {
    static OWNER: std::cell::Cell<u64> = std::cell::Cell::new(0);
}

/// This thread as a guard's owner (0 while its thread-locals are torn
/// down).
#[inline(always)]
fn owner_here() -> Owner {
    Owner(OWNER.try_with(std::cell::Cell::get).unwrap_or(0))
}

/// This thread as the owner of a guard it just acquired: at its first
/// acquisition, the thread gets ready to receive releases of its guards
/// from other threads.
#[inline(always)]
fn owner() -> Owner {
    let here = owner_here();
    if here != Owner::NONE || !crate::detect::ENABLED {
        return here;
    }
    first_owner()
}

#[cold]
#[inline(never)]
fn first_owner() -> Owner {
    if !Meta::open_inbox() {
        // Detection is off, or this thread's state is gone: nothing was
        // recorded that another thread would have to release.
        return Owner::NONE;
    }
    let id = sync::current_thread_id();
    let _ = OWNER.try_with(|cell| cell.set(id));
    Owner(id)
}
