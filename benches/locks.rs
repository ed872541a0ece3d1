//! Criterion benches: every workload is one group whose members are std,
//! raw parking_lot, tracing-mutex and both lockgraph flavours, measured side
//! by side in the same run.
//!
//! ```text
//! cargo bench --features always          # detection on, optimised
//! cargo bench --features always,tokio -- tokio   # the async group
//! cargo bench --bench locks -- off       # detection compiled out: the `off` group
//! ```
//!
//! `examples/bench_report.rs` runs the same workloads (`workloads/mod.rs`)
//! briefly and prints the ratio table the README shows.

mod workloads;

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use workloads::*;

fn mutex_member<F: MutexFamily>(group: &mut BenchmarkGroup<'_, WallTime>, workload: &str) {
    match workload {
        "single" => {
            let m = F::mutex(0);
            group.bench_function(F::NAME, |b| b.iter(|| single::<F>(&m)));
        }
        "nested2" => {
            let (a, b) = (F::mutex(0), F::mutex(1));
            group.bench_function(F::NAME, |bench| bench.iter(|| nested2::<F>(&a, &b)));
        }
        "chain8" => {
            let locks: [F::Mutex; 8] = std::array::from_fn(|i| F::mutex(i as u64));
            group.bench_function(F::NAME, |b| b.iter(|| chain8::<F>(&locks)));
        }
        "create_drop" => {
            let outer = F::mutex(0);
            group.bench_function(F::NAME, |b| b.iter(|| create_drop::<F>(&outer)));
        }
        "new_edge_big_graph" => {
            let mut graph = BigGraph::<F>::new(2_000, 20_000);
            group.bench_function(format!("{}/new_edge", F::NAME), |b| {
                b.iter(|| graph.new_edge())
            });
        }
        _ => unreachable!("unknown workload {workload}"),
    }
}

fn mutex_group(c: &mut Criterion, workload: &str) {
    let mut group = c.benchmark_group(workload);
    mutex_member::<Std>(&mut group, workload);
    mutex_member::<ParkingLot>(&mut group, workload);
    mutex_member::<TracingMutex>(&mut group, workload);
    mutex_member::<Lockgraph>(&mut group, workload);
    mutex_member::<LockgraphPl>(&mut group, workload);
    if workload == "new_edge_big_graph" && lockgraph::ENABLED {
        cycle_member::<Lockgraph>(&mut group);
        cycle_member::<LockgraphPl>(&mut group);
    }
    group.finish();
}

/// Detecting a cycle-closing edge, reported to a callback that does
/// nothing: the cost of finding it, not of panicking.
fn cycle_member<F: MutexFamily>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let previous = lockgraph::set_policy(lockgraph::Policy::callback(|report| {
        black_box(report);
    }));
    let graph = BigGraph::<F>::new(2_000, 20_000);
    let (to, from) = graph.cycle_pair();
    group.bench_function(format!("{}/cycle_detected", F::NAME), |b| {
        b.iter(|| {
            let _t = F::lock(&graph.locks[to]);
            let _f = F::lock(&graph.locks[from]);
        })
    });
    lockgraph::set_policy(previous);
}

fn bench_mutex_workloads(c: &mut Criterion) {
    for workload in [
        "single",
        "nested2",
        "chain8",
        "create_drop",
        "new_edge_big_graph",
    ] {
        mutex_group(c, workload);
    }
}

fn bench_reentrant(c: &mut Criterion) {
    fn member<F: ReentrantFamily>(group: &mut BenchmarkGroup<'_, WallTime>) {
        let lock = F::reentrant(0);
        group.bench_function(F::NAME, |b| b.iter(|| reentrant::<F>(&lock)));
    }
    // std has no stable reentrant lock, and tracing-mutex has none.
    let mut group = c.benchmark_group("reentrant");
    member::<ParkingLot>(&mut group);
    member::<Lockgraph>(&mut group);
    member::<LockgraphPl>(&mut group);
    group.finish();
}

fn bench_rwlock_read(c: &mut Criterion) {
    fn member<F: RwFamily>(group: &mut BenchmarkGroup<'_, WallTime>) {
        let lock = F::rwlock(0);
        group.bench_function(F::NAME, |b| b.iter(|| rwlock_read::<F>(&lock)));
    }
    let mut group = c.benchmark_group("rwlock_read");
    member::<Std>(&mut group);
    member::<ParkingLot>(&mut group);
    member::<TracingMutex>(&mut group);
    member::<Lockgraph>(&mut group);
    member::<LockgraphPl>(&mut group);
    group.finish();
}

