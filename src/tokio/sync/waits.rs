//! The parts of `tokio::sync` a context waits on another for — a
//! [`oneshot`] value, a [`Notify`] notification, a [`Semaphore`] permit —
//! as events in the lock order (see `detect::waits`): the locks a context
//! holds when it starts waiting are ordered before the event, the locks the
//! producer holds or took on its way to producing it after. Built only with
//! detection on; otherwise each is tokio's own.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::detect::Meta;
use crate::detect::publish::{WaitGuard, begin_blocked};
use crate::detect::waits::{Event, Stamp, WaitClock};
use crate::facade as sync;
use crate::facade::tokio_sync as tokio;
use crate::report::LockKind;

/// An event whose signals leave their wait clocks in one shared place (a
/// Notify's notifications, a Semaphore's releases), for whoever waits next.
struct Signals {
    event: Event,
    clocks: sync::Mutex<WaitClock>,
}

impl Signals {
    #[track_caller]
    fn new(kind: LockKind) -> Signals {
        Signals {
            event: Event::new(kind),
            clocks: sync::Mutex::new(WaitClock::new()),
        }
    }

    /// A signal: the locks held or taken on the way are ordered after the
    /// event.
    #[track_caller]
    fn produce(&self) {
        self.produce_at(Location::caller());
    }

    /// [`Signals::produce`] at `site`.
    fn produce_at(&self, site: &'static Location<'static>) {
        let stamp = self.event.meta.produce_at(self.event.kind, site);
        if !stamp.is_none() {
            self.clocks.lock().absorb(&stamp);
        }
    }

    /// A wait begins at `site`: the locks held now are ordered before it.
    fn wait(&self, site: &'static Location<'static>) {
        self.event.meta.wait_event_at(self.event.kind, None, site);
    }

    /// While a watchdog runs, says that the context waits in `what`, at
    /// `site`, for this event.
    fn blocked(&self, what: &'static str, site: &'static Location<'static>) -> Option<WaitGuard> {
        begin_blocked(what, self.event.meta.created(), site)
    }

    /// A wait ended: what the signals did happens before what comes next.
    fn absorb(&self) {
        let stamp = self.clocks.lock().stamp();
        Meta::absorb(&stamp);
    }
}

pub mod oneshot {
    //! `tokio::sync::oneshot`, checked: awaiting the [`Receiver`] while
    //! holding a lock the sender takes before [`Sender::send`] is reported
    //! (at the first poll, or at the send). What the sender did before
    //! sending happens before what the receiver does after receiving.

    use super::*;

    pub use super::tokio::oneshot::error;
    use error::{RecvError, TryRecvError};

