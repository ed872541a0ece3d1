// A program written against parking_lot 0.12. `tests/parking_lot.rs`
// compiles it twice: with `use parking_lot::...` and with
// `use lockgraph::parking_lot::...`. The `let _: fn(..)` lines pin
// signatures.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

static GLOBAL: Mutex<u32> = const_mutex(0);
static FAIR: FairMutex<u32> = const_fair_mutex(0);
static TABLE: RwLock<Vec<u8>> = const_rwlock(Vec::new());
static RE: ReentrantMutex<u8> = const_reentrant_mutex(0);
static PLAIN: Mutex<u8> = Mutex::new(0);

pub fn signatures() {
    let _: fn(u8) -> Mutex<u8> = Mutex::new;
    let _: for<'a> fn(&'a Mutex<u8>) -> MutexGuard<'a, u8> = Mutex::lock;
    let _: for<'a> fn(&'a Mutex<u8>) -> Option<MutexGuard<'a, u8>> = Mutex::try_lock;
    let _: for<'a> fn(&'a Mutex<u8>, Duration) -> Option<MutexGuard<'a, u8>> = Mutex::try_lock_for;
    let _: for<'a> fn(&'a Mutex<u8>, Instant) -> Option<MutexGuard<'a, u8>> = Mutex::try_lock_until;
    let _: fn(&Mutex<u8>) -> bool = Mutex::is_locked;
    let _: fn(&mut Mutex<u8>) -> &mut u8 = Mutex::get_mut;
    let _: fn(Mutex<u8>) -> u8 = Mutex::into_inner;
    let _: fn(&Mutex<u8>) -> *mut u8 = Mutex::data_ptr;
    let _: for<'a> fn(&'a RwLock<u8>) -> RwLockReadGuard<'a, u8> = RwLock::read;
    let _: for<'a> fn(&'a RwLock<u8>) -> RwLockReadGuard<'a, u8> = RwLock::read_recursive;
    let _: for<'a> fn(&'a RwLock<u8>) -> RwLockWriteGuard<'a, u8> = RwLock::write;
    let _: for<'a> fn(&'a RwLock<u8>) -> RwLockUpgradableReadGuard<'a, u8> = RwLock::upgradable_read;
    let _: for<'a> fn(&'a RwLock<u8>) -> Option<RwLockReadGuard<'a, u8>> = RwLock::try_read;
    let _: for<'a> fn(&'a RwLock<u8>, Duration) -> Option<RwLockWriteGuard<'a, u8>> = RwLock::try_write_for;
    let _: for<'a> fn(&'a RwLock<u8>, Instant) -> Option<RwLockUpgradableReadGuard<'a, u8>> =
        RwLock::try_upgradable_read_until;
    let _: for<'a> fn(&'a ReentrantMutex<u8>) -> ReentrantMutexGuard<'a, u8> = ReentrantMutex::lock;
    let _: for<'a> fn(&'a ReentrantMutex<u8>) -> Option<ReentrantMutexGuard<'a, u8>> = ReentrantMutex::try_lock;
    let _: fn(&ReentrantMutex<u8>) -> bool = ReentrantMutex::is_owned_by_current_thread;
    let _: fn() -> Condvar = Condvar::new;
    let _: fn(&Condvar) -> bool = Condvar::notify_one;
    let _: fn(&Condvar) -> usize = Condvar::notify_all;
    let _: for<'a, 'b> fn(&Condvar, &'b mut MutexGuard<'a, u8>) = Condvar::wait;
    let _: for<'a, 'b> fn(&Condvar, &'b mut MutexGuard<'a, u8>, Duration) -> WaitTimeoutResult = Condvar::wait_for;
    let _: for<'a, 'b> fn(&Condvar, &'b mut MutexGuard<'a, u8>, Instant) -> WaitTimeoutResult = Condvar::wait_until;
    let _: fn(WaitTimeoutResult) -> bool = WaitTimeoutResult::timed_out;
}


