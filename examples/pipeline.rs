//! A pipeline of threads joined by a channel, and the race a channel does
//! not prevent.
//!
//! A parser thread parses records and sends each to the summer (the main
//! thread) over a `lockgraph::sync::mpsc` channel, counting what it parsed
//! in a shared counter (a `Tracked` cell). The channel orders everything
//! the parser did before a send before the matching receive, so the records
//! themselves are safe to use. The bug: the summer also reads the shared
//! counter while the parser keeps updating it — those accesses nothing
//! orders, and the race detector reports them. The fix sends the count with
//! each record and reads the counter only after joining the parser.
//!
//! ```text
//! cargo run --example pipeline             # the bug: the summer reads the live counter
//! cargo run --example pipeline -- --fixed  # the count travels with the record: clean
//! ```

mod common;

use std::sync::Arc;

use lockgraph::race::Tracked;
use lockgraph::sync::mpsc;
use lockgraph::thread;

fn main() {
    let fixed = common::fixed();
    let reports = common::collect_reports();

    let parsed = Arc::new(Tracked::named("parsed", 0u64));
    let (tx, rx) = mpsc::sync_channel::<(u64, u64)>(4);
    let parser = {
        let parsed = parsed.clone();
        thread::Builder::new()
            .name("parser".into())
            .spawn(move || {
                for record in ["3", "5", "8", "13"] {
                    let value: u64 = record.parse().unwrap();
                    let count = parsed.update(|n| {
                        *n += 1;
                        *n
                    });
                    tx.send((value, count)).unwrap();
                }
            })
            .unwrap()
    };
    let mut sum = 0;
    let mut latest = 0;
    for (value, count) in rx.iter() {
        sum += value;
        latest = if fixed {
            count // travelled with the record
        } else {
            parsed.get() // the bug: the parser may be updating it right now
        };
    }
    parser.join().unwrap();
    println!(
        "pipeline ({}): sum {sum}, {latest} records seen, {} parsed\n",
        if fixed {
            "fixed: the count travels with each record"
        } else {
            "buggy: the summer reads the parser's live counter"
        },
        parsed.get()
    );

    let reports = reports.lock().unwrap();
    if let Some(report) = reports.first() {
        println!("lockgraph reported:\n\n{report}\n");
        println!(
            "The channel orders what the parser did before each send, not what it does next:\n\
             the summer's read of the counter races with the parser's next update. Run with\n\
             `-- --fixed` to see the count sent with each record, clean."
        );
    } else if lockgraph::ENABLED {
        println!("no report: the summer reads only what the channel delivered");
    } else {
        println!("no report: detection is compiled out of this build (run without --release)");
    }
}
