//! `tokio::sync::mpsc`, checked: a receive is a wait on the senders — the
//! locks the receiving context holds are ordered before the channel's
//! messages, and the locks a sender holds or took since its last wait
//! before sending after them — and a send on a full bounded channel is a
//! wait on the receiver, for room. What a sender did before sending
//! happens before what the receiver does with the message. Tokio's
//! signatures; with detection compiled out, tokio's own channels.
//!
//! A receive polled by hand (`poll_recv`) or awaited has no call site of
//! its own for a report to name: it names the channel's creation site.
//! Deviation: `Sender::send_timeout` (tokio's `time` feature) is not here.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::detect::Meta;
use crate::detect::waits::{Event, Stamp};
use crate::facade::tokio_sync::mpsc as tokio;
use crate::report::LockKind;

use error::{SendError, TryRecvError, TrySendError};
pub use tokio::error;

/// A channel's events: its messages and, bounded, its room.
struct Events {
    message: Event,
    room: Option<Event>,
}

type Chan = Arc<Events>;

impl Events {
    #[track_caller]
    fn new(bounded: bool) -> Chan {
        Arc::new(Events {
            message: Event::new(LockKind::TokioChannel),
            room: bounded.then(|| Event::new(LockKind::ChannelRoom)),
        })
    }

    fn created(&self) -> &'static Location<'static> {
        self.message.meta.created()
    }

    /// A message goes out at `site`: what the sender holds or took on its
    /// way is ordered after the channel's messages.
    fn send(&self, site: &'static Location<'static>) -> Stamp {
        self.message.meta.produce_at(LockKind::TokioChannel, site)
    }

    /// A receive begins at `site`: it makes room, and waits for a message
    /// holding what the context holds.
    fn receive(&self, site: &'static Location<'static>) {
        if Meta::nothing_to_order() {
            return;
        }
        if let Some(room) = &self.room {
            room.meta.signal_event_at(LockKind::ChannelRoom, true, site);
        }
        self.message
            .meta
            .wait_event_at(LockKind::TokioChannel, None, site);
    }

    /// While a watchdog runs, says that the context waits for a message.
    fn blocked(
        &self,
        site: &'static Location<'static>,
    ) -> Option<crate::detect::publish::WaitGuard> {
        crate::detect::publish::begin_blocked("recv on a tokio mpsc channel", self.created(), site)
    }

    /// A send found the channel full: it waits for room.
    fn wait_room(&self, site: &'static Location<'static>) {
        if let Some(room) = &self.room {
            room.meta.wait_event_at(LockKind::ChannelRoom, None, site);
        }
    }
}

type Msg<T> = (T, Stamp);

fn open<T>((value, stamp): Msg<T>) -> T {
    Meta::absorb(&stamp);
    value
}

fn send_error<T>(SendError((value, _)): SendError<Msg<T>>) -> SendError<T> {
    SendError(value)
}

fn try_send_error<T>(error: TrySendError<Msg<T>>) -> TrySendError<T> {
    match error {
        TrySendError::Full((value, _)) => TrySendError::Full(value),
        TrySendError::Closed((value, _)) => TrySendError::Closed(value),
    }
}

/// Creates a bounded channel, as tokio's; its creation site names it in
/// reports.
///
/// # Panics
/// If `buffer` is 0, as tokio's.
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio::channel(buffer);
    let chan = Events::new(true);
    (
        Sender {
            inner: tx,
            chan: chan.clone(),
        },
        Receiver { inner: rx, chan },
    )
}

/// Creates an unbounded channel, as tokio's.
#[track_caller]
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = tokio::unbounded_channel();
    let chan = Events::new(false);
    (
        UnboundedSender {
            inner: tx,
            chan: chan.clone(),
        },
        UnboundedReceiver { inner: rx, chan },
    )
}

/// `Clone` (the channel's events shared) and tokio's `Debug` for a sending
/// handle.
macro_rules! clone_and_debug {
    ($name:ident) => {
        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name {
                    inner: self.inner.clone(),
                    chan: self.chan.clone(),
                }
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    };
}

