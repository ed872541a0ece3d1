//! Runs every benchmark workload briefly against std, parking_lot,
//! tracing-mutex and both lockgraph flavours, and prints one table of time
//! ratios to raw parking_lot, all measured in this one run (machines are
//! noisy; ratios from one run are what compare).
//!
//! ```text
//! cargo run --release --example bench_report --features always   # detection on, optimised
//! cargo run --example bench_report                                # detection on, opt-level 0
//! cargo run --release --example bench_report                      # detection compiled out
//! ```
//!
//! Each member runs in short slices, interleaved with the others, for
//! several rounds; the table shows medians. `--quick` runs fewer rounds;
//! `--only=single,create_drop` runs only those rows of the first table
//! (`scale` in the list: the scale table too).

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use std::hint::black_box;
use std::time::{Duration, Instant};

use workloads::*;

/// Nanoseconds per call of `f`, measured over about `slice`.
fn ns_per_call(slice: Duration, mut f: impl FnMut()) -> f64 {
    let mut calls = 0u64;
    let start = Instant::now();
    let mut batch = 16;
    loop {
        for _ in 0..batch {
            f();
        }
        calls += batch;
        let elapsed = start.elapsed();
        if elapsed >= slice {
            return elapsed.as_nanos() as f64 / calls as f64;
        }
        batch = (batch * 2).min(1 << 16);
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

/// A family's name and a closure measuring its nanoseconds per call.
type Member = (&'static str, Box<dyn FnMut() -> f64>);

/// One table row: the workload and each member's closure.
struct Row {
    name: &'static str,
    members: Vec<Member>,
}

fn mutex_row<F: MutexFamily>(slice: Duration, name: &'static str, members: &mut Vec<Member>) {
    let member: Box<dyn FnMut() -> f64> = match name {
        "single" => {
            let m = F::mutex(0);
            Box::new(move || ns_per_call(slice, || single::<F>(&m)))
        }
        "nested2" => {
            let (a, b) = (F::mutex(0), F::mutex(0));
            Box::new(move || ns_per_call(slice, || nested2::<F>(&a, &b)))
        }
        "chain8" => {
            let locks: [F::Mutex; 8] = std::array::from_fn(|i| F::mutex(i as u64));
            Box::new(move || ns_per_call(slice, || chain8::<F>(&locks)))
        }
        "create_drop" => {
            let outer = F::mutex(0);
            Box::new(move || ns_per_call(slice, || create_drop::<F>(&outer)))
        }
        "new_edge_big_graph" => Box::new(move || {
            // A fresh graph per round, so it stays near 20,000 edges.
            let mut graph = BigGraph::<F>::new(2_000, 20_000);
            let count = if cfg!(debug_assertions) {
                200
            } else {
                NEW_EDGES_PER_GRAPH
            };
            graph.time_new_edges(count).as_nanos() as f64 / count as f64
        }),
        _ => unreachable!(),
    };
    members.push((F::NAME, member));
}

fn rw_row<F: RwFamily>(slice: Duration, members: &mut Vec<Member>) {
    let lock = F::rwlock(0);
    members.push((
        F::NAME,
        Box::new(move || ns_per_call(slice, || rwlock_read::<F>(&lock))),
    ));
}

fn reentrant_row<F: ReentrantFamily>(slice: Duration, members: &mut Vec<Member>) {
    let lock = F::reentrant(0);
    members.push((
        F::NAME,
        Box::new(move || ns_per_call(slice, || reentrant::<F>(&lock))),
    ));
}

/// Throughput of two threads over one, for `scale`.
fn scale_ratio<F: MutexFamily>(iters: u64) -> f64 {
    let one = scale::<F>(1, iters).as_secs_f64();
    let two = scale::<F>(2, iters).as_secs_f64();
    (2.0 / two) / (1.0 / one)
}

fn main() {
    // tracing-mutex captures std backtraces on new edges only when
    // RUST_BACKTRACE is set; measure it as most users run it, without.
    // SAFETY: no other thread exists yet.
    unsafe { std::env::remove_var("RUST_BACKTRACE") };
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 3 } else { 7 };
    // `--tokio`: only the tokio table (built with the feature).
    #[cfg(feature = "tokio")]
    if std::env::args().any(|a| a == "--tokio") {
        tokio_costs(rounds);
        return;
    }
    // `--new-edge`: only the cost of a new edge in the big graph, for
    // `scripts/new-edge-costs.sh` (which runs it with classes, spans and
    // recording each on and off).
    if std::env::args().any(|a| a == "--new-edge") {
        let edge = median((0..rounds).map(|_| new_edge_ns::<Lockgraph>()).collect());
        println!("new non-cycle edge: {:.2} µs", edge / 1000.0);
        return;
    }
    let slice = Duration::from_millis(if quick { 10 } else { 25 });
    let profile = if cfg!(debug_assertions) {
        "debug (opt-level 0)"
    } else {
        "release"
    };
    let detection = if lockgraph::ENABLED {
        "on"
    } else {
        "compiled out"
    };

    // `--only=single,create_drop`: just those rows of the first table.
    let only: Option<Vec<String>> = std::env::args().find_map(|a| {
        a.strip_prefix("--only=")
            .map(|list| list.split(',').map(str::to_owned).collect())
    });
    let wanted = |name: &str| {
        only.as_ref()
            .is_none_or(|only| only.iter().any(|o| o == name))
    };
    let mut rows = Vec::new();
    for name in [
        "single",
        "nested2",
        "chain8",
        "create_drop",
        "new_edge_big_graph",
    ] {
        if !wanted(name) {
            continue;
        }
        let mut members = Vec::new();
        mutex_row::<Std>(slice, name, &mut members);
        mutex_row::<ParkingLot>(slice, name, &mut members);
        mutex_row::<TracingMutex>(slice, name, &mut members);
        mutex_row::<Lockgraph>(slice, name, &mut members);
        mutex_row::<LockgraphPl>(slice, name, &mut members);
        rows.push(Row { name, members });
    }
    if wanted("reentrant") {
        let mut members = Vec::new();
        reentrant_row::<ParkingLot>(slice, &mut members);
        reentrant_row::<Lockgraph>(slice, &mut members);
        reentrant_row::<LockgraphPl>(slice, &mut members);
        rows.push(Row {
            name: "reentrant",
            members,
        });
    }
    if wanted("rwlock_read") {
        let mut members = Vec::new();
        rw_row::<Std>(slice, &mut members);
        rw_row::<ParkingLot>(slice, &mut members);
        rw_row::<TracingMutex>(slice, &mut members);
        rw_row::<Lockgraph>(slice, &mut members);
        rw_row::<LockgraphPl>(slice, &mut members);
        rows.push(Row {
            name: "rwlock_read",
            members,
        });
    }

    let families = [
        "std",
        "parking_lot",
        "tracing-mutex",
        "lockgraph",
        "lockgraph-pl",
    ];
    println!(
        "lockgraph bench_report: {profile}, detection {detection}, {rounds} rounds of {slice:?} per member"
    );
    println!(
        "time per operation as a ratio to raw parking_lot in the same run (lower is better)\n"
    );
    println!("| workload | parking_lot ns | {} |", families.join(" | "));
    println!("|---|---:|{}", "---:|".repeat(families.len()));
    for mut row in rows {
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); row.members.len()];
        for _ in 0..rounds {
            for (i, (_, member)) in row.members.iter_mut().enumerate() {
                samples[i].push(member());
            }
        }
        let medians: Vec<(&str, f64)> = row
            .members
            .iter()
            .zip(samples)
            .map(|((name, _), xs)| (*name, median(xs)))
            .collect();
        let base = medians
            .iter()
            .find(|(n, _)| *n == "parking_lot")
            .map(|(_, t)| *t)
            .unwrap();
        let cells: Vec<String> = families
            .iter()
            .map(|family| match medians.iter().find(|(n, _)| n == family) {
                Some((_, t)) => format!("{:.2}x", t / base),
                None => "-".to_owned(),
            })
            .collect();
        println!("| {} | {:.1} | {} |", row.name, base, cells.join(" | "));
    }

    if only.is_some() {
        // `--only=...,scale`: the scale table too.
        if wanted("scale") {
            scale_table(rounds);
        }
        return;
    }
    if lockgraph::ENABLED {
        // Detecting a cycle-closing edge in the big graph, reported to a
        // callback that does nothing (so the panic itself is not counted).
        lockgraph::set_policy(lockgraph::Policy::callback(|report| {
            black_box(report);
        }));
        println!("\nnew_edge_big_graph (2,000 locks, 20,000 edges), lockgraph std flavour:");
        let cycle = cycle_ns::<Lockgraph>(slice, rounds);
        println!(
            "- a cycle-closing edge detected (callback policy, no panic): {:.2} µs",
            cycle / 1000.0
        );
        // A loop adding edges at one pair of sites shares backtraces after 32
        // captures (see the README), so the table row mostly omits the
        // capture; this is what one costs from a shallow stack.
        let capture = median(
            (0..rounds)
                .map(|_| ns_per_call(slice, capture_backtrace))
                .collect(),
        );
        let edge = median((0..rounds).map(|_| new_edge_ns::<Lockgraph>()).collect());
        println!(
            "- a new non-cycle edge: {:.2} µs; with a backtrace capture ({:.2} µs): {:.2} µs",
            edge / 1000.0,
            capture / 1000.0,
            (edge + capture) / 1000.0
        );
    }

    scale_table(rounds);

    #[cfg(feature = "tokio")]
    tokio_costs(rounds);

    wait_costs(slice, rounds);
    if lockgraph::ENABLED {
        race_costs(slice, rounds);
    }
}

