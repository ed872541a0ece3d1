// A program written against `std::sync`. `tests/compile_std.rs` compiles it
// twice: once with `use std::sync::...`, once with `use lockgraph::...`.
// The `let _: fn(..) -> .. = Type::method;` lines pin every signature.

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

pub struct Account {
    pub balance: Mutex<u64>,
    pub history: RwLock<Vec<i64>>,
}

#[derive(Default)]
pub struct Registry {
    pub names: Mutex<Vec<String>>,
    pub config: RwLock<String>,
}

static COUNTER: Mutex<u64> = Mutex::new(0);
static TABLE: RwLock<Vec<u8>> = RwLock::new(Vec::new());
static SIGNAL: Condvar = Condvar::new();

pub fn signatures() {
    let _: fn(u8) -> Mutex<u8> = Mutex::new;
    let _: for<'a> fn(&'a Mutex<u8>) -> LockResult<MutexGuard<'a, u8>> = Mutex::lock;
    let _: for<'a> fn(&'a Mutex<u8>) -> TryLockResult<MutexGuard<'a, u8>> = Mutex::try_lock;
    let _: fn(&Mutex<u8>) -> bool = Mutex::is_poisoned;
    let _: fn(&Mutex<u8>) = Mutex::clear_poison;
    let _: fn(Mutex<u8>) -> LockResult<u8> = Mutex::into_inner;
    let _: fn(&mut Mutex<u8>) -> LockResult<&mut u8> = Mutex::get_mut;
    let _: fn(u8) -> RwLock<u8> = RwLock::new;
    let _: for<'a> fn(&'a RwLock<u8>) -> LockResult<RwLockReadGuard<'a, u8>> = RwLock::read;
    let _: for<'a> fn(&'a RwLock<u8>) -> LockResult<RwLockWriteGuard<'a, u8>> = RwLock::write;
    let _: for<'a> fn(&'a RwLock<u8>) -> TryLockResult<RwLockReadGuard<'a, u8>> = RwLock::try_read;
    let _: for<'a> fn(&'a RwLock<u8>) -> TryLockResult<RwLockWriteGuard<'a, u8>> = RwLock::try_write;
    let _: fn(&RwLock<u8>) -> bool = RwLock::is_poisoned;
    let _: fn(&RwLock<u8>) = RwLock::clear_poison;
    let _: fn(RwLock<u8>) -> LockResult<u8> = RwLock::into_inner;
    let _: fn(&mut RwLock<u8>) -> LockResult<&mut u8> = RwLock::get_mut;
    let _: fn() -> Condvar = Condvar::new;
    let _: for<'a> fn(&Condvar, MutexGuard<'a, u8>) -> LockResult<MutexGuard<'a, u8>> = Condvar::wait;
    let _: for<'a> fn(
        &Condvar,
        MutexGuard<'a, u8>,
        Duration,
    ) -> LockResult<(MutexGuard<'a, u8>, WaitTimeoutResult)> = Condvar::wait_timeout;
    let _: fn(&Condvar) = Condvar::notify_one;
    let _: fn(&Condvar) = Condvar::notify_all;
    let _: fn(&WaitTimeoutResult) -> bool = WaitTimeoutResult::timed_out;
    let _: Mutex<u8> = Default::default();
    let _: Mutex<u8> = From::from(1);
    let _: RwLock<u8> = From::from(1);
    let _: Condvar = Default::default();
}

pub fn transfer(from: &Account, to: &Account, amount: u64) -> Result<(), String> {
    let mut source = from.balance.lock().map_err(|e| e.to_string())?;
    if *source < amount {
        return Err("insufficient funds".into());
    }
    *source -= amount;
    drop(source);
    *to.balance.lock().unwrap_or_else(PoisonError::into_inner) += amount;
    from.history.write().unwrap().push(-(amount as i64));
    to.history.write().expect("history").push(amount as i64);
    Ok(())
}

pub fn try_paths(account: &Account) -> Option<u64> {
    match account.balance.try_lock() {
        Ok(guard) => Some(*guard),
        Err(TryLockError::WouldBlock) => None,
        Err(TryLockError::Poisoned(err)) => Some(*err.into_inner()),
    }
}

pub fn queue_round_trip() -> u32 {
    let shared = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
    let producer = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            for i in 0..10u32 {
                shared.0.lock().unwrap().push_back(i);
                shared.1.notify_one();
            }
        })
    };
    let mut sum = 0;
    for _ in 0..10 {
        let mut queue = shared.1.wait_while(shared.0.lock().unwrap(), |q| q.is_empty()).unwrap();
        sum += queue.pop_front().unwrap();
    }
    let (_guard, timeout) = shared
        .1
        .wait_timeout_while(shared.0.lock().unwrap(), Duration::from_millis(1), |_| true)
        .unwrap();
    assert!(timeout.timed_out());
    producer.join().unwrap();
    sum
}

pub fn statics_and_unsized() -> usize {
    *COUNTER.lock().unwrap() += 1;
    TABLE.write().unwrap().push(1);
    SIGNAL.notify_all();
    let boxed: Box<Mutex<[u8]>> = Box::new(Mutex::new([1, 2, 3]));
    let len = boxed.lock().unwrap().len();
    let registry = Registry::default();
    registry.names.lock().unwrap().push(format!("{:?}", registry.config));
    len + registry.names.lock().unwrap().len()
}

pub fn run() {
    signatures();
    let a = Account { balance: Mutex::new(10), history: RwLock::new(Vec::new()) };
    let b = Account { balance: Mutex::new(0), history: RwLock::default() };
    transfer(&a, &b, 4).unwrap();
    assert_eq!(try_paths(&b), Some(4));
    assert_eq!(queue_round_trip(), 45);
    assert_eq!(statics_and_unsized(), 4);
    let guard = a.balance.lock().unwrap();
    assert_eq!(format!("{guard} {guard:?}"), "6 6");
}
