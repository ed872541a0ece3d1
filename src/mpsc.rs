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

    use crate::detect::Meta;
    use crate::detect::clock::{self, VClock};
    use crate::detect::waits::{self, Event};
    use crate::facade as sync;
    use crate::report::LockKind;

    /// The sender's clock at `send`, when race detection is on, and its
    /// wait clock, boxed only when there is one (a message stays one word
    /// bigger than the user's).
    pub(super) type Stamp = Option<Box<(Option<VClock>, waits::Stamp)>>;

    /// A message goes out on `chan`: the locks the sender holds or took on
    /// its way here are ordered after the channel's message event.
    #[track_caller]
    #[inline]
    pub(super) fn now(chan: &Chan) -> Stamp {
        let waits = chan.message.meta.produce(LockKind::Channel);
        let history = clock::hand_over();
        if waits.is_none() && history.is_none() {
            return None;
        }
        Some(Box::new((history, waits)))
    }

    #[inline]
    pub(super) fn take(stamp: Stamp) {
        if let Some(stamp) = stamp {
            let (history, waits) = *stamp;
            if let Some(history) = history {
                clock::absorb(&history);
            }
            Meta::absorb(&waits);
        }
    }

    /// A channel's events: a message (what `recv` waits for) and, for a
    /// bounded channel, room (what a `send` on a full one waits for).
    pub(super) struct Events {
        message: Event,
        room: Option<Event>,
    }

    pub(super) type Chan = Arc<Events>;

    #[track_caller]
    pub(super) fn chan(bounded: bool) -> Chan {
        Arc::new(Events {
            message: Event::new(LockKind::Channel),
            room: bounded.then(|| Event::new(LockKind::ChannelRoom)),
        })
    }

    /// A blocking `recv` begins: it makes room (the locks taken on the way
    /// are ordered after it), and waits for a message while holding the
    /// locks it holds.
    #[track_caller]
    #[inline]
    pub(super) fn wait_message(chan: &Chan) {
        if Meta::nothing_to_order() {
            return;
        }
        if let Some(room) = &chan.room {
            room.meta.signal_event(LockKind::ChannelRoom, true);
        }
        chan.message.meta.wait_event(LockKind::Channel, None);
    }

    /// A non-blocking or timed `recv`: it still makes room.
    #[track_caller]
    pub(super) fn make_room(chan: &Chan) {
        if let Some(room) = &chan.room
            && !Meta::nothing_to_order()
        {
            room.meta.signal_event(LockKind::ChannelRoom, true);
        }
    }

    /// A `send` found the channel full and waits for room.
    #[track_caller]
    pub(super) fn wait_room(chan: &Chan) {
        if let Some(room) = &chan.room {
            room.meta.wait_event(LockKind::ChannelRoom, None);
        }
    }

    /// For a rendezvous channel: the receiver's history before each `recv`,
    /// for the sender to take in once its `send` returns.
    pub(super) type Ack = Option<Arc<sync::Mutex<VClock>>>;

    pub(super) fn ack(rendezvous: bool) -> Ack {
        rendezvous.then(|| Arc::new(sync::Mutex::new(VClock::default())))
    }

    #[inline]
    pub(super) fn before_recv(ack: &Ack) {
        if let Some(ack) = ack
            && let Some(history) = clock::hand_over()
        {
            ack.lock().join(&history);
        }
    }

    #[inline]
    pub(super) fn after_send(ack: &Ack) {
        if let Some(ack) = ack {
            let history = ack.lock().clone();
            clock::absorb(&history);
        }
    }

    /// While a watchdog runs, says where this thread blocks (see
    /// `watchdog::begin_blocked`), naming the channel's creation site.
    #[track_caller]
    #[inline]
    pub(super) fn blocked(
        what: &'static str,
        chan: &Chan,
    ) -> Option<crate::detect::publish::WaitGuard> {
        crate::detect::publish::begin_blocked(
            what,
            chan.message.meta.created(),
            std::panic::Location::caller(),
        )
    }
}

#[cfg(not(any(debug_assertions, feature = "always")))]
mod stamp {
    //! Detection compiled out: messages carry nothing.

    pub(super) type Stamp = ();
    pub(super) type Chan = ();
    #[inline(always)]
    pub(super) fn now(_chan: &Chan) -> Stamp {}
    #[inline(always)]
    pub(super) fn take(_stamp: Stamp) {}
    #[inline(always)]
    pub(super) fn chan(_bounded: bool) -> Chan {}
    #[inline(always)]
    pub(super) fn wait_message(_chan: &Chan) {}
    #[inline(always)]
    pub(super) fn make_room(_chan: &Chan) {}
    #[inline(always)]
    pub(super) fn wait_room(_chan: &Chan) {}
    pub(super) type Ack = ();
    #[inline(always)]
    pub(super) fn ack(_rendezvous: bool) -> Ack {}
    #[inline(always)]
    pub(super) fn before_recv(_ack: &Ack) {}
    #[inline(always)]
    pub(super) fn after_send(_ack: &Ack) {}
    /// Nothing registered (a type that is not `Copy`, like the guard it
    /// stands for).
    pub(super) struct NoWait;
    #[inline(always)]
    pub(super) fn blocked(_what: &'static str, _chan: &Chan) -> Option<NoWait> {
        None
    }
}

