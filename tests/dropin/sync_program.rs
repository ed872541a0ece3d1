// A program written against the `std::sync` module as a whole.
// `tests/compile_sync.rs` compiles it twice: once after `use std::sync;`,
// once after `use lockgraph::sync;`. The `let _: fn(..) -> .. = ...;` lines
// pin the signatures of the one-time initialisation types and the barrier.

use std::collections::HashMap;
use std::thread;

static CONFIG: sync::OnceLock<String> = sync::OnceLock::new();
static CODES: sync::LazyLock<HashMap<&'static str, u16>> =
    sync::LazyLock::new(|| HashMap::from([("ok", 200), ("missing", 404)]));
static INIT: sync::Once = sync::Once::new();
static HITS: sync::atomic::AtomicUsize = sync::atomic::AtomicUsize::new(0);

pub fn signatures() {
    let _: fn() -> sync::OnceLock<u8> = sync::OnceLock::new;
    let _: for<'a> fn(&'a sync::OnceLock<u8>) -> Option<&'a u8> = sync::OnceLock::get;
    let _: for<'a> fn(&'a mut sync::OnceLock<u8>) -> Option<&'a mut u8> = sync::OnceLock::get_mut;
    let _: fn(&sync::OnceLock<u8>, u8) -> Result<(), u8> = sync::OnceLock::set;
    let _: for<'a> fn(&'a sync::OnceLock<u8>) -> &'a u8 = sync::OnceLock::wait;
    let _: fn(sync::OnceLock<u8>) -> Option<u8> = sync::OnceLock::into_inner;
    let _: fn(&mut sync::OnceLock<u8>) -> Option<u8> = sync::OnceLock::take;
    let _: fn(fn() -> u8) -> sync::LazyLock<u8> = sync::LazyLock::new;
    let _: for<'a> fn(&'a sync::LazyLock<u8>) -> &'a u8 = sync::LazyLock::force;
    let _: fn() -> sync::Once = sync::Once::new;
    let _: fn(&sync::Once) -> bool = sync::Once::is_completed;
    let _: fn(&sync::Once) = sync::Once::wait;
    let _: fn(usize) -> sync::Barrier = sync::Barrier::new;
    let _: fn(&sync::Barrier) -> sync::BarrierWaitResult = sync::Barrier::wait;
}

pub fn run() {
    signatures();
    assert_eq!(CONFIG.get_or_init(|| "on".to_owned()), "on");
    assert_eq!(CONFIG.set("off".to_owned()), Err("off".to_owned()));
    assert_eq!(CODES["missing"], 404);
    INIT.call_once(|| {
        HITS.fetch_add(1, sync::atomic::Ordering::Relaxed);
    });
    INIT.call_once_force(|state| assert!(!state.is_poisoned()));
    assert!(INIT.is_completed());

    let mut cell: sync::OnceLock<Vec<u8>> = sync::OnceLock::default();
    cell.get_or_init(|| vec![1]).len();
    cell.get_mut().unwrap().push(2);
    assert_eq!(cell.take(), Some(vec![1, 2]));
    assert_eq!(format!("{:?}", sync::OnceLock::from(3)), "OnceLock(3)");

    let barrier = sync::Arc::new(sync::Barrier::new(3));
    let total = sync::Arc::new(sync::Mutex::new(0));
    let (tx, rx) = sync::mpsc::channel();
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let (barrier, total, tx) = (barrier.clone(), total.clone(), tx.clone());
            thread::spawn(move || {
                *total.lock().unwrap() += i;
                let leader = barrier.wait().is_leader();
                tx.send(leader).unwrap();
                HITS.fetch_add(1, sync::atomic::Ordering::SeqCst);
            })
        })
        .collect();
    drop(tx);
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(rx.iter().filter(|&leader| leader).count(), 1);
    assert_eq!(*total.lock().unwrap(), 3);
    assert_eq!(HITS.load(sync::atomic::Ordering::SeqCst), 4);
    let weak: sync::Weak<sync::Barrier> = sync::Arc::downgrade(&barrier);
    assert!(weak.upgrade().is_some());
}
