//! The benchmark workloads, written once over a small trait per lock
//! family and shared by `benches/locks.rs` (criterion) and
//! `examples/bench_report.rs` (the quick ratio table).
//!
//! Families: `std` (std::sync), `parking_lot` (raw parking_lot, the
//! baseline every ratio is computed against), `tracing-mutex` (its
//! always-tracing `stdsync::tracing` types), `lockgraph` (std flavour) and
//! `lockgraph-pl` (parking_lot flavour).
#![allow(dead_code)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// A family of mutexes with one way to lock them.
pub trait MutexFamily: 'static {
    const NAME: &'static str;
    type Mutex: Send + Sync + 'static;
    type Guard<'a>;
    fn mutex(value: u64) -> Self::Mutex;
    fn lock(mutex: &Self::Mutex) -> Self::Guard<'_>;
}

/// A family with a reader-writer lock.
pub trait RwFamily: 'static {
    const NAME: &'static str;
    type RwLock: Send + Sync + 'static;
    type Read<'a>;
    fn rwlock(value: u64) -> Self::RwLock;
    fn read(lock: &Self::RwLock) -> Self::Read<'_>;
}

/// A family with a reentrant lock.
pub trait ReentrantFamily: 'static {
    const NAME: &'static str;
    type Lock: Send + Sync + 'static;
    type Guard<'a>;
    fn reentrant(value: u64) -> Self::Lock;
    fn enter(lock: &Self::Lock) -> Self::Guard<'_>;
}

pub struct Std;
pub struct ParkingLot;
pub struct TracingMutex;
pub struct Lockgraph;
pub struct LockgraphPl;

impl MutexFamily for Std {
    const NAME: &'static str = "std";
    type Mutex = std::sync::Mutex<u64>;
    type Guard<'a> = std::sync::MutexGuard<'a, u64>;
    fn mutex(value: u64) -> Self::Mutex {
        std::sync::Mutex::new(value)
    }
    #[inline]
    fn lock(mutex: &Self::Mutex) -> Self::Guard<'_> {
        mutex.lock().unwrap()
    }
}

impl MutexFamily for ParkingLot {
    const NAME: &'static str = "parking_lot";
    type Mutex = parking_lot::Mutex<u64>;
    type Guard<'a> = parking_lot::MutexGuard<'a, u64>;
    fn mutex(value: u64) -> Self::Mutex {
        parking_lot::Mutex::new(value)
    }
    #[inline]
    fn lock(mutex: &Self::Mutex) -> Self::Guard<'_> {
        mutex.lock()
    }
}

impl MutexFamily for TracingMutex {
    const NAME: &'static str = "tracing-mutex";
    type Mutex = tracing_mutex::stdsync::tracing::Mutex<u64>;
    type Guard<'a> = tracing_mutex::stdsync::tracing::MutexGuard<'a, u64>;
    fn mutex(value: u64) -> Self::Mutex {
        tracing_mutex::stdsync::tracing::Mutex::new(value)
    }
    #[inline]
    fn lock(mutex: &Self::Mutex) -> Self::Guard<'_> {
        mutex.lock().unwrap()
    }
}

impl MutexFamily for Lockgraph {
    const NAME: &'static str = "lockgraph";
    type Mutex = lockgraph::Mutex<u64>;
    type Guard<'a> = lockgraph::MutexGuard<'a, u64>;
    fn mutex(value: u64) -> Self::Mutex {
        lockgraph::Mutex::new(value)
    }
    #[inline]
    fn lock(mutex: &Self::Mutex) -> Self::Guard<'_> {
        mutex.lock().unwrap()
    }
}

impl MutexFamily for LockgraphPl {
    const NAME: &'static str = "lockgraph-pl";
    type Mutex = lockgraph::parking_lot::Mutex<u64>;
    type Guard<'a> = lockgraph::parking_lot::MutexGuard<'a, u64>;
    fn mutex(value: u64) -> Self::Mutex {
        lockgraph::parking_lot::Mutex::new(value)
    }
    #[inline]
    fn lock(mutex: &Self::Mutex) -> Self::Guard<'_> {
        mutex.lock()
    }
}

impl RwFamily for Std {
    const NAME: &'static str = "std";
    type RwLock = std::sync::RwLock<u64>;
    type Read<'a> = std::sync::RwLockReadGuard<'a, u64>;
    fn rwlock(value: u64) -> Self::RwLock {
        std::sync::RwLock::new(value)
    }
    #[inline]
    fn read(lock: &Self::RwLock) -> Self::Read<'_> {
        lock.read().unwrap()
    }
}