/// A weak sending handle, documented by `$doc`: it does not keep the
/// channel open, and upgrades to a `$strong`.
macro_rules! weak_sender {
    ($name:ident => $strong:ident, $doc:literal) => {
        #[doc = $doc]
        pub struct $name<T> {
            inner: tokio::$name<Msg<T>>,
            chan: Chan,
        }

        impl<T> $name<T> {
            /// The sender, if the channel is still open.
            pub fn upgrade(&self) -> Option<$strong<T>> {
                Some($strong {
                    inner: self.inner.upgrade()?,
                    chan: self.chan.clone(),
                })
            }

            /// The number of senders.
            pub fn strong_count(&self) -> usize {
                self.inner.strong_count()
            }

            /// The number of weak senders.
            pub fn weak_count(&self) -> usize {
                self.inner.weak_count()
            }
        }

        clone_and_debug!($name);
    };
}

/// The receiving half's methods, the same for both flavours.
macro_rules! receiver {
    ($name:ident, $inner:ident) => {
        impl<T> $name<T> {
            /// Waits for the next message; `None` once every sender is gone
            /// and the channel is empty.
            #[track_caller]
            #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
            pub fn recv(&mut self) -> impl Future<Output = Option<T>> + '_ {
                let site = Location::caller();
                async move {
                    self.chan.receive(site);
                    let _blocked = self.chan.blocked(site);
                    self.inner.recv().await.map(open)
                }
            }

            /// Waits for messages, up to `limit` of them, appended to
            /// `buffer`; returns how many (0: closed and empty).
            #[track_caller]
            #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
            pub fn recv_many<'a>(
                &'a mut self,
                buffer: &'a mut Vec<T>,
                limit: usize,
            ) -> impl Future<Output = usize> + 'a {
                let site = Location::caller();
                async move {
                    self.chan.receive(site);
                    let mut received = Vec::with_capacity(limit.min(64));
                    let n = self.inner.recv_many(&mut received, limit).await;
                    buffer.extend(received.into_iter().map(open));
                    n
                }
            }

            /// A message if one is waiting, without waiting.
            pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
                self.inner.try_recv().map(open)
            }

            /// Waits for the next message outside a runtime, as tokio's.
            ///
            /// # Panics
            /// Inside an async context, as tokio's.
            #[track_caller]
            pub fn blocking_recv(&mut self) -> Option<T> {
                self.chan.receive(Location::caller());
                self.inner.blocking_recv().map(open)
            }

            /// [`recv_many`](Self::recv_many) outside a runtime.
            #[track_caller]
            pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                self.chan.receive(Location::caller());
                let mut received = Vec::new();
                let n = self.inner.blocking_recv_many(&mut received, limit);
                buffer.extend(received.into_iter().map(open));
                n
            }

            /// Closes the channel to new messages; those sent stay.
            pub fn close(&mut self) {
                self.inner.close()
            }

            /// Whether the channel is closed.
            pub fn is_closed(&self) -> bool {
                self.inner.is_closed()
            }

            /// Whether no message is waiting.
            pub fn is_empty(&self) -> bool {
                self.inner.is_empty()
            }

            /// The number of messages waiting.
            pub fn len(&self) -> usize {
                self.inner.len()
            }

            /// Polls for the next message, as tokio's; every poll is a wait
            /// (named by the channel's creation site).
            pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
                self.chan.receive(self.chan.created());
                self.inner.poll_recv(cx).map(|message| message.map(open))
            }

            /// Polls for up to `limit` messages, as tokio's.
            pub fn poll_recv_many(
                &mut self,
                cx: &mut Context<'_>,
                buffer: &mut Vec<T>,
                limit: usize,
            ) -> Poll<usize> {
                self.chan.receive(self.chan.created());
                let mut received = Vec::new();
                let polled = self.inner.poll_recv_many(cx, &mut received, limit);
                buffer.extend(received.into_iter().map(open));
                polled
            }

            /// The number of senders.
            pub fn sender_strong_count(&self) -> usize {
                self.inner.sender_strong_count()
            }

            /// The number of weak senders.
            pub fn sender_weak_count(&self) -> usize {
                self.inner.sender_weak_count()
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    };
}

