//! The deadlock detector, apart from the lock types: a thread-local stack of
//! held locks (`local`), the global lock-order graph (`graph`), and what to do
//! with a finding (`policy`).
//!
//! Lock types talk to it through [`Meta`], a small per-lock record (its id
//! and creation site). With detection compiled out (`debug_assertions` off
//! and no `always` feature), `Meta` is a zero-sized type whose methods do
//! nothing, so every lock is its engine lock and nothing more.

pub(crate) mod class;
pub(crate) mod clock;
pub(crate) mod context;
pub(crate) mod graph;
mod ids;
pub(crate) mod local;
mod order;
mod pending;
pub(crate) mod policy;
pub(crate) mod publish;
pub(crate) mod record;
pub(crate) mod waits;

use std::panic::Location;

use crate::report::{Access, HeldLock};

/// `std::any::type_name::<T>` of the data a lock protects: part of its
/// default class, and how reports name an unnamed lock.
pub(crate) type TypeName = fn() -> &'static str;

/// Whether this build records lock order: `debug_assertions` or the `always`
/// feature.
pub const ENABLED: bool = cfg!(any(debug_assertions, feature = "always"));

/// What acquiring a lock this thread already holds means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Relock {
    /// Cannot block (reentrant lock, recursive read): no edges, no report.
    Reenter,
    /// May block forever (a second plain read).
    MayDeadlock,
    /// Blocks forever.
    Deadlock,
}

#[inline(always)]
fn relock(held: Access, wanted: Access) -> Relock {
    use Access::*;
    match (held, wanted) {
        (Reentrant, Reentrant) => Relock::Reenter,
        (Shared | SharedRecursive | Upgradable, SharedRecursive) => Relock::Reenter,
        (Shared | SharedRecursive, Shared | Upgradable) => Relock::MayDeadlock,
        (Upgradable, Shared) => Relock::MayDeadlock,
        _ => Relock::Deadlock,
    }
}

#[cfg(any(debug_assertions, feature = "always"))]
pub(crate) use on::Meta;

#[cfg(not(any(debug_assertions, feature = "always")))]
pub(crate) use off::Meta;

#[cfg(any(debug_assertions, feature = "always"))]
mod on {
    use std::borrow::Cow;
    use std::panic::Location;

    use super::clock;
    use super::graph::{self, Identity, NewLock, Toward};
    use super::local::{self, Held, Local};
    use super::publish;
    use super::{Relock, TypeName, policy, relock, waits};
    use crate::facade as sync;
    use crate::report::{Access, LockKind, Report, ReportKind};

    /// The detector's per-lock record: the lock's identity in the graph
    /// (assigned on first acquisition, so `new` can stay `const`), its
    /// creation site and the type it protects (which make its class).
    pub(crate) struct Meta {
        ident: Identity,
        created: &'static Location<'static>,
        data: TypeName,
        /// (Race detection) What this lock's releases published.
        clock: clock::LockClock,
    }

    impl Meta {
        sync::maybe_const_fn! {
            #[track_caller]
            #[inline(always)]
            pub(crate) fn new(data: TypeName) -> Meta {
                Meta {
                    ident: Identity::new(),
                    created: Location::caller(),
                    data,
                    clock: clock::LockClock::new(),
                }
            }
        }

        /// A lock with a name for reports; registered at once.
        #[track_caller]
        pub(crate) fn named(kind: LockKind, data: TypeName, name: Cow<'static, str>) -> Meta {
            let meta = Meta::new(data);
            if policy::active() && !local::busy() {
                let lock = NewLock {
                    name: Some(&name),
                    ..meta.target(kind)
                };
                graph::register(&lock, None);
            }
            meta
        }

        /// Puts the lock in the explicit class `class` (`with_class`).
        pub(crate) fn set_class(&self, kind: LockKind, class: &str) {
            if policy::active() && !local::busy() {
                graph::set_class(&NewLock {
                    class: Some(class),
                    ..self.target(kind)
                });
            }
        }

        /// (Tests) Whether the lock was parked (see `detect::pending`).
        #[cfg(test)]
        pub(crate) fn parked(&self) -> Option<super::local::LockId> {
            let id = self.ident.id();
            (id != 0 && self.ident.slot() == super::pending::PARKED_SLOT).then_some(id)
        }

        fn target(&self, kind: LockKind) -> NewLock<'_> {
            NewLock {
                ident: &self.ident,
                kind,
                data: self.data,
                created: self.created,
                name: None,
                class: None,
            }
        }

        /// Before a blocking acquisition: reports a relock or a cycle this
        /// acquisition would close (before blocking, so a real deadlock
        /// becomes a report), adds the new edges, and pushes the lock on the
        /// held stack. Returns whether a watchdog runs, in which case the
        /// caller acquires through [`Meta::watched`].
        #[inline(always)]
        #[track_caller]
        pub(crate) fn acquire(&self, kind: LockKind, access: Access) -> bool {
            self.acquire_at(kind, access, Location::caller())
        }

        /// [`Meta::acquire`] at an explicit site: an async lock's future
        /// runs it at its first poll, with the site of the `lock()` call.
        #[inline(always)]
        pub(crate) fn acquire_at(
            &self,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) -> bool {
            if policy::plain() && local::own_context() {
                let id = self.ident.id();
                if id != 0
                    && local::push_known(Held::blocking(
                        id,
                        self.ident.slot(),
                        access,
                        kind.is_async(),
                        site,
                    ))
                {
                    return false;
                }
            }
            self.acquire_slow(kind, access, site)
        }

        /// [`Meta::acquire_at`] off the hot path (the policy off, too).
        #[inline(never)]
        fn acquire_slow(
            &self,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) -> bool {
            let state = policy::state();
            if !policy::is_active(state) {
                return false;
            }
            let found = match local::thread_state() {
                local::ThreadState::Own(mut claim) => {
                    Some(self.check_in(claim.local(), kind, access, site))
                }
                local::ThreadState::InTask => self.check_in_task(kind, access, site),
                local::ThreadState::Unavailable => None,
            };
            if let Some(Some(report)) = found {
                self.report_then_push(report, kind, access, site);
            }
            policy::has_hooks(state)
        }

        /// [`Meta::check_in`] inside the task running on this thread.
        #[inline(never)]
        fn check_in_task(
            &self,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) -> Option<Option<Box<Report>>> {
            local::with(|local| self.check_in(local, kind, access, site))
        }

