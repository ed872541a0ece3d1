//! Every example runs as a user would run it: the buggy mode prints the
//! report (title and sites) and ends cleanly; the fixed mode is clean.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Once;

/// The directory of the example binaries, built if needed.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        // `cargo test` builds the examples; `cargo test --test examples`
        // alone does not.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let profile: &[&str] = if cfg!(debug_assertions) {
            &[]
        } else {
            &["--release"]
        };
        // The feature-gated examples too, when this test has their features.
        let features: &[&str] = if cfg!(feature = "tokio") {
            &["--features", "tokio"]
        } else {
            &[]
        };
        let status = Command::new(cargo)
            .args(["build", "--examples", "--quiet"])
            .args(profile)
            .args(features)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo");
        assert!(status.success(), "building the examples failed");
    });
    dir
}

fn run(example: &str, args: &[&str]) -> (String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(examples_dir().join(example))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LOCKGRAPH")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run the example");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    );
    assert!(
        status.success(),
        "{example} {args:?} failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn bank_transfer() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("bank_transfer", &[]);
    assert_contains(
        &out,
        &[
            "potential deadlock: lock order inversion",
            "Mutex \"accounts[0]\" created at examples/bank_transfer.rs:",
            "first taken in thread `teller-1`",
            "bank_transfer::Bank::transfer",
            "possible deadlock scenario:",
        ],
    );
    let (out, _) = run("bank_transfer", &["--fixed"]);
    assert_contains(&out, &["no report; total money is still 200"]);
    assert!(!out.contains("deadlock"), "{out}");
}

#[test]
fn dining_philosophers() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("dining_philosophers", &[]);
    assert_contains(
        &out,
        &[
            "closes a cycle of 5 locks",
            "fork[4] -> fork[0]",
            "examples/dining_philosophers.rs:",
        ],
    );
    let (out, _) = run("dining_philosophers", &["--fixed"]);
    assert!(!out.contains("stopped by lockgraph"), "{out}");
}

#[test]
fn recursive_sum() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("recursive_sum", &[]);
    assert_contains(
        &out,
        &[
            "deadlock: relocking a Mutex already held by this thread",
            "recursive_sum::sum_from",
        ],
    );
    let (out, _) = run("recursive_sum", &["--fixed"]);
    assert_contains(&out, &["sum with a ReentrantLock: 55"]);
}

#[test]
fn guard_in_match() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("guard_in_match", &[]);
    assert_contains(
        &out,
        &[
            "relocking a Mutex",
            "scrutinee",
            "examples/guard_in_match.rs:",
        ],
    );
    let (out, _) = run("guard_in_match", &["--fixed"]);
    assert_contains(&out, &["re-queued: [Job { id: 1, attempts: 1 }]"]);
}

#[test]
fn producer_consumer() {
    let (out, _) = run("producer_consumer", &[]);
    assert_contains(&out, &["consumed 100 items, sum 5050; no report"]);
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("producer_consumer", &["--lost-wakeup"]);
    assert_contains(
        &out,
        &[
            "potential deadlock: a Condvar waiter holds a lock its notifier needs",
            "thread `consumer` is waiting on",
            "stats -> Condvar -> stats",
            "first taken in thread `producer`",
            "then notified Condvar at examples/producer_consumer.rs:",
        ],
    );
}

#[test]
fn shared_counter() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("shared_counter", &[]);
    assert_contains(
        &out,
        &[
            "race condition: ",
            "Tracked \"counter\"",
            "examples/shared_counter.rs:",
        ],
    );
    let (out, _) = run("shared_counter", &["--fixed"]);
    assert_contains(&out, &["total 4000 of 4000 (no report)"]);
}

