//! The shim against lock_api's contract and lockgraph's: each API family
//! behaves as lock_api's does, each deadlock is reported before it blocks,
//! and each clean twin stays clean. The raw locks are small spin locks
//! written here (parking_lot's and dashmap's use of the shim is tested
//! through `cargo lockgraph test --deps`, in cargo-lockgraph's tests).

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{expect_clean, expect_report};
use lock_api::{
    GetThreadId, GuardSend, MappedMutexGuard, MutexGuard, RawMutex, RawMutexFair, RawMutexTimed,
    RawRwLock, RawRwLockDowngrade, RawRwLockFair, RawRwLockRecursive, RawRwLockUpgrade,
    RawRwLockUpgradeDowngrade, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};

/// A spin mutex whose guards may move between threads.
struct Spin(AtomicBool);

// SAFETY: a compare-exchange from false to true is exclusive.
unsafe impl RawMutex for Spin {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Spin = Spin(AtomicBool::new(false));
    type GuardMarker = GuardSend;

    fn lock(&self) {
        while !self.try_lock() {
            std::hint::spin_loop();
            thread::yield_now();
        }
    }

    fn try_lock(&self) -> bool {
        self.0
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    unsafe fn unlock(&self) {
        self.0.store(false, Ordering::Release);
    }
}

// SAFETY: as `RawMutex`.
unsafe impl RawMutexFair for Spin {
    unsafe fn unlock_fair(&self) {
        // SAFETY: forwarded.
        unsafe { self.unlock() }
    }
}

// SAFETY: as `RawMutex`.
unsafe impl RawMutexTimed for Spin {
    type Duration = Duration;
    type Instant = Instant;

    fn try_lock_for(&self, timeout: Duration) -> bool {
        self.try_lock_until(Instant::now() + timeout)
    }

    fn try_lock_until(&self, deadline: Instant) -> bool {
        loop {
            if self.try_lock() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::yield_now();
        }
    }
}

/// A reader-preferring spin reader-writer lock: readers count up from 0,
/// a writer is `usize::MAX`, an upgradable reader sets the top bit beside
/// its read count.
struct SpinRw(AtomicUsize);

const WRITER: usize = usize::MAX;
const UPGRADABLE: usize = 1 << (usize::BITS - 1);

impl SpinRw {
    fn spin(&self, mut attempt: impl FnMut() -> bool) {
        while !attempt() {
            thread::yield_now();
        }
    }
}

// SAFETY: a writer only from 0 to WRITER; readers only while not WRITER.
unsafe impl RawRwLock for SpinRw {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: SpinRw = SpinRw(AtomicUsize::new(0));
    type GuardMarker = GuardSend;

    fn lock_shared(&self) {
        self.spin(|| self.try_lock_shared());
    }