        /// An acquisition's visit to the thread's state: (tokio) a sync
        /// lock another context holds across an `.await`, then the order
        /// check and the push.
        #[inline(always)]
        fn check_in(
            &self,
            local: &mut Local,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) -> Option<Box<Report>> {
            #[cfg(feature = "tokio")]
            if !local.sync_holders.is_empty() || !local.thread_held.is_empty() {
                let found = self.held_across_await(local, kind, access, site);
                if found.is_some() {
                    return found;
                }
            }
            self.check_and_push(local, kind, access, site)
        }

        /// (tokio) [`Meta::acquire_at`] for an async lock, returning the
        /// context that acquires (the guard's owner), found in the same
        /// visit to the thread's state; whether the watchdog or the race
        /// detector needs to hear of the wait and the acquisition
        /// ([`Meta::begin_async_wait`], [`Meta::acquired_async`]); and
        /// whether the acquisition found the lock already held by its
        /// own context and, being a polled one (a `lock()` future at
        /// `place`, where concurrent branches of one task can explain it;
        /// `Place::NONE` for `blocking_lock`), the verdict was deferred
        /// (`tokio::stuck`). Inside a task, in an already known order and
        /// with neither hook running, the entry goes on the task's stack in
        /// place.
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn acquire_async(
            &self,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
            place: local::Place,
        ) -> (u64, bool, local::Deferred) {
            if policy::plain() {
                let id = self.ident.id();
                if id != 0
                    && let Some(task) = local::push_async(self.async_entry(id, access, site, place))
                {
                    return (task, false, local::Deferred::No);
                }
            }
            self.acquire_async_slow(kind, access, site, place)
        }

        /// [`Meta::acquire_async`] off the hot path.
        #[cfg(feature = "tokio")]
        #[inline(never)]
        fn acquire_async_slow(
            &self,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
            place: local::Place,
        ) -> (u64, bool, local::Deferred) {
            let state = policy::state();
            if !policy::is_active(state) {
                return (super::context::current(), false, local::Deferred::No);
            }
            let mut owner = 0;
            let mut deferred = local::Deferred::No;
            let found = local::with(|local| {
                owner = current_in(local);
                local.acquiring = place;
                let found = self.check_in(local, kind, access, site);
                local.acquiring = local::Place::NONE;
                deferred = std::mem::replace(&mut local.deferred, local::Deferred::No);
                found
            });
            if let Some(Some(report)) = found {
                self.report_then_push(report, kind, access, site);
            }
            if owner == 0 {
                owner = super::context::current();
            }
            (owner, policy::has_hooks(state), deferred)
        }

        /// (tokio) A deferred relock ([`Meta::acquire_async`]) is stuck: the
        /// acquisition still waits and the lock was not released since.
        /// Reports it in the waiting context, as the relock would have been
        /// at once — or, when another acquisition of this context is stuck
        /// too, waiting for another lock the context holds (`sibling`: its
        /// lock and site), as the inversion between two branches it is.
        #[cfg(feature = "tokio")]
        #[cold]
        #[inline(never)]
        pub(crate) fn report_stuck(
            &self,
            access: Access,
            site: &'static Location<'static>,
            sibling: Option<(super::local::LockId, &'static Location<'static>)>,
        ) {
            let id = self.ident.id();
            let report = local::with(|local| {
                // The holder: the context's first entry of the lock (the
                // waiting acquisition's own entry is pushed after it).
                let first = |id| {
                    (0..local.held.len())
                        .map(|i| local.held.get(i))
                        .find(|held| held.id == id)
                };
                let previous = first(id)?;
                if let Some((other, other_site)) = sibling
                    && let Some(theirs) = first(other)
                {
                    return graph::branches_report(
                        local,
                        (theirs, previous),
                        (access, site),
                        other_site,
                    );
                }
                let kind = match relock(previous.access, access) {
                    Relock::Reenter => return None,
                    Relock::MayDeadlock => ReportKind::RecursiveRead,
                    Relock::Deadlock => ReportKind::SelfDeadlock,
                };
                graph::relock_report(local, previous, access, kind, site)
            });
            if let Some(Some(report)) = report {
                policy::dispatch(Box::new(report));
            }
        }

        /// (tokio) The lock's id in the graph (0 before its first
        /// acquisition).
        #[cfg(feature = "tokio")]
        pub(crate) fn lock_id(&self) -> super::local::LockId {
            self.ident.id()
        }

        /// (tokio) The lock's release count, counted from now on (see
        /// [`Meta::report_stuck`]).
        #[cfg(feature = "tokio")]
        pub(crate) fn watch_releases(&self) -> u32 {
            self.ident.watch_releases()
        }

        /// (tokio) The lock's release count.
        #[cfg(feature = "tokio")]
        pub(crate) fn releases(&self) -> u32 {
            self.ident.releases()
        }

        /// (tokio) The held entry of an async acquisition of this lock
        /// (registered as `id`).
        #[cfg(feature = "tokio")]
        #[inline(always)]
        fn async_entry(
            &self,
            id: super::local::LockId,
            access: Access,
            site: &'static Location<'static>,
            place: local::Place,
        ) -> Held {
            Held {
                id,
                slot: self.ident.slot(),
                access,
                blocking: true,
                asynchronous: true,
                place,
                site,
                chain: 0,
            }
        }

        /// (tokio) Another context on this thread holds a sync lock across
        /// an `.await`: a task suspended with a std or parking_lot guard
        /// (any acquisition here is reported), or this thread's own context
        /// while a task runs (reported when it is this same lock: then the
        /// thread blocks on itself).
        #[cfg(feature = "tokio")]
        #[cold]
        #[inline(never)]
        fn held_across_await(
            &self,
            local: &mut Local,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) -> Option<Box<Report>> {
            use super::context;
            let id = self.ident.id();
            let mut holder = None;
            for (task, locks) in &local.sync_holders {
                let task = *task;
                if task == local.task {
                    continue;
                }
                let pick = locks.iter().find(|held| held.id == id).or(locks.first());
                if let Some(&held) = pick {
                    holder = Some((task, held));
                    if held.id == id {
                        break;
                    }
                }
            }
            if holder.is_none_or(|(_, held)| held.id != id)
                && local.task != 0
                && id != 0
                && let Some(i) = local.thread_held.find(id)
                && !local.thread_held.get(i).asynchronous
            {
                let thread = context::THREAD | crate::facade::current_thread_id();
                holder = Some((thread, local.thread_held.get(i)));
            }
            let (owner, held) = holder?;
            graph::awaited_report(local, self.target(kind), (owner, held), access, site)
                .map(Box::new)
        }

