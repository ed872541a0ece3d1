//! Drop-in proof for `lockgraph::tokio::sync`: a program written against
//! `tokio::sync` compiles and runs unchanged after `use tokio::sync;` becomes
//! `use lockgraph::tokio::sync;`.
#![cfg(feature = "tokio")]
// The drop-in programs pin exact signatures with long fn-pointer types.
#![allow(clippy::type_complexity)]

mod with_tokio {
    use tokio::sync;
    include!("dropin/tokio_program.rs");
}

mod with_lockgraph {
    use lockgraph::tokio::sync;
    include!("dropin/tokio_program.rs");
}

mod waits_with_tokio {
    use tokio::{sync, task};
    include!("dropin/tokio_waits_program.rs");
}

mod waits_with_lockgraph {
    use lockgraph::tokio::{sync, task};
    include!("dropin/tokio_waits_program.rs");
}

#[test]
fn the_waits_program_runs_with_tokio_and_with_lockgraph_tokio() {
    waits_with_tokio::run();
    waits_with_lockgraph::run();
}

#[test]
fn the_same_program_runs_with_tokio_sync_and_with_lockgraph_tokio_sync() {
    with_tokio::run();
    with_lockgraph::run();
}

#[test]
fn with_detection_compiled_out_the_locks_are_tokios_own() {
    use std::mem::size_of;
    if lockgraph::ENABLED {
        return;
    }
    assert_eq!(
        size_of::<lockgraph::tokio::sync::Mutex<u64>>(),
        size_of::<tokio::sync::Mutex<u64>>()
    );
    assert_eq!(
        size_of::<lockgraph::tokio::sync::RwLock<u64>>(),
        size_of::<tokio::sync::RwLock<u64>>()
    );
    assert_eq!(
        std::any::type_name::<lockgraph::tokio::sync::Mutex<u64>>(),
        std::any::type_name::<tokio::sync::Mutex<u64>>()
    );
}
