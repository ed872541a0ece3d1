//! The shim's hot path against lockgraph's parking_lot flavour and plain
//! parking_lot, in one process (release + `always`): single lock/unlock and
//! two nested locks, best of 7 runs of 5M iterations each.
use std::hint::black_box;
use std::time::Instant;

use parking_lot::lock_api::RawMutex as _;

/// parking_lot's raw mutex behind the shim's trait.
struct Raw(parking_lot::RawMutex);

unsafe impl shim::RawMutex for Raw {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Raw = Raw(parking_lot::RawMutex::INIT);
    type GuardMarker = shim::GuardNoSend;
    fn lock(&self) {
        self.0.lock()
    }
    fn try_lock(&self) -> bool {
        self.0.try_lock()
    }
    unsafe fn unlock(&self) {
        unsafe { self.0.unlock() }
    }
}

const N: u64 = 5_000_000;

fn best(mut f: impl FnMut() -> u64) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        black_box(f());
        best = best.min(start.elapsed().as_nanos() as f64 / N as f64);
    }
    best
}

fn main() {
    let pl = parking_lot::Mutex::new(0u64);
    let lg = lockgraph::parking_lot::Mutex::new(0u64);
    let sh = shim::Mutex::<Raw, u64>::new(0);
    let (pl2, lg2, sh2) = (
        parking_lot::Mutex::new(0u64),
        lockgraph::parking_lot::Mutex::new(0u64),
        shim::Mutex::<Raw, u64>::new(0),
    );
    for round in 0..2 {
        let single_pl = best(|| {
            for _ in 0..N {
                *pl.lock() += 1;
            }
            *pl.lock()
        });
        let single_lg = best(|| {
            for _ in 0..N {
                *lg.lock() += 1;
            }
            *lg.lock()
        });
        let single_sh = best(|| {
            for _ in 0..N {
                *sh.lock() += 1;
            }
            *sh.lock()
        });
        let nested_pl = best(|| {
            for _ in 0..N {
                let _a = pl.lock();
                *pl2.lock() += 1;
            }
            *pl2.lock()
        });
        let nested_lg = best(|| {
            for _ in 0..N {
                let _a = lg.lock();
                *lg2.lock() += 1;
            }
            *lg2.lock()
        });
        let nested_sh = best(|| {
            for _ in 0..N {
                let _a = sh.lock();
                *sh2.lock() += 1;
            }
            *sh2.lock()
        });
        println!(
            "round {round}: single pl {single_pl:.1} ns, lockgraph::parking_lot {single_lg:.1} ns ({:.2}x), shim {single_sh:.1} ns ({:.2}x); nested2 pl {nested_pl:.1}, lockgraph::parking_lot {nested_lg:.1} ({:.2}x), shim {nested_sh:.1} ({:.2}x)",
            single_lg / single_pl,
            single_sh / single_pl,
            nested_lg / nested_pl,
            nested_sh / nested_pl
        );
    }
}