impl RwFamily for ParkingLot {
    const NAME: &'static str = "parking_lot";
    type RwLock = parking_lot::RwLock<u64>;
    type Read<'a> = parking_lot::RwLockReadGuard<'a, u64>;
    fn rwlock(value: u64) -> Self::RwLock {
        parking_lot::RwLock::new(value)
    }
    #[inline]
    fn read(lock: &Self::RwLock) -> Self::Read<'_> {
        lock.read()
    }
}

impl RwFamily for TracingMutex {
    const NAME: &'static str = "tracing-mutex";
    type RwLock = tracing_mutex::stdsync::tracing::RwLock<u64>;
    type Read<'a> = tracing_mutex::stdsync::tracing::RwLockReadGuard<'a, u64>;
    fn rwlock(value: u64) -> Self::RwLock {
        tracing_mutex::stdsync::tracing::RwLock::new(value)
    }
    #[inline]
    fn read(lock: &Self::RwLock) -> Self::Read<'_> {
        lock.read().unwrap()
    }
}

impl RwFamily for Lockgraph {
    const NAME: &'static str = "lockgraph";
    type RwLock = lockgraph::RwLock<u64>;
    type Read<'a> = lockgraph::RwLockReadGuard<'a, u64>;
    fn rwlock(value: u64) -> Self::RwLock {
        lockgraph::RwLock::new(value)
    }
    #[inline]
    fn read(lock: &Self::RwLock) -> Self::Read<'_> {
        lock.read().unwrap()
    }
}

impl RwFamily for LockgraphPl {
    const NAME: &'static str = "lockgraph-pl";
    type RwLock = lockgraph::parking_lot::RwLock<u64>;
    type Read<'a> = lockgraph::parking_lot::RwLockReadGuard<'a, u64>;
    fn rwlock(value: u64) -> Self::RwLock {
        lockgraph::parking_lot::RwLock::new(value)
    }
    #[inline]
    fn read(lock: &Self::RwLock) -> Self::Read<'_> {
        lock.read()
    }
}

/// std has no stable reentrant lock: parking_lot's is the baseline.
impl ReentrantFamily for ParkingLot {
    const NAME: &'static str = "parking_lot";
    type Lock = parking_lot::ReentrantMutex<u64>;
    type Guard<'a> = parking_lot::ReentrantMutexGuard<'a, u64>;
    fn reentrant(value: u64) -> Self::Lock {
        parking_lot::ReentrantMutex::new(value)
    }
    #[inline]
    fn enter(lock: &Self::Lock) -> Self::Guard<'_> {
        lock.lock()
    }
}

impl ReentrantFamily for Lockgraph {
    const NAME: &'static str = "lockgraph";
    type Lock = lockgraph::ReentrantLock<u64>;
    type Guard<'a> = lockgraph::ReentrantLockGuard<'a, u64>;
    fn reentrant(value: u64) -> Self::Lock {
        lockgraph::ReentrantLock::new(value)
    }
    #[inline]
    fn enter(lock: &Self::Lock) -> Self::Guard<'_> {
        lock.lock()
    }
}

impl ReentrantFamily for LockgraphPl {
    const NAME: &'static str = "lockgraph-pl";
    type Lock = lockgraph::parking_lot::ReentrantMutex<u64>;
    type Guard<'a> = lockgraph::parking_lot::ReentrantMutexGuard<'a, u64>;
    fn reentrant(value: u64) -> Self::Lock {
        lockgraph::parking_lot::ReentrantMutex::new(value)
    }
    #[inline]
    fn enter(lock: &Self::Lock) -> Self::Guard<'_> {
        lock.lock()
    }
}

/// `single`: lock and unlock one uncontended mutex, nothing else held.
#[inline(never)]
pub fn single<F: MutexFamily>(m: &F::Mutex) {
    black_box(F::lock(m));
}

/// `nested2`: lock `a`, then `b` while holding `a` (the edge is known after
/// the first round).
#[inline(never)]
pub fn nested2<F: MutexFamily>(a: &F::Mutex, b: &F::Mutex) {
    let ga = F::lock(a);
    let gb = F::lock(b);
    black_box((&ga, &gb));
}

