//! Atomics, std-flavoured: std's atomic types, whose Release/Acquire
//! operations order the race detector's accesses (per atomic, as
//! ThreadSanitizer does).
//!
//! A Release (or AcqRel, SeqCst) store or read-modify-write publishes what
//! its thread did before it; an Acquire (or SeqCst) load, or the load half
//! of an AcqRel read-modify-write, that reads it takes that history in; a
//! read-modify-write continues the atomic's release sequence. `Relaxed`
//! orders nothing, except through fences: [`fence`]`(Release)` before a
//! relaxed store publishes like a release store, and `fence(Acquire)` after
//! a relaxed load takes in what it read. Every type and method has std's
//! signature; with detection compiled out each is std's atomic alone, and
//! with detection on but race detection never started (no `Tracked` cell
//! used), an operation costs one extra load of a flag.
//!
//! ```
//! use std::sync::Arc;
//! use lockgraph::race::Tracked;
//! use lockgraph::sync::atomic::{AtomicBool, Ordering};
//!
//! let shared = Arc::new((Tracked::new(0u32), AtomicBool::new(false)));
//! let writer = {
//!     let shared = shared.clone();
//!     std::thread::spawn(move || {
//!         shared.0.set(42);
//!         shared.1.store(true, Ordering::Release); // publishes the write
//!     })
//! };
//! while !shared.1.load(Ordering::Acquire) {
//!     std::hint::spin_loop();
//! }
//! assert_eq!(shared.0.get(), 42); // ordered: no report
//! writer.join().unwrap();
//! ```

use std::fmt;
use std::sync::atomic as std_atomic;

pub use std_atomic::{Ordering, compiler_fence};

#[cfg(any(debug_assertions, feature = "always"))]
mod hb {
    use std::sync::atomic::Ordering;

    pub(super) use crate::detect::clock::AtomicOp;
    use crate::detect::{clock, policy};

    /// Whether race detection runs: one load of the policy byte, inlined,
    /// so atomics cost nothing more until a `Tracked` cell is used.
    #[inline(always)]
    fn racing() -> bool {
        policy::racing_started()
    }

    fn acquires(order: Ordering) -> bool {
        matches!(
            order,
            Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst
        )
    }

    fn releases(order: Ordering) -> bool {
        matches!(
            order,
            Ordering::Release | Ordering::AcqRel | Ordering::SeqCst
        )
    }

    #[inline(always)]
    pub(super) fn load(key: usize, order: Ordering) {
        if racing() {
            clock::atomic(
                key,
                AtomicOp::Load {
                    acquire: acquires(order),
                },
            );
        }
    }

    #[inline(always)]
    pub(super) fn store(key: usize, order: Ordering) {
        if racing() {
            clock::atomic(
                key,
                AtomicOp::Store {
                    release: releases(order),
                },
            );
        }
    }

    #[inline(always)]
    pub(super) fn rmw(key: usize, order: Ordering) {
        if !racing() {
            return;
        }
        clock::atomic(
            key,
            AtomicOp::Rmw {
                acquire: acquires(order),
                release: releases(order),
            },
        );
    }

    /// A compare-exchange: a read-modify-write when it succeeds, a load
    /// (with the failure ordering) when it fails.
    #[inline]
    pub(super) fn exchange<T>(
        key: usize,
        result: &Result<T, T>,
        success: Ordering,
        failure: Ordering,
    ) {
        match result {
            Ok(_) => rmw(key, success),
            Err(_) => load(key, failure),
        }
    }

    #[inline(always)]
    pub(super) fn fence(order: Ordering) {
        if racing() {
            clock::fence(acquires(order), releases(order));
        }
    }
}

#[cfg(not(any(debug_assertions, feature = "always")))]
mod hb {
    //! Detection compiled out: std's atomics alone.
    use std::sync::atomic::Ordering;

    #[inline(always)]
    pub(super) fn load(_key: usize, _order: Ordering) {}
    #[inline(always)]
    pub(super) fn store(_key: usize, _order: Ordering) {}
    #[inline(always)]
    pub(super) fn rmw(_key: usize, _order: Ordering) {}
    #[inline(always)]
    pub(super) fn exchange<T>(_key: usize, _result: &Result<T, T>, _s: Ordering, _f: Ordering) {}
    #[inline(always)]
    pub(super) fn fence(_order: Ordering) {}
}