    fn try_lock_shared(&self) -> bool {
        let state = self.0.load(Ordering::Relaxed);
        state != WRITER
            && (state & !UPGRADABLE) + 1 < UPGRADABLE
            && self
                .0
                .compare_exchange(state, state + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    unsafe fn unlock_shared(&self) {
        self.0.fetch_sub(1, Ordering::Release);
    }

    fn lock_exclusive(&self) {
        self.spin(|| self.try_lock_exclusive());
    }

    fn try_lock_exclusive(&self) -> bool {
        self.0
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    unsafe fn unlock_exclusive(&self) {
        self.0.store(0, Ordering::Release);
    }
}

// SAFETY: as `RawRwLock`.
unsafe impl RawRwLockRecursive for SpinRw {
    fn lock_shared_recursive(&self) {
        self.lock_shared();
    }

    fn try_lock_shared_recursive(&self) -> bool {
        self.try_lock_shared()
    }
}

// SAFETY: as `RawRwLock`.
unsafe impl RawRwLockFair for SpinRw {
    unsafe fn unlock_shared_fair(&self) {
        // SAFETY: forwarded.
        unsafe { self.unlock_shared() }
    }

    unsafe fn unlock_exclusive_fair(&self) {
        // SAFETY: forwarded.
        unsafe { self.unlock_exclusive() }
    }
}

// SAFETY: the writer becomes one reader.
unsafe impl RawRwLockDowngrade for SpinRw {
    unsafe fn downgrade(&self) {
        self.0.store(1, Ordering::Release);
    }
}

// SAFETY: one upgradable holder at a time (the top bit), upgraded only
// once it is the last reader.
unsafe impl RawRwLockUpgrade for SpinRw {
    fn lock_upgradable(&self) {
        self.spin(|| self.try_lock_upgradable());
    }

    fn try_lock_upgradable(&self) -> bool {
        let state = self.0.load(Ordering::Relaxed);
        state != WRITER
            && state & UPGRADABLE == 0
            && self
                .0
                .compare_exchange(
                    state,
                    state | UPGRADABLE,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .is_ok()
    }

    unsafe fn unlock_upgradable(&self) {
        self.0.fetch_and(!UPGRADABLE, Ordering::Release);
    }

    unsafe fn upgrade(&self) {
        // SAFETY: forwarded.
        self.spin(|| unsafe { self.try_upgrade() });
    }

    unsafe fn try_upgrade(&self) -> bool {
        self.0
            .compare_exchange(UPGRADABLE, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }
}

// SAFETY: the conversions keep one holder.
unsafe impl RawRwLockUpgradeDowngrade for SpinRw {
    unsafe fn downgrade_upgradable(&self) {
        // The upgradable bit becomes one read.
        self.0.fetch_add(1, Ordering::Relaxed);
        self.0.fetch_and(!UPGRADABLE, Ordering::Release);
    }

    unsafe fn downgrade_to_upgradable(&self) {
        self.0.store(UPGRADABLE, Ordering::Release);
    }
}

/// Thread ids from a thread-local's address.
struct ThreadId;

// SAFETY: a live thread-local's address is unique among live threads.
unsafe impl GetThreadId for ThreadId {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: ThreadId = ThreadId;

    fn nonzero_thread_id(&self) -> NonZeroUsize {
        thread_local!(static KEY: u8 = const { 0 });
        KEY.with(|key| NonZeroUsize::new(key as *const u8 as usize).expect("non-null"))
    }
}

type Mutex<T> = lock_api::Mutex<Spin, T>;
type RwLock<T> = lock_api::RwLock<SpinRw, T>;
type ReentrantMutex<T> = lock_api::ReentrantMutex<Spin, ThreadId, T>;

fn held() -> usize {
    lockgraph::held_locks().len()
}

#[test]
fn mutex_relock_is_reported_at_the_callers_line() {
    require_detection!();
    let report = expect_report(|| {
        let m = Mutex::new(1);
        let _g = m.lock();
        let _again = m.lock();
    });
    assert!(
        report.starts_with("deadlock: relocking a lock_api::Mutex"),
        "{report}"
    );
    assert!(report.contains("tests/shim.rs"), "{report}");
}

#[test]
fn mutex_locked_in_turn_is_clean() {
    expect_clean(|| {
        let m = Mutex::new(1);
        *m.lock() += 1;
        *m.lock() += 1;
        assert_eq!(m.into_inner(), 3);
        assert_eq!(held(), 0);
    });
}

#[test]
fn inversion_between_two_mutexes_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let a = Mutex::new(0);
        let b = Mutex::new(0);
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        let _b = b.lock();
        let _a = a.lock();
    });
    assert!(report.contains("lock order inversion"), "{report}");
}

#[test]
fn one_order_for_two_mutexes_is_clean() {
    expect_clean(|| {
        let a = Mutex::new(0);
        let b = Mutex::new(0);
        for _ in 0..2 {
            let _a = a.lock();
            let _b = b.lock();
        }
    });
}

#[test]
fn try_and_timed_acquisitions_are_never_reported() {
    expect_clean(|| {
        let m = Mutex::new(0);
        let _g = m.lock();
        assert!(m.try_lock().is_none());
        assert!(m.try_lock_for(Duration::from_millis(5)).is_none());
        assert!(m.try_lock_until(Instant::now()).is_none());
    });
}

#[test]
fn a_guard_dropped_on_another_thread_leaves_no_stale_entry() {
    require_detection!();
    expect_clean(|| {
        let a = Arc::new(Mutex::new(0));
        let b = Mutex::new(0);
        let guard = a.lock();
        assert_eq!(held(), 1);
        // Dropped on another thread: the release reaches this one's stack.
        thread::scope(|s| {
            s.spawn(move || drop(guard));
        });
        assert_eq!(held(), 0);
        // Had `a` stayed on the stack, this would be `a -> b` here and
        // `b -> a` below: an inversion.
        let _b = b.lock();
        let _a = a.lock();
    });
}

#[test]
fn mapped_guards_release_their_lock() {
    expect_clean(|| {
        let m = Mutex::new((1, 2));
        {
            let g = MutexGuard::map(m.lock(), |pair| &mut pair.1);
            let mut g = MappedMutexGuard::map(g, |x| x);
            *g += 1;
        }
        let Err(g) = MutexGuard::try_map(m.lock(), |_| None::<&mut u8>) else {
            panic!("try_map gave the guard back");
        };
        drop(g);
        assert_eq!(held(), 0);
        assert_eq!(*m.lock(), (1, 3));
    });
}

#[test]
fn unlocked_and_bump_release_and_reacquire() {
    expect_clean(|| {
        let a = Mutex::new(0);
        let mut g = a.lock();
        let during = MutexGuard::unlocked(&mut g, held);
        assert_eq!(during, 0);
        MutexGuard::bump(&mut g);
        assert_eq!(held(), usize::from(lockgraph::ENABLED));
        MutexGuard::unlock_fair(g);
        assert_eq!(held(), 0);
    });
}

#[test]
fn force_unlock_after_forget_releases() {
    expect_clean(|| {
        let m = Mutex::new(0);
        std::mem::forget(m.lock());
        // SAFETY: this thread holds the lock through the forgotten guard.
        unsafe { m.force_unlock() };
        assert_eq!(held(), 0);
        drop(m.lock());
    });
}

#[test]
fn debug_output_is_lock_apis() {
    let m = Mutex::new(7);
    assert_eq!(format!("{m:?}"), "Mutex { data: 7 }");
    let g = m.lock();
    assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    assert_eq!(format!("{g:?}"), "7");
    drop(g);
    let rw = RwLock::new("x");
    assert_eq!(format!("{rw:?}"), "RwLock { data: \"x\" }");
    let r = ReentrantMutex::new(1);
    assert_eq!(format!("{r:?}"), "ReentrantMutex { data: 1 }");
}

#[test]
fn const_constructors_work_in_statics() {
    static M: Mutex<u32> = Mutex::const_new(Spin::INIT, 5);
    static RW: RwLock<u32> = RwLock::const_new(SpinRw::INIT, 6);
    assert_eq!(*M.lock() + *RW.read(), 11);
}

#[test]
fn second_read_of_a_reader_preferring_lock_is_clean() {
    // Only raw locks known to queue readers behind writers report a
    // second read (parking_lot's); this one lets readers in.
    expect_clean(|| {
        let rw = RwLock::new(1);
        let first = rw.read();
        let second = rw.read();
        assert_eq!(*first + *second, 2);
    });
}

#[test]
fn read_then_write_of_one_rwlock_is_reported() {
    require_detection!();
    let report = expect_report(|| {
        let rw = RwLock::new(1);
        let _r = rw.read();
        let _w = rw.write();
    });
    assert!(report.contains("relocking a lock_api::RwLock"), "{report}");
}

#[test]
fn rwlock_modes_convert_and_release() {
    expect_clean(|| {
        let rw = RwLock::new(1);
        let up = rw.upgradable_read();
        let mut w = RwLockUpgradableReadGuard::upgrade(up);
        *w += 1;
        let up = RwLockWriteGuard::downgrade_to_upgradable(w);
        let r = RwLockUpgradableReadGuard::downgrade(up);
        assert_eq!(*r, 2);
        drop(r);
        let mut up = rw.upgradable_read();
        up.with_upgraded(|v| *v += 1);
        assert_eq!(up.try_with_upgraded(|v| *v), Some(3));
        drop(up);
        let w = rw.write();
        let r = RwLockWriteGuard::downgrade(w);
        let r = RwLockReadGuard::map(r, |v| v);
        assert_eq!(*r, 3);
        drop(r);
        let recursive = rw.read_recursive();
        let again = rw.try_read_recursive().expect("readers share");
        drop((recursive, again));
        assert_eq!(held(), 0);
        assert_eq!(rw.into_inner(), 3);
    });
}

#[test]
fn an_upgrade_under_a_held_lock_keeps_the_order() {
    require_detection!();
    let report = expect_report(|| {
        let rw = RwLock::new(0);
        let m = Mutex::new(0);
        {
            let _up = rw.upgradable_read();
            let _m = m.lock();
        }
        let _m = m.lock();
        let _up = rw.upgradable_read();
    });
    assert!(report.contains("lock order inversion"), "{report}");
}

#[test]
fn reentrant_mutex_reenters_cleanly_and_orders_its_outer_level() {
    expect_clean(|| {
        let r = ReentrantMutex::new(1);
        let outer = r.lock();
        let inner = r.lock();
        assert_eq!(*outer + *inner, 2);
        assert_eq!(held(), usize::from(lockgraph::ENABLED));
        drop(outer);
        drop(inner);
        assert_eq!(held(), 0);
    });
    require_detection!();
    let report = expect_report(|| {
        let r = ReentrantMutex::new(0);
        let m = Mutex::new(0);
        {
            let _r = r.lock();
            let _m = m.lock();
        }
        let _m = m.lock();
        let _r = r.lock();
    });
    assert!(report.contains("lock order inversion"), "{report}");
}

#[cfg(feature = "arc_lock")]
#[test]
fn arc_guards_release_wherever_they_drop() {
    expect_clean(|| {
        let m = Arc::new(Mutex::new(0));
        let g = m.lock_arc();
        thread::spawn(move || drop(g)).join().unwrap();
        assert_eq!(held(), 0);
        let rw = Arc::new(RwLock::new(0));
        let w = rw.write_arc();
        let r = lock_api::ArcRwLockWriteGuard::downgrade(w);
        let rw2 = lock_api::ArcRwLockReadGuard::into_arc(r);
        assert!(Arc::ptr_eq(&rw, &rw2));
        let up = rw.upgradable_read_arc();
        let w = lock_api::ArcRwLockUpgradableReadGuard::upgrade(up);
        drop(w);
        assert_eq!(held(), 0);
    });
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trips_the_data() {
    let m: Mutex<Vec<u8>> = serde_json::from_str("[1,2]").unwrap();
    assert_eq!(serde_json::to_string(&m).unwrap(), "[1,2]");
    let rw: RwLock<u8> = serde_json::from_str("3").unwrap();
    assert_eq!(serde_json::to_string(&rw).unwrap(), "3");
}
