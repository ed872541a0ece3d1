//! Execution contexts: a tokio task (by its id), or outside any task the
//! thread (a `block_on` body, and so a `#[tokio::test]` body, is its
//! thread's context). Each context has its own held stack.
//!
//! A thread's own stack lives in its [`Local`]. A task's lives in a global
//! registry (sharded by task id), because a task moves between worker
//! threads and a guard may be dropped by another context: for the length of
//! one detector operation inside a task, the task's stack is moved into the
//! thread's `Local` (under the task's own mutex, uncontended: a task is
//! polled by one thread at a time) and moved back after. The thread's own
//! stack waits in `Local::thread_held` meanwhile, where the operation can
//! still see it (a task acquiring a lock the thread context holds).
//!
//! The thread also remembers which tasks ended their last operation on it
//! holding a *sync* lock (a std or parking_lot guard): such a task is
//! suspended at an `.await` holding that lock — a guard of a sync lock is
//! `!Send`, so the task cannot have moved — and another context on the
//! same thread acquiring a lock is the report "held across an `.await`".
#![cfg_attr(not(feature = "tokio"), allow(dead_code))]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::local::{Held, Local, Stack};
use crate::facade as sync;

/// A context: a task's id, or [`THREAD`] plus a thread's id.
pub(crate) type ContextId = u64;

/// Marks a thread context's id (task ids count up from 1 and never get
/// near it).
pub(crate) const THREAD: ContextId = 1 << 63;

/// The context running on this thread now.
#[inline]
pub(crate) fn current() -> ContextId {
    match sync::current_task() {
        0 => THREAD | sync::current_thread_id(),
        task => task,
    }
}

/// A context's name in reports: the thread's name, or `task 12 on thread
/// \`worker\`` (reports print it as is; a thread's they quote).
pub(crate) fn name(context: ContextId, thread: &str) -> String {
    if context & THREAD != 0 {
        thread.to_owned()
    } else {
        format!("task {context} on thread `{thread}`")
    }
}

/// A task's held stack and watchdog publication, locked while one
/// operation uses them.
#[derive(Default)]
pub(crate) struct TaskContext {
    stack: sync::Mutex<TaskState>,
}

/// What a task keeps between operations.
#[derive(Default)]
struct TaskState {
    held: Stack,
    /// Its publication for a running watchdog: a record of its own, named
    /// after the task, that a waiter's report can name as the holder.
    watch: crate::watchdog::LocalWatch,
}

const SHARDS: usize = 16;

/// Above this many entries a shard drops the contexts nobody uses: empty,
/// and cached by no thread.
const SWEEP_ABOVE: usize = 64;

type Shard = sync::Mutex<HashMap<u64, Arc<TaskContext>>>;

sync::global! {
    static TASKS: [Shard; SHARDS] = lazy std::array::from_fn(|_| sync::Mutex::new(HashMap::new()));
}

fn shard(task: u64) -> &'static Shard {
    &TASKS[(task.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize % SHARDS]
}

/// The registry's context for `task`, created if new.
fn lookup(task: u64) -> Arc<TaskContext> {
    let mut shard = shard(task).lock();
    if let Some(context) = shard.get(&task) {
        return context.clone();
    }
    if shard.len() > SWEEP_ABOVE {
        // Nobody else can clone an entry while the shard is locked, so a
        // count of 1 stays 1; `try_lock` skips a context in use.
        shard.retain(|_, context| {
            Arc::strong_count(context) > 1
                || context
                    .stack
                    .try_lock()
                    .is_none_or(|state| !state.held.is_empty())
        });
    }
    shard.entry(task).or_default().clone()
}

/// The registry's context for `task`, if it has one.
pub(crate) fn find(task: u64) -> Option<Arc<TaskContext>> {
    shard(task).lock().get(&task).cloned()
}