/// An atomic fence: [`std::sync::atomic::fence`], which also orders the
/// race detector (see the [module docs](crate::sync::atomic)).
#[inline]
pub fn fence(order: Ordering) {
    std_atomic::fence(order);
    hb::fence(order);
}

/// The methods every atomic type shares: load, store, swap, the
/// compare-exchanges, `fetch_update`, and the plain accessors.
macro_rules! common_methods {
    ($std:ty, $t:ty) => {
        /// The inner std atomic's address: its clock's key.
        #[inline(always)]
        fn key(&self) -> usize {
            &self.inner as *const $std as usize
        }

        /// Loads the value: [`std`]'s `load`.
        #[inline]
        pub fn load(&self, order: Ordering) -> $t {
            let value = self.inner.load(order);
            hb::load(self.key(), order);
            value
        }

        /// Stores a value: [`std`]'s `store`.
        #[inline]
        pub fn store(&self, val: $t, order: Ordering) {
            hb::store(self.key(), order);
            self.inner.store(val, order);
        }

        /// Stores a value, returning the previous one: [`std`]'s `swap`.
        #[inline]
        pub fn swap(&self, val: $t, order: Ordering) -> $t {
            hb::rmw(self.key(), order);
            self.inner.swap(val, order)
        }

        /// Stores `new` if the value is `current`: [`std`]'s
        /// `compare_exchange`.
        #[inline]
        pub fn compare_exchange(
            &self,
            current: $t,
            new: $t,
            success: Ordering,
            failure: Ordering,
        ) -> Result<$t, $t> {
            let result = self.inner.compare_exchange(current, new, success, failure);
            hb::exchange(self.key(), &result, success, failure);
            result
        }

        /// As `compare_exchange`, allowed to fail spuriously: [`std`]'s
        /// `compare_exchange_weak`.
        #[inline]
        pub fn compare_exchange_weak(
            &self,
            current: $t,
            new: $t,
            success: Ordering,
            failure: Ordering,
        ) -> Result<$t, $t> {
            let result = self
                .inner
                .compare_exchange_weak(current, new, success, failure);
            hb::exchange(self.key(), &result, success, failure);
            result
        }

        /// Stores `new` if the value is `current`, returning the previous
        /// value: [`std`]'s deprecated `compare_and_swap` (still used by
        /// published crates).
        #[deprecated(
            since = "1.50.0",
            note = "Use `compare_exchange` or `compare_exchange_weak` instead"
        )]
        #[inline]
        pub fn compare_and_swap(&self, current: $t, new: $t, order: Ordering) -> $t {
            // std's own mapping of the one ordering to the failure one.
            let failure = match order {
                Ordering::Release | Ordering::Relaxed => Ordering::Relaxed,
                Ordering::AcqRel | Ordering::Acquire => Ordering::Acquire,
                _ => Ordering::SeqCst,
            };
            match self.compare_exchange(current, new, order, failure) {
                Ok(previous) | Err(previous) => previous,
            }
        }

        /// Applies `f` until it stores: [`std`]'s `fetch_update`.
        #[inline]
        pub fn fetch_update<F>(
            &self,
            set_order: Ordering,
            fetch_order: Ordering,
            f: F,
        ) -> Result<$t, $t>
        where
            F: FnMut($t) -> Option<$t>,
        {
            let result = self.inner.fetch_update(set_order, fetch_order, f);
            hb::exchange(self.key(), &result, set_order, fetch_order);
            result
        }

        /// A mutable reference to the value (no other thread can see it).
        #[inline]
        pub fn get_mut(&mut self) -> &mut $t {
            self.inner.get_mut()
        }

        /// Consumes the atomic, returning the value.
        #[inline]
        pub fn into_inner(self) -> $t {
            self.inner.into_inner()
        }

        /// A raw pointer to the value: [`std`]'s `as_ptr`.
        #[inline]
        pub const fn as_ptr(&self) -> *mut $t {
            self.inner.as_ptr()
        }
    };
}