    /// Creates a oneshot channel, as tokio's; its creation site names it in
    /// reports.
    #[track_caller]
    pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let (tx, rx) = tokio::oneshot::channel();
        let event = Event::shared(LockKind::Oneshot);
        (
            Sender {
                inner: tx,
                event: event.clone(),
            },
            Receiver {
                inner: rx,
                event,
                awaited: false,
                blocked: None,
            },
        )
    }

    /// Sends a value to the [`Receiver`], as tokio's.
    pub struct Sender<T> {
        inner: tokio::oneshot::Sender<(T, Stamp)>,
        event: Arc<Event>,
    }

    impl<T> Sender<T> {
        /// Sends `t`; `Err(t)` if the receiver is gone. The locks held now
        /// or taken since this context's last wait are ordered after the
        /// value.
        #[track_caller]
        pub fn send(self, t: T) -> Result<(), T> {
            let stamp = self.event.meta.produce(LockKind::Oneshot);
            self.inner.send((t, stamp)).map_err(|(t, _)| t)
        }

        /// Waits for the receiver to close or be dropped.
        pub async fn closed(&mut self) {
            self.inner.closed().await
        }

        /// Whether the receiver closed or was dropped.
        pub fn is_closed(&self) -> bool {
            self.inner.is_closed()
        }

        /// Polls for the receiver to close.
        pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
            self.inner.poll_closed(cx)
        }
    }

    impl<T> fmt::Debug for Sender<T>
    where
        T: fmt::Debug,
    {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Sender").finish_non_exhaustive()
        }
    }

    /// Receives the value, as tokio's: a future; awaiting it is a wait on
    /// the sender (named by the channel's creation site: a future has no
    /// call site of its own).
    pub struct Receiver<T> {
        inner: tokio::oneshot::Receiver<(T, Stamp)>,
        event: Arc<Event>,
        awaited: bool,
        blocked: Option<WaitGuard>,
    }

    fn open<T>((value, stamp): (T, Stamp)) -> T {
        Meta::absorb(&stamp);
        value
    }

    impl<T> Receiver<T> {
        /// Closes the channel: the sender can no longer send.
        pub fn close(&mut self) {
            self.inner.close()
        }

        /// Whether the value was received or the channel closed.
        pub fn is_terminated(&self) -> bool {
            self.inner.is_terminated()
        }

        /// Whether no value is waiting.
        pub fn is_empty(&self) -> bool {
            self.inner.is_empty()
        }

        /// The value if it was sent, without waiting.
        pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
            self.inner.try_recv().map(open)
        }

        /// Waits for the value outside a runtime, as tokio's.
        ///
        /// # Panics
        /// Inside an async context, as tokio's.
        #[track_caller]
        pub fn blocking_recv(self) -> Result<T, RecvError> {
            self.event
                .meta
                .wait_event_at(LockKind::Oneshot, None, Location::caller());
            self.inner.blocking_recv().map(open)
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = Result<T, RecvError>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.get_mut();
            if !this.awaited {
                this.awaited = true;
                let site = this.event.meta.created();
                this.event.meta.wait_event_at(LockKind::Oneshot, None, site);
            }
            let Poll::Ready(received) = Pin::new(&mut this.inner).poll(cx) else {
                if this.blocked.is_none() {
                    let site = this.event.meta.created();
                    this.blocked = begin_blocked("the .await of a oneshot Receiver", site, site);
                }
                return Poll::Pending;
            };
            this.blocked = None;
            Poll::Ready(received.map(open))
        }
    }

    impl<T> fmt::Debug for Receiver<T>
    where
        T: fmt::Debug,
    {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Receiver").finish_non_exhaustive()
        }
    }
}

/// Notifies a task, as tokio's `Notify`: awaiting [`Notify::notified`]
/// while holding a lock the notifier takes before notifying is reported.
pub struct Notify {
    inner: tokio::Notify,
    signals: Signals,
}

impl Default for Notify {
    #[track_caller]
    fn default() -> Self {
        Notify::new()
    }
}

impl Notify {
    /// A `Notify` with no permit stored; its creation site names it in
    /// reports.
    #[track_caller]
    pub fn new() -> Notify {
        Notify {
            inner: tokio::Notify::new(),
            signals: Signals::new(LockKind::Notify),
        }
    }

    /// Waits for a notification: the locks held at the first poll are
    /// ordered before it.
    #[track_caller]
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            inner: self.inner.notified(),
            signals: &self.signals,
            site: Location::caller(),
            awaited: false,
            blocked: None,
        }
    }

    /// [`Notify::notified`] for an `Arc<Notify>`, owning it.
    #[track_caller]
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        let site = Location::caller();
        // SAFETY: the future borrows the `Notify` inside `notify`, which the
        // `OwnedNotified` keeps alive (and in place) for longer: its
        // `inner` field is declared, so dropped, first.
        let inner = unsafe {
            std::mem::transmute::<tokio::futures::Notified<'_>, tokio::futures::Notified<'static>>(
                self.inner.notified(),
            )
        };
        OwnedNotified {
            inner,
            notify: self,
            site,
            awaited: false,
            blocked: None,
        }
    }

    /// Wakes one waiter (or stores a permit), as tokio's.
    #[track_caller]
    pub fn notify_one(&self) {
        self.signals.produce();
        self.inner.notify_one()
    }

    /// Wakes the most recent waiter (or stores a permit), as tokio's.
    #[track_caller]
    pub fn notify_last(&self) {
        self.signals.produce();
        self.inner.notify_last()
    }

    /// Wakes every current waiter, as tokio's.
    #[track_caller]
    pub fn notify_waiters(&self) {
        self.signals.produce();
        self.inner.notify_waiters()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Notify::notified`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Notified<'a> {
        #[pin]
        inner: tokio::futures::Notified<'a>,
        signals: &'a Signals,
        site: &'static Location<'static>,
        awaited: bool,
        blocked: Option<WaitGuard>,
    }
}

impl Notified<'_> {
    /// Registers the future as a waiter without waiting, as tokio's;
    /// returns whether it was already notified.
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.project().inner.enable()
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if !*this.awaited {
            *this.awaited = true;
            this.signals.wait(this.site);
        }
        if this.inner.poll(cx).is_pending() {
            if this.blocked.is_none() {
                *this.blocked = this.signals.blocked("Notify::notified", this.site);
            }
            return Poll::Pending;
        }
        *this.blocked = None;
        this.signals.absorb();
        Poll::Ready(())
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Notify::notified_owned`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct OwnedNotified {
        // Declared first: dropped before the `Notify` it borrows.
        #[pin]
        inner: tokio::futures::Notified<'static>,
        notify: Arc<Notify>,
        site: &'static Location<'static>,
        awaited: bool,
        blocked: Option<WaitGuard>,
    }
}