/// The median over `rounds` of `checked`'s time over `raw`'s, measured
/// alternately (this machine's speed drifts between rounds), with both
/// medians in nanoseconds.
fn paired(
    slice: Duration,
    rounds: usize,
    mut raw: impl FnMut(),
    mut checked: impl FnMut(),
) -> (f64, f64, f64) {
    let (mut raws, mut checks, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let r = ns_per_call(slice, &mut raw);
        let c = ns_per_call(slice, &mut checked);
        raws.push(r);
        checks.push(c);
        ratios.push(c / r);
    }
    (median(raws), median(checks), median(ratios))
}

/// Waits (#27): a send/recv pair and a spawn+join, lockgraph's against
/// std's (and, with the feature, tokio's), holding no lock.
fn wait_costs(slice: Duration, rounds: usize) {
    let (std_tx, std_rx) = std::sync::mpsc::channel::<u64>();
    let (lg_tx, lg_rx) = lockgraph::sync::mpsc::channel::<u64>();
    let channel = paired(
        slice,
        rounds,
        || {
            std_tx.send(1).unwrap();
            black_box(std_rx.recv().unwrap());
        },
        || {
            lg_tx.send(1).unwrap();
            black_box(lg_rx.recv().unwrap());
        },
    );
    let (std_tx, std_rx) = std::sync::mpsc::sync_channel::<u64>(1);
    let (lg_tx, lg_rx) = lockgraph::sync::mpsc::sync_channel::<u64>(1);
    let bounded = paired(
        slice,
        rounds,
        || {
            std_tx.send(1).unwrap();
            black_box(std_rx.recv().unwrap());
        },
        || {
            lg_tx.send(1).unwrap();
            black_box(lg_rx.recv().unwrap());
        },
    );
    // A worker spawned through lockgraph::thread that locks, then reports
    // (to itself, so the pair stays on one thread): each message is a
    // signal after an acquisition its end is ordered before.
    let worker = lockgraph::thread::spawn(move || {
        let (std_tx, std_rx) = std::sync::mpsc::channel::<u64>();
        let (lg_tx, lg_rx) = lockgraph::sync::mpsc::channel::<u64>();
        let std_state = std::sync::Mutex::new(0u64);
        let lg_state = lockgraph::Mutex::new(0u64);
        paired(
            slice,
            rounds,
            || {
                *std_state.lock().unwrap() += 1;
                std_tx.send(1).unwrap();
                black_box(std_rx.recv().unwrap());
            },
            || {
                *lg_state.lock().unwrap() += 1;
                lg_tx.send(1).unwrap();
                black_box(lg_rx.recv().unwrap());
            },
        )
    })
    .join()
    .unwrap();
    let join = paired(
        slice * 4,
        rounds,
        || {
            black_box(std::thread::spawn(|| 1u64).join().unwrap());
        },
        || {
            black_box(lockgraph::thread::spawn(|| 1u64).join().unwrap());
        },
    );
    println!(
        "
waits, holding no lock: lockgraph against std (same run)"
    );
    println!("| workload | std ns | lockgraph ns | ratio (median of rounds) |");
    println!("|---|---:|---:|---:|");
    for (name, (raw, checked, ratio)) in [
        ("mpsc channel send + recv", channel),
        ("sync_channel(1) send + recv", bounded),
        ("in a spawned thread: lock + send + recv", worker),
        ("thread spawn + join", join),
    ] {
        println!("| {name} | {raw:.1} | {checked:.1} | {ratio:.2}x |");
    }
    #[cfg(feature = "tokio")]
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let oneshot = paired(
            slice,
            rounds,
            || {
                runtime.block_on(async {
                    let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                    tx.send(1).unwrap();
                    black_box(rx.await.unwrap());
                })
            },
            || {
                runtime.block_on(async {
                    let (tx, rx) = lockgraph::tokio::sync::oneshot::channel::<u64>();
                    tx.send(1).unwrap();
                    black_box(rx.await.unwrap());
                })
            },
        );
        let (tk_tx, mut tk_rx) = tokio::sync::mpsc::channel::<u64>(16);
        let (lg_tx, mut lg_rx) = lockgraph::tokio::sync::mpsc::channel::<u64>(16);
        let mpsc = paired(
            slice,
            rounds,
            || {
                runtime.block_on(async {
                    tk_tx.send(1).await.unwrap();
                    black_box(tk_rx.recv().await.unwrap());
                })
            },
            || {
                runtime.block_on(async {
                    lg_tx.send(1).await.unwrap();
                    black_box(lg_rx.recv().await.unwrap());
                })
            },
        );
        let task = paired(
            slice * 4,
            rounds,
            || {
                runtime.block_on(async {
                    black_box(tokio::spawn(async { 1u64 }).await.unwrap());
                })
            },
            || {
                runtime.block_on(async {
                    black_box(lockgraph::tokio::task::spawn(async { 1u64 }).await.unwrap());
                })
            },
        );
        // A task per request that locks the shared state once: its end's
        // edge to the state is new for every task (see the waits guide).
        let tk_state = std::sync::Arc::new(tokio::sync::Mutex::new(0u64));
        let lg_state = std::sync::Arc::new(lockgraph::tokio::sync::Mutex::new(0u64));
        let request = paired(
            slice * 4,
            rounds,
            || {
                let state = tk_state.clone();
                runtime.block_on(async {
                    let task = tokio::spawn(async move {
                        let mut state = state.lock().await;
                        *state += 1;
                        *state
                    });
                    black_box(task.await.unwrap());
                })
            },
            || {
                let state = lg_state.clone();
                runtime.block_on(async {
                    let task = lockgraph::tokio::task::spawn(async move {
                        let mut state = state.lock().await;
                        *state += 1;
                        *state
                    });
                    black_box(task.await.unwrap());
                })
            },
        );
        for (name, (raw, checked, ratio)) in [
            ("(tokio) oneshot create + send + await", oneshot),
            ("(tokio) mpsc send + recv", mpsc),
            ("(tokio) task spawn + await", task),
            ("(tokio) task spawn, lock shared state, await", request),
        ] {
            println!("| {name} | {raw:.1} | {checked:.1} | {ratio:.2}x |");
        }
    }
}