        /// (tokio) While a watchdog runs, registers that the current
        /// context (a task, most often) awaits this lock, until the guard
        /// is dropped.
        #[cfg(feature = "tokio")]
        pub(crate) fn begin_async_wait(
            &self,
            site: &'static Location<'static>,
        ) -> Option<publish::WaitGuard> {
            let id = self.ident.id();
            if id == 0 || !policy::is_publishing(policy::state()) {
                return None;
            }
            Some(publish::begin_wait(
                Some((id, self.ident.slot())),
                None,
                site,
            ))
        }

        /// (tokio) An async acquisition completed: publish it for the
        /// watchdog, take the lock's clock for the race detector.
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn acquired_async(&self, access: Access, site: &'static Location<'static>) {
            let state = policy::state();
            if policy::has_hooks(state) {
                self.acquired_async_hooks(state, access, site);
            }
        }

        #[cfg(feature = "tokio")]
        #[cold]
        #[inline(never)]
        fn acquired_async_hooks(
            &self,
            state: u8,
            access: Access,
            site: &'static Location<'static>,
        ) {
            local::with(|local| self.after_acquire(local, state, access, site));
        }

        #[cfg(feature = "tokio")]
        /// The context acquiring now, for an async guard to remember (a
        /// thread context gets ready to receive the guard's release from
        /// elsewhere).
        pub(crate) fn context(&self) -> u64 {
            let context = super::context::current();
            if context & super::context::THREAD != 0 {
                local::with(super::context::open_inbox);
            }
            context
        }

        #[cfg(feature = "tokio")]
        /// Releases an async lock's held entry from the context `owner` that
        /// acquired it, wherever the guard is dropped: here, from a task's
        /// stack in the registry, or by posting it to the owning thread.
        pub(crate) fn release_from(&self, owner: u64) {
            self.release_entry(owner, policy::has_hooks(policy::state()));
        }

        /// [`Meta::release_from`], told whether the watchdog or the race
        /// detector looks (`hooks`): if not, the owner's stack is reached
        /// on the hot path when the owner is the task running here.
        #[cfg(feature = "tokio")]
        #[inline(always)]
        fn release_entry(&self, owner: u64, hooks: bool) {
            self.release_entry_of(owner, self.ident.id(), hooks);
        }

        /// [`Meta::release_entry`] of this lock, registered as `id` (0: it
        /// was never acquired with detection on, so no stack has it).
        #[cfg(feature = "tokio")]
        #[inline(always)]
        fn release_entry_of(&self, owner: u64, id: super::local::LockId, hooks: bool) {
            if id == 0 || (!hooks && local::pop_async(owner, id)) {
                return;
            }
            self.release_entry_slow(owner, id);
        }

        /// [`Meta::release_entry`] off the hot path: from the thread's
        /// state, or by posting the release to the owner.
        #[cfg(feature = "tokio")]
        #[inline(never)]
        fn release_entry_slow(&self, owner: u64, id: super::local::LockId) {
            let here = local::with(|local| {
                let here = current_in(local) == owner;
                if here {
                    self.release_in(local, id);
                }
                here
            });
            if here != Some(false) {
                return;
            }
            super::context::post_release(owner, id);
        }

        #[cfg(feature = "tokio")]
        /// (tokio) Releases a guard: `unlock` drops tokio's guard, and the
        /// held entry leaves context `owner`'s stack before it while the
        /// watchdog or the race detector looks (they must see the release
        /// before the next holder does), else after it (the next waiter
        /// gets the lock sooner).
        #[inline(always)]
        pub(crate) fn release_guard(&self, owner: u64, unlock: impl FnOnce()) {
            self.ident.note_release();
            let hooks = policy::has_hooks(policy::state());
            if hooks {
                self.release_entry(owner, hooks);
                unlock();
            } else {
                // Read while the lock is held: its record may share a cache
                // line with tokio's semaphore, which the next holder takes
                // over as soon as it is unlocked.
                let id = self.ident.id();
                unlock();
                self.release_entry_of(owner, id, hooks);
            }
        }

        #[cfg(feature = "tokio")]
        /// An owned guard is used in a context other than `owner`'s: its
        /// held entry (acquired at `site`, with `access`) moves to this
        /// context, which owns it from now on. Returns the new owner.
        pub(crate) fn adopt(
            &self,
            owner: u64,
            site: &'static Location<'static>,
            access: Access,
        ) -> u64 {
            let now = self.context();
            let id = self.ident.id();
            if now == owner || id == 0 {
                return now;
            }
            super::context::post_release(owner, id);
            let held = self.async_entry(id, access, site, local::Place::NONE);
            let state = policy::state();
            local::with(|local| {
                local.held.push(held);
                if policy::is_publishing(state) {
                    publish::publish(local, id, held.slot, held.access, site);
                }
            });
            now
        }

        /// The hooks after an acquisition: publish for the watchdog, take
        /// the lock's clock for the race detector.
        fn after_acquire(
            &self,
            local: &mut Local,
            state: u8,
            access: Access,
            site: &'static Location<'static>,
        ) {
            let (id, slot) = (self.ident.id(), self.ident.slot());
            if policy::is_publishing(state) {
                publish::publish(local, id, slot, access, site);
            }
            if policy::is_racing(state) {
                clock::acquired(local, &self.clock);
            }
        }

        /// A blocking acquisition while a watchdog runs: `try_now` first,
        /// and only if the lock is busy, a registered wait around `block`;
        /// then the lock is published as held.
        #[cold]
        #[inline(never)]
        #[track_caller]
        pub(crate) fn watched(
            &self,
            access: Access,
            try_now: impl FnOnce() -> bool,
            block: impl FnOnce(),
        ) {
            let site = Location::caller();
            let state = policy::state();
            let key = (self.ident.id(), self.ident.slot());
            if !policy::is_publishing(state) {
                block();
            } else if !try_now() {
                let _wait = publish::begin_wait(Some(key), None, site);
                block();
            }
            local::with(|local| self.after_acquire(local, state, access, site));
        }