impl OwnedNotified {
    /// As [`Notified::enable`].
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.project().inner.enable()
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if !*this.awaited {
            *this.awaited = true;
            this.notify.signals.wait(this.site);
        }
        if this.inner.poll(cx).is_pending() {
            if this.blocked.is_none() {
                *this.blocked = this.notify.signals.blocked("Notify::notified", this.site);
            }
            return Poll::Pending;
        }
        *this.blocked = None;
        this.notify.signals.absorb();
        Poll::Ready(())
    }
}

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

pub use tokio::{AcquireError, TryAcquireError};

/// A counting semaphore, as tokio's `Semaphore` (without
/// `blocking_acquire`, which tokio added after 1.47, lockgraph's minimum).
/// A permit is a resource:
/// waiting for one while holding a lock that a permit holder takes before
/// releasing its permit is reported — the shape of pool exhaustion, found
/// whether or not this run ran out of permits.
pub struct Semaphore {
    inner: tokio::Semaphore,
    signals: Signals,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = tokio::Semaphore::MAX_PERMITS;

    /// A semaphore with `permits` permits; its creation site names it in
    /// reports.
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            inner: tokio::Semaphore::new(permits),
            signals: Signals::new(LockKind::Semaphore),
        }
    }

    /// The permits available now.
    pub fn available_permits(&self) -> usize {
        self.inner.available_permits()
    }

    /// Adds `n` permits (a release without a permit: ordered as one).
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.signals.produce();
        self.inner.add_permits(n)
    }

    /// Takes up to `n` available permits away for good; returns how many.
    pub fn forget_permits(&self, n: usize) -> usize {
        self.inner.forget_permits(n)
    }

    fn permit<'a>(&'a self, inner: tokio::SemaphorePermit<'a>) -> SemaphorePermit<'a> {
        self.signals.absorb();
        SemaphorePermit {
            inner: Some(inner),
            semaphore: self,
        }
    }

    /// Waits for a permit: the locks held at the first poll are ordered
    /// before the semaphore's releases.
    #[track_caller]
    pub fn acquire(&self) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> {
        self.acquire_many_at(1, Location::caller())
    }

    /// Waits for `n` permits.
    #[track_caller]
    pub fn acquire_many(
        &self,
        n: u32,
    ) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> {
        self.acquire_many_at(n, Location::caller())
    }

    async fn acquire_many_at(
        &self,
        n: u32,
        site: &'static Location<'static>,
    ) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.signals.wait(site);
        // Named for the watchdog only if it will wait; the acquisition is
        // tokio's, queued fairly behind earlier waiters.
        let _blocked = (self.inner.available_permits() < n as usize)
            .then(|| self.signals.blocked("Semaphore::acquire", site))
            .flatten();
        let inner = self.inner.acquire_many(n).await?;
        Ok(self.permit(inner))
    }

    /// A permit if one is available, without waiting.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.inner.try_acquire().map(|inner| self.permit(inner))
    }

    /// `n` permits if available, without waiting.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.inner
            .try_acquire_many(n)
            .map(|inner| self.permit(inner))
    }

    fn owned(self: Arc<Self>, permit: SemaphorePermit<'_>) -> OwnedSemaphorePermit {
        let mut permit = std::mem::ManuallyDrop::new(permit);
        let inner = permit.inner.take();
        // SAFETY: the permit borrows the semaphore inside `self`, which the
        // `OwnedSemaphorePermit` keeps alive (and in place) for as long as
        // the permit: its `inner` field is dropped first.
        let inner = unsafe {
            std::mem::transmute::<
                Option<tokio::SemaphorePermit<'_>>,
                Option<tokio::SemaphorePermit<'static>>,
            >(inner)
        };
        OwnedSemaphorePermit {
            inner,
            semaphore: self,
        }
    }

    /// [`Semaphore::acquire`] for an `Arc<Semaphore>`: the permit owns it.
    #[track_caller]
    pub fn acquire_owned(
        self: Arc<Self>,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        self.acquire_many_owned_at(1, Location::caller())
    }

    /// [`Semaphore::acquire_many`] for an `Arc<Semaphore>`.
    #[track_caller]
    pub fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        self.acquire_many_owned_at(n, Location::caller())
    }

    async fn acquire_many_owned_at(
        self: Arc<Self>,
        n: u32,
        site: &'static Location<'static>,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permit = self.acquire_many_at(n, site).await?;
        // SAFETY: the permit borrows the semaphore inside `self`; `owned`
        // keeps that `Arc` with it for as long as the permit lives.
        let permit =
            unsafe { std::mem::transmute::<SemaphorePermit<'_>, SemaphorePermit<'static>>(permit) };
        Ok(self.clone().owned(permit))
    }

    /// [`Semaphore::try_acquire`] for an `Arc<Semaphore>`.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.clone().try_acquire_many_owned(1)
    }

    /// [`Semaphore::try_acquire_many`] for an `Arc<Semaphore>`.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let permit = self.try_acquire_many(n)?;
        // SAFETY: as in `acquire_many_owned_at`.
        let permit =
            unsafe { std::mem::transmute::<SemaphorePermit<'_>, SemaphorePermit<'static>>(permit) };
        Ok(self.clone().owned(permit))
    }

    /// A permit is released (a drop has no call site to name: the report
    /// names the semaphore's creation site).
    fn release(&self) {
        self.signals.produce_at(self.signals.event.meta.created());
    }

    /// Closes the semaphore: waiters and later acquisitions fail.
    pub fn close(&self) {
        self.inner.close()
    }

    /// Whether the semaphore is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// A permit of a [`Semaphore`], as tokio's: dropping it releases it, and
