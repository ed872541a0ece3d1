//! Poisoning as std does it: a guard remembers whether its thread was
//! already panicking when it locked; if the thread starts panicking while
//! the guard lives, dropping the guard marks the lock poisoned.

use std::sync::{LockResult, PoisonError};
use std::thread;

use crate::facade::{AtomicBool, Ordering};

pub(crate) struct Flag {
    failed: AtomicBool,
}

impl Flag {
    crate::facade::maybe_const_fn! {
        #[inline(always)]
        pub(crate) fn new() -> Flag {
            Flag { failed: AtomicBool::new(false) }
        }
    }

    #[inline(always)]
    pub(crate) fn get(&self) -> bool {
        crate::facade::hot_load_bool_relaxed(&self.failed)
    }

    #[inline(always)]
    pub(crate) fn clear(&self) {
        self.failed.store(false, Ordering::Relaxed)
    }

    /// Taken when a guard is created.
    #[inline(always)]
    pub(crate) fn guard(&self) -> Guard {
        Guard {
            panicking: thread::panicking(),
        }
    }

    /// Called when a guard is dropped.
    #[inline(always)]
    pub(crate) fn done(&self, guard: &Guard) {
        if !guard.panicking && thread::panicking() {
            self.failed.store(true, Ordering::Relaxed);
        }
    }

    /// `Ok(value)` or, when poisoned, `Err(PoisonError::new(value))`.
    #[inline(always)]
    pub(crate) fn result<T>(&self, value: T) -> LockResult<T> {
        if self.get() {
            Err(PoisonError::new(value))
        } else {
            Ok(value)
        }
    }
}

pub(crate) struct Guard {
    panicking: bool,
}
