//! One hot-path workload, run a given number of times, for an instruction
//! count under callgrind (`scripts/callgrind.sh` runs it twice per cell,
//! with N and with 0 iterations, and divides the difference by N: setup,
//! warm-up and exit cancel out). Instruction counts do not drift with the
//! machine's load the way times do: they are the stable figure for the hot
//! path.
//!
//! ```sh
//! cargo run --release --features always --example instructions -- chain8 lockgraph 1000
//! ```
//!
//! Workloads: `single`, `nested2`, `chain8`, `create_drop`, `mpsc_pair`
//! (a std-flavoured channel's send + recv, nothing held). Families: `std`,
//! `parking_lot`, `tracing-mutex`, `lockgraph`, `lockgraph-pl` (`mpsc_pair`:
//! `std` and `lockgraph`).

use std::hint::black_box;

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use workloads::{Lockgraph, LockgraphPl, MutexFamily, ParkingLot, Std, TracingMutex};

/// Rounds run before the counted ones (in both runs, so they cancel out):
/// every edge of a workload is known after the first, and `create_drop`'s
/// new edges stop capturing backtraces after 32 between the same two
/// sites (then they share one, as a long-running program's do).
const WARM_UP: u64 = 64;

/// Runs `workload` for `F` `iters` times, after [`WARM_UP`] rounds.
fn run<F: MutexFamily>(workload: &str, iters: u64) {
    match workload {
        "single" => {
            let m = F::mutex(0);
            for _ in 0..iters + WARM_UP {
                workloads::single::<F>(&m);
            }
        }
        "nested2" => {
            let (a, b) = (F::mutex(0), F::mutex(0));
            for _ in 0..iters + WARM_UP {
                workloads::nested2::<F>(&a, &b);
            }
        }
        "chain8" => {
            let locks: [F::Mutex; 8] = std::array::from_fn(|_| F::mutex(0));
            for _ in 0..iters + WARM_UP {
                workloads::chain8::<F>(&locks);
            }
        }
        "create_drop" => {
            let outer = F::mutex(0);
            for _ in 0..iters + WARM_UP {
                workloads::create_drop::<F>(&outer);
            }
        }
        other => panic!("unknown workload {other:?}"),
    }
}

fn mpsc_pair(family: &str, iters: u64) {
    match family {
        "std" => {
            let (tx, rx) = std::sync::mpsc::channel::<u64>();
            for i in 0..iters + WARM_UP {
                tx.send(i).unwrap();
                black_box(rx.recv().unwrap());
            }
        }
        "lockgraph" => {
            let (tx, rx) = lockgraph::sync::mpsc::channel::<u64>();
            for i in 0..iters + WARM_UP {
                tx.send(i).unwrap();
                black_box(rx.recv().unwrap());
            }
        }
        other => panic!("mpsc_pair: no family {other:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [workload, family, iters] = &args[..] else {
        eprintln!("usage: instructions <workload> <family> <iterations>");
        std::process::exit(2);
    };
    let iters: u64 = iters.parse().expect("a number of iterations");
    if workload == "mpsc_pair" {
        mpsc_pair(family, iters);
        return;
    }
    match family.as_str() {
        "std" => run::<Std>(workload, iters),
        "parking_lot" => run::<ParkingLot>(workload, iters),
        "tracing-mutex" => run::<TracingMutex>(workload, iters),
        "lockgraph" => run::<Lockgraph>(workload, iters),
        "lockgraph-pl" => run::<LockgraphPl>(workload, iters),
        other => panic!("unknown family {other:?}"),
    }
}