/// the locks held or taken since the holder's last wait are ordered after
/// the release.
#[must_use]
pub struct SemaphorePermit<'a> {
    /// `None` once forgotten or moved out.
    inner: Option<tokio::SemaphorePermit<'a>>,
    semaphore: &'a Semaphore,
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits from ever returning to the semaphore.
    pub fn forget(mut self) {
        if let Some(inner) = self.inner.take() {
            inner.forget();
        }
    }

    /// Merges `other`'s permits into this one.
    ///
    /// # Panics
    /// If the two belong to different semaphores, as tokio's.
    pub fn merge(&mut self, mut other: Self) {
        if let (Some(mine), Some(theirs)) = (&mut self.inner, other.inner.take()) {
            mine.merge(theirs);
        }
    }

    /// Splits `n` permits off into a new permit, if this one has that many.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        let inner = self.inner.as_mut()?.split(n)?;
        Some(SemaphorePermit {
            inner: Some(inner),
            semaphore: self.semaphore,
        })
    }

    /// The semaphore the permit belongs to.
    pub fn semaphore(&self) -> &'a Semaphore {
        self.semaphore
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.inner.as_ref().map_or(0, |inner| inner.num_permits())
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            self.semaphore.release();
            drop(inner);
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.num_permits())
            .finish()
    }
}

/// An owned permit of a [`Semaphore`], as tokio's.
#[must_use]
pub struct OwnedSemaphorePermit {
    // Declared first: dropped before the semaphore it borrows.
    inner: Option<tokio::SemaphorePermit<'static>>,
    semaphore: Arc<Semaphore>,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits from ever returning to the semaphore.
    pub fn forget(mut self) {
        if let Some(inner) = self.inner.take() {
            inner.forget();
        }
    }