/// A message and its sender's history.
struct Msg<T> {
    value: T,
    stamp: stamp::Stamp,
}

#[track_caller]
fn msg<T>(value: T, chan: &stamp::Chan) -> Msg<T> {
    Msg {
        value,
        stamp: stamp::now(chan),
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
    let chan = stamp::chan(false);
    (
        Sender {
            inner: tx,
            chan: chan.clone(),
        },
        Receiver {
            inner: rx,
            ack: stamp::ack(false),
            chan,
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
    let chan = stamp::chan(true);
    (
        SyncSender {
            inner: tx,
            ack: ack.clone(),
            chan: chan.clone(),
        },
        Receiver {
            inner: rx,
            ack,
            chan,
        },
    )
}

/// The sending half of [`channel`].
pub struct Sender<T> {
    inner: std_mpsc::Sender<Msg<T>>,
    chan: stamp::Chan,
}

impl<T> Sender<T> {
    /// Sends `t`; `Err` with it if the receiver is gone. Never blocks.
    ///
    /// For the deadlock detector a send produces what a `recv` waits for:
    /// the locks the sender holds, or took since its last wait or send,
    /// are ordered after the message — a receiver waiting while holding
    /// one of them is reported.
    #[track_caller]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        self.inner
            .send(msg(t, &self.chan))
            .map_err(|SendError(m)| SendError(m.value))
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        Sender {
            inner: self.inner.clone(),
            chan: self.chan.clone(),
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
    chan: stamp::Chan,
}

impl<T> SyncSender<T> {
    /// Sends `t`, waiting while the channel is full; `Err` with it if the
    /// receiver is gone.
    ///
    /// A send that finds the channel full waits for the receiver: the
    /// locks held now are ordered before the channel's room, which the
    /// receiver's `recv` makes — a receiver that takes one of them before
    /// receiving is reported.
    #[track_caller]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        let sent = match self.inner.try_send(msg(t, &self.chan)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(m)) => Err(SendError(m.value)),
            Err(TrySendError::Full(m)) => {
                stamp::wait_room(&self.chan);
                let blocked = stamp::blocked("send on a full sync_channel", &self.chan);
                let sent = self
                    .inner
                    .send(m)
                    .map_err(|SendError(m)| SendError(m.value));
                drop(blocked);
                sent
            }
        };
        if sent.is_ok() {
            stamp::after_send(&self.ack);
        }
        sent
    }

    /// Sends `t` if there is room, without waiting.
    #[track_caller]
    pub fn try_send(&self, t: T) -> Result<(), TrySendError<T>> {
        let sent = self
            .inner
            .try_send(msg(t, &self.chan))
            .map_err(|e| match e {
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
            chan: self.chan.clone(),
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
    chan: stamp::Chan,
}

impl<T> Receiver<T> {
    /// Waits for a message; `Err` once every sender is gone and the channel
    /// is empty.
    ///
    /// For the deadlock detector the wait is on the senders: the locks held
    /// now are ordered before the channel's messages, and a sender that
    /// takes one of them on its way to `send` is reported — whether or not
    /// this run's timing hangs:
    ///
    /// ```should_panic
    /// use std::sync::Arc;
    /// use lockgraph::{Mutex, sync::mpsc, thread};
    /// # if !lockgraph::ENABLED { panic!("detection is off in this build") }
    ///
    /// let state = Arc::new(Mutex::new(0));
    /// let (tx, rx) = mpsc::channel();
    /// let worker = {
    ///     let state = state.clone();
    ///     thread::spawn(move || {
    ///         *state.lock().unwrap() += 1; // state, then the send
    ///         tx.send("done").unwrap();
    ///     })
    /// };
    /// while !worker.is_finished() {
    ///     std::thread::yield_now();
    /// }
    /// let _state = state.lock().unwrap();
    /// rx.recv().unwrap(); // panics: "a receiver waits holding a lock its sender needs ..."
    /// ```
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        stamp::before_recv(&self.ack);
        stamp::wait_message(&self.chan);
        let blocked = stamp::blocked("recv on a channel", &self.chan);
        let received = self.inner.recv();
        drop(blocked);
        received.map(open)
    }

    /// A message if one is waiting, without blocking.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        stamp::before_recv(&self.ack);
        stamp::make_room(&self.chan);
        self.inner.try_recv().map(open)
    }

    /// Waits at most `timeout` for a message. A timeout ends the wait by
    /// itself, so it is never reported, as a timed lock acquisition is not.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        stamp::before_recv(&self.ack);
        stamp::make_room(&self.chan);
        let blocked = stamp::blocked("recv_timeout on a channel", &self.chan);
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

// As std's channels: the detector's bookkeeping inside (clocks behind
// mutexes) is never left half-updated by a panic of the user's code.
impl<T> std::panic::UnwindSafe for Sender<T> {}
impl<T> std::panic::RefUnwindSafe for Sender<T> {}
impl<T> std::panic::UnwindSafe for SyncSender<T> {}
impl<T> std::panic::RefUnwindSafe for SyncSender<T> {}
impl<T> std::panic::UnwindSafe for Receiver<T> {}
impl<T> std::panic::RefUnwindSafe for Receiver<T> {}
