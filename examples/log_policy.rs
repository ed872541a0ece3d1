//! Running a buggy program to completion under the `log` policy, then
//! looking at the lock-order graph.
//!
//! Instead of panicking, each distinct potential deadlock is logged once
//! through `tracing` (target `lockgraph`, level ERROR) and the program
//! carries on — useful in a service's debug build or a long test run, where
//! you want every finding at the end rather than the first one as a panic.
//! This example uses `tracing-subscriber`'s fmt layer, so the events go to
//! stderr, and `lockgraph::tracing_layer()`, so each report shows the span
//! stack under each edge: here, which two "requests" take the ledgers in
//! opposite orders.
//!
//! Afterwards it writes the lock-order graph as Graphviz DOT
//! (`lockgraph::graph_dot()`: the orders seen, without the edges that were
//! refused for closing a cycle), then catches one report with a callback
//! and writes its cycle (`Report::to_dot()`, the closing edge in red). If
//! `dot` is on the PATH, both are rendered to SVG.
//!
//! ```text
//! cargo run --example log_policy                        # files in the temp dir
//! cargo run --example log_policy -- --out docs/example    # docs/example-graph.dot, -cycle.dot (+ .svg)
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex as StdMutex};

use lockgraph::{Mutex, Policy, RwLock};
use tracing_subscriber::prelude::*;

/// Writes `dot` to `base` + `suffix` + `.dot`, and an SVG beside it if
/// Graphviz is installed.
fn write_dot(base: &std::path::Path, suffix: &str, dot: &str) {
    let name = format!("{}{suffix}", base.file_name().unwrap().to_string_lossy());
    let dot_path = base.with_file_name(format!("{name}.dot"));
    std::fs::write(&dot_path, dot).expect("write the DOT file");
    let svg_path = base.with_file_name(format!("{name}.svg"));
    match Command::new("dot")
        .arg("-Tsvg")
        .arg(&dot_path)
        .arg("-o")
        .arg(&svg_path)
        .status()
    {
        Ok(status) if status.success() => {
            println!("  {} (and {})", dot_path.display(), svg_path.display())
        }
        _ => println!(
            "  {} (install Graphviz to render it: dot -Tsvg)",
            dot_path.display()
        ),
    }
}

fn main() {
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(true)
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr),
        )
        .with(lockgraph::tracing_layer())
        .init();
    lockgraph::set_policy(Policy::Log);

    // A config cache and two account ledgers, locked in inconsistent orders
    // by different code paths, many times over.
    let config = RwLock::named("config", 1);
    let ledger_a = Mutex::named("ledger-a", 0);
    let ledger_b = Mutex::named("ledger-b", 0);
    for round in 0..100 {
        // Path 1, a deposit request: config, then ledger-a, then ledger-b.
        {
            let request = tracing::info_span!("request", id = 2 * round, path = "/deposit");
            let _request = request.enter();
            let _c = config.read().unwrap();
            let mut a = ledger_a.lock().unwrap();
            let mut b = ledger_b.lock().unwrap();
            *a += 1;
            *b += 1;
        }
        // Path 2, a refund request: ledger-b, then ledger-a: logged once,
        // not 100 times.
        {
            let request = tracing::info_span!("request", id = 2 * round + 1, path = "/refund");
            let _request = request.enter();
            let _b = ledger_b.lock().unwrap();
            let _a = ledger_a.lock().unwrap();
        }
        // Path 3: ledger-a, then the config: a 3-lock cycle with path 1...
        // except that ledger-a -> config against config -> ledger-a is a
        // 2-lock cycle already; logged once too.
        if round % 10 == 0 {
            let _a = ledger_a.lock().unwrap();
            let _c = config.write().unwrap();
        }
    }
    println!(
        "the program ran to completion: 110 inversions of 2 distinct cycles, each logged once"
    );

    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("lockgraph-log-policy"));
    println!("lock-order graph:");
    write_dot(&out, "-graph", &lockgraph::graph_dot());

    // One report caught with a callback, drawn as its cycle.
    let caught = Arc::new(StdMutex::new(None));
    let sink = caught.clone();
    lockgraph::set_policy(Policy::callback(move |report| {
        sink.lock().unwrap().get_or_insert_with(|| report.to_dot());
    }));
    let stages = [
        Mutex::named("parse", ()),
        Mutex::named("plan", ()),
        Mutex::named("execute", ()),
    ];
    for (first, second) in [(0, 1), (1, 2), (2, 0)] {
        let _f = stages[first].lock().unwrap();
        let _s = stages[second].lock().unwrap();
    }
    if let Some(dot) = caught.lock().unwrap().take() {
        println!("a 3-lock cycle, as the report draws it:");
        write_dot(&out, "-cycle", &dot);
    }
    // Keep the locks alive until the graphs are written: dropped locks leave.
    drop((config, ledger_a, ledger_b, stages));
}
