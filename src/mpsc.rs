//! Multi-producer, single-consumer channels, std-flavoured: std's channels,
//! whose messages order the race detector's accesses.
//!
//! A `send` happens before the `recv` that takes its message, as Go's and
//! ThreadSanitizer's memory models have it. A rendezvous channel
//! (`sync_channel(0)`) orders both ways: what the receiver did before
//! `recv` is visible to the sender once its `send` returns. Every type and
//! method has std's signature and std's error types; with detection
//! compiled out each is std's channel alone.
//!
//! ```
//! use std::thread;
//! use lockgraph::sync::mpsc;
//!
//! let (tx, rx) = mpsc::channel();
//! let producer = thread::spawn(move || {
//!     for job in 0..3 {
//!         tx.send(job).unwrap();
//!     }
//! });
//! let jobs: Vec<u32> = rx.iter().collect();
//! producer.join().unwrap();
//! assert_eq!(jobs, [0, 1, 2]);
//! ```

use std::fmt;
use std::time::Duration;

use crate::facade::std_sync::mpsc as std_mpsc;

pub use std_mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

#[cfg(any(debug_assertions, feature = "always"))]
mod stamp {
    //! The sender's history, carried with each message.

    use std::sync::Arc;

    use crate::detect::clock::{self, VClock};
    use crate::facade as sync;

    /// The sender's clock at `send`, when race detection is on.
    pub(super) type Stamp = Option<VClock>;

    pub(super) fn now() -> Stamp {
        clock::hand_over()
    }

    pub(super) fn take(stamp: Stamp) {
        if let Some(history) = stamp {
            clock::absorb(&history);
        }
    }

    /// For a rendezvous channel: the receiver's history before each `recv`,
    /// for the sender to take in once its `send` returns.
    pub(super) type Ack = Option<Arc<sync::Mutex<VClock>>>;

    pub(super) fn ack(rendezvous: bool) -> Ack {
        rendezvous.then(|| Arc::new(sync::Mutex::new(VClock::default())))
    }

    pub(super) fn before_recv(ack: &Ack) {
        if let (Some(ack), Some(history)) = (ack, clock::hand_over()) {
            ack.lock().join(&history);
        }
    }

    pub(super) fn after_send(ack: &Ack) {
        if let Some(ack) = ack {
            let history = ack.lock().clone();
            clock::absorb(&history);
        }
    }

    /// Where the channel was created, for the watchdog.
    pub(super) type Site = &'static std::panic::Location<'static>;

    #[track_caller]
    pub(super) fn site() -> Site {
        std::panic::Location::caller()
    }

    /// While a watchdog runs, says where this thread blocks (see
    /// `watchdog::begin_blocked`).
    #[track_caller]
    pub(super) fn blocked(what: &'static str, created: Site) -> Option<crate::watchdog::WaitGuard> {
        crate::watchdog::begin_blocked(what, created, std::panic::Location::caller())
    }
}

#[cfg(not(any(debug_assertions, feature = "always")))]
mod stamp {
    //! Detection compiled out: messages carry nothing.

    pub(super) type Stamp = ();
    #[inline(always)]
    pub(super) fn now() -> Stamp {}
    #[inline(always)]
    pub(super) fn take(_stamp: Stamp) {}
    pub(super) type Ack = ();
    #[inline(always)]
    pub(super) fn ack(_rendezvous: bool) -> Ack {}
    #[inline(always)]
    pub(super) fn before_recv(_ack: &Ack) {}
    #[inline(always)]
    pub(super) fn after_send(_ack: &Ack) {}
    pub(super) type Site = ();
    #[inline(always)]
    pub(super) fn site() -> Site {}
    /// Nothing registered (a type that is not `Copy`, like the guard it
    /// stands for).
    pub(super) struct NoWait;
    #[inline(always)]
    pub(super) fn blocked(_what: &'static str, _created: Site) -> Option<NoWait> {
        None
    }
}

/// A message and its sender's history.
struct Msg<T> {
    value: T,
    stamp: stamp::Stamp,
}

