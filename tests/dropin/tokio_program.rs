// A program written against `tokio::sync`. `tests/compile_tokio.rs` compiles
// it twice: once after `use tokio::sync;`, once after
// `use lockgraph::tokio::sync;`. The `let _: fn(..) -> .. = ...;` lines pin
// the synchronous signatures; the async ones are awaited below.

use std::sync::Arc;

static GLOBAL: sync::Mutex<u32> = sync::Mutex::const_new(0);
static TABLE: sync::RwLock<u32> = sync::RwLock::const_new(0);

pub fn signatures() {
    let _: fn(u8) -> sync::Mutex<u8> = sync::Mutex::new;
    let _: fn(&sync::Mutex<u8>) -> Result<sync::MutexGuard<'_, u8>, sync::TryLockError> =
        sync::Mutex::try_lock;
    let _: fn(&sync::Mutex<u8>) -> sync::MutexGuard<'_, u8> = sync::Mutex::blocking_lock;
    let _: fn(Arc<sync::Mutex<u8>>) -> sync::OwnedMutexGuard<u8> = sync::Mutex::blocking_lock_owned;
    let _: fn(Arc<sync::Mutex<u8>>) -> Result<sync::OwnedMutexGuard<u8>, sync::TryLockError> =
        sync::Mutex::try_lock_owned;
    let _: fn(&mut sync::Mutex<u8>) -> &mut u8 = sync::Mutex::get_mut;
    let _: fn(sync::Mutex<u8>) -> u8 = sync::Mutex::into_inner;
    let _: fn(u8) -> sync::RwLock<u8> = sync::RwLock::new;
    let _: fn(u8, u32) -> sync::RwLock<u8> = sync::RwLock::with_max_readers;
    let _: fn(&sync::RwLock<u8>) -> Result<sync::RwLockReadGuard<'_, u8>, sync::TryLockError> =
        sync::RwLock::try_read;
    let _: fn(&sync::RwLock<u8>) -> Result<sync::RwLockWriteGuard<'_, u8>, sync::TryLockError> =
        sync::RwLock::try_write;
    let _: fn(&sync::RwLock<u8>) -> sync::RwLockReadGuard<'_, u8> = sync::RwLock::blocking_read;
    let _: fn(&sync::RwLock<u8>) -> sync::RwLockWriteGuard<'_, u8> = sync::RwLock::blocking_write;
    let _: fn(sync::OwnedRwLockWriteGuard<u8>) -> sync::OwnedRwLockReadGuard<u8> =
        sync::OwnedRwLockWriteGuard::downgrade;
    let _: fn(&sync::OwnedMutexGuard<u8>) -> &Arc<sync::Mutex<u8>> = sync::OwnedMutexGuard::mutex;
    let _: fn(&sync::OwnedRwLockReadGuard<u8>) -> &Arc<sync::RwLock<u8>> =
        sync::OwnedRwLockReadGuard::rwlock;
}

#[derive(Debug, Default)]
struct Account {
    balance: i64,
    history: Vec<i64>,
}

async fn transfer(from: &sync::Mutex<Account>, to: &sync::Mutex<Account>, amount: i64) {
    let mut from = from.lock().await;
    let mut to = to.lock().await;
    from.balance -= amount;
    from.history.push(-amount);
    to.balance += amount;
    to.history.push(amount);
}

pub fn run() {
    signatures();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let a = Arc::new(sync::Mutex::new(Account {
            balance: 100,
            ..Default::default()
        }));
        let b = Arc::new(sync::Mutex::new(Account::default()));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (a, b) = (a.clone(), b.clone());
                tokio::spawn(async move { transfer(&a, &b, 5).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(a.lock().await.balance, 80);
        assert_eq!(b.lock().await.history.len(), 4);

        // Mapped and owned guards.
        let balance = sync::MutexGuard::map(b.lock().await, |account| &mut account.balance);
        assert_eq!(*balance, 20);
        drop(balance);
        let owned = b.clone().lock_owned().await;
        let owned = sync::OwnedMutexGuard::map(owned, |account| &mut account.history);
        let moved = tokio::spawn(async move { owned.len() });
        assert_eq!(moved.await.unwrap(), 4);
        assert!(sync::MutexGuard::try_map(b.lock().await, |acc| acc.history.first_mut()).is_ok());
        assert!(b.try_lock().is_ok());
        assert_eq!(format!("{:?}", sync::Mutex::new(1)), format!("{:?}", sync::Mutex::new(1)));

        *GLOBAL.lock().await += 1;
        assert_eq!(*GLOBAL.lock().await, 1);

        // RwLock: readers share, a writer excludes, downgrade keeps it.
        let table = Arc::new(sync::RwLock::new(vec![1u8, 2, 3]));
        {
            let r1 = table.read().await;
            let other = table.clone();
            let r2 = tokio::spawn(async move { other.read().await.len() });
            assert_eq!(r1.len() + r2.await.unwrap(), 6);
            assert!(table.try_write().is_err());
        }
        let mut w = table.write().await;
        w.push(4);
        let r = w.downgrade();
        assert_eq!(r.len(), 4);
        drop(r);
        let whole: sync::RwLockMappedWriteGuard<'_, Vec<u8>> =
            sync::RwLockWriteGuard::into_mapped(table.write().await);
        assert_eq!(whole.len(), 4);
        drop(whole);
        let guard = a.lock().await;
        let same: &sync::Mutex<Account> = sync::MutexGuard::mutex(&guard);
        assert!(std::ptr::eq(same, &*a));
        drop(guard);
        let first = sync::RwLockReadGuard::map(table.read().await, |v| &v[0]);
        assert_eq!(*first, 1);
        drop(first);
        let owned = table.clone().write_owned().await;
        let mut last = sync::OwnedRwLockWriteGuard::map(owned, |v| v.last_mut().unwrap());
        *last = 40;
        drop(last);
        let owned_read = table.clone().read_owned().await;
        assert_eq!(owned_read[3], 40);
        drop(owned_read);
        *TABLE.write().await += 2;
        assert_eq!(*TABLE.read().await, 2);

        // The rest of tokio::sync is tokio's own, re-exported.
        let (tx, mut rx) = sync::mpsc::channel::<u8>(1);
        tx.send(7).await.unwrap();
        assert_eq!(rx.recv().await, Some(7));
        let notify = sync::Notify::new();
        notify.notify_one();
        notify.notified().await;
        let semaphore = sync::Semaphore::new(1);
        drop(semaphore.acquire().await.unwrap());
        let (otx, orx) = sync::oneshot::channel();
        otx.send(1).unwrap();
        assert_eq!(orx.await.unwrap(), 1);
    });
    let blocking = sync::Mutex::new(1);
    assert_eq!(*blocking.blocking_lock(), 1);
}
