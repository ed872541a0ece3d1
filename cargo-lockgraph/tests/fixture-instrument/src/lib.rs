//! Two accounts behind `crossbeam_utils::sync::ShardedLock`s.

use crossbeam_utils::sync::ShardedLock;

/// An account's balance.
pub struct Account(pub ShardedLock<i64>);

/// Moves `amount` from `from` to `to`, taking `from` first: two transfers
/// in opposite directions take the two locks in opposite orders.
pub fn transfer(from: &Account, to: &Account, amount: i64) {
    let mut source = from.0.write().unwrap();
    let mut dest = to.0.write().unwrap();
    *source -= amount;
    *dest += amount;
}

/// The fix: always take the two locks in one order (here, by address).
pub fn transfer_ordered(from: &Account, to: &Account, amount: i64) {
    let (first, second) = if (from as *const Account) < (to as *const Account) {
        (from, to)
    } else {
        (to, from)
    };
    let mut a = first.0.write().unwrap();
    let mut b = second.0.write().unwrap();
    if std::ptr::eq(first, from) {
        *a -= amount;
        *b += amount;
    } else {
        *b -= amount;
        *a += amount;
    }
}