/// lockgraph's tokio locks against tokio's own, in the same run.
#[cfg(feature = "tokio")]
fn tokio_costs(rounds: usize) {
    use workloads::tasks::{self, LockgraphTokio, Tokio};

    let current = tasks::current_thread();
    let workers = tasks::two_workers();
    let n: u64 = if cfg!(debug_assertions) {
        20_000
    } else {
        200_000
    };
    // Rounds alternate between the two, and the ratio is the median of the
    // rounds' ratios: this machine's speed drifts between rounds.
    let pair = |n: u64, raw: &dyn Fn(u64) -> Duration, checked: &dyn Fn(u64) -> Duration| {
        let (mut raws, mut checks, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let r = raw(n).as_nanos() as f64 / n as f64;
            let c = checked(n).as_nanos() as f64 / n as f64;
            raws.push(r);
            checks.push(c);
            ratios.push(c / r);
        }
        (median(raws), median(checks), median(ratios))
    };
    let rows = [
        (
            "single (in a task)",
            pair(n, &|n| tasks::single::<Tokio>(&current, n), &|n| {
                tasks::single::<LockgraphTokio>(&current, n)
            }),
        ),
        (
            "nested2 (in a task)",
            pair(n, &|n| tasks::nested2::<Tokio>(&current, n), &|n| {
                tasks::nested2::<LockgraphTokio>(&current, n)
            }),
        ),
        (
            // Longer rounds: two workers' scheduling varies more.
            "contended (4 tasks, 2 workers)",
            pair(4 * n, &|n| tasks::contended::<Tokio>(&workers, n), &|n| {
                tasks::contended::<LockgraphTokio>(&workers, n)
            }),
        ),
    ];
    println!(
        "
tokio (feature `tokio`): lockgraph::tokio::sync::Mutex against tokio::sync::Mutex, same run"
    );
    println!("| workload | tokio ns | lockgraph ns | ratio (median of rounds) |");
    println!("|---|---:|---:|---:|");
    for (name, (raw, checked, ratio)) in rows {
        println!("| {name} | {raw:.1} | {checked:.1} | {ratio:.2}x |");
    }
}

