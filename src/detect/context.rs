//! Execution contexts: a tokio task (by its id), or outside any task the
//! thread (a `block_on` body, and so a `#[tokio::test]` body, is its
//! thread's context). Each context has its own held stack.
//!
//! A thread's own stack lives in its [`Local`]. A task's lives in a global
//! registry (sharded by task id), because a task moves between worker
//! threads and a guard may be dropped by another context. Only the task's
//! own operations touch its stack, without a lock: tokio polls a task on
//! one thread at a time, each poll after the last one ended, so they never
//! overlap (the same guarantee that lets a `Send` future's own state move
//! between threads). Another context that drops or adopts one of the task's
//! guards posts the release to the task's inbox, which the task applies at
//! its next operation.
//!
//! The common operation — an async lock acquired in an already known order,
//! or released — works on the task's stack in place ([`push_in`],
//! [`pop_in`]). Anything
//! else (a new edge, a report, a sync lock, the watchdog, race detection)
//! moves the task's stack into the thread's `Local` for the length of the
//! operation ([`in_task`]); the thread's own stack waits in
//! `Local::thread_held` meanwhile, where the operation can still see it (a
//! task acquiring a lock the thread context holds).
//!
//! The thread also remembers which tasks ended their last operation on it
//! holding a *sync* lock (a std or parking_lot guard), and which ones: such
//! a task is suspended at an `.await` holding that lock — a guard of a sync
//! lock is `!Send`, so the task cannot have moved — and another context on
//! the same thread acquiring a lock is the report "held across an `.await`".
#![cfg_attr(not(feature = "tokio"), allow(dead_code))]

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::local::{Held, Local, LockId, Scan, Stack};
use crate::facade as sync;

/// A context: a task's id, or [`THREAD`] plus a thread's id.
pub(crate) type ContextId = u64;

/// Marks a thread context's id (task ids count up from 1 and never get
/// near it).
pub(crate) const THREAD: ContextId = 1 << 63;