/// A read-modify-write method: [`std`]'s method of the same name.
macro_rules! rmw_methods {
    ($t:ty; $($name:ident),*) => {$(
        #[doc = concat!("[`std`]'s `", stringify!($name), "`: a read-modify-write.")]
        #[inline]
        pub fn $name(&self, val: $t, order: Ordering) -> $t {
            hb::rmw(self.key(), order);
            self.inner.$name(val, order)
        }
    )*};
}

macro_rules! atomic_int {
    ($($name:ident($t:ty)),* $(,)?) => {$(
        #[doc = concat!("[`std::sync::atomic::", stringify!($name), "`], whose Release/Acquire operations order the race detector (see the [module docs](crate::sync::atomic)).")]
        #[repr(transparent)]
        pub struct $name {
            inner: std_atomic::$name,
        }

        impl $name {
            /// Creates a new atomic.
            #[inline]
            #[must_use]
            pub const fn new(v: $t) -> $name {
                $name { inner: std_atomic::$name::new(v) }
            }

            common_methods!(std_atomic::$name, $t);
            rmw_methods!($t; fetch_add, fetch_sub, fetch_and, fetch_nand, fetch_or, fetch_xor, fetch_max, fetch_min);
        }

        impl Default for $name {
            fn default() -> $name {
                $name::new(Default::default())
            }
        }

        impl From<$t> for $name {
            fn from(v: $t) -> $name {
                $name::new(v)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    )*};
}

atomic_int!(
    AtomicI8(i8),
    AtomicI16(i16),
    AtomicI32(i32),
    AtomicI64(i64),
    AtomicIsize(isize),
    AtomicU8(u8),
    AtomicU16(u16),
    AtomicU32(u32),
    AtomicU64(u64),
    AtomicUsize(usize),
);

/// [`std::sync::atomic::AtomicBool`], whose Release/Acquire operations
/// order the race detector (see the [module docs](crate::sync::atomic)).
#[repr(transparent)]
pub struct AtomicBool {
    inner: std_atomic::AtomicBool,
}

impl AtomicBool {
    /// Creates a new atomic.
    #[inline]
    #[must_use]
    pub const fn new(v: bool) -> AtomicBool {
        AtomicBool {
            inner: std_atomic::AtomicBool::new(v),
        }
    }

    common_methods!(std_atomic::AtomicBool, bool);
    rmw_methods!(bool; fetch_and, fetch_nand, fetch_or, fetch_xor);

    /// Negates the value, returning the previous one: a read-modify-write.
    #[inline]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        hb::rmw(self.key(), order);
        self.inner.fetch_not(order)
    }
}

impl Default for AtomicBool {
    fn default() -> AtomicBool {
        AtomicBool::new(false)
    }
}

impl From<bool> for AtomicBool {
    fn from(v: bool) -> AtomicBool {
        AtomicBool::new(v)
    }
}

impl fmt::Debug for AtomicBool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// [`std::sync::atomic::AtomicPtr`], whose Release/Acquire operations order
/// the race detector (see the [module docs](crate::sync::atomic)).
#[repr(transparent)]
pub struct AtomicPtr<T> {
    inner: std_atomic::AtomicPtr<T>,
}

impl<T> AtomicPtr<T> {
    /// Creates a new atomic pointer.
    #[inline]
    #[must_use]
    pub const fn new(p: *mut T) -> AtomicPtr<T> {
        AtomicPtr {
            inner: std_atomic::AtomicPtr::new(p),
        }
    }

    common_methods!(std_atomic::AtomicPtr<T>, *mut T);
}

impl<T> Default for AtomicPtr<T> {
    fn default() -> AtomicPtr<T> {
        AtomicPtr::new(std::ptr::null_mut())
    }
}

impl<T> From<*mut T> for AtomicPtr<T> {
    fn from(p: *mut T) -> AtomicPtr<T> {
        AtomicPtr::new(p)
    }
}

impl<T> fmt::Debug for AtomicPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
