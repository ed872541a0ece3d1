//! The deadlock between two tests: a connection pool whose `checkout` locks
//! the pool, then the connection, and whose `close` locks the connection,
//! then the pool.
//!
//! Each path runs in a "test" of its own on fresh objects, dropped when the
//! test ends, as a test suite does. The per-instance lock-order graph never
//! sees both orders on the same pair of locks, so it has nothing to report;
//! but in production one pool and one connection meet both paths, and two
//! threads running them at once deadlock. lockgraph also orders lock
//! *classes* (a creation site with the type it protects), which outlive
//! their instances, so the second test's `close` closes a cycle of classes.
//!
//! ```text
//! cargo run --example pool_conn             # the bug: a lock-class report
//! cargo run --example pool_conn -- --fixed  # close() locks pool, then conn: clean
//! ```
//!
//! Class findings are printed once to stderr by default
//! (`LOCKGRAPH_CLASSES=warn`); this example raises them through a callback
//! policy, as `LOCKGRAPH_CLASSES=panic` would through the default panic
//! policy, to print the report here.

mod common;

use lockgraph::Mutex;
use lockgraph::classes::{self, Mode};

struct Pool {
    idle: Mutex<Vec<u32>>,
}

struct Conn {
    id: u32,
    state: Mutex<&'static str>,
}

impl Pool {
    fn new() -> Pool {
        Pool {
            idle: Mutex::new(vec![1]),
        }
    }

    /// Takes a connection out of the pool: pool, then conn.
    fn checkout(&self, conn: &Conn) {
        let mut idle = self.idle.lock().unwrap();
        let mut state = conn.state.lock().unwrap();
        idle.retain(|&id| id != conn.id);
        *state = "busy";
    }
}

impl Conn {
    fn new(id: u32) -> Conn {
        Conn {
            id,
            state: Mutex::new("idle"),
        }
    }

    /// The bug: closing locks the connection first, then returns it to the
    /// pool: conn, then pool.
    fn close(&self, pool: &Pool) {
        let mut state = self.state.lock().unwrap();
        let mut idle = pool.idle.lock().unwrap();
        *state = "closed";
        idle.push(self.id);
    }

    /// The fix: the pool's lock first, everywhere.
    fn close_ordered(&self, pool: &Pool) {
        let mut idle = pool.idle.lock().unwrap();
        let mut state = self.state.lock().unwrap();
        *state = "closed";
        idle.push(self.id);
    }
}

fn main() {
    let fixed = common::fixed();
    classes::set_mode(Mode::Panic);
    let reports = common::collect_reports();

    println!("test 1 (checkout): a fresh pool and connection, pool then conn");
    {
        let pool = Pool::new();
        let conn = Conn::new(1);
        pool.checkout(&conn);
    }
    println!("test 1 done; its pool and connection are dropped");

    println!(
        "test 2 (close, {}): a fresh pool and connection",
        if fixed {
            "fixed: pool then conn"
        } else {
            "buggy: conn then pool"
        }
    );
    {
        let pool = Pool::new();
        let conn = Conn::new(2);
        if fixed {
            conn.close_ordered(&pool);
        } else {
            conn.close(&pool);
        }
    }
    println!("test 2 done\n");

    let reports = reports.lock().unwrap();
    for report in reports.iter() {
        println!("lockgraph reported:\n\n{report}\n");
    }
    if reports.is_empty() {
        if lockgraph::ENABLED {
            println!("no report: checkout and close take pool then conn");
        } else {
            println!("no report: detection is compiled out of this build (run without --release)");
        }
    } else {
        println!(
            "No two locks were ever taken in both orders, and each test passed on its own;\n\
             but one pool and one connection used by checkout and close at the same time\n\
             deadlock. Run with `-- --fixed` to see close() take the pool first, clean."
        );
    }
}
