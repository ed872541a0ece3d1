//! A lazily initialised registry whose initialiser takes a lock.
//!
//! `registry()` builds the registry on first use, reading the config under
//! its lock: registry → config. `reload()` locks the config and, while
//! holding it, asks for the registry: config → registry. If the first call
//! of `registry()` and a `reload()` run at the same moment, the reloader
//! holds the config and waits for the initialiser, which waits for the
//! config: both hang. std's `OnceLock` gives no sign of it; with
//! `lockgraph::sync::OnceLock` the initialisation takes part in the lock
//! order and the second order is reported, even though this run takes them
//! one after the other.
//!
//! ```text
//! cargo run --example once_init             # the bug: a lock-order report
//! cargo run --example once_init -- --fixed  # reload() asks for the registry first: clean
//! ```

mod common;

use lockgraph::sync::{Mutex, OnceLock};

struct Config {
    names: Vec<String>,
}

struct Registry {
    size: usize,
}

static CONFIG: Mutex<Config> = Mutex::new(Config { names: Vec::new() });
static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The registry, built on first use from the config.
fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| {
        let config = CONFIG.lock().unwrap();
        Registry {
            size: config.names.len(),
        }
    })
}

/// The bug: asks for the registry while holding the config.
fn reload(name: &str) -> usize {
    let mut config = CONFIG.lock().unwrap();
    config.names.push(name.to_owned());
    registry().size
}

/// The fix: the registry first, then the config.
fn reload_fixed(name: &str) -> usize {
    let size = registry().size;
    CONFIG.lock().unwrap().names.push(name.to_owned());
    size
}

fn main() {
    let fixed = common::fixed();
    let reports = common::collect_reports();

    CONFIG.lock().unwrap().names.push("alpha".to_owned());
    println!("startup: the registry is built, reading the config under its lock");
    println!("  registry size {}", registry().size);
    println!(
        "a reload ({}):",
        if fixed {
            "fixed: registry first, then the config"
        } else {
            "buggy: asks for the registry while holding the config"
        }
    );
    let size = if fixed {
        reload_fixed("beta")
    } else {
        reload("beta")
    };
    println!("  registry size {size}\n");

    let reports = reports.lock().unwrap();
    for report in reports.iter() {
        println!("lockgraph reported:\n\n{report}\n");
    }
    if reports.is_empty() {
        if lockgraph::ENABLED {
            println!("no report: the registry is always asked for before the config is locked");
        } else {
            println!("no report: detection is compiled out of this build (run without --release)");
        }
    } else {
        println!(
            "Here the two ran one after the other; run at the same moment, the reload would hold\n\
             the config waiting for the registry, and the first registry() would wait for the\n\
             config inside its initialiser. Run with `-- --fixed` to see the fix run clean."
        );
    }
}
