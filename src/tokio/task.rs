//! `tokio::task`, with spawns whose end is a wait the lock order sees.
//!
//! `use tokio::task;` → `use lockgraph::tokio::task;` (and `tokio::spawn`
//! → `lockgraph::tokio::task::spawn`): a task spawned here orders every
//! lock it takes with nothing held after its own end, so awaiting its
//! [`JoinHandle`] (or [`JoinSet::join_next`]) while holding a lock the task
//! needs is a cycle — reported at the await's first poll or at the task's
//! acquisition, whichever comes second, before anything hangs:
//!
//! ```should_panic
//! use std::sync::Arc;
//! use lockgraph::tokio::{sync::Mutex, task};
//! # if !lockgraph::ENABLED { panic!("detection is off in this build") }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let state = Arc::new(Mutex::new(0));
//! let worker = {
//!     let state = state.clone();
//!     task::spawn(async move { *state.lock().await += 1 })
//! };
//! let _state = state.lock().await;
//! worker.await.unwrap(); // panics: "a task's JoinHandle is awaited while holding a lock the task needs"
//! # });
//! ```
//!
//! What a task's spawner did before `spawn` happens before the task runs,
//! and what the task did happens before its `JoinHandle` resolves: a task
//! that took the lock and ended before its spawner locked and awaited it
//! is clean. A `JoinHandle` has no call site of its own for `.await` to
//! report, so a report names the spawn site for both. Everything else in
//! this module is tokio's own; with detection compiled out, so is this.

pub use crate::facade::tokio_task::*;

#[cfg(any(debug_assertions, feature = "always"))]
pub use checked::{JoinHandle, JoinSet, spawn, spawn_blocking, spawn_local};

