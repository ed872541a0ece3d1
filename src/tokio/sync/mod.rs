//! All of `tokio::sync`, with lockgraph's checked [`Mutex`] and [`RwLock`]
//! and all their guards, tokio's signatures (see the [module
//! docs](crate::tokio)). Deviation: the owned guards and the `*_owned`
//! methods require `T: 'static` (the guard keeps a borrow of the lock inside
//! its `Arc`); tokio's do not.
//!
//! ```
//! use std::sync::Arc;
//! use lockgraph::tokio::sync::Mutex;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let count = Arc::new(Mutex::new(0));
//! let task = {
//!     let count = count.clone();
//!     tokio::spawn(async move { *count.lock().await += 1 })
//! };
//! task.await.unwrap();
//! assert_eq!(*count.lock().await, 1);
//! # });
//! ```

pub use crate::facade::tokio_sync::*;

#[cfg(any(debug_assertions, feature = "always"))]
mod mutex;
#[cfg(any(debug_assertions, feature = "always"))]
mod rwlock;
#[cfg(any(debug_assertions, feature = "always"))]
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard};
#[cfg(any(debug_assertions, feature = "always"))]
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
