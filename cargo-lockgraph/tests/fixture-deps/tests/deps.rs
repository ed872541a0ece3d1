use lockgraph_fixture_deps::Registry;
use parking_lot::{Mutex, RwLock};

fn registry() -> Registry {
    let registry = Registry::new();
    registry.names.insert(1, "ada".into());
    registry.scores.insert(1, 3);
    registry
}

#[test]
fn bug_ref_held_while_inserting() {
    registry().rename_in_place(1, "!");
}

#[test]
fn clean_ref_dropped_before_inserting() {
    let registry = registry();
    registry.rename(1, "!");
    assert_eq!(*registry.names.get(&1).unwrap(), "ada!");
}

#[test]
fn clean_two_reads_of_one_shard() {
    // dashmap's shards let readers in while a writer waits: a second read
    // by the same thread cannot deadlock.
    let registry = registry();
    let first = registry.names.get(&1).unwrap();
    let second = registry.names.get(&1).unwrap();
    assert_eq!(*first, *second);
}

#[test]
fn maps_names_then_scores() {
    registry().score_by_name(1);
}

#[test]
fn maps_scores_then_names() {
    if std::env::var_os("FIXTURE_ORDERED").is_some() {
        registry().name_by_score_ordered(1);
    } else {
        registry().name_by_score(1);
    }
}

#[test]
fn bug_parking_lot_relock() {
    let counter = Mutex::new(0);
    let guard = counter.lock();
    let again = counter.lock();
    drop((guard, again));
}

#[test]
fn clean_parking_lot_lock_twice_in_turn() {
    let counter = Mutex::new(0);
    *counter.lock() += 1;
    *counter.lock() += 1;
    assert_eq!(*counter.lock(), 2);
}

#[test]
fn bug_parking_lot_second_read() {
    // parking_lot's RwLock queues new readers behind a waiting writer: a
    // second read deadlocks as soon as a writer arrives in between.
    let config = RwLock::new(1);
    let first = config.read();
    let second = config.read();
    assert_eq!(*first, *second);
}

#[test]
fn clean_parking_lot_recursive_read() {
    let config = RwLock::new(1);
    let first = config.read();
    let second = config.read_recursive();
    assert_eq!(*first, *second);
}