/// `scale`: one iteration is one `nested2` in each of `threads` threads, on
/// their own pairs; throughput in elements (thread-operations) per second
/// shows whether two threads get twice the work of one.
fn bench_scale(c: &mut Criterion) {
    fn member<F: MutexFamily>(group: &mut BenchmarkGroup<'_, WallTime>) {
        for threads in [1, 2] {
            group.throughput(Throughput::Elements(threads as u64));
            group.bench_function(format!("{}/threads={threads}", F::NAME), |b| {
                b.iter_custom(|iters| scale::<F>(threads, iters))
            });
        }
    }
    let mut group = c.benchmark_group("scale");
    member::<Std>(&mut group);
    member::<ParkingLot>(&mut group);
    member::<TracingMutex>(&mut group);
    member::<Lockgraph>(&mut group);
    member::<LockgraphPl>(&mut group);
    group.finish();
}

/// `off`: with detection compiled out (no `always`, release), lockgraph is
/// its engine lock; compare it with raw parking_lot on the same workloads.
fn bench_off(c: &mut Criterion) {
    if lockgraph::ENABLED {
        eprintln!("off: skipped (detection is on in this build; run without --features always)");
        return;
    }
    let mut group = c.benchmark_group("off");
    let pl = ParkingLot::mutex(0);
    let lg = Lockgraph::mutex(0);
    let lp = LockgraphPl::mutex(0);
    group.bench_function("parking_lot/single", |b| {
        b.iter(|| single::<ParkingLot>(&pl))
    });
    group.bench_function("lockgraph/single", |b| b.iter(|| single::<Lockgraph>(&lg)));
    group.bench_function("lockgraph-pl/single", |b| {
        b.iter(|| single::<LockgraphPl>(&lp))
    });
    let (pa, pb) = (ParkingLot::mutex(0), ParkingLot::mutex(0));
    let (la, lb) = (Lockgraph::mutex(0), Lockgraph::mutex(0));
    group.bench_function("parking_lot/nested2", |b| {
        b.iter(|| nested2::<ParkingLot>(&pa, &pb))
    });
    group.bench_function("lockgraph/nested2", |b| {
        b.iter(|| nested2::<Lockgraph>(&la, &lb))
    });
    group.bench_function("parking_lot/create_drop", |b| {
        b.iter(|| create_drop::<ParkingLot>(&pa))
    });
    group.bench_function("lockgraph/create_drop", |b| {
        b.iter(|| create_drop::<Lockgraph>(&la))
    });
    group.finish();
}

/// `tokio` (feature `tokio`): lockgraph's tokio `Mutex` against tokio's, in
/// a spawned task — `single`, `nested2` — and `contended` (4 tasks on one
/// lock, 2 workers).
#[cfg(feature = "tokio")]
fn bench_tokio(c: &mut Criterion) {
    use workloads::tasks::{self, AsyncFamily, LockgraphTokio, Tokio};
    fn member<F: AsyncFamily>(group: &mut BenchmarkGroup<'_, WallTime>) {
        let current = tasks::current_thread();
        let workers = tasks::two_workers();
        group.bench_function(format!("single/{}", F::NAME), |b| {
            b.iter_custom(|iters| tasks::single::<F>(&current, iters))
        });
        group.bench_function(format!("nested2/{}", F::NAME), |b| {
            b.iter_custom(|iters| tasks::nested2::<F>(&current, iters))
        });
        group.bench_function(format!("contended/{}", F::NAME), |b| {
            b.iter_custom(|iters| tasks::contended::<F>(&workers, iters))
        });
    }
    let mut group = c.benchmark_group("tokio");
    member::<Tokio>(&mut group);
    member::<LockgraphTokio>(&mut group);
    group.finish();
}

#[cfg(not(feature = "tokio"))]
fn bench_tokio(_: &mut Criterion) {
    eprintln!("tokio: skipped (run with --features tokio)");
}

fn config() -> Criterion {
    // tracing-mutex captures std backtraces on new edges only when
    // RUST_BACKTRACE is set; measure it as most users run it, without.
    // SAFETY: criterion has not started any thread yet.
    unsafe { std::env::remove_var("RUST_BACKTRACE") };
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_mutex_workloads, bench_reentrant, bench_rwlock_read, bench_scale, bench_off, bench_tokio
}
criterion_main!(benches);