        /// A Condvar wait while a watchdog runs: an untimed wait is
        /// registered (a timed one ends by itself and is never reported),
        /// and the mutex is published again once re-acquired.
        #[cold]
        #[inline(never)]
        #[track_caller]
        pub(crate) fn watched_wait(&self, timed: bool, wait: impl FnOnce() -> bool) -> bool {
            let site = Location::caller();
            let state = policy::state();
            let key = (self.ident.id(), self.ident.slot());
            let registered = !timed && policy::is_publishing(state);
            let wait_guard = registered.then(|| publish::begin_wait(None, Some(key), site));
            let timed_out = wait();
            drop(wait_guard);
            local::with(|local| self.after_acquire(local, state, Access::Exclusive, site));
            timed_out
        }

        /// The fast path: every held lock's edge to this one is already
        /// known (a lookup in the thread-local cache each) and this lock is
        /// not held yet, so only a push remains.
        #[inline(always)]
        fn check_and_push(
            &self,
            local: &mut Local,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) -> Option<Box<Report>> {
            let id = self.ident.id();
            if id == 0 {
                return self.slow_acquire(local, kind, access, site);
            }
            let chain = match local::scan(&mut local.held, &local.known, &mut local.chains, id) {
                local::Scan::Relock(held) => return self.relock(local, held, access, site),
                local::Scan::Slow => return self.slow_acquire(local, kind, access, site),
                local::Scan::Push(chain) => chain,
            };
            let held = Held {
                place: local.acquiring(),
                chain,
                ..Held::blocking(id, self.ident.slot(), access, kind.is_async(), site)
            };
            local.held.push(held);

            None
        }

        /// First acquisition (register the lock) or new edges (add them,
        /// and find any cycle they would close), under one graph lock.
        #[cold]
        #[inline(never)]
        fn slow_acquire(
            &self,
            local: &mut Local,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) -> Option<Box<Report>> {
            // A fresh lock in a nesting this thread learned is parked (see
            // `detect::pending`); with nothing held, only outside a context
            // whose root orders it.
            let fresh = self.ident.id() == 0;
            let rootless = !local.held.is_empty() || local.held.root_key == 0;
            let parked = if fresh && rootless {
                graph::defer_leaf(local, &self.target(kind), access, site)
            } else {
                None
            };
            let (id, slot, found) = if let Some((id, slot)) = parked {
                (id, slot, None)
            } else if local.held.is_empty() {
                let (id, slot) = graph::register_first(local, &self.target(kind), access, site);
                (id, slot, None)
            } else {
                graph::add_edges(local, self.target(kind), access, site, false)
            };
            if found.is_none() {
                let held = Held {
                    place: local.acquiring(),
                    ..Held::blocking(id, slot, access, kind.is_async(), site)
                };
                if local.held.is_empty() && local.held.root_key != 0 {
                    let found = root_edge(local, held);
                    if found.is_some() {
                        return found;
                    }
                }
                local.held.push(held);
            }
            found
        }

        /// This thread already holds the lock.
        #[cold]
        #[inline(never)]
        fn relock(
            &self,
            local: &mut Local,
            previous: Held,
            access: Access,
            site: &'static Location<'static>,
        ) -> Option<Box<Report>> {
            let place = local.acquiring();
            let pushed = Held {
                id: previous.id,
                slot: previous.slot,
                access,
                blocking: true,
                asynchronous: previous.asynchronous,
                place,
                site,
                chain: 0,
            };
            let kind = match relock(previous.access, access) {
                // Re-entry cannot block: no edge, no report.
                Relock::Reenter => {
                    local.held.push(pushed);
                    return None;
                }
                Relock::MayDeadlock => ReportKind::RecursiveRead,
                Relock::Deadlock => ReportKind::SelfDeadlock,
            };
            #[cfg(feature = "tokio")]
            if place.at() != 0 && previous.asynchronous {
                // A `lock()` future of this context finds the lock held by
                // this context: a sequential relock (a certain hang), or a
                // concurrent branch of the same task holding it (correct:
                // this branch waits its turn). The verdict waits for
                // evidence: it is reported only if the acquisition is still
                // waiting, with the lock unreleased, after the stuck time —
                // a short one when this future lives where the holder's did
                // (the same flow: only a guard handed to a sibling could
                // still be released). Otherwise the context has shown
                // branches, and its async locks order nothing meanwhile.
                local.held.push(pushed);
                local.deferred = if previous.contains(place.at()) {
                    local::Deferred::SameFlow
                } else {
                    local.held.branches = true;
                    local::Deferred::Branches
                };
                // Which of the two entries a release removes is not known:
                // neither may vouch for a flow any more.
                local.held.forget_places(previous.id);
                return None;
            }
            let report = graph::relock_report(local, previous, access, kind, site);
            if report.is_none() {
                // Already reported once under a non-panicking policy.
                local.held.push(pushed);
            }
            report.map(Box::new)
        }

        #[cold]
        #[inline(never)]
        #[track_caller]
        fn report_then_push(
            &self,
            report: Box<Report>,
            kind: LockKind,
            access: Access,
            site: &'static Location<'static>,
        ) {
            policy::dispatch(report);
            // The policy let the acquisition go on: it is held from now on.
            let (id, slot) = (self.ident.id(), self.ident.slot());
            local::with(|local| {
                local
                    .held
                    .push(Held::blocking(id, slot, access, kind.is_async(), site))
            });
        }

        /// Before a timed acquisition: adds its edges (it may block) but never
        /// reports, because a timeout ends the wait by itself.
        #[inline(always)]
        #[track_caller]
        pub(crate) fn before_timed(&self, kind: LockKind, access: Access) {
            if !policy::active() {
                return;
            }
            let site = Location::caller();
            local::with(|local| {
                let id = self.ident.id();
                let mut i = 0;
                while i < local.held.len() {
                    let held = local.held.get(i);
                    if id == 0 || (held.id != id && !local.known.contains(held.id, id)) {
                        graph::add_edges(local, self.target(kind), access, site, true);
                        return;
                    }
                    i += 1;
                }
            });
        }