/// `chain8`: eight locks nested in a fixed order.
#[inline(never)]
pub fn chain8<F: MutexFamily>(locks: &[F::Mutex; 8]) {
    let g0 = F::lock(&locks[0]);
    let g1 = F::lock(&locks[1]);
    let g2 = F::lock(&locks[2]);
    let g3 = F::lock(&locks[3]);
    let g4 = F::lock(&locks[4]);
    let g5 = F::lock(&locks[5]);
    let g6 = F::lock(&locks[6]);
    let g7 = F::lock(&locks[7]);
    black_box((&g0, &g1, &g2, &g3, &g4, &g5, &g6, &g7));
}

/// `reentrant`: a reentrant lock entered four deep.
#[inline(never)]
pub fn reentrant<F: ReentrantFamily>(lock: &F::Lock) {
    let g1 = F::enter(lock);
    let g2 = F::enter(lock);
    let g3 = F::enter(lock);
    let g4 = F::enter(lock);
    black_box((&g1, &g2, &g3, &g4));
}

/// `rwlock_read`: uncontended read lock and unlock.
#[inline(never)]
pub fn rwlock_read<F: RwFamily>(lock: &F::RwLock) {
    black_box(F::read(lock));
}

/// `create_drop`: create a lock, take it once while holding a long-lived
/// lock (a new node and a new edge), drop it.
#[inline(never)]
pub fn create_drop<F: MutexFamily>(outer: &F::Mutex) {
    let held = F::lock(outer);
    let fresh = F::mutex(0);
    let guard = F::lock(&fresh);
    black_box((&held, &guard));
    drop(guard);
    drop(fresh);
}

/// `scale`: `threads` threads each run `nested2` `iters` times on their own
/// pair; returns the wall time. Threads start together behind a barrier.
pub fn scale<F: MutexFamily>(threads: usize, iters: u64) -> Duration {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let (a, b) = (F::mutex(0), F::mutex(0));
                nested2::<F>(&a, &b); // learn the edge before timing
                barrier.wait();
                for _ in 0..iters {
                    nested2::<F>(&a, &b);
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for handle in handles {
        handle.join().unwrap();
    }
    start.elapsed()
}

/// How many new edges to time on one big graph before building a fresh
/// one, so the graph stays near its 20,000 edges.
pub const NEW_EDGES_PER_GRAPH: u64 = 2_000;

/// Times `iters` new edges on big graphs of 2,000 locks and 20,000 edges,
/// building a fresh graph (untimed) every `NEW_EDGES_PER_GRAPH` edges.
pub fn time_new_edges<F: MutexFamily>(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let mut graph = BigGraph::<F>::new(2_000, 20_000);
        let batch = left.min(NEW_EDGES_PER_GRAPH);
        total += graph.time_new_edges(batch);
        left -= batch;
    }
    total
}

/// The big graph for `new_edge_big_graph`: `locks` locks with `edges`
/// distinct edges, all consistent with one hidden order (so no cycle), built
/// by taking each pair in that order once.
pub struct BigGraph<F: MutexFamily> {
    pub locks: Vec<F::Mutex>,
    /// `rank[i]` is lock `i`'s place in the hidden order.
    pub rank: Vec<usize>,
    rng: u64,
}

impl<F: MutexFamily> BigGraph<F> {
    pub fn new(locks: usize, edges: usize) -> Self {
        let mut graph = BigGraph {
            locks: (0..locks as u64).map(F::mutex).collect(),
            rank: (0..locks).collect(),
            rng: 0x2545_F491_4F6C_DD1D,
        };
        // Shuffle the hidden order so it differs from creation order.
        for i in (1..locks).rev() {
            let j = graph.next() % (i + 1);
            graph.rank.swap(i, j);
        }
        for _ in 0..edges {
            let (from, to) = graph.ordered_pair();
            let _f = F::lock(&graph.locks[from]);
            let _t = F::lock(&graph.locks[to]);
        }
        graph
    }

    fn next(&mut self) -> usize {
        // xorshift64*: deterministic, dependency-free.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize
    }

    /// A random pair `(from, to)` with `from` before `to` in the hidden
    /// order: taking it never closes a cycle.
    pub fn ordered_pair(&mut self) -> (usize, usize) {
        loop {
            let (a, b) = (
                self.next() % self.locks.len(),
                self.next() % self.locks.len(),
            );
            if a != b {
                return if self.rank[a] < self.rank[b] {
                    (a, b)
                } else {
                    (b, a)
                };
            }
        }
    }

    /// Times `count` new consistent edges (most pairs are new: the graph has
    /// 20,000 of about 2,000,000 possible), growing the graph by at most
    /// that many edges.
    pub fn time_new_edges(&mut self, count: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..count {
            self.new_edge();
        }
        start.elapsed()
    }