/// Last, because race detection stays on once a tracked cell is used: the
/// cost of a tracked access nobody else touched, and of the lock hot path
/// while happens-before is tracked.
fn race_costs(slice: Duration, rounds: usize) {
    let base_lock = parking_lot::Mutex::new(0u64);
    let base = median(
        (0..rounds)
            .map(|_| {
                ns_per_call(slice, || {
                    black_box(*base_lock.lock());
                })
            })
            .collect(),
    );
    let (pa, pb) = (ParkingLot::mutex(0), ParkingLot::mutex(0));
    let nested_base = median(
        (0..rounds)
            .map(|_| ns_per_call(slice, || nested2::<ParkingLot>(&pa, &pb)))
            .collect(),
    );
    let cell = lockgraph::race::Tracked::new(0u64);
    let tracked = median(
        (0..rounds)
            .map(|_| {
                ns_per_call(slice, || {
                    black_box(cell.get());
                })
            })
            .collect(),
    );
    let (la, lb) = (Lockgraph::mutex(0), Lockgraph::mutex(0));
    let nested = median(
        (0..rounds)
            .map(|_| ns_per_call(slice, || nested2::<Lockgraph>(&la, &lb)))
            .collect(),
    );
    println!("\nrace detection (on for the rest of the process once a Tracked cell is used):");
    println!(
        "- Tracked::get() with no other thread touching the cell: {tracked:.1} ns, {:.2}x a parking_lot lock + read",
        tracked / base
    );
    println!(
        "- nested2 while happens-before is tracked: {:.2}x parking_lot (vector clocks on every release and acquire)",
        nested / nested_base
    );
}