        /// After a successful non-blocking (or timed) acquisition: the lock is
        /// held, but no edge leads to it.
        #[inline(always)]
        #[track_caller]
        pub(crate) fn acquired(&self, kind: LockKind, access: Access) {
            let state = policy::state();
            if !policy::is_active(state) {
                return;
            }
            let site = Location::caller();
            local::with(|local| {
                let mut id = self.ident.id();
                if id == 0 {
                    id = graph::register(&self.target(kind), Some(site)).0;
                }
                local.held.push(Held {
                    id,
                    slot: self.ident.slot(),
                    access,
                    blocking: false,
                    asynchronous: kind.is_async(),
                    place: local::Place::NONE,
                    site,
                    chain: 0,
                });
                if policy::has_hooks(state) {
                    self.after_acquire(local, state, access, site);
                }
            });
        }

        /// The guard is gone: pop this lock from the held stack (and
        /// withdraw its publication, if a watchdog saw it).
        #[inline(always)]
        pub(crate) fn release(&self) {
            let id = self.ident.id();
            if id != 0 && !local::pop_known(id) {
                self.release_slow(id);
            }
        }

        /// [`Meta::release`] off the hot path.
        #[inline(never)]
        fn release_slow(&self, id: super::local::LockId) {
            // Without tasks the closure form compiles a few instructions
            // shorter.
            #[cfg(not(feature = "tokio"))]
            local::with(|local| self.release_in(local, id));
            #[cfg(feature = "tokio")]
            match local::thread_state_releasing(id) {
                local::ThreadState::Own(mut claim) => self.release_in(claim.local(), id),
                local::ThreadState::InTask => self.release_in_task(id),
                local::ThreadState::Unavailable => {}
            }
        }

        /// [`Meta::release`] inside the task running on this thread.
        #[cfg(feature = "tokio")]
        #[inline(never)]
        fn release_in_task(&self, id: super::local::LockId) {
            local::with(|local| self.release_in(local, id));
        }

        /// [`Meta::release`] inside a visit to the thread's state.
        #[inline(always)]
        fn release_in(&self, local: &mut Local, id: super::local::LockId) {
            // Race detection may have been turned on while this thread held
            // the lock without a clock (it acquired it, or blocked for it,
            // before): releasing then gives the thread its clock, taking in
            // the lock's, as acquiring with detection on would have.
            if local.publication.has_published()
                || local.race.is_some()
                || (policy::racing_started() && policy::is_racing(policy::state()))
            {
                release_hooks(local, id, &self.clock);
            }
            local.held.remove(id);
        }

        /// (Race detection) Publishes this thread's history to the lock now,
        /// while it holds it: an initialiser does so before its value
        /// becomes visible, so whoever wakes on it finds the history there.
        pub(crate) fn publish_clock(&self) {
            let id = self.ident.id();
            if id != 0 && policy::is_racing(policy::state()) {
                local::with(|local| clock::releasing(local, &self.clock, id, false));
            }
        }

        /// (Race detection) Takes in the lock's history now: after waiting
        /// for an initialiser that published it.
        pub(crate) fn take_clock(&self) {
            let id = self.ident.id();
            if id != 0 && policy::is_racing(policy::state()) {
                local::with(|local| clock::acquired(local, &self.clock));
            }
        }

        /// Where the lock (or Condvar, Barrier) was created.
        pub(crate) fn created(&self) -> &'static Location<'static> {
            self.created
        }

        /// (Cells) While this thread may wait inside std for another
        /// thread's initialiser: a running watchdog names it as blocked in
        /// `what` on this cell until the guard is dropped. `None` when it
        /// cannot wait (`may_wait` false) or no watchdog runs.
        #[track_caller]
        pub(crate) fn blocked_in(
            &self,
            what: &'static str,
            may_wait: bool,
        ) -> Option<publish::WaitGuard> {
            if !may_wait {
                return None;
            }
            publish::begin_blocked(what, self.created, Location::caller())
        }

        /// (Condvar, Barrier) This thread is about to wait for the event:
        /// the locks it holds — all but `except`, the Condvar's own mutex,
        /// which the wait releases — are ordered before the event, and a
        /// cycle through it is reported before blocking. Starts a new
        /// window of recent acquisitions. Only untimed waits come here: a
        /// timeout ends a wait by itself.
        #[track_caller]
        pub(crate) fn wait_event(&self, kind: LockKind, except: Option<&Meta>) {
            self.wait_event_at(kind, except, Location::caller());
        }

        /// [`Meta::wait_event`] at an explicit site.
        #[inline]
        pub(crate) fn wait_event_at(
            &self,
            kind: LockKind,
            except: Option<&Meta>,
            site: &'static Location<'static>,
        ) {
            // Holding nothing, and nothing released since the last window:
            // no lock to order, one visit to the thread's state.
            if policy::active() && !local::quiet(false) {
                self.wait_event_slow(kind, except, None, site);
            }
        }

        /// (A context's end, see [`waits::Event::wait_end_at`]) As
        /// [`Meta::wait_event_at`]; `ends` has where the context last took
        /// each lock.
        #[inline]
        pub(crate) fn wait_end_at(
            &self,
            kind: LockKind,
            ends: &waits::Ends,
            site: &'static Location<'static>,
        ) {
            if policy::active() && !local::quiet(false) {
                self.wait_event_slow(kind, None, Some(ends), site);
            }
        }

        #[inline(never)]
        fn wait_event_slow(
            &self,
            kind: LockKind,
            except: Option<&Meta>,
            ends: Option<&waits::Ends>,
            site: &'static Location<'static>,
        ) {
            let except = except.map_or(0, |meta| meta.ident.id());
            let found = local::with(|local| {
                local.start_window();
                let (held, known) = (&local.held, &local.known);
                let id = self.ident.id();
                let missing = (0..held.len()).any(|i| {
                    let lock = held.get(i).id;
                    lock != except && (id == 0 || !known.contains(lock, id))
                });
                if !missing {
                    return None;
                }
                let mut locks = held.to_vec();
                locks.retain(|held| held.id != except);
                let toward = Toward::Event(ends);
                graph::event_edges(local, self.target(kind), site, toward, &locks)
            });
            if let Some(Some(report)) = found {
                policy::dispatch(report);
            }
        }

