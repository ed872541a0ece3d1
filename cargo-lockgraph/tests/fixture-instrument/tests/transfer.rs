use crossbeam_utils::sync::ShardedLock;
use lockgraph_fixture_instrument::{Account, transfer, transfer_ordered};

#[test]
fn transfers_both_ways() {
    let a = Account(ShardedLock::new(100));
    let b = Account(ShardedLock::new(100));
    if cfg!(feature = "fixed") {
        transfer_ordered(&a, &b, 10);
        transfer_ordered(&b, &a, 5);
    } else {
        transfer(&a, &b, 10);
        transfer(&b, &a, 5);
    }
    assert_eq!(*a.0.read().unwrap(), 95);
    assert_eq!(*b.0.read().unwrap(), 105);
}
