//! tokio's locks in the same lock-order graph (cargo feature `tokio`).
//!
//! `use tokio::sync::…` → `use lockgraph::tokio::sync::…`: [`sync`] is all
//! of `tokio::sync`, with `Mutex` (and its guards) replaced by checked ones
//! of the same signatures. Held locks are tracked per *execution context*:
//! a tokio task (by its id), or outside any task the thread (a `block_on`
//! body, and so a `#[tokio::test]` body, is its thread's context). So two
//! tasks taking two locks in opposite orders are an inversion reported at
//! the first poll of the `lock()` that closes the cycle, before it waits;
//! a task locking a lock it holds is a self-deadlock report; and a task
//! suspended at an `.await` holding a *sync* lock (a std or parking_lot
//! guard) is reported when another context on its thread acquires a lock.
//! Sync and async locks share one graph.
//!
//! With detection compiled out, each type is tokio's own.

pub mod sync;