        /// (Condvar, Barrier) This thread signals the event (notifies a
        /// Condvar, arrives at a Barrier): the locks it blocked for and
        /// released since its last wait or signal are ordered after the
        /// event — whoever waits for the signal waits for those
        /// acquisitions too. With `held`, the locks it holds now (blocking
        /// acquisitions) count as well: a notifier holding a lock needed it
        /// first. A Barrier passes `false`: what a party holds while it
        /// waits is ordered before the barrier instead. Starts a new
        /// window.
        #[track_caller]
        pub(crate) fn signal_event(&self, kind: LockKind, held: bool) {
            self.signal_event_at(kind, held, Location::caller());
        }

        /// [`Meta::signal_event`] at an explicit site.
        pub(crate) fn signal_event_at(
            &self,
            kind: LockKind,
            held: bool,
            site: &'static Location<'static>,
        ) {
            if !policy::active() || local::quiet(false) {
                return;
            }
            let found = local::with(|local| self.signal_in(local, kind, held, site));
            if let Some(Some(report)) = found {
                policy::dispatch(report);
            }
        }

        /// [`Meta::signal_event`] on this context's state.
        fn signal_in(
            &self,
            local: &mut Local,
            kind: LockKind,
            held: bool,
            site: &'static Location<'static>,
        ) -> Option<Box<Report>> {
            if local.held.is_quiet() {
                return None;
            }
            let id = self.ident.id();
            // Released since the last wait or signal (and, for a
            // Condvar, held now): blocking acquisitions only.
            let before = &local.held_at_window;
            let holding = &local.held;
            let released = |lock: &Held| {
                lock.blocking
                    && !before.contains(&lock.id)
                    && (held || holding.find(lock.id).is_none())
            };
            let held_now = |lock: &Held| held && lock.blocking;
            let key = local.held.waits.key(id, kind);
            let unknown = |lock: &Held| id == 0 || !local.known.contains(key, lock.id);
            // Without allocating, unless an edge is new.
            let missing = holding.released().any(|l| released(&l) && unknown(&l))
                || (0..holding.len()).any(|i| {
                    let lock = holding.get(i);
                    held_now(&lock) && unknown(&lock)
                });
            let mut locks = Vec::new();
            if missing {
                locks.extend(holding.released().filter(released));
                for i in 0..holding.len() {
                    let lock = holding.get(i);
                    if held_now(&lock) && !locks.iter().any(|l| l.id == lock.id) {
                        locks.push(lock);
                    }
                }
            }
            local.start_window();
            if !missing {
                return None;
            }
            graph::event_edges(local, self.target(kind), site, Toward::Locks, &locks)
        }

        /// (Waits) This context produces the event — sends a message, ends
        /// a wait of another context: as [`Meta::signal_event`] with the
        /// locks held now counted, then its wait clock ticks. Returns what
        /// the receiving side takes in ([`Meta::absorb`]).
        #[track_caller]
        pub(crate) fn produce(&self, kind: LockKind) -> waits::Stamp {
            self.produce_at(kind, Location::caller())
        }

        /// [`Meta::produce`] at an explicit site.
        #[inline]
        pub(crate) fn produce_at(
            &self,
            kind: LockKind,
            site: &'static Location<'static>,
        ) -> waits::Stamp {
            // Holding nothing, nothing released since the last window, and
            // a context with nothing to tell: no order, no tick, no stamp.
            if !policy::active() || local::quiet(true) {
                return waits::Stamp::default();
            }
            self.produce_slow(kind, site)
        }

        #[inline(never)]
        fn produce_slow(&self, kind: LockKind, site: &'static Location<'static>) -> waits::Stamp {
            let mut stamp = waits::Stamp::default();
            let found = local::with(|local| {
                let found = self.signal_in(local, kind, true, site);
                stamp = tick(local);
                found
            });
            if let Some(Some(report)) = found {
                policy::dispatch(report);
            }
            stamp
        }

        /// (Waits) A signal that is not an event of its own goes out (an
        /// arrival at a Barrier, whose edges `signal_event` took): the wait
        /// clock ticks. Returns what the other side takes in.
        pub(crate) fn arrive() -> waits::Stamp {
            if !policy::active() {
                return waits::Stamp::default();
            }
            local::with(tick).unwrap_or_default()
        }

        /// (Waits) Whether the context running here has no lock to order
        /// in a wait or a signal (holding nothing, nothing released since
        /// its last window): a skin that makes two of them in a row (a
        /// receive that makes room, then waits) checks once.
        #[inline]
        pub(crate) fn nothing_to_order() -> bool {
            !policy::active() || local::quiet(false)
        }

        /// (Waits) What this context has heard of, for a signal that
        /// carries no event of its own (a spawn).
        pub(crate) fn stamp() -> waits::Stamp {
            if !policy::active() {
                return waits::Stamp::default();
            }
            local::with(|local| local.held.waits.stamp()).unwrap_or_default()
        }

        /// (Waits) Takes in what a received signal carried: what its sender
        /// did before it happened before what this context does next.
        #[inline]
        pub(crate) fn absorb(stamp: &waits::Stamp) {
            if !stamp.is_none() {
                local::with(|local| local.held.waits.absorb(stamp));
            }
        }

        /// (Waits) This context's end is `event` (a spawned thread or task,
        /// at its start): every lock it takes with nothing held is ordered
        /// after it, until [`Meta::end_root`].
        pub(crate) fn begin_root(event: &std::sync::Arc<waits::Event>) {
            if !policy::active() {
                return;
            }
            local::with(|local| {
                local.held.root = Some(event.clone());
                local.held.root_key = u64::MAX;
            });
        }

        /// (Waits) The context's end: its root `event` is withdrawn (and
        /// dropped outside the detector's state, since its record may go
        /// with it). Run elsewhere (a task's future dropped by another
        /// context), it changes nothing.
        pub(crate) fn end_root(event: &std::sync::Arc<waits::Event>) {
            let root = local::with(|local| {
                let mine = local
                    .held
                    .root
                    .as_ref()
                    .is_some_and(|root| std::sync::Arc::ptr_eq(root, event));
                if !mine {
                    return None;
                }
                local.held.root_key = 0;
                local.held.root.take()
            });
            drop(root);
        }