/// Guard methods are associated functions of `impl<'a> Guard<'a, ..>`, so
/// their lifetime is fixed per use: pin them for one `'a`.
pub fn guard_signatures<'a>() {
    let _: fn(MutexGuard<'a, (u8, u8)>, fn(&mut (u8, u8)) -> &mut u8) -> MappedMutexGuard<'a, u8> =
        MutexGuard::map;
    let _: for<'b> fn(&'b MutexGuard<'a, u8>) -> &'a Mutex<u8> = MutexGuard::mutex;
    let _: fn(MutexGuard<'a, u8>) = MutexGuard::unlock_fair;
    let _: for<'b> fn(&'b mut MutexGuard<'a, u8>) = MutexGuard::bump;
    let _: fn(RwLockUpgradableReadGuard<'a, u8>) -> RwLockWriteGuard<'a, u8> =
        RwLockUpgradableReadGuard::upgrade;
    let _: fn(
        RwLockUpgradableReadGuard<'a, u8>,
    ) -> Result<RwLockWriteGuard<'a, u8>, RwLockUpgradableReadGuard<'a, u8>> = RwLockUpgradableReadGuard::try_upgrade;
    let _: fn(RwLockUpgradableReadGuard<'a, u8>) -> RwLockReadGuard<'a, u8> =
        RwLockUpgradableReadGuard::downgrade;
    let _: fn(RwLockWriteGuard<'a, u8>) -> RwLockReadGuard<'a, u8> = RwLockWriteGuard::downgrade;
    let _: fn(RwLockWriteGuard<'a, u8>) -> RwLockUpgradableReadGuard<'a, u8> =
        RwLockWriteGuard::downgrade_to_upgradable;
}

pub struct Cache {
    pub entries: RwLock<Vec<(String, u32)>>,
    pub hits: Mutex<u64>,
}

impl Cache {
    pub fn get_or_insert(&self, key: &str, value: u32) -> u32 {
        let entries = self.entries.upgradable_read();
        if let Some((_, v)) = entries.iter().find(|(k, _)| k == key) {
            *self.hits.lock() += 1;
            return *v;
        }
        let mut entries = RwLockUpgradableReadGuard::upgrade(entries);
        entries.push((key.to_owned(), value));
        value
    }
}

pub fn run() {
    signatures();
    guard_signatures();
    *GLOBAL.lock() += 1;
    *FAIR.lock() += 1;
    TABLE.write().push(1);
    assert_eq!(*RE.lock(), 0);
    assert_eq!(*PLAIN.lock(), 0);

    let cache = Cache { entries: RwLock::new(Vec::new()), hits: Mutex::new(0) };
    assert_eq!(cache.get_or_insert("a", 1), 1);
    assert_eq!(cache.get_or_insert("a", 2), 1);
    assert_eq!(*cache.hits.lock(), 1);

    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    let t = thread::spawn(move || {
        *pair2.0.lock() = true;
        pair2.1.notify_all();
    });
    let mut ready = pair.0.lock();
    pair.1.wait_while(&mut ready, |r| !*r);
    let timeout = pair.1.wait_while_for(&mut ready, |_| true, Duration::from_millis(1));
    assert!(timeout.timed_out());
    drop(ready);
    t.join().unwrap();

    let m = Mutex::new((1u8, 2u8));
    let mut second = MutexGuard::map(m.lock(), |pair| &mut pair.1);
    *second += 1;
    drop(second);
    let attempt = MutexGuard::try_map(m.lock(), |_| None::<&mut u8>);
    assert!(attempt.is_err());
    drop(attempt);
    let mut g = m.lock();
    MutexGuard::unlocked(&mut g, || ());
    MutexGuard::bump(&mut g);
    assert_eq!(*g, (1, 3));
    assert_eq!(format!("{:?}", m.try_lock().is_none()), "true");
    drop(g);
    assert_eq!(format!("{m:?}"), "Mutex { data: (1, 3) }");

    let rw = RwLock::new(5);
    let r1 = rw.read();
    let r2 = rw.read_recursive();
    assert_eq!(*r1 + *r2, 10);
    drop((r1, r2));
    let w = rw.write();
    let r = RwLockWriteGuard::downgrade(w);
    assert_eq!(format!("{rw:?}"), "RwLock { data: 5 }");
    let mapped = RwLockReadGuard::map(r, |v| v);
    assert_eq!(*mapped, 5);
    drop(mapped);
    let mut up = rw.upgradable_read();
    up.with_upgraded(|v| *v += 1);
    assert_eq!(*RwLockUpgradableReadGuard::downgrade(up), 6);

    let re = ReentrantMutex::new(std::cell::Cell::new(1));
    let g1 = re.lock();
    let g2 = re.lock();
    g2.set(g1.get() + 1);
    assert!(re.is_owned_by_current_thread());
    drop((g1, g2));
    assert_eq!(format!("{re:?}"), "ReentrantMutex { data: Cell { value: 2 } }");
    assert_eq!(format!("{:?}", Condvar::new()), "Condvar { .. }");
}