    /// Adds one (most likely new) consistent edge.
    pub fn new_edge(&mut self) {
        let (from, to) = self.ordered_pair();
        let _f = F::lock(&self.locks[from]);
        let _t = F::lock(&self.locks[to]);
    }

    /// A pair `(to, from)` with an existing path `from -> ... -> to`, so
    /// taking `to` then `from` closes a cycle.
    pub fn cycle_pair(&self) -> (usize, usize) {
        let first = self.rank.iter().position(|&r| r == 0).unwrap();
        let last = self
            .rank
            .iter()
            .position(|&r| r == self.rank.len() - 1)
            .unwrap();
        // Make sure a path first -> last exists.
        let _f = F::lock(&self.locks[first]);
        let _l = F::lock(&self.locks[last]);
        (last, first)
    }
}

/// The async workloads (feature `tokio`): lockgraph's tokio `Mutex` against
/// tokio's own, each iteration inside a spawned task (a task context, as
/// async code runs).
#[cfg(feature = "tokio")]
pub mod tasks {
    use std::future::Future;
    use std::hint::black_box;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// A tokio-flavoured mutex family.
    pub trait AsyncFamily: 'static {
        const NAME: &'static str;
        type Mutex: Send + Sync + 'static;
        fn mutex(value: u64) -> Self::Mutex;
        /// Lock and unlock `m` once.
        fn single(m: &Self::Mutex) -> impl Future<Output = ()> + Send + '_;
        /// Lock `a`, then `b` while holding `a`.
        fn nested2<'a>(
            a: &'a Self::Mutex,
            b: &'a Self::Mutex,
        ) -> impl Future<Output = ()> + Send + 'a;
    }

    pub struct Tokio;
    pub struct LockgraphTokio;

    macro_rules! async_family {
        ($family:ident, $name:literal, $mutex:path) => {
            impl AsyncFamily for $family {
                const NAME: &'static str = $name;
                type Mutex = $mutex;
                fn mutex(value: u64) -> Self::Mutex {
                    <$mutex>::new(value)
                }
                fn single(m: &Self::Mutex) -> impl Future<Output = ()> + Send + '_ {
                    async move {
                        black_box(&*m.lock().await);
                    }
                }
                fn nested2<'a>(
                    a: &'a Self::Mutex,
                    b: &'a Self::Mutex,
                ) -> impl Future<Output = ()> + Send + 'a {
                    async move {
                        let ga = a.lock().await;
                        let gb = b.lock().await;
                        black_box((&*ga, &*gb));
                    }
                }
            }
        };
    }
    async_family!(Tokio, "tokio", tokio::sync::Mutex<u64>);
    async_family!(
        LockgraphTokio,
        "lockgraph",
        lockgraph::tokio::sync::Mutex<u64>
    );

    /// A current-thread runtime for the uncontended workloads.
    pub fn current_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    /// The 2-worker runtime of the contended workload.
    pub fn two_workers() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    }

    /// `iters` rounds of `single` in one spawned task on `rt`.
    pub fn single<F: AsyncFamily>(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        let m = F::mutex(0);
        rt.block_on(async move {
            tokio::spawn(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    F::single(&m).await;
                }
                start.elapsed()
            })
            .await
            .unwrap()
        })
    }

    /// `iters` rounds of `nested2` in one spawned task on `rt`.
    pub fn nested2<F: AsyncFamily>(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        let (a, b) = (F::mutex(0), F::mutex(1));
        rt.block_on(async move {
            tokio::spawn(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    F::nested2(&a, &b).await;
                }
                start.elapsed()
            })
            .await
            .unwrap()
        })
    }

    /// `contended`: 4 tasks on `rt` (2 workers) lock and unlock one mutex,
    /// each yielding every 16 acquisitions; `iters` acquisitions in all.
    pub fn contended<F: AsyncFamily>(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        const TASKS: u64 = 4;
        let m = Arc::new(F::mutex(0));
        let per_task = iters.div_ceil(TASKS);
        rt.block_on(async move {
            let start = Instant::now();
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let m = m.clone();
                    tokio::spawn(async move {
                        for i in 0..per_task {
                            F::single(&m).await;
                            if i % 16 == 0 {
                                tokio::task::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            // Scaled to `iters` when the tasks' shares round up.
            start
                .elapsed()
                .mul_f64(iters as f64 / (per_task * TASKS) as f64)
        })
    }
}