        /// (Hooks) The guard acquired by thread `owner` is dropped on this
        /// one: the release is posted to the owner, which applies it at its
        /// next detector operation (its stack is its own).
        #[cold]
        #[inline(never)]
        pub(crate) fn release_elsewhere(&self, owner: u64) {
            let id = self.ident.id();
            if id != 0 {
                super::context::post_release(super::context::THREAD | owner, id);
            }
        }

        /// (Hooks) Gets this thread ready to receive the releases of its
        /// guards from other threads. Returns whether it is (not while
        /// detection is off or the thread's state is gone).
        #[cold]
        #[inline(never)]
        pub(crate) fn open_inbox() -> bool {
            policy::active() && local::with(super::context::open_inbox).is_some()
        }

        /// The held entry changes mode (upgrade, downgrade) without blocking
        /// on anything this thread holds.
        pub(crate) fn change_access(&self, access: Access) {
            let id = self.ident.id();
            if id == 0 {
                return;
            }
            local::with(|local| {
                if let Some(i) = local.held.find(id) {
                    local.held.set_access(i, access);
                }
            });
        }

        /// Whether the current thread holds this lock. `None` when unknown
        /// (detection off, or the detector is busy on this thread).
        pub(crate) fn held_by_current_thread(&self) -> Option<bool> {
            if !policy::active() {
                return None;
            }
            let id = self.ident.id();
            if id == 0 {
                return Some(false);
            }
            local::with(|local| local.held.find(id).is_some())
        }
    }

    /// (tokio) The context of the operation running on `local`: its task,
    /// else the thread (ready to receive releases posted from elsewhere).
    #[cfg(feature = "tokio")]
    #[inline]
    fn current_in(local: &mut Local) -> u64 {
        if local.task != 0 {
            return local.task;
        }
        super::context::open_inbox(local);
        super::context::THREAD | sync::current_thread_id()
    }

    /// A signal goes out from this context: its wait clock ticks, its
    /// root's edges are cached under the new tick's key, and what the
    /// signal carries is returned.
    fn tick(local: &mut Local) -> waits::Stamp {
        if local.held.waits.tick() && local.held.root.is_some() {
            set_root_key(local);
        }
        local.held.waits.stamp()
    }

    /// The key the root's edges are cached under now (see `Stack::root_key`).
    fn set_root_key(local: &mut Local) {
        let id = local
            .held
            .root
            .as_ref()
            .map_or(0, |root| root.meta.ident.id());
        local.held.root_key = match id {
            0 => u64::MAX,
            id => local.held.waits.salt(id),
        };
    }

    /// A rooted context takes `lock` with nothing held: the edge from its
    /// root (its own end, which a join waits for) to the lock, once per
    /// tick of the context's wait clock. A cycle through it is a join under
    /// a lock this context needs, reported here, before it blocks.
    #[cold]
    #[inline(never)]
    fn root_edge(local: &mut Local, lock: Held) -> Option<Box<Report>> {
        let root = local.held.root.clone()?;
        // Taken before, at an earlier tick: the root's table takes the new
        // one, without the graph's lock (a worker that locks after every
        // message it sends comes here each time).
        if local.held.root_key != u64::MAX {
            let (_, tick) = local.held.waits.position();
            if root.ends.refresh(lock.id, tick) {
                local.known.insert(local.held.root_key, lock.id);
                return None;
            }
        }
        let event = &root.meta;
        let found = graph::event_edges(
            local,
            event.target(root.kind),
            event.created,
            Toward::Locks,
            &[lock],
        );
        set_root_key(local);
        let (me, tick) = local.held.waits.position();
        root.ends.owned_by(me);
        if found.is_none() && local.known.contains(local.held.root_key, lock.id) {
            root.ends.record(lock.id, tick);
        }
        // The report stands at the acquisition, not at the spawn.
        found.map(|mut report| {
            report.location = lock.site;
            report
        })
    }

    /// Before a release: withdraw the watchdog's publication, publish the
    /// thread's clock to the lock for the race detector.
    #[cold]
    #[inline(never)]
    fn release_hooks(local: &mut Local, id: super::local::LockId, lock: &clock::LockClock) {
        if local.publication.has_published() {
            publish::unpublish(local, id);
        }
        if local.race.is_some() || policy::is_racing(policy::state()) {
            let shared = match local.held.find(id) {
                Some(i) => matches!(
                    local.held.get(i).access,
                    Access::Shared | Access::SharedRecursive
                ),
                None => false,
            };
            clock::releasing(local, lock, id, shared);
        }
    }

    impl Drop for Meta {
        fn drop(&mut self) {
            let id = self.ident.id();
            clock::forget_lock(id, &mut self.clock);
            // Inside the detector on this thread (a lock dropped by an
            // allocator or handler we called into), removal would deadlock on
            // the graph: the node stays, harmlessly, since its id is never
            // used again.
            if id != 0 && !local::busy() {
                graph::unregister(id, self.ident.slot());
            }
        }
    }
}

#[cfg(not(any(debug_assertions, feature = "always")))]
mod off {
    use std::borrow::Cow;

    use super::TypeName;
    use crate::report::{Access, LockKind};

    /// Detection is compiled out: nothing to record.
    pub(crate) struct Meta;

    /// Detection is compiled out: no watchdog to tell about a wait.
    pub(crate) struct NoWatchdog;

