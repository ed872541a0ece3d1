//! `held_locks`, `assert_held`/`assert_not_held`, `graph_dot` and
//! `graph_stats`.

use lockgraph::{Access, LockKind, Mutex, ReentrantLock, RwLock};

#[test]
fn held_locks_lists_the_current_threads_locks_outermost_first() {
    if !lockgraph::ENABLED {
        assert!(lockgraph::held_locks().is_empty());
        return;
    }
    let m = Mutex::named("outer", ());
    let rw = RwLock::named("table", ());
    let re = ReentrantLock::new(());
    let _m = m.lock().unwrap();
    let _r = rw.read().unwrap();
    let (_re, re_line) = (re.lock(), line!());
    let held = lockgraph::held_locks();
    let summary: Vec<_> = held
        .iter()
        .map(|h| (h.lock().kind(), h.lock().name(), h.access()))
        .collect();
    assert_eq!(
        summary,
        [
            (LockKind::Mutex, Some("outer"), Access::Exclusive),
            (LockKind::RwLock, Some("table"), Access::Shared),
            (LockKind::ReentrantLock, None, Access::Reentrant),
        ]
    );
    assert_eq!(held[2].acquired_at().line(), re_line);
    assert!(
        held[0]
            .lock()
            .created_at()
            .file()
            .ends_with("introspection.rs")
    );
    // Another thread holds nothing.
    assert!(
        std::thread::spawn(lockgraph::held_locks)
            .join()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn assert_held_on_every_std_type() {
    let rw = RwLock::new(());
    rw.assert_not_held();
    {
        let _w = rw.write().unwrap();
        rw.assert_held();
    }
    {
        let _r = rw.read().unwrap();
        rw.assert_held();
    }
    rw.assert_not_held();
    let re = ReentrantLock::new(());
    re.assert_not_held();
    let _g = re.lock();
    re.assert_held();
    if lockgraph::ENABLED {
        let other = std::thread::scope(|s| {
            s.spawn(|| std::panic::catch_unwind(|| rw.assert_held()))
                .join()
        });
        assert!(other.unwrap().is_err(), "another thread does not hold it");
    }
}

#[test]
fn graph_dot_shows_locks_and_edges() {
    if !lockgraph::ENABLED {
        return;
    }
    let a = Mutex::named("dot-a", ());
    let b = Mutex::named("dot \"b\"", ());
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    let dot = lockgraph::graph_dot();
    assert!(dot.starts_with("digraph lockgraph {"), "{dot}");
    assert!(
        dot.contains("Mutex \\\"dot-a\\\""),
        "names are escaped: {dot}"
    );
    assert!(dot.contains("dot \\\"b\\\""), "{dot}");
    assert!(dot.contains("introspection.rs"), "creation sites: {dot}");
    assert!(dot.contains(" -> "), "edges: {dot}");
    assert!(dot.trim_end().ends_with('}'));
}

#[test]
fn graph_stats_count_live_locks_and_edges() {
    if !lockgraph::ENABLED {
        return;
    }
    // Other tests of this file may run at once, adding and dropping their
    // own locks: count only what this test keeps alive.
    let a = Mutex::new(());
    let locks: Vec<Mutex<()>> = (0..20).map(|_| Mutex::new(())).collect();
    let _a = a.lock().unwrap();
    for lock in &locks {
        let _g = lock.lock().unwrap();
    }
    let stats = lockgraph::graph_stats();
    assert!(stats.locks >= 21, "{stats:?}");
    assert!(stats.edges >= 20, "{stats:?}");
}