#[inline(never)]
fn capture_backtrace() {
    black_box(backtrace::Backtrace::new_unresolved());
}

/// Nanoseconds to add one new consistent edge to the big graph.
fn new_edge_ns<F: MutexFamily>() -> f64 {
    let count = if cfg!(debug_assertions) {
        200
    } else {
        NEW_EDGES_PER_GRAPH
    };
    time_new_edges::<F>(count).as_nanos() as f64 / count as f64
}

/// Nanoseconds to detect one cycle-closing edge in the big graph.
fn cycle_ns<F: MutexFamily>(slice: Duration, rounds: usize) -> f64 {
    let graph = BigGraph::<F>::new(2_000, 20_000);
    let (to, from) = graph.cycle_pair();
    median(
        (0..rounds)
            .map(|_| {
                ns_per_call(slice, || {
                    let _t = F::lock(&graph.locks[to]);
                    let _f = F::lock(&graph.locks[from]);
                })
            })
            .collect(),
    )
}

/// The `scale` table: the throughput of two threads over one, each on its
/// own pair, per family (median of up to three runs each).
fn scale_table(rounds: usize) {
    let iters = if cfg!(debug_assertions) {
        200_000
    } else {
        2_000_000
    };
    println!(
        "\nscale: throughput of 2 threads / 1 thread, each on its own pair (nested2); ideal 2.0"
    );
    println!("| std | parking_lot | tracing-mutex | lockgraph | lockgraph-pl |");
    println!("|---:|---:|---:|---:|---:|");
    let runs = rounds.min(3);
    let ratios = [
        scale_median::<Std>(runs, iters),
        scale_median::<ParkingLot>(runs, iters),
        scale_median::<TracingMutex>(runs, iters / 4),
        scale_median::<Lockgraph>(runs, iters),
        scale_median::<LockgraphPl>(runs, iters),
    ];
    let cells: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    println!("| {} |", cells.join(" | "));
}

/// The median of `runs` scale ratios of family `F`.
fn scale_median<F: MutexFamily>(runs: usize, iters: u64) -> f64 {
    median((0..runs).map(|_| scale_ratio::<F>(iters)).collect())
}
