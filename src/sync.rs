//! All of `std::sync` under one path, so that swapping a module is one line:
//! `use std::sync::…` → `use lockgraph::sync::…`.
//!
//! The locks, their guards and [`Condvar`] are lockgraph's checked ones
//! (the same types as at the crate root). [`OnceLock`], [`LazyLock`] and
//! [`Once`] take part in the lock order (an initialisation acts as a lock
//! while it runs; re-entrant initialisation is a self-deadlock report) and
//! order the race detector's accesses (the initialisation happens before
//! every later access through the cell); [`Barrier`] rounds order them too
//! (every arrival before every return), and so do [`mpsc`] channels (a send
//! before the recv that takes it; a rendezvous both ways). Everything else
//! — `Arc`, `Weak`, `OnceState`, `BarrierWaitResult`, the error and result
//! types — is std's own, re-exported unchanged, so code using any of
//! std::sync keeps compiling after the swap. The [`atomic`] types are
//! std's with their Release/Acquire operations ordering the race detector
//! (a Release store before the Acquire load that reads it; fences; Relaxed
//! orders nothing).
//!
//! ```
//! use lockgraph::sync::atomic::{AtomicUsize, Ordering};
//! use lockgraph::sync::{Arc, Mutex, mpsc};
//!
//! let total = Arc::new(Mutex::new(0));
//! let calls = Arc::new(AtomicUsize::new(0));
//! let (tx, rx) = mpsc::channel();
//! let worker = {
//!     let (total, calls) = (total.clone(), calls.clone());
//!     std::thread::spawn(move || {
//!         for n in rx {
//!             *total.lock().unwrap() += n;
//!             calls.fetch_add(1, Ordering::Relaxed);
//!         }
//!     })
//! };
//! for n in 1..=4 {
//!     tx.send(n).unwrap();
//! }
//! drop(tx);
//! worker.join().unwrap();
//! assert_eq!(*total.lock().unwrap(), 10);
//! assert_eq!(calls.load(Ordering::Relaxed), 4);
//! ```

// std's items first, by glob; the explicit re-exports below shadow the ones
// lockgraph replaces.
pub use crate::facade::std_sync::*;

pub use crate::barrier::Barrier;

/// Atomics whose Release/Acquire operations order the race detector (see
/// the module).
pub mod atomic {
    #[doc(inline)]
    pub use crate::atomic::*;
}

/// Channels whose messages order the race detector (see the module).
pub mod mpsc {
    #[doc(inline)]
    pub use crate::mpsc::*;
}
pub use crate::condvar::Condvar;
pub use crate::mutex::{Mutex, MutexGuard};
// With detection compiled out, std's `LazyLock` (through the glob above).
#[cfg(any(debug_assertions, feature = "always"))]
pub use crate::once::LazyLock;
pub use crate::once::{Once, OnceLock};
pub use crate::reentrant::{ReentrantLock, ReentrantLockGuard};
pub use crate::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