#[test]
fn log_policy() {
    if !lockgraph::ENABLED {
        return;
    }
    let base = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lockgraph-test-{}", std::process::id()));
    let (out, err) = run("log_policy", &["--out", base.to_str().unwrap()]);
    assert_contains(&out, &["ran to completion"]);
    assert_eq!(
        err.matches("potential deadlock: lock order inversion")
            .count(),
        2,
        "{err}"
    );
    assert_contains(&err, &["ERROR", "lockgraph"]);
    // The span stacks name the two requests whose orders invert.
    assert_contains(
        &err,
        &[
            "in spans (innermost first):",
            "request{id=0 path=\"/deposit\"}",
            "request{id=1 path=\"/refund\"}",
        ],
    );
    let graph = std::fs::read_to_string(format!("{}-graph.dot", base.display())).unwrap();
    assert!(
        graph.starts_with("digraph lockgraph {") && graph.contains("ledger-a"),
        "{graph}"
    );
    let cycle = std::fs::read_to_string(format!("{}-cycle.dot", base.display())).unwrap();
    assert!(
        cycle.contains("color=red") && cycle.contains("execute"),
        "{cycle}"
    );
}

#[test]
fn pool_conn() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("pool_conn", &[]);
    assert_contains(
        &out,
        &[
            "potential deadlock: lock order inversion between lock classes",
            "Mutex<Vec<u32>> created at examples/pool_conn.rs:",
            "Mutex<&str> created at examples/pool_conn.rs:",
            "pool_conn::Pool::checkout",
            "pool_conn::Conn::close",
            "two threads running both paths on the same objects deadlock",
        ],
    );
    let (out, _) = run("pool_conn", &["--fixed"]);
    assert_contains(&out, &["no report: checkout and close take pool then conn"]);
    assert!(!out.contains("deadlock"), "{out}");
}

#[test]
fn once_init() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("once_init", &[]);
    assert_contains(
        &out,
        &[
            "potential deadlock: lock order inversion",
            "OnceLock<Registry> created at examples/once_init.rs:",
            "Mutex<Config> created at examples/once_init.rs:",
            "once_init::reload",
        ],
    );
    let (out, _) = run("once_init", &["--fixed"]);
    assert_contains(&out, &["no report: the registry is always asked for"]);
    assert!(!out.contains("deadlock"), "{out}");
}

#[test]
fn pipeline() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("pipeline", &[]);
    assert_contains(
        &out,
        &[
            "race condition:",
            "Tracked \"parsed\"",
            "thread `parser`",
            "examples/pipeline.rs:",
        ],
    );
    let (out, _) = run("pipeline", &["--fixed"]);
    assert_contains(&out, &["sum 29, 4 records seen, 4 parsed", "no report"]);
    assert!(!out.contains("race condition"), "{out}");
}

#[cfg(feature = "tokio")]
#[test]
fn async_transfer() {
    let (out, _) = run("async_transfer", &["--fixed"]);
    assert_contains(
        &out,
        &[
            "task-2: 10 transfers",
            "total money is still 200",
            "no report",
        ],
    );
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("async_transfer", &[]);
    assert_contains(
        &out,
        &[
            "task-2: stopped by lockgraph before it could deadlock",
            "potential deadlock: lock order inversion",
            "tokio::sync::Mutex<u64>#1 created at examples/async_transfer.rs:",
            "first taken in task ",
            "possible deadlock scenario:",
        ],
    );
}

#[test]
fn thread_pool() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("thread_pool", &[]);
    assert_contains(
        &out,
        &[
            "potential deadlock: a thread is joined while holding a lock the joined thread needs",
            "thread spawned at examples/thread_pool.rs:",
            "Mutex \"results\" created at examples/thread_pool.rs:",
            "join(thread)  <- blocks",
            "fix: drop the guard of results before joining",
        ],
    );
    let (out, _) = run("thread_pool", &["--fixed"]);
    assert_contains(&out, &["12 results, sum of squares 650; no report"]);
    assert!(!out.contains("deadlock"), "{out}");
}

#[test]
fn event_loop() {
    if !lockgraph::ENABLED {
        return;
    }
    let (out, _) = run("event_loop", &[]);
    assert_contains(
        &out,
        &[
            "potential deadlock: a receiver waits holding a lock its sender needs before sending",
            "mpsc channel created at examples/event_loop.rs:",
            "first taken in thread `event-loop`",
            "recv(mpsc channel)  <- blocks",
            "fix: receive without holding state",
        ],
    );
    let (out, _) = run("event_loop", &["--fixed"]);
    assert_contains(&out, &["second answer: 42; no report"]);
    assert!(!out.contains("deadlock"), "{out}");
}