/// Runs one detector operation `f` inside task `task`: its held stack is
/// `local.held` for the length of it.
pub(crate) fn in_task<R>(local: &mut Local, task: u64, f: impl FnOnce(&mut Local) -> R) -> R {
    let context = match local.task_cache.take() {
        Some((cached, context)) if cached == task => context,
        _ => lookup(task),
    };
    let result = {
        let mut state = context.stack.lock();
        // `thread_held` (and `thread_watch`) are empty between operations:
        // swaps move the thread's own aside and the task's in, and back
        // after.
        // The thread's own stack is usually empty inside a task: then
        // one swap in and one out do.
        let aside = !local.held.is_empty();
        if aside {
            std::mem::swap(&mut local.thread_held, &mut local.held);
        }
        std::mem::swap(&mut local.held, &mut state.held);
        // The publications only matter while a watchdog runs, or once the
        // task (or the thread) published something.
        let watch = state.watch.is_used()
            || local.watch.is_used()
            || super::policy::is_watching(super::policy::state());
        if watch {
            std::mem::swap(&mut local.thread_watch, &mut local.watch);
            std::mem::swap(&mut local.watch, &mut state.watch);
        }
        local.task = task;
        // Detector code does not panic; if it ever did, the stacks are put
        // back before the panic goes on.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut *local)));
        std::mem::swap(&mut local.held, &mut state.held);
        if aside {
            std::mem::swap(&mut local.held, &mut local.thread_held);
        }
        if watch {
            std::mem::swap(&mut local.watch, &mut state.watch);
            std::mem::swap(&mut local.watch, &mut local.thread_watch);
        }
        local.task = 0;
        let stack = &state.held;
        if !local.sync_holders.is_empty() || (0..stack.len()).any(|i| !stack.get(i).asynchronous) {
            let holds_sync = (0..stack.len()).any(|i| !stack.get(i).asynchronous);
            local.note_sync_holder(task, holds_sync);
        }
        result
    };
    local.task_cache = Some((task, context));
    match result {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Removes `held`'s lock from task `owner`'s stack, from another context
/// (a guard dropped elsewhere). Returns whether it was there.
pub(crate) fn release_in_task(owner: u64, id: super::local::LockId) -> bool {
    let Some(context) = find(owner) else {
        return false;
    };
    let mut state = context.stack.lock();
    let found = state.held.find(id).is_some();
    state.held.remove(id);
    crate::watchdog::unpublish_from(&mut state.watch, id);
    found
}

/// Moves the entry for lock `id` from task `owner`'s stack out, for the
/// context that now owns the guard.
pub(crate) fn take_from_task(owner: u64, id: super::local::LockId) -> Option<Held> {
    let context = find(owner)?;
    let mut state = context.stack.lock();
    let held = state.held.find(id).map(|i| state.held.get(i));
    state.held.remove(id);
    crate::watchdog::unpublish_from(&mut state.watch, id);
    held
}

/// The sync locks task `task` holds (suspended on this thread), for a
/// report. Called inside another context's operation, so it never waits
/// for a task's stack (empty if in use).
pub(crate) fn sync_locks_of(task: u64) -> Vec<Held> {
    let Some(context) = find(task) else {
        return Vec::new();
    };
    let Some(state) = context.stack.try_lock() else {
        return Vec::new();
    };
    state
        .held
        .to_vec()
        .into_iter()
        .filter(|held| !held.asynchronous)
        .collect()
}

/// Releases posted to a thread by other contexts: a guard acquired by the
/// thread's own context and dropped (or adopted) elsewhere. The thread's
/// stack is its own, so the thread removes them itself, at its next
/// detector operation.
#[derive(Default)]
pub(crate) struct Inbox {
    pending: AtomicBool,
    ids: sync::Mutex<Vec<super::local::LockId>>,
}

sync::global! {
    static INBOXES: sync::Mutex<HashMap<u64, Arc<Inbox>>> = lazy sync::Mutex::new(HashMap::new());
}

/// A thread's registration in `INBOXES`, removed when the thread exits.
pub(crate) struct InboxHandle {
    thread: u64,
    pub(crate) inbox: Arc<Inbox>,
}

impl Drop for InboxHandle {
    fn drop(&mut self) {
        INBOXES.lock().remove(&self.thread);
    }
}

/// Makes sure this thread can receive releases (before it hands out a
/// guard another context may drop).
pub(crate) fn open_inbox(local: &mut Local) {
    if local.inbox.is_none() {
        let thread = sync::current_thread_id();
        let inbox = Arc::new(Inbox::default());
        INBOXES.lock().insert(thread, inbox.clone());
        local.inbox = Some(InboxHandle { thread, inbox });
    }
}

/// Posts the release of lock `id` to the thread context `owner`.
pub(crate) fn post_release(owner: ContextId, id: super::local::LockId) {
    let thread = owner & !THREAD;
    let inbox = INBOXES.lock().get(&thread).cloned();
    if let Some(inbox) = inbox {
        inbox.ids.lock().push(id);
        inbox.pending.store(true, Ordering::Release);
    }
}

/// Applies the releases posted to this thread, if any.
#[inline]
pub(crate) fn drain_inbox(local: &mut Local) {
    if let Some(handle) = &local.inbox
        && handle.inbox.pending.load(Ordering::Acquire)
    {
        handle.inbox.pending.store(false, Ordering::Relaxed);
        let ids = std::mem::take(&mut *handle.inbox.ids.lock());
        for id in ids {
            local.held.remove(id);
        }
    }
}

/// Hooks for the loom models of this bookkeeping (`loom-tests`): under loom
/// no tokio task ever runs, so the models name task ids themselves.
#[cfg(loom)]
pub mod model {
    use super::super::local::{Held, LOCAL};
    use crate::report::Access;

    /// One detector operation inside task `task`: push lock `id`.
    pub fn acquire_in_task(task: u64, id: u64) {
        let site = std::panic::Location::caller();
        LOCAL.with(|slot| {
            slot.enter(|local| {
                super::in_task(local, task, |local| {
                    local.held.push(Held {
                        id,
                        slot: 0,
                        access: Access::Exclusive,
                        blocking: true,
                        asynchronous: true,
                        site,
                    })
                })
            })
        });
    }

    /// One detector operation inside task `task`: pop lock `id`.
    pub fn release_in_task(task: u64, id: u64) {
        LOCAL.with(|slot| {
            slot.enter(|local| super::in_task(local, task, |local| local.held.remove(id)))
        });
    }

    /// A guard of task `task` dropped by another context.
    pub fn release_from_elsewhere(task: u64, id: u64) -> bool {
        super::release_in_task(task, id)
    }

    /// The lock ids task `task` holds, outermost first.
    pub fn held_by(task: u64) -> Vec<u64> {
        super::find(task)
            .map(|context| {
                let state = context.stack.lock();
                state.held.to_vec().iter().map(|h| h.id).collect()
            })
            .unwrap_or_default()
    }

    /// The lock ids this thread's own context holds.
    pub fn held_by_this_thread() -> Vec<u64> {
        LOCAL.with(|slot| {
            slot.enter(|local| local.held.to_vec().iter().map(|h| h.id).collect())
                .unwrap_or_default()
        })
    }
}
