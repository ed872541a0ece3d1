//! All of `tokio::sync`, with lockgraph's checked [`Mutex`] and its guards
//! (see the [module docs](crate::tokio)).
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
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard};