    /// Merges `other`'s permits into this one.
    ///
    /// # Panics
    /// If the two belong to different semaphores, as tokio's.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.semaphore, &other.semaphore),
            "merging permits from different semaphore instances"
        );
        if let (Some(mine), Some(theirs)) = (&mut self.inner, other.inner.take()) {
            mine.merge(theirs);
        }
    }

    /// Splits `n` permits off into a new permit, if this one has that many.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        let inner = self.inner.as_mut()?.split(n)?;
        Some(OwnedSemaphorePermit {
            inner: Some(inner),
            semaphore: self.semaphore.clone(),
        })
    }

    /// The semaphore the permit belongs to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.inner.as_ref().map_or(0, |inner| inner.num_permits())
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            self.semaphore.release();
            drop(inner);
        }
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.num_permits())
            .finish()
    }
}

pub use tokio::BarrierWaitResult;

/// A barrier for tasks, as tokio's `Barrier`: an arrival signals the other
/// parties (what this context took on its way is ordered after the
/// barrier) and waits for them (what it holds is ordered before it), as
/// `lockgraph::sync::Barrier` does for threads.
pub struct Barrier {
    inner: tokio::Barrier,
    parties: usize,
    meta: Meta,
}

impl Barrier {
    /// A barrier for `n` tasks; its creation site names it in reports.
    #[track_caller]
    pub fn new(n: usize) -> Barrier {
        Barrier {
            inner: tokio::Barrier::new(n),
            parties: n,
            meta: Meta::new(std::any::type_name::<()>),
        }
    }

    /// Waits until all `n` tasks have arrived; exactly one gets a result
    /// whose `is_leader()` is true.
    #[track_caller]
    #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
    pub fn wait(&self) -> impl Future<Output = BarrierWaitResult> + '_ {
        let site = Location::caller();
        async move {
            let key = self as *const Barrier as usize;
            let stamp = if self.parties > 1 {
                self.meta.signal_event_at(LockKind::Barrier, false, site);
                let stamp = Meta::arrive();
                self.meta.wait_event_at(LockKind::Barrier, None, site);
                stamp
            } else {
                Default::default()
            };
            let round = crate::detect::clock::barrier_arrive(key, self.parties, &stamp);
            let blocked = begin_blocked("Barrier::wait", self.meta.created(), site);
            let result = self.inner.wait().await;
            drop(blocked);
            Meta::absorb(&crate::detect::clock::barrier_leave(
                key,
                self.parties,
                round,
            ));
            result
        }
    }
}

impl Drop for Barrier {
    fn drop(&mut self) {
        crate::detect::clock::forget_barrier(self as *const Barrier as usize);
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

pub mod watch {
    //! `tokio::sync::watch`, checked: awaiting [`Receiver::changed`] (or
    //! [`Receiver::wait_for`]) while holding a lock that a sender takes on
    //! its way to sending is reported. The value and its [`Ref`] are
    //! tokio's own; what the senders did happens before what a receiver
    //! does once it saw the change.

    use super::*;

    pub use super::tokio::watch::{Ref, error};
    use error::{RecvError, SendError};

    /// Creates a watch channel, as tokio's; its creation site names it in
    /// reports.
    #[track_caller]
    pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
        let (tx, rx) = super::tokio::watch::channel(init);
        let signals = Arc::new(Signals::new(LockKind::Watch));
        (
            Sender {
                inner: tx,
                signals: signals.clone(),
            },
            Receiver { inner: rx, signals },
        )
    }

    /// Sends values to the receivers, as tokio's.
    pub struct Sender<T> {
        inner: super::tokio::watch::Sender<T>,
        signals: Arc<Signals>,
    }

    impl<T> Sender<T> {
        /// A sender with no receiver yet, as tokio's `Sender::new`.
        #[track_caller]
        pub fn new(init: T) -> Self {
            Sender {
                inner: super::tokio::watch::Sender::new(init),
                signals: Arc::new(Signals::new(LockKind::Watch)),
            }
        }

        /// Sends `value` to every receiver; `Err` with it if there is none.
        #[track_caller]
        pub fn send(&self, value: T) -> Result<(), SendError<T>> {
            self.signals.produce();
            self.inner.send(value)
        }

        /// Modifies the value in place and notifies the receivers.
        #[track_caller]
        pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
            self.signals.produce();
            self.inner.send_modify(modify)
        }

        /// Modifies the value in place, notifying the receivers if
        /// `modify` returns `true`.
        #[track_caller]
        pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
            self.signals.produce();
            self.inner.send_if_modified(modify)
        }