#[cfg(any(debug_assertions, feature = "always"))]
mod checked {
    use std::fmt;
    use std::future::Future;
    use std::panic::Location;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, ready};

    use crate::detect::Meta;
    use crate::detect::publish;
    use crate::detect::waits::{Event, Stamp};
    use crate::facade as sync;
    use crate::facade::tokio_task as tokio;
    use crate::report::LockKind;

    /// What a spawned task shares with its handle: the event its end is,
    /// its spawner's wait clock (taken in at the first poll) and its own
    /// at its end (taken in by whoever awaits the handle).
    struct TaskEnd {
        event: Arc<Event>,
        start: sync::Mutex<Stamp>,
        finish: sync::Mutex<Stamp>,
        spawned: &'static Location<'static>,
        /// The task's publication, while a watchdog runs: an await of the
        /// handle is followed to what the task waits for.
        task: publish::Joined,
        /// Aborted through its handle or set: an await of it ends however
        /// the task stands, so it waits for nothing the task takes.
        aborted: std::sync::atomic::AtomicBool,
    }

    impl TaskEnd {
        #[track_caller]
        fn new() -> Arc<TaskEnd> {
            Arc::new(TaskEnd {
                event: Event::shared(LockKind::Task),
                start: sync::Mutex::new(Meta::stamp()),
                finish: sync::Mutex::new(Stamp::default()),
                spawned: Location::caller(),
                task: Default::default(),
                aborted: std::sync::atomic::AtomicBool::new(false),
            })
        }

        /// A task's future, rooted at a fresh end, and that end.
        #[track_caller]
        fn root<F>(future: F) -> (Rooted<F>, Arc<TaskEnd>) {
            let end = TaskEnd::new();
            let rooted = Rooted {
                future,
                end: end.clone(),
                started: false,
            };
            (rooted, end)
        }

        fn abort(&self) {
            self.aborted
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }

        /// While a watchdog runs, says that the context awaits the task.
        fn blocked(&self) -> Option<publish::WaitGuard> {
            publish::begin_join(
                "the .await of the JoinHandle of the task",
                self.spawned,
                self.spawned,
                &self.task,
            )
        }

        /// The context awaits the end: what it holds now is ordered before
        /// it.
        fn wait(&self) {
            if self.aborted.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            self.event.wait_end_at(self.spawned);
        }

        /// The end was awaited: what the task did happens before what the
        /// awaiting context does next.
        fn absorb(&self) {
            Meta::absorb(&self.finish.lock().take());
        }
    }

    pin_project_lite::pin_project! {
        /// A task's future with its end as the task's root event.
        struct Rooted<F> {
            #[pin]
            future: F,
            end: Arc<TaskEnd>,
            started: bool,
        }

        impl<F> PinnedDrop for Rooted<F> {
            fn drop(this: Pin<&mut Self>) {
                let this = this.project();
                if *this.started {
                    Meta::end_root(&this.end.event);
                }
            }
        }
    }

    impl<F: Future> Future for Rooted<F> {
        type Output = F::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let this = self.project();
            if !*this.started {
                *this.started = true;
                Meta::absorb(&this.end.start.lock().take());
                Meta::begin_root(&this.end.event);
                *this.end.task.lock() = publish::this_thread();
            }
            let output = ready!(this.future.poll(cx));
            *this.end.finish.lock() = Meta::stamp();
            Meta::end_root(&this.end.event);
            Poll::Ready(output)
        }
    }

    /// Runs `f` with `end` as the context's root, as [`Rooted`] does for a
    /// future.
    fn rooted_call<R>(end: Arc<TaskEnd>, f: impl FnOnce() -> R) -> R {
        struct Finish(Arc<TaskEnd>);
        impl Drop for Finish {
            fn drop(&mut self) {
                *self.0.finish.lock() = Meta::stamp();
                Meta::end_root(&self.0.event);
            }
        }
        Meta::absorb(&end.start.lock().take());
        Meta::begin_root(&end.event);
        let _finish = Finish(end);
        f()
    }

    /// Spawns a task, as [`tokio::task::spawn`](::tokio::task::spawn).
    ///
    /// # Panics
    /// Outside a tokio runtime, as tokio's.
    #[track_caller]
    pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (rooted, end) = TaskEnd::root(future);
        JoinHandle::new(tokio::spawn(rooted), end)
    }

    /// Spawns a `!Send` task on the current `LocalSet`, as
    /// [`tokio::task::spawn_local`](::tokio::task::spawn_local).
    ///
    /// # Panics
    /// Outside a `LocalSet`, as tokio's.
    #[track_caller]
    pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (rooted, end) = TaskEnd::root(future);
        JoinHandle::new(tokio::spawn_local(rooted), end)
    }

    /// Runs `f` on tokio's blocking pool, as
    /// [`tokio::task::spawn_blocking`](::tokio::task::spawn_blocking).
    ///
    /// # Panics
    /// Outside a tokio runtime, as tokio's.
    #[track_caller]
    pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let end = TaskEnd::new();
        let task_end = end.clone();
        JoinHandle::new(tokio::spawn_blocking(move || rooted_call(task_end, f)), end)
    }

    /// An owned permission to join a task, as tokio's
    /// [`JoinHandle`](::tokio::task::JoinHandle): awaiting it waits for the
    /// task's end, with the locks held then ordered before it.
    pub struct JoinHandle<T> {
        inner: tokio::JoinHandle<T>,
        end: Arc<TaskEnd>,
        awaited: bool,
        blocked: Option<publish::WaitGuard>,
    }

    impl<T> JoinHandle<T> {
        fn new(inner: tokio::JoinHandle<T>, end: Arc<TaskEnd>) -> Self {
            JoinHandle {
                inner,
                end,
                awaited: false,
                blocked: None,
            }
        }

        /// Aborts the task (an await of the handle then waits for nothing
        /// the task takes: abort ends it wherever it is).
        pub fn abort(&self) {
            self.end.abort();
            self.inner.abort()
        }

        /// Whether the task has finished.
        pub fn is_finished(&self) -> bool {
            self.inner.is_finished()
        }

        /// A handle that can abort the task.
        pub fn abort_handle(&self) -> AbortHandle {
            self.inner.abort_handle()
        }

        /// The task's id.
        pub fn id(&self) -> Id {
            self.inner.id()
        }
    }

    use super::{AbortHandle, Id, JoinError};

    impl<T> Future for JoinHandle<T> {
        type Output = Result<T, JoinError>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.get_mut();
            if !this.awaited {
                this.awaited = true;
                this.end.wait();
            }
            let Poll::Ready(output) = Pin::new(&mut this.inner).poll(cx) else {
                if this.blocked.is_none() {
                    this.blocked = this.end.blocked();
                }
                return Poll::Pending;
            };
            this.blocked = None;
            this.end.absorb();
            Poll::Ready(output)
        }
    }

    impl<T> fmt::Debug for JoinHandle<T>
    where
        T: fmt::Debug,
    {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.inner, f)
        }
    }

    /// A collection of tasks, as tokio's [`JoinSet`](::tokio::task::JoinSet):
    /// [`join_next`](JoinSet::join_next) waits for any of them, so each
    /// task's end is ordered after the locks held then.
    pub struct JoinSet<T> {
        inner: tokio::JoinSet<T>,
        ends: std::collections::HashMap<Id, Arc<TaskEnd>>,
    }

    impl<T> Default for JoinSet<T> {
        fn default() -> Self {
            JoinSet::new()
        }
    }

    impl<T> JoinSet<T> {
        /// An empty set.
        pub fn new() -> Self {
            JoinSet {
                inner: tokio::JoinSet::new(),
                ends: std::collections::HashMap::new(),
            }
        }

        /// The number of tasks in the set.
        pub fn len(&self) -> usize {
            self.inner.len()
        }

        /// Whether the set is empty.
        pub fn is_empty(&self) -> bool {
            self.inner.is_empty()
        }
    }

    impl<T: 'static> JoinSet<T> {
        fn add(&mut self, handle: AbortHandle, end: Arc<TaskEnd>) -> AbortHandle {
            self.ends.insert(handle.id(), end);
            handle
        }

        /// The set waits for any task: every task's end is ordered after
        /// the locks held now.
        fn wait_any(&self) {
            for end in self.ends.values() {
                end.wait();
            }
        }

        /// A task left the set (`joined`, finished or failed): its end is
        /// no longer waited for, and what it did happens before what comes
        /// next.
        fn settle<R>(&mut self, joined: &Option<Result<(Id, R), JoinError>>) {
            let id = match joined {
                Some(Ok((id, _))) => *id,
                Some(Err(error)) => error.id(),
                None => return,
            };
            if let Some(end) = self.ends.remove(&id) {
                end.absorb();
            }
        }

        /// Spawns a task into the set, as tokio's `JoinSet::spawn`.
        #[track_caller]
        pub fn spawn<F>(&mut self, task: F) -> AbortHandle
        where
            F: Future<Output = T> + Send + 'static,
            T: Send + 'static,
        {
            let (rooted, end) = TaskEnd::root(task);
            let handle = self.inner.spawn(rooted);
            self.add(handle, end)
        }

        /// Spawns a `!Send` task on the current `LocalSet`.
        #[track_caller]
        pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
        where
            F: Future<Output = T> + 'static,
            T: 'static,
        {
            let (rooted, end) = TaskEnd::root(task);
            let handle = self.inner.spawn_local(rooted);
            self.add(handle, end)
        }

        /// Runs `f` on the blocking pool as a task of the set.
        #[track_caller]
        pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
        where
            F: FnOnce() -> T + Send + 'static,
            T: Send + 'static,
        {
            let end = TaskEnd::new();
            let task_end = end.clone();
            let handle = self.inner.spawn_blocking(move || rooted_call(task_end, f));
            self.add(handle, end)
        }

        /// Waits for one of the tasks to finish, as tokio's; `None` when
        /// the set is empty.
        pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
            self.join_next_with_id()
                .await
                .map(|result| result.map(|(_, value)| value))
        }

        /// [`JoinSet::join_next`], with the task's id.
        pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
            self.wait_any();
            let joined = self.inner.join_next_with_id().await;
            self.settle(&joined);
            joined
        }

        /// A finished task's result, if any, without waiting.
        pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
            let joined = self.inner.try_join_next_with_id();
            self.settle(&joined);
            joined.map(|result| result.map(|(_, value)| value))
        }

        /// Aborts every task and waits for them to stop.
        pub async fn shutdown(&mut self) {
            for end in self.ends.values() {
                end.abort();
            }
            self.inner.shutdown().await;
            self.ends.clear();
        }

        /// Waits for every task, returning their results in the order they
        /// finished.
        pub async fn join_all(mut self) -> Vec<T> {
            let mut out = Vec::with_capacity(self.len());
            while let Some(joined) = self.join_next().await {
                match joined {
                    Ok(value) => out.push(value),
                    Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                    Err(error) => panic!("{error}"),
                }
            }
            out
        }

        /// Aborts every task, without waiting.
        pub fn abort_all(&mut self) {
            for end in self.ends.values() {
                end.abort();
            }
            self.inner.abort_all()
        }

        /// Removes every task from the set, without aborting them.
        pub fn detach_all(&mut self) {
            self.inner.detach_all();
            self.ends.clear();
        }

        /// Polls for one of the tasks to finish, as tokio's.
        pub fn poll_join_next(
            &mut self,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<T, JoinError>>> {
            self.poll_join_next_with_id(cx)
                .map(|joined| joined.map(|result| result.map(|(_, value)| value)))
        }

        /// [`JoinSet::poll_join_next`], with the task's id.
        pub fn poll_join_next_with_id(
            &mut self,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<(Id, T), JoinError>>> {
            let joined = ready!(self.inner.poll_join_next_with_id(cx));
            self.settle(&joined);
            Poll::Ready(joined)
        }
    }

    impl<T> fmt::Debug for JoinSet<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.inner, f)
        }
    }

    impl<T: 'static, F> std::iter::FromIterator<F> for JoinSet<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        #[track_caller]
        fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
            let mut set = JoinSet::new();
            for task in iter {
                set.spawn(task);
            }
            set
        }
    }

    impl<T: 'static, F> Extend<F> for JoinSet<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        #[track_caller]
        fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
            for task in iter {
                self.spawn(task);
            }
        }
    }
}