/// The receiving half of [`channel`], as tokio's.
pub struct Receiver<T> {
    inner: tokio::Receiver<Msg<T>>,
    chan: Chan,
}

receiver!(Receiver, Receiver);

impl<T> Receiver<T> {
    /// The channel's free slots now.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The channel's bound.
    pub fn max_capacity(&self) -> usize {
        self.inner.max_capacity()
    }
}

/// The receiving half of [`unbounded_channel`], as tokio's.
pub struct UnboundedReceiver<T> {
    inner: tokio::UnboundedReceiver<Msg<T>>,
    chan: Chan,
}

receiver!(UnboundedReceiver, UnboundedReceiver);

/// The sending half of [`channel`], as tokio's.
pub struct Sender<T> {
    inner: tokio::Sender<Msg<T>>,
    chan: Chan,
}

clone_and_debug!(Sender);

impl<T> Sender<T> {
    /// Sends `value`, waiting for room if the channel is full (a wait on
    /// the receiver); `Err` with it once the receiver is gone.
    #[track_caller]
    #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
    pub fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> + '_ {
        let site = Location::caller();
        async move {
            let message = (value, self.chan.send(site));
            self.wait_room(1, site);
            self.inner.send(message).await.map_err(send_error)
        }
    }

    /// Sends `value` if there is room, without waiting.
    #[track_caller]
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        let site = Location::caller();
        self.inner
            .try_send((message, self.chan.send(site)))
            .map_err(try_send_error)
    }

    /// Sends `value` outside a runtime, waiting for room, as tokio's.
    ///
    /// # Panics
    /// Inside an async context, as tokio's.
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        let site = Location::caller();
        let message = (value, self.chan.send(site));
        self.wait_room(1, site);
        self.inner.blocking_send(message).map_err(send_error)
    }

    /// A send or reservation of `needed` slots begins at `site`: if the
    /// channel has fewer free now, it waits for room. (The check only
    /// decides what the lock order records; the send itself is tokio's,
    /// queued fairly behind earlier senders.)
    fn wait_room(&self, needed: usize, site: &'static Location<'static>) {
        if self.inner.capacity() < needed {
            self.chan.wait_room(site);
        }
    }

    /// Waits for the receiver to close or be dropped.
    pub async fn closed(&self) {
        self.inner.closed().await
    }

    /// Whether the receiver closed or was dropped.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Waits for a slot, as tokio's; the [`Permit`] sends into it.
    #[track_caller]
    #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
    pub fn reserve(&self) -> impl Future<Output = Result<Permit<'_, T>, SendError<()>>> + '_ {
        let site = Location::caller();
        async move {
            self.wait_room(1, site);
            let inner = self.inner.reserve().await?;
            Ok(Permit {
                inner,
                chan: &self.chan,
            })
        }
    }

    /// Waits for `n` slots, as tokio's.
    #[track_caller]
    #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
    pub fn reserve_many(
        &self,
        n: usize,
    ) -> impl Future<Output = Result<PermitIterator<'_, T>, SendError<()>>> + '_ {
        let site = Location::caller();
        async move {
            self.wait_room(n, site);
            let inner = self.inner.reserve_many(n).await?;
            Ok(PermitIterator {
                inner,
                chan: &self.chan,
            })
        }
    }

    /// [`Sender::reserve`], owning the sender.
    #[track_caller]
    #[allow(clippy::manual_async_fn)] // `async fn` cannot be `#[track_caller]`
    pub fn reserve_owned(self) -> impl Future<Output = Result<OwnedPermit<T>, SendError<()>>> {
        let site = Location::caller();
        async move {
            self.wait_room(1, site);
            let Sender { inner, chan } = self;
            let inner = inner.reserve_owned().await?;
            Ok(OwnedPermit { inner, chan })
        }
    }

    /// A slot if one is free, without waiting.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        let inner = self.inner.try_reserve()?;
        Ok(Permit {
            inner,
            chan: &self.chan,
        })
    }

    /// `n` slots if free, without waiting.
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        let inner = self.inner.try_reserve_many(n)?;
        Ok(PermitIterator {
            inner,
            chan: &self.chan,
        })
    }

    /// [`Sender::try_reserve`], owning the sender (handed back on error).
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        let Sender { inner, chan } = self;
        match inner.try_reserve_owned() {
            Ok(inner) => Ok(OwnedPermit { inner, chan }),
            Err(TrySendError::Full(inner)) => Err(TrySendError::Full(Sender { inner, chan })),
            Err(TrySendError::Closed(inner)) => Err(TrySendError::Closed(Sender { inner, chan })),
        }
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }

    /// The channel's free slots now.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The channel's bound.
    pub fn max_capacity(&self) -> usize {
        self.inner.max_capacity()
    }

    /// A sender that does not keep the channel open.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            inner: self.inner.downgrade(),
            chan: self.chan.clone(),
        }
    }

    /// The number of senders.
    pub fn strong_count(&self) -> usize {
        self.inner.strong_count()
    }

    /// The number of weak senders.
    pub fn weak_count(&self) -> usize {
        self.inner.weak_count()
    }
}