        /// Replaces the value, notifying the receivers; returns the old one.
        #[track_caller]
        pub fn send_replace(&self, value: T) -> T {
            self.signals.produce();
            self.inner.send_replace(value)
        }

        /// The current value.
        pub fn borrow(&self) -> Ref<'_, T> {
            self.inner.borrow()
        }

        /// Whether every receiver is gone.
        pub fn is_closed(&self) -> bool {
            self.inner.is_closed()
        }

        /// Waits for every receiver to be gone.
        pub async fn closed(&self) {
            self.inner.closed().await
        }

        /// A new receiver, which sees the current value as seen.
        pub fn subscribe(&self) -> Receiver<T> {
            Receiver {
                inner: self.inner.subscribe(),
                signals: self.signals.clone(),
            }
        }

        /// The number of receivers.
        pub fn receiver_count(&self) -> usize {
            self.inner.receiver_count()
        }

        /// The number of senders.
        pub fn sender_count(&self) -> usize {
            self.inner.sender_count()
        }

        /// Whether both senders belong to one channel.
        pub fn same_channel(&self, other: &Self) -> bool {
            self.inner.same_channel(&other.inner)
        }
    }

    impl<T: Default> Default for Sender<T> {
        #[track_caller]
        fn default() -> Self {
            Sender::new(T::default())
        }
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            Sender {
                inner: self.inner.clone(),
                signals: self.signals.clone(),
            }
        }
    }

    impl<T: fmt::Debug> fmt::Debug for Sender<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.inner, f)
        }
    }

    /// Receives values from the senders, as tokio's.
    pub struct Receiver<T> {
        inner: super::tokio::watch::Receiver<T>,
        signals: Arc<Signals>,
    }

    impl<T> Receiver<T> {
        /// The current value.
        pub fn borrow(&self) -> Ref<'_, T> {
            self.inner.borrow()
        }

        /// The current value, marked seen.
        pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
            self.signals.absorb();
            self.inner.borrow_and_update()
        }

        /// Whether the value changed since last seen.
        pub fn has_changed(&self) -> Result<bool, RecvError> {
            self.inner.has_changed()
        }

        /// Marks the value as not seen.
        pub fn mark_changed(&mut self) {
            self.inner.mark_changed()
        }

        /// Marks the value as seen.
        pub fn mark_unchanged(&mut self) {
            self.inner.mark_unchanged()
        }

        /// Waits for a change: the locks held at the first poll are
        /// ordered before the senders' sends.
        #[track_caller]
        #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
        pub fn changed(&mut self) -> impl Future<Output = Result<(), RecvError>> + '_ {
            let site = Location::caller();
            async move {
                self.signals.wait(site);
                let _blocked = self.signals.blocked("watch::Receiver::changed", site);
                let changed = self.inner.changed().await;
                self.signals.absorb();
                changed
            }
        }

        /// Waits until the value satisfies `f`, as tokio's.
        #[track_caller]
        #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
        pub fn wait_for(
            &mut self,
            f: impl FnMut(&T) -> bool,
        ) -> impl Future<Output = Result<Ref<'_, T>, RecvError>> {
            let site = Location::caller();
            async move {
                self.signals.wait(site);
                let _blocked = self.signals.blocked("watch::Receiver::wait_for", site);
                let value = self.inner.wait_for(f).await;
                self.signals.absorb();
                value
            }
        }

        /// Whether both receivers belong to one channel.
        pub fn same_channel(&self, other: &Self) -> bool {
            self.inner.same_channel(&other.inner)
        }
    }

    impl<T> Clone for Receiver<T> {
        fn clone(&self) -> Self {
            Receiver {
                inner: self.inner.clone(),
                signals: self.signals.clone(),
            }
        }
    }

    impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.inner, f)
        }
    }
}