/// The context running on this thread now.
#[inline]
pub(crate) fn current() -> ContextId {
    match super::local::current_task() {
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

/// A task's state between its operations.
pub(crate) struct TaskContext {
    /// Its held stack. Touched only by the task's own operations, which
    /// never overlap, and by a sweep that has the context to itself.
    held: sync::UnsafeCell<Stack>,
    /// Its publication (read by the watchdog): a record of its own, named
    /// after the task, that a waiter's report can name as the holder.
    /// Locked by the task's operations only once it was ever used
    /// (`watched`), or while threads publish.
    publication: sync::Mutex<super::publish::Publication>,
    watched: AtomicBool,
    /// Releases of the task's locks by other contexts.
    inbox: Inbox,
}

// SAFETY: `held` is the only field that is not `Sync` by itself. It is used
// by the operations of the task the context belongs to — each runs inside
// a poll of that task (or of a `lockgraph::tokio::scope` inside it), and
// tokio never polls a task on two threads at once: a poll happens after the
// previous one ended — and by the registry's sweep, only while no thread
// holds a reference to the context but the registry, under the shard's
// lock that any new reference must take.
unsafe impl Sync for TaskContext {}

impl Default for TaskContext {
    fn default() -> TaskContext {
        TaskContext {
            held: sync::UnsafeCell::new(Stack::default()),
            publication: sync::Mutex::default(),
            watched: AtomicBool::new(false),
            inbox: Inbox::default(),
        }
    }
}

impl TaskContext {
    /// The task's stack, for one of the task's own operations.
    ///
    /// # Safety
    /// The caller is an operation of the task this context belongs to (or
    /// has the context to itself), and uses the stack only until it ends.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn held(&self) -> &mut Stack {
        // SAFETY: forwarded: nothing else uses the stack meanwhile.
        self.held.with_mut(|held| unsafe { &mut *held })
    }

    /// Applies the releases other contexts posted. Same contract as
    /// [`TaskContext::held`].
    unsafe fn drain(&self) {
        if self.inbox.pending.load(Ordering::Acquire) {
            self.inbox.pending.store(false, Ordering::Relaxed);
            let ids = std::mem::take(&mut *self.inbox.ids.lock());
            // SAFETY: forwarded.
            let held = unsafe { self.held() };
            for id in ids {
                held.remove(id);
            }
        }
    }
}

const SHARDS: usize = 16;

/// Above this many entries a shard drops the contexts nobody uses: empty,
/// and cached by no thread.
const SWEEP_ABOVE: usize = 64;

/// Task ids count up from 1: one multiplication spreads them over the
/// table (SipHash would cost more than the rest of a lookup).
type Registry = HashMap<u64, Arc<TaskContext>, BuildHasherDefault<super::class::WordHasher>>;
type Shard = sync::Mutex<Registry>;

sync::global! {
    static TASKS: [Shard; SHARDS] = lazy std::array::from_fn(|_| sync::Mutex::new(Registry::default()));
}

fn shard(task: u64) -> &'static Shard {
    &TASKS[(task.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize % SHARDS]
}

/// The registry's context for `task`, created if new.
#[cold]
#[inline(never)]
fn lookup(task: u64) -> Arc<TaskContext> {
    let mut shard = shard(task).lock();
    if let Some(context) = shard.get(&task) {
        return context.clone();
    }
    if shard.len() > SWEEP_ABOVE {
        shard.retain(|_, context| {
            // Nobody else can take a new reference while the shard is
            // locked, so a count of 1 stays 1; the fence orders the last
            // user's operations (before it dropped its reference) before
            // this look at the stack.
            if Arc::strong_count(context) > 1 {
                return true;
            }
            std::sync::atomic::fence(Ordering::Acquire);
            // SAFETY: the context is the registry's alone (above).
            unsafe {
                context.drain();
                !context.held().is_empty()
            }
        });
    }
    shard.entry(task).or_default().clone()
}

/// The registry's context for `task`, if it has one.
pub(crate) fn find(task: u64) -> Option<Arc<TaskContext>> {
    shard(task).lock().get(&task).cloned()
}

/// How many tasks' contexts a thread keeps at hand: a worker thread runs
/// its tasks in turns.
const CACHED: usize = 4;

/// The contexts of the tasks a thread ran operations for last, the most
/// recent first. Holding a context keeps the registry's sweep off it.
pub(crate) struct TaskCache {
    entries: [(u64, Option<Arc<TaskContext>>); CACHED],
}

impl TaskCache {
    pub(crate) const fn new() -> TaskCache {
        TaskCache {
            entries: [const { (0, None) }; CACHED],
        }
    }

    /// Moves `task`'s context first, if it is here: then `entries[0]`.
    #[inline(always)]
    fn promote(&mut self, task: u64) -> bool {
        if self.entries[0].0 == task && self.entries[0].1.is_some() {
            return true;
        }
        self.promote_later(task)
    }

    #[cold]
    #[inline(never)]
    fn promote_later(&mut self, task: u64) -> bool {
        match (1..CACHED).find(|&i| self.entries[i].0 == task && self.entries[i].1.is_some()) {
            Some(i) => {
                // Moved to the front, the ones before it one down: a few
                // swaps (the slice rotation costs several times more).
                for j in (1..=i).rev() {
                    self.entries.swap(j, j - 1);
                }
                true
            }
            None => false,
        }
    }

    /// `task`'s context, taken out (until [`TaskCache::put`]): this
    /// thread's, or the registry's.
    #[inline(always)]
    fn take(&mut self, task: u64) -> Arc<TaskContext> {
        if !self.promote(task) {
            self.entries.rotate_right(1);
            self.entries[0] = (task, Some(lookup(task)));
        }
        self.entries[0]
            .1
            .take()
            .expect("promoted or just looked up")
    }

    /// Puts back what [`TaskCache::take`] took.
    #[inline(always)]
    fn put(&mut self, context: Arc<TaskContext>) {
        self.entries[0].1 = Some(context);
    }
}

/// The task's context, when an operation of task `task` can take the hot
/// path on its stack in place: the context is the one this thread used
/// last (or among the others it keeps at hand), no release was posted to
/// it, and it never published for a watchdog. The caller checks that no
/// watchdog runs and, for a release, no race detection.
#[inline(always)]
fn at_hand(cache: &mut TaskCache, task: u64) -> Option<&TaskContext> {
    if !cache.promote(task) {
        return None;
    }
    let context = cache.entries[0].1.as_deref()?;
    if context.watched.load(Ordering::Relaxed) || context.inbox.pending.load(Ordering::Relaxed) {
        return None;
    }
    Some(context)
}

/// The hot path of an async acquisition by task `task`: pushes `held` on
/// the task's stack in place when every lock the task holds is known to be
/// ordered before this one, and no context on this thread holds a sync lock
/// (the thread's own stack is empty, no task here is suspended with one).
/// Returns `false`, having changed nothing, when the acquisition needs the
/// full operation ([`in_task`]): a new edge, a relock, a report.
#[inline(always)]
pub(crate) fn push_in(local: &mut Local, task: u64, held: Held) -> bool {
    if !local.held.is_empty() || !local.sync_holders.is_empty() {
        return false;
    }
    let Some(context) = at_hand(&mut local.task_cache, task) else {
        return false;
    };
    // SAFETY: this is an operation of task `task` (the caller's current
    // task), and the stack is used only within it.
    let stack = unsafe { context.held() };
    if !matches!(
        super::local::scan(stack, &local.known, &mut local.chains, held.id),
        Scan::Push(_)
    ) {
        return false;
    }
    stack.push(held);
    true
}

/// The hot path of an async release by task `task`, the guard's owner:
/// takes lock `id` off the task's stack in place. Returns `false`, having
/// changed nothing, when the release needs the full operation (race
/// detection on this thread, a posted release, a watchdog publication).
#[inline(always)]
pub(crate) fn pop_in(local: &mut Local, task: u64, id: LockId) -> bool {
    if local.race.is_some() {
        return false;
    }
    let Some(context) = at_hand(&mut local.task_cache, task) else {
        return false;
    };
    // SAFETY: as in `push_in`.
    unsafe { context.held() }.remove(id);
    true
}

/// Runs one detector operation `f` inside task `task`: its held stack is
/// `local.held` for the length of it. Never inlined: the thread's own
/// operations, around which it is dispatched, stay small.
#[inline(never)]
pub(crate) fn in_task<R>(local: &mut Local, task: u64, f: impl FnOnce(&mut Local) -> R) -> R {
    let context = local.task_cache.take(task);
    // SAFETY: an operation of task `task`; the stack is used until the end
    // of this function only.
    let task_held = unsafe {
        context.drain();
        context.held()
    };
    // The thread's own stack is usually empty inside a task: then one swap
    // in and one out do.
    let aside = !local.held.is_empty();
    if aside {
        std::mem::swap(&mut local.thread_held, &mut local.held);
    }
    std::mem::swap(&mut local.held, task_held);
    // The publications only matter while a watchdog runs, or once the task
    // (or the thread) published something.
    let mut watch = (context.watched.load(Ordering::Relaxed)
        || local.publication.is_used()
        || super::policy::is_publishing(super::policy::state()))
    .then(|| context.publication.lock());
    if let Some(state) = &mut watch {
        std::mem::swap(&mut local.thread_publication, &mut local.publication);
        std::mem::swap(&mut local.publication, &mut **state);
    }
    local.task = task;
    // Detector code does not panic; if it ever did, the stacks are put back
    // before the panic goes on.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut *local)));
    std::mem::swap(&mut local.held, task_held);
    if aside {
        std::mem::swap(&mut local.held, &mut local.thread_held);
    }
    if let Some(state) = &mut watch {
        std::mem::swap(&mut local.publication, &mut **state);
        std::mem::swap(&mut local.publication, &mut local.thread_publication);
        if state.is_used() {
            context.watched.store(true, Ordering::Relaxed);
        }
    }
    drop(watch);
    local.task = 0;
    let holds_sync = (0..task_held.len()).any(|i| !task_held.get(i).asynchronous);
    if holds_sync || !local.sync_holders.is_empty() {
        local.note_sync_holder(task, task_held);
    }
    local.task_cache.put(context);
    match result {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Releases lock `id` from context `owner`'s stack, from another context
/// (a guard dropped or adopted elsewhere): posted to the owner, which
/// applies it at its next operation. A task's publication for the watchdog
/// is withdrawn at once.
pub(crate) fn post_release(owner: ContextId, id: LockId) {
    if owner & THREAD != 0 {
        let thread = owner & !THREAD;
        let inbox = INBOXES.lock().get(&thread).cloned();
        if let Some(inbox) = inbox {
            inbox.post(id);
        }
    } else if let Some(context) = find(owner) {
        if context.watched.load(Ordering::Relaxed) {
            super::publish::unpublish_from(&mut context.publication.lock(), id);
        }
        context.inbox.post(id);
    }
}

/// Releases posted to a context by other contexts: a guard acquired by it
/// and dropped (or adopted) elsewhere. A context's stack is its own, so it
/// removes them itself, at its next detector operation.
#[derive(Default)]
pub(crate) struct Inbox {
    pending: AtomicBool,
    ids: sync::Mutex<Vec<LockId>>,
}

impl Inbox {
    fn post(&self, id: LockId) {
        self.ids.lock().push(id);
        self.pending.store(true, Ordering::Release);
    }
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

/// Applies the releases posted to this thread, if any.
#[inline]
pub(crate) fn drain_inbox(local: &mut Local) {
    if let Some(handle) = &local.inbox
        && handle.inbox.pending.load(Ordering::Acquire)
    {
        handle.inbox.pending.store(false, Ordering::Relaxed);
        let ids = std::mem::take(&mut *handle.inbox.ids.lock());
        for id in ids {
            if local.publication.has_published() {
                super::publish::unpublish(local, id);
            }
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

    /// One detector operation inside task `task`: push lock `id`, on the
    /// hot path when it can be taken.
    pub fn acquire_in_task(task: u64, id: u64) {
        let held = Held {
            id,
            slot: 0,
            access: Access::Exclusive,
            blocking: true,
            asynchronous: true,
            place: super::super::local::Place::NONE,
            site: std::panic::Location::caller(),
            chain: 0,
        };
        LOCAL.with(|slot| {
            slot.enter(|local| {
                if !super::push_in(local, task, held) {
                    super::in_task(local, task, |local| local.held.push(held));
                }
            })
        });
    }

    /// One detector operation inside task `task`: pop lock `id`, on the hot
    /// path when it can be taken.
    pub fn release_in_task(task: u64, id: u64) {
        LOCAL.with(|slot| {
            slot.enter(|local| {
                if !super::pop_in(local, task, id) {
                    super::in_task(local, task, |local| local.held.remove(id));
                }
            })
        });
    }

    /// A guard of task `task` dropped by another context.
    pub fn release_from_elsewhere(task: u64, id: u64) {
        super::post_release(task, id)
    }

    /// The lock ids task `task` holds, outermost first, with the releases
    /// posted to it applied. The caller makes sure no operation of the
    /// task runs meanwhile (as tokio does for a task's polls).
    pub fn held_by(task: u64) -> Vec<u64> {
        super::find(task)
            .map(|context| {
                // SAFETY: no operation of the task runs (above).
                unsafe {
                    context.drain();
                    context.held().to_vec().iter().map(|h| h.id).collect()
                }
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