weak_sender!(
    WeakSender => Sender,
    "A [`Sender`] that does not keep the channel open, as tokio's."
);

/// A reserved slot, as tokio's.
pub struct Permit<'a, T> {
    inner: tokio::Permit<'a, Msg<T>>,
    chan: &'a Chan,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the slot.
    #[track_caller]
    pub fn send(self, value: T) {
        let stamp = self.chan.send(Location::caller());
        self.inner.send((value, stamp))
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// Reserved slots, as tokio's.
pub struct PermitIterator<'a, T> {
    inner: tokio::PermitIterator<'a, Msg<T>>,
    chan: &'a Chan,
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        let inner = self.inner.next()?;
        Some(Permit {
            inner,
            chan: self.chan,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}
impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// A reserved slot owning its sender, as tokio's.
pub struct OwnedPermit<T> {
    inner: tokio::OwnedPermit<Msg<T>>,
    chan: Chan,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the slot; returns the sender.
    #[track_caller]
    pub fn send(self, value: T) -> Sender<T> {
        let stamp = self.chan.send(Location::caller());
        let inner = self.inner.send((value, stamp));
        Sender {
            inner,
            chan: self.chan,
        }
    }

    /// Gives the slot back; returns the sender.
    pub fn release(self) -> Sender<T> {
        Sender {
            inner: self.inner.release(),
            chan: self.chan,
        }
    }

    /// Whether both permits belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }

    /// Whether the permit belongs to `sender`'s channel.
    pub fn same_channel_as_sender(&self, sender: &Sender<T>) -> bool {
        self.inner.same_channel_as_sender(&sender.inner)
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// The sending half of [`unbounded_channel`], as tokio's.
pub struct UnboundedSender<T> {
    inner: tokio::UnboundedSender<Msg<T>>,
    chan: Chan,
}

clone_and_debug!(UnboundedSender);

impl<T> UnboundedSender<T> {
    /// Sends `message`, never waiting; `Err` with it once the receiver is
    /// gone.
    #[track_caller]
    pub fn send(&self, message: T) -> Result<(), SendError<T>> {
        let stamp = self.chan.send(Location::caller());
        self.inner.send((message, stamp)).map_err(send_error)
    }

    /// Waits for the receiver to close or be dropped.
    pub async fn closed(&self) {
        self.inner.closed().await
    }

    /// Whether the receiver closed or was dropped.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.inner.same_channel(&other.inner)
    }

    /// A sender that does not keep the channel open.
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            inner: self.inner.downgrade(),
            chan: self.chan.clone(),
        }
    }

    /// The number of senders.
    pub fn strong_count(&self) -> usize {
        self.inner.strong_count()
    }

    /// The number of weak senders.
    pub fn weak_count(&self) -> usize {
        self.inner.weak_count()
    }
}

weak_sender!(
    WeakUnboundedSender => UnboundedSender,
    "An [`UnboundedSender`] that does not keep the channel open, as tokio's."
);
