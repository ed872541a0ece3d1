//! Drop-in proof for the whole module: a program written against
//! `std::sync` compiles and runs unchanged after `use std::sync;` becomes
//! `use lockgraph::sync;`.

// The drop-in programs pin exact signatures with long fn-pointer types.
#![allow(clippy::type_complexity)]

mod with_std {
    use std::sync;
    include!("dropin/sync_program.rs");
}

mod with_lockgraph {
    use lockgraph::sync;
    include!("dropin/sync_program.rs");
}

#[test]
fn the_same_program_runs_with_std_sync_and_with_lockgraph_sync() {
    with_std::run();
    with_lockgraph::run();
}

#[test]
fn with_detection_compiled_out_the_cells_are_std_sized() {
    use std::mem::size_of;
    if lockgraph::ENABLED {
        return;
    }
    assert_eq!(
        size_of::<lockgraph::sync::OnceLock<u64>>(),
        size_of::<std::sync::OnceLock<u64>>()
    );
    assert_eq!(
        size_of::<lockgraph::sync::LazyLock<u64>>(),
        size_of::<std::sync::LazyLock<u64>>()
    );
    assert_eq!(
        size_of::<lockgraph::sync::Once>(),
        size_of::<std::sync::Once>()
    );
    assert_eq!(
        size_of::<lockgraph::sync::Barrier>(),
        size_of::<std::sync::Barrier>()
    );
}
