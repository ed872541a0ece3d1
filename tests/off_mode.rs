//! With detection compiled out (a release build without the `always`
//! feature), every lock is its engine lock and nothing more: the size of
//! parking_lot's lock, plus std's poison flag in the std flavour.
//!
//! Run it with `cargo test --release -p lockgraph --test off_mode`; in a
//! build with detection on it only checks that detection is on.

use std::mem::size_of;

#[test]
fn std_flavour_has_the_engine_size_plus_a_poison_flag() {
    if lockgraph::ENABLED {
        return;
    }
    // parking_lot's Mutex<T> is one byte of lock state plus T; std's
    // flavour adds one byte of poison flag, which fits in the padding.
    assert_eq!(
        size_of::<lockgraph::Mutex<u64>>(),
        size_of::<parking_lot::Mutex<u64>>()
    );
    assert_eq!(
        size_of::<lockgraph::Mutex<u64>>(),
        size_of::<std::sync::Mutex<u64>>()
    );
    assert_eq!(
        size_of::<lockgraph::Mutex<()>>(),
        size_of::<parking_lot::Mutex<()>>() + 1
    );
    assert_eq!(
        size_of::<lockgraph::Mutex<[u8; 64]>>(),
        size_of::<parking_lot::Mutex<[u8; 64]>>() + 1
    );
    assert_eq!(
        size_of::<lockgraph::RwLock<u64>>(),
        size_of::<parking_lot::RwLock<(bool, u64)>>()
    );
    assert!(size_of::<lockgraph::RwLock<u64>>() <= size_of::<parking_lot::RwLock<u64>>() + 8);
    assert_eq!(
        size_of::<lockgraph::Condvar>(),
        size_of::<parking_lot::Condvar>()
    );
    assert!(
        size_of::<lockgraph::ReentrantLock<u64>>() <= size_of::<parking_lot::ReentrantMutex<u64>>()
    );
    // Guards are a reference plus std's "was panicking" flag, like std's.
    assert_eq!(
        size_of::<lockgraph::MutexGuard<'static, u64>>(),
        size_of::<std::sync::MutexGuard<'static, u64>>()
    );
}

#[test]
fn parking_lot_flavour_has_the_engine_size() {
    if lockgraph::ENABLED {
        return;
    }
    use lockgraph::parking_lot as pl;
    assert_eq!(
        size_of::<pl::Mutex<u64>>(),
        size_of::<parking_lot::Mutex<u64>>()
    );
    assert_eq!(
        size_of::<pl::Mutex<u8>>(),
        size_of::<parking_lot::Mutex<u8>>()
    );
    assert_eq!(
        size_of::<pl::FairMutex<u64>>(),
        size_of::<parking_lot::FairMutex<u64>>()
    );
    assert_eq!(
        size_of::<pl::RwLock<u64>>(),
        size_of::<parking_lot::RwLock<u64>>()
    );
    assert_eq!(size_of::<pl::Condvar>(), size_of::<parking_lot::Condvar>());
    assert!(size_of::<pl::ReentrantMutex<u64>>() <= size_of::<parking_lot::ReentrantMutex<u64>>());
    assert_eq!(
        size_of::<pl::MutexGuard<'static, u64>>(),
        size_of::<parking_lot::MutexGuard<'static, u64>>()
    );
}
