//! How a report words a wait and the signal that would end it, per kind of
//! event: a Condvar's wait and notify, a Barrier's arrivals, a join and the
//! joined thread's end, a receive and the send, a permit and its release.

use super::LockKind;

/// The words for one kind of event.
pub(crate) struct Words {
    /// The wait as a call in the scenario: `join`, `recv`, `wait`.
    pub(crate) wait: &'static str,
    /// `waiting on`, `waiting at`, `joining`.
    pub(crate) waiting: &'static str,
    /// `waited on`, `joined`.
    pub(crate) waited: &'static str,
    /// The signal as a call in the scenario: `notify`, `send`, `finish`.
    pub(crate) signal: &'static str,
    /// `notified`, `sent on`, `finished`.
    pub(crate) signalled: &'static str,
    /// `notifying`, `sending on`, `finishing`.
    pub(crate) signalling: &'static str,
    /// The report's title.
    pub(crate) title: &'static str,
    /// Who waits and who would end the wait: `thread`, `joined thread`.
    pub(crate) waiter: &'static str,
    pub(crate) producer: &'static str,
    /// What the producer never does: `notifies`, `finishes`.
    pub(crate) never: &'static str,
}

pub(crate) fn words(kind: LockKind) -> Words {
    let base = Words {
        wait: "wait",
        waiting: "waiting on",
        waited: "waited on",
        signal: "notify",
        signalled: "notified",
        signalling: "notifying",
        title: "potential deadlock: a Condvar waiter holds a lock its notifier needs before notifying",
        waiter: "A thread waits on",
        producer: "the thread that would notify it",
        never: "notifies",
    };
    match kind {
        LockKind::Barrier => Words {
            waiting: "waiting at",
            waited: "waited at",
            signal: "arrive",
            signalled: "arrived at",
            signalling: "arriving at",
            title: "potential deadlock: a thread waits at a Barrier holding a lock another party needs \
                    before arriving",
            waiter: "A party waits at",
            producer: "another party",
            never: "arrives",
            ..base
        },
        LockKind::Thread => Words {
            wait: "join",
            waiting: "joining",
            waited: "joined",
            signal: "finish",
            signalled: "went on to end the",
            signalling: "finishing",
            title: "potential deadlock: a thread is joined while holding a lock the joined thread \
                    needs",
            waiter: "A thread joins the",
            producer: "the joined thread",
            never: "finishes",
        },
        LockKind::Task => Words {
            wait: "join",
            waiting: "awaiting",
            waited: "awaited",
            signal: "finish",
            signalled: "went on to end the",
            signalling: "finishing",
            title: "potential deadlock: a task's JoinHandle is awaited while holding a lock the task \
                    needs",
            waiter: "A context awaits the",
            producer: "the task",
            never: "finishes",
        },
        LockKind::Channel | LockKind::Oneshot | LockKind::TokioChannel | LockKind::Watch => Words {
            wait: "recv",
            waiting: "receiving from",
            waited: "received from",
            signal: "send",
            signalled: "sent on",
            signalling: "sending on",
            title: "potential deadlock: a receiver waits holding a lock its sender needs before \
                    sending",
            waiter: "A receiver waits on the",
            producer: "the sender",
            never: "sends",
        },
        LockKind::ChannelRoom => Words {
            wait: "send",
            waiting: "sending on (full)",
            waited: "sent on (full)",
            signal: "recv",
            signalled: "received from",
            signalling: "receiving from",
            title: "potential deadlock: a sender waits on a full channel holding a lock its receiver \
                    needs before receiving",
            waiter: "A sender waits for room in the",
            producer: "the receiver",
            never: "receives",
        },
        LockKind::Notify => Words {
            wait: "notified",
            waiting: "awaiting",
            waited: "awaited",
            title: "potential deadlock: a context awaits a Notify holding a lock its notifier needs \
                    before notifying",
            waiter: "A context awaits the",
            producer: "the context that would notify it",
            ..base
        },
        LockKind::Semaphore => Words {
            wait: "acquire",
            waiting: "acquiring a permit of",
            waited: "acquired a permit of",
            signal: "release",
            signalled: "released a permit of",
            signalling: "releasing a permit of",
            title: "potential deadlock: a Semaphore permit is awaited while holding a lock a permit \
                    holder needs before releasing its permit (pool exhaustion)",
            waiter: "A context waits for a permit of the",
            producer: "a context holding a permit",
            never: "releases its permit",
        },
        _ => base,
    }
}

/// The fix line of a wake-up cycle: the wait holds `held`, the producer
/// needs `needed` first.
pub(crate) fn fix(kind: LockKind, held: &str, needed: &str) -> String {
    match kind {
        LockKind::Barrier => {
            format!("release {held} before Barrier::wait, or do not take {needed} before arriving.")
        }
        LockKind::Thread => format!(
            "drop the guard of {held} before joining (take what you need out of it first), or\n     \
             do not take {needed} in the joined thread."
        ),
        LockKind::Task => format!(
            "drop the guard of {held} before awaiting the JoinHandle, or do not take {needed} in\n     \
             the task."
        ),
        LockKind::Channel | LockKind::Oneshot | LockKind::TokioChannel | LockKind::Watch => {
            format!(
                "receive without holding {held} (drop its guard first), or send the result without\n     \
             holding {needed} (and without taking it on the way)."
            )
        }
        LockKind::ChannelRoom => format!(
            "send without holding {held}, or receive without taking {needed} first (a larger\n     \
             bound only hides it)."
        ),
        LockKind::Semaphore => format!(
            "acquire the permit before taking {held} (or drop its guard first), or release the\n     \
             permit before taking {needed}."
        ),
        _ => format!(
            "release {held} before waiting (drop its guard, or wait first and lock it after), or\n     \
             notify without taking {needed} first."
        ),
    }
}