    impl Meta {
        #[inline(always)]
        pub(crate) const fn new(_data: TypeName) -> Meta {
            Meta
        }
        #[inline(always)]
        pub(crate) fn named(_kind: LockKind, _data: TypeName, _name: Cow<'static, str>) -> Meta {
            Meta
        }
        #[inline(always)]
        pub(crate) fn set_class(&self, _kind: LockKind, _class: &str) {}
        #[inline(always)]
        pub(crate) fn acquire(&self, _kind: LockKind, _access: Access) -> bool {
            false
        }
        #[inline(always)]
        pub(crate) fn acquire_at(
            &self,
            _kind: LockKind,
            _access: Access,
            _site: &'static std::panic::Location<'static>,
        ) -> bool {
            false
        }
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn context(&self) -> u64 {
            0
        }
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn acquire_async(
            &self,
            _kind: LockKind,
            _access: Access,
            _site: &'static std::panic::Location<'static>,
            _place: super::local::Place,
        ) -> (u64, bool, super::local::Deferred) {
            (0, false, super::local::Deferred::No)
        }
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn begin_async_wait(
            &self,
            _site: &'static std::panic::Location<'static>,
        ) -> Option<NoWatchdog> {
            None
        }
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn acquired_async(
            &self,
            _access: Access,
            _site: &'static std::panic::Location<'static>,
        ) {
        }
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn release_from(&self, _owner: u64) {}
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn release_guard(&self, _owner: u64, unlock: impl FnOnce()) {
            unlock()
        }
        #[cfg(feature = "tokio")]
        #[inline(always)]
        pub(crate) fn adopt(
            &self,
            _owner: u64,
            _site: &'static std::panic::Location<'static>,
            _access: Access,
        ) -> u64 {
            0
        }
        pub(crate) fn watched(
            &self,
            _access: Access,
            _try_now: impl FnOnce() -> bool,
            block: impl FnOnce(),
        ) {
            block();
        }
        pub(crate) fn watched_wait(&self, _timed: bool, wait: impl FnOnce() -> bool) -> bool {
            wait()
        }
        #[inline(always)]
        pub(crate) fn before_timed(&self, _kind: LockKind, _access: Access) {}
        #[inline(always)]
        pub(crate) fn acquired(&self, _kind: LockKind, _access: Access) {}
        #[inline(always)]
        pub(crate) fn release(&self) {}

        pub(crate) fn release_elsewhere(&self, _owner: u64) {}

        pub(crate) fn open_inbox() -> bool {
            false
        }
        #[inline(always)]
        pub(crate) fn change_access(&self, _access: Access) {}
        #[inline(always)]
        pub(crate) fn blocked_in(
            &self,
            _what: &'static str,
            _may_wait: bool,
        ) -> Option<NoWatchdog> {
            None
        }
        #[inline(always)]
        pub(crate) fn wait_event(&self, _kind: LockKind, _except: Option<&Meta>) {}
        #[inline(always)]
        pub(crate) fn wait_event_at(
            &self,
            _kind: LockKind,
            _except: Option<&Meta>,
            _site: &'static std::panic::Location<'static>,
        ) {
        }
        #[inline(always)]
        pub(crate) fn wait_end_at(
            &self,
            _kind: LockKind,
            _ends: &super::waits::Ends,
            _site: &'static std::panic::Location<'static>,
        ) {
        }
        #[inline(always)]
        pub(crate) fn signal_event(&self, _kind: LockKind, _held: bool) {}
        #[inline(always)]
        pub(crate) fn signal_event_at(
            &self,
            _kind: LockKind,
            _held: bool,
            _site: &'static std::panic::Location<'static>,
        ) {
        }
        #[inline(always)]
        pub(crate) fn produce(&self, _kind: LockKind) -> super::waits::Stamp {
            super::waits::Stamp::default()
        }
        #[inline(always)]
        pub(crate) fn produce_at(
            &self,
            _kind: LockKind,
            _site: &'static std::panic::Location<'static>,
        ) -> super::waits::Stamp {
            super::waits::Stamp::default()
        }
        #[inline(always)]
        pub(crate) fn stamp() -> super::waits::Stamp {
            super::waits::Stamp::default()
        }
        #[inline(always)]
        pub(crate) fn nothing_to_order() -> bool {
            true
        }
        #[inline(always)]
        pub(crate) fn arrive() -> super::waits::Stamp {
            super::waits::Stamp::default()
        }
        #[inline(always)]
        pub(crate) fn absorb(_stamp: &super::waits::Stamp) {}
        #[inline(always)]
        pub(crate) fn begin_root(_event: &std::sync::Arc<super::waits::Event>) {}
        #[inline(always)]
        pub(crate) fn end_root(_event: &std::sync::Arc<super::waits::Event>) {}
        #[inline(always)]
        pub(crate) fn publish_clock(&self) {}
        #[inline(always)]
        pub(crate) fn take_clock(&self) {}
        #[inline(always)]
        pub(crate) fn held_by_current_thread(&self) -> Option<bool> {
            None
        }
    }
}

/// The locks the current thread holds, outermost first.
///
/// Empty when detection is off.
///
/// ```
/// let a = lockgraph::Mutex::named("a", 1);
/// let _guard = a.lock().unwrap();
/// let held = lockgraph::held_locks();
/// # if lockgraph::ENABLED {
/// assert_eq!(held.len(), 1);
/// assert_eq!(held[0].lock().name(), Some("a"));
/// # }
/// ```
pub fn held_locks() -> Vec<HeldLock> {
    if !ENABLED || !policy::active() {
        return Vec::new();
    }
    let held = local::with(|local| local.held.to_vec()).unwrap_or_default();
    graph::describe_held(&held)
}

/// The whole lock-order graph as Graphviz DOT: one node per live lock
/// (labelled with its type, name and creation site), one edge per order
/// seen (labelled with the thread and site that first took it).
///
/// ```
/// let dot = lockgraph::graph_dot();
/// assert!(dot.starts_with("digraph lockgraph {"));
/// ```
pub fn graph_dot() -> String {
    graph::dot()
}

/// Size of the lock-order graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphStats {
    /// Live locks that have been acquired at least once (or were named).
    pub locks: usize,
    /// Distinct lock-order edges between live locks.
    pub edges: usize,
}

/// How many locks and lock-order edges the graph holds right now. A dropped
/// lock's node and edges are removed, so these return to their baseline when
/// short-lived locks go away.
///
/// ```
/// let before = lockgraph::graph_stats();
/// {
///     let outer = lockgraph::Mutex::new(());
///     let inner = lockgraph::Mutex::new(());
///     let _a = outer.lock().unwrap();
///     let _b = inner.lock().unwrap();
/// }
/// assert_eq!(lockgraph::graph_stats().locks, before.locks);
/// ```
pub fn graph_stats() -> GraphStats {
    let (locks, edges) = graph::stats();
    GraphStats { locks, edges }
}

/// Panics unless the current thread holds the lock whose detector record is
/// `meta`. Does nothing when detection is off.
#[track_caller]
pub(crate) fn assert_held(meta: &Meta, what: &str, expected: bool) {
    if let Some(held) = meta.held_by_current_thread()
        && held != expected
    {
        let site = Location::caller();
        if expected {
            panic!(
                "assertion failed: {what} is not held by the current thread (checked at {site})"
            );
        } else {
            panic!("assertion failed: {what} is held by the current thread (checked at {site})");
        }
    }
}