fn msg<T>(value: T) -> Msg<T> {
    Msg {
        value,
        stamp: stamp::now(),
    }
}

fn open<T>(msg: Msg<T>) -> T {
    stamp::take(msg.stamp);
    msg.value
}

/// Creates an unbounded channel: [`std::sync::mpsc::channel`]. Its
/// creation site names it when the watchdog finds a thread blocked on it.
#[must_use]
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = std_mpsc::channel();
    (
        Sender { inner: tx },
        Receiver {
            inner: rx,
            ack: stamp::ack(false),
            created: stamp::site(),
        },
    )
}

/// Creates a bounded channel: [`std::sync::mpsc::sync_channel`]. With a
/// bound of 0 every `send` waits for its `recv` (a rendezvous), and orders
/// both ways.
#[must_use]
#[track_caller]
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let (tx, rx) = std_mpsc::sync_channel(bound);
    let ack = stamp::ack(bound == 0);
    let created = stamp::site();
    (
        SyncSender {
            inner: tx,
            ack: ack.clone(),
            created,
        },
        Receiver {
            inner: rx,
            ack,
            created,
        },
    )
}

/// The sending half of [`channel`].
pub struct Sender<T> {
    inner: std_mpsc::Sender<Msg<T>>,
}

impl<T> Sender<T> {
    /// Sends `t`; `Err` with it if the receiver is gone. Never blocks.
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        self.inner
            .send(msg(t))
            .map_err(|SendError(m)| SendError(m.value))
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// The sending half of [`sync_channel`].
pub struct SyncSender<T> {
    inner: std_mpsc::SyncSender<Msg<T>>,
    ack: stamp::Ack,
    created: stamp::Site,
}

impl<T> SyncSender<T> {
    /// Sends `t`, waiting while the channel is full; `Err` with it if the
    /// receiver is gone.
    #[track_caller]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        let blocked = stamp::blocked("send on a full sync_channel", self.created);
        let sent = self
            .inner
            .send(msg(t))
            .map_err(|SendError(m)| SendError(m.value));
        drop(blocked);
        if sent.is_ok() {
            stamp::after_send(&self.ack);
        }
        sent
    }

    /// Sends `t` if there is room, without waiting.
    pub fn try_send(&self, t: T) -> Result<(), TrySendError<T>> {
        let sent = self.inner.try_send(msg(t)).map_err(|e| match e {
            TrySendError::Full(m) => TrySendError::Full(m.value),
            TrySendError::Disconnected(m) => TrySendError::Disconnected(m.value),
        });
        if sent.is_ok() {
            stamp::after_send(&self.ack);
        }
        sent
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> SyncSender<T> {
        SyncSender {
            inner: self.inner.clone(),
            ack: self.ack.clone(),
            created: self.created,
        }
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// The receiving half of [`channel`] and [`sync_channel`].
pub struct Receiver<T> {
    inner: std_mpsc::Receiver<Msg<T>>,
    ack: stamp::Ack,
    created: stamp::Site,
}

impl<T> Receiver<T> {
    /// Waits for a message; `Err` once every sender is gone and the channel
    /// is empty.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        stamp::before_recv(&self.ack);
        let blocked = stamp::blocked("recv on a channel", self.created);
        let received = self.inner.recv();
        drop(blocked);
        received.map(open)
    }

    /// A message if one is waiting, without blocking.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        stamp::before_recv(&self.ack);
        self.inner.try_recv().map(open)
    }

    /// Waits at most `timeout` for a message.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        stamp::before_recv(&self.ack);
        let blocked = stamp::blocked("recv_timeout on a channel", self.created);
        let received = self.inner.recv_timeout(timeout);
        drop(blocked);
        received.map(open)
    }

    /// An iterator that waits for each message, ending when every sender
    /// is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the messages waiting now.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// Waits for each message: [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T: 'a> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// The messages waiting now: [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T: 'a> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owns the receiver and waits for each message.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
