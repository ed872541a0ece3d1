//! tokio's locks in the same lock-order graph (cargo feature `tokio`).
//!
//! `use tokio::sync::…` → `use lockgraph::tokio::sync::…`: [`sync`] is all
//! of `tokio::sync`, with `Mutex` (and its guards) replaced by checked ones
//! of the same signatures. Held locks are tracked per *execution context*:
//! a tokio task (by its id), or outside any task the thread (a `block_on`
//! body, and so a `#[tokio::test]` body, is its thread's context). So two
//! tasks taking two locks in opposite orders are an inversion reported at
//! the first poll of the `lock()` that closes the cycle, before it waits;
//! and a task suspended at an `.await` holding a *sync* lock (a std or
//! parking_lot guard) is reported when another context on its thread
//! acquires a lock. Sync and async locks share one graph.
//!
//! **Concurrent branches of one context** (`join!`, `join_all`, `select!`,
//! `FuturesUnordered`, a `block_on` of a join) share its held stack, and
//! lockgraph cannot see which branch holds what. So:
//! - a `lock()`, `read()` or `write()` future that finds its lock already
//!   held by its own context is not reported when it starts (a branch
//!   waiting for a sibling is correct). It is reported — `deadlock:
//!   relocking a tokio::sync::Mutex already held by this task` — only if it
//!   is *stuck*: still waiting, with the lock never released, after
//!   [`stuck_after`] (3 s; `LOCKGRAPH_STUCK=<seconds>`,
//!   [`set_stuck_after`]), or after a thirtieth of that when the waiting
//!   future lies inside the memory where the holder's `lock()` future lived
//!   (the same flow: consecutive `.await`s of an `async fn` reuse one slot).
//!   A sequential relock (`let a = m.lock().await; let b =
//!   m.lock().await;`) is reported so after 100 ms; two branches taking two
//!   locks in opposite orders after the stuck time, as an inversion;
//! - an edge from an async lock the context holds is certain when the new
//!   acquisition's future lies inside that lock's (the same flow), else
//!   ambiguous (it may have been a sibling's); a cycle made only of one
//!   context's own edges, one of them ambiguous, is not reported as an
//!   inversion: if this run hangs on it, the stuck check reports it; if it
//!   does not, one task's branches cannot hang on it;
//! - once a context showed branches (the first case above), its async locks
//!   order nothing until it holds nothing, and such edges never enter the
//!   class graph.
//!
//! With detection compiled out, each type is tokio's own.

mod stuck;
pub mod sync;
pub mod task;
pub use stuck::{set_stuck_after, stuck_after};

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// Runs `future` as an execution context of its own, inside its task.
///
/// Branches of one task that run concurrently — the futures of `join!`,
/// `select!` or a `FuturesUnordered` — share the task's id, so to lockgraph
/// they are one context: a branch locking what another branch holds is
/// only reported if it stays stuck (see the [module docs](self)), and one
/// branch's async locks are not taken to order another's. Nothing needs
/// `scope` to run clean; wrapped in it, each branch has its own held locks,
/// so a sibling's locks are never in its stack:
///
/// ```
/// use lockgraph::tokio::{scope, sync::Mutex};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let counter = Mutex::new(0);
/// let branch = || async {
///     let mut count = counter.lock().await;
///     tokio::task::yield_now().await; // the other branch runs, and waits
///     *count += 1;
/// };
/// tokio::join!(scope(branch()), scope(branch()));
/// assert_eq!(*counter.lock().await, 2);
/// # });
/// ```
///
/// A scope costs one thread-local write around each poll. With detection
/// compiled out it is the future itself, polled through.
pub fn scope<F: Future>(future: F) -> Scope<F> {
    Scope { id: 0, future }
}

/// The future returned by [`scope`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Scope<F> {
    /// This scope's context id, assigned at its first poll.
    id: u64,
    future: F,
}

/// Scope ids: above any tokio task id, below the thread contexts' bit.
static NEXT_SCOPE: AtomicU64 = AtomicU64::new(1 << 62);

impl<F: Future> Future for Scope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // `self`, and `Scope` has no `Drop` or `Unpin` impl that would move
        // it; `id` is plain data, not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if !crate::ENABLED {
            return future.poll(cx);
        }
        if this.id == 0 {
            this.id = NEXT_SCOPE.fetch_add(1, Ordering::Relaxed);
        }
        crate::detect::local::in_scope(this.id, || future.poll(cx))
    }
}
