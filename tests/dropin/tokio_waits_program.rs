// A program against `sync` (tokio's or lockgraph's `tokio::sync`) and `task`
// (tokio's or lockgraph's `tokio::task`): the waits' API as tokio has it.
// Included by tests/compile_tokio.rs.

use std::sync::Arc;

pub fn run() {
    // The signatures, pinned as fn pointers where they are plain methods.
    let _: fn(sync::oneshot::Sender<u8>, u8) -> Result<(), u8> = sync::oneshot::Sender::send;
    let _: fn(&mut sync::oneshot::Receiver<u8>) -> Result<u8, sync::oneshot::error::TryRecvError> =
        sync::oneshot::Receiver::try_recv;
    let _: fn(&sync::mpsc::Sender<u8>, u8) -> Result<(), sync::mpsc::error::TrySendError<u8>> =
        sync::mpsc::Sender::try_send;
    let _: fn(&sync::mpsc::UnboundedSender<u8>, u8) -> Result<(), sync::mpsc::error::SendError<u8>> =
        sync::mpsc::UnboundedSender::send;
    let _: fn(&mut sync::mpsc::Receiver<u8>) -> Result<u8, sync::mpsc::error::TryRecvError> =
        sync::mpsc::Receiver::try_recv;
    let _: fn(&sync::Notify) = sync::Notify::notify_one;
    let _: fn(&sync::Semaphore) -> usize = sync::Semaphore::available_permits;
    let _: fn(&sync::Semaphore) -> Result<sync::SemaphorePermit<'_>, sync::TryAcquireError> =
        sync::Semaphore::try_acquire;
    let _: fn(&task::JoinHandle<u8>) -> bool = task::JoinHandle::is_finished;

    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
        .block_on(async {
            // oneshot
            let (tx, rx) = sync::oneshot::channel::<u32>();
            assert!(!tx.is_closed());
            tx.send(1).unwrap();
            assert_eq!(rx.await.unwrap(), 1);
            let (tx, mut rx) = sync::oneshot::channel::<u32>();
            assert!(rx.try_recv().is_err());
            drop(tx);
            assert!(rx.await.is_err());

            // mpsc, bounded and unbounded, with permits
            let (tx, mut rx) = sync::mpsc::channel::<u32>(2);
            tx.send(1).await.unwrap();
            tx.try_send(2).unwrap();
            assert!(matches!(tx.try_send(3), Err(sync::mpsc::error::TrySendError::Full(3))));
            assert_eq!(rx.recv().await, Some(1));
            let permit = tx.reserve().await.unwrap();
            permit.send(4);
            assert_eq!(rx.try_recv(), Ok(2));
            let mut batch = Vec::new();
            assert_eq!(rx.recv_many(&mut batch, 8).await, 1);
            assert_eq!(batch, [4]);
            assert_eq!(tx.capacity(), 2);
            assert_eq!(tx.max_capacity(), 2);
            let weak = tx.downgrade();
            assert!(weak.upgrade().is_some());
            let owned = tx.clone().reserve_owned().await.unwrap();
            let tx2 = owned.send(5);
            assert!(tx2.same_channel(&tx));
            assert_eq!(rx.recv().await, Some(5));
            drop((tx, tx2));
            assert_eq!(rx.recv().await, None);
            let (utx, mut urx) = sync::mpsc::unbounded_channel::<u32>();
            utx.send(6).unwrap();
            assert_eq!(urx.len(), 1);
            assert_eq!(urx.recv().await, Some(6));
            drop(utx);
            assert_eq!(urx.recv().await, None);

            // Notify
            let notify = Arc::new(sync::Notify::new());
            let waiter = {
                let notify = notify.clone();
                tokio::spawn(async move { notify.notified().await })
            };
            tokio::task::yield_now().await;
            notify.notify_one();
            waiter.await.unwrap();
            notify.notify_waiters();
            let owned: sync::futures::OwnedNotified = notify.clone().notified_owned();
            notify.notify_one();
            owned.await;

            // Semaphore
            let semaphore = Arc::new(sync::Semaphore::new(2));
            let permit = semaphore.acquire().await.unwrap();
            assert_eq!(permit.num_permits(), 1);
            let owned: sync::OwnedSemaphorePermit = semaphore.clone().acquire_owned().await.unwrap();
            assert_eq!(semaphore.available_permits(), 0);
            assert!(semaphore.try_acquire().is_err());
            drop(permit);
            owned.forget();
            assert_eq!(semaphore.available_permits(), 1);
            semaphore.add_permits(1);
            let many = semaphore.acquire_many(2).await.unwrap();
            assert_eq!(many.num_permits(), 2);
            drop(many);
            semaphore.close();
            assert!(semaphore.acquire().await.is_err());

            // watch
            let (wtx, mut wrx) = sync::watch::channel(0u32);
            wtx.send(1).unwrap();
            wrx.changed().await.unwrap();
            assert_eq!(*wrx.borrow_and_update(), 1);
            wtx.send_modify(|v| *v += 1);
            let seen: sync::watch::Ref<'_, u32> = wrx.wait_for(|v| *v == 2).await.unwrap();
            assert_eq!(*seen, 2);
            drop(seen);
            assert_eq!(wtx.send_replace(5), 2);
            assert_eq!(wtx.receiver_count(), 1);
            let _: sync::watch::Receiver<u32> = wtx.subscribe();

            // Barrier
            let barrier = Arc::new(sync::Barrier::new(2));
            let other = {
                let barrier = barrier.clone();
                tokio::spawn(async move { barrier.wait().await.is_leader() })
            };
            let leader: sync::BarrierWaitResult = barrier.wait().await;
            assert_ne!(leader.is_leader(), other.await.unwrap());

            // task
            let handle: task::JoinHandle<u32> = task::spawn(async { 7 });
            assert_eq!(handle.await.unwrap(), 7);
            let blocking = task::spawn_blocking(|| 8);
            assert_eq!(blocking.await.unwrap(), 8);
            let forever = task::spawn(std::future::pending::<()>());
            forever.abort();
            assert!(forever.await.unwrap_err().is_cancelled());
            let mut set = task::JoinSet::new();
            for i in 0..3u32 {
                set.spawn(async move { i });
            }
            let mut sum = 0;
            while let Some(done) = set.join_next().await {
                sum += done.unwrap();
            }
            assert_eq!(sum, 3);
            assert!(set.is_empty());
            let set: task::JoinSet<u32> = (0..3u32).map(|i| async move { i }).collect();
            assert_eq!(set.join_all().await.len(), 3);
            task::yield_now().await;
        });
}
