//! The text of a report: what the panic message, the log event and
//! `to_string()` show.

use std::fmt::{self, Write as _};

use super::*;
use crate::report::waits::words;

impl Report {
    /// The short label of lock `i`: its name, else its class name, else its
    /// type and what it protects (`Mutex<Vec<u32>>`), numbered (`#2`) when
    /// another lock of the report has the same label.
    pub(super) fn label(&self, i: usize) -> String {
        let label = |lock: &LockInfo| match (&lock.name, &lock.class) {
            (Some(name), _) => name.to_string(),
            (None, Some(class)) => format!("{class:?}"),
            (None, None) => type_label(lock.kind, lock.data),
        };
        let mine = label(&self.locks[i]);
        if self.locks[i].name.is_none()
            && self
                .locks
                .iter()
                .enumerate()
                .any(|(j, other)| j != i && label(other) == mine)
        {
            format!("{mine}#{}", i + 1)
        } else {
            mine
        }
    }

    fn write_lock(&self, out: &mut String, i: usize) -> fmt::Result {
        let lock = &self.locks[i];
        match &lock.name {
            Some(name) => write!(out, "{} {name:?}", lock.kind)?,
            None => write!(out, "{}", self.label(i))?,
        }
        if let (Some(class), Some(_)) = (&lock.class, &lock.name) {
            write!(out, " (class {class:?})")?;
        }
        let created = match lock.kind {
            LockKind::Thread | LockKind::Task => "spawned",
            _ => "created",
        };
        write!(out, " {created} at {}", lock.created_at)?;
        if let (true, Some(first)) = (lock.created_in_std(), lock.first_locked_at) {
            write!(out, ", first locked at {first}")?;
        }
        Ok(())
    }

    fn write_held(&self, out: &mut String) -> fmt::Result {
        if self.held.is_empty() {
            return writeln!(out, "\n{} holds no other locks", actor(&self.thread));
        }
        writeln!(
            out,
            "\nlocks held by {} (outermost first):",
            actor(&self.thread)
        )?;
        for held in &self.held {
            let lock = &held.lock;
            let label = match (&lock.name, self.locks.iter().position(|l| l.id == lock.id)) {
                (Some(name), _) => format!("{} {name:?}", lock.kind),
                (None, Some(i)) => self.label(i),
                (None, None) => type_label(lock.kind, lock.data),
            };
            writeln!(
                out,
                "    {label} ({}) acquired at {}, created at {}",
                held.access, held.acquired_at, lock.created_at
            )?;
        }
        Ok(())
    }

    /// The span stack, innermost first, under a heading; nothing at all
    /// when there is none (no subscriber, or no span current).
    fn write_spans(out: &mut String, spans: &Spans, indent: &str) -> fmt::Result {
        let spans = spans_slice(spans);
        if spans.is_empty() {
            return Ok(());
        }
        writeln!(out, "{indent}in spans (innermost first):")?;
        for span in spans {
            write!(out, "{indent}    {span}")?;
            if let (Some(file), Some(line)) = (span.file, span.line) {
                write!(out, " at {file}:{line}")?;
            }
            out.push('\n');
        }
        Ok(())
    }

    /// Where a dependency's acquisition at `site` came from: the first
    /// frame of `trace` outside dependencies' sources (`in your code:
    /// src/cache.rs:12, app::Cache::get`). Nothing when `site` is the
    /// program's own, or no such frame was captured.
    fn write_own_code(
        out: &mut String,
        site: &Location<'_>,
        trace: Option<&Trace>,
        indent: &str,
    ) -> fmt::Result {
        if !super::paths::in_dependency(site.file()) {
            return Ok(());
        }
        let own = trace.and_then(|trace| {
            trace.frames().iter().find(|frame| {
                frame
                    .file
                    .as_deref()
                    .is_some_and(|file| !super::paths::in_dependency(file))
            })
        });
        match own {
            Some(frame) => writeln!(
                out,
                "{indent}in your code: {}:{}, {}",
                frame.file.as_deref().unwrap_or(""),
                frame.line.unwrap_or(0),
                frame.function
            ),
            None => Ok(()),
        }
    }

    fn write_trace(out: &mut String, trace: Option<&Trace>, indent: &str) -> fmt::Result {
        let Some(trace) = trace else {
            return writeln!(out, "{indent}(no backtrace captured)");
        };
        let frames = trace.frames();
        if frames.is_empty() {
            return writeln!(
                out,
                "{indent}(backtrace has no symbols: build with debug info)"
            );
        }
        for (i, frame) in frames.iter().enumerate() {
            writeln!(out, "{indent}{i:>2}: {}", frame.function)?;
            if let (Some(file), Some(line)) = (&frame.file, frame.line) {
                writeln!(out, "{indent}        at {file}:{line}")?;
            }
        }
        Ok(())
    }

    fn write_inversion(&self, out: &mut String) -> fmt::Result {
        let n = self.locks.len();
        let holding = self.edges[0].from;
        writeln!(out, "\n{} is acquiring", actor(&self.thread))?;
        out.push_str("    ");
        self.write_lock(out, self.acquiring)?;
        writeln!(out, "\n    at {}", self.location)?;
        Self::write_own_code(out, self.location, self.trace.as_ref(), "    ")?;
        writeln!(out, "while holding")?;
        out.push_str("    ");
        self.write_lock(out, holding)?;
        writeln!(out, "\n    acquired at {}", self.edges[0].from_acquired_at)?;
        let classes = self.kind == ReportKind::ClassOrderInversion;
        if classes {
            writeln!(
                out,
                "\nbut the opposite order was taken before, on other instances of the same lock classes:"
            )?;
        } else if n == 2 {
            writeln!(out, "\nbut the opposite order was seen before:")?;
        } else {
            writeln!(
                out,
                "\nwhich closes a cycle of {n} locks in the lock order:"
            )?;
        }
        let chain: Vec<String> = (0..=n).map(|i| self.label(i % n)).collect();
        writeln!(out, "    {}", chain.join(" -> "))?;

        if classes {
            writeln!(
                out,
                "\nlock classes in the cycle (a class is a creation site and the type a lock \
                 protects,\nor a name given with `with_class`):"
            )?;
        } else {
            writeln!(out, "\nlocks in the cycle:")?;
        }
        for i in 0..n {
            out.push_str("    ");
            self.write_lock(out, i)?;
            out.push('\n');
        }

        writeln!(out, "\nwhere each edge of the cycle was first taken:")?;
        self.write_edges(out)?;

        if classes {
            writeln!(
                out,
                "\nThese orders were taken on different lock instances (the earlier ones may be gone), \
                 so this\nrun did not deadlock; but two threads running both paths on the same \
                 objects deadlock."
            )?;
        }
        self.write_scenario(out)?;
        self.write_held(out)?;
        if classes {
            return writeln!(
                out,
                "\nfix: take these locks in one global order everywhere, or release {} before \
                 acquiring {}.\n     If the locks of one class play roles that never meet (each \
                 call creates its own,\n     say), give a role its own class at its creation: \
                 `Mutex::new(value).with_class(\"pool.idle\")`.\n     LOCKGRAPH_CLASSES=warn|panic|off \
                 (or lockgraph::classes::set_mode) says how class findings are raised.",
                self.label(holding),
                self.label(self.acquiring)
            );
        }
        writeln!(
            out,
            "\nfix: take these locks in one global order everywhere (for example, sort by an id \
             before locking),\n     or release {} before acquiring {}.",
            self.label(holding),
            self.label(self.acquiring)
        )
    }

    /// Lockdep's "possible unsafe locking scenario": one column per edge of
    /// the cycle, each thread taking its first lock, then blocking on its
    /// second.
    fn write_scenario(&self, out: &mut String) -> fmt::Result {
        let edges: Vec<&EdgeInfo> = self.edges.iter().rev().collect();
        let names: Vec<String> = edges
            .iter()
            .enumerate()
            .map(|(i, e)| {
                // The outermost span says which request or job took the
                // edge; else the thread, numbered when it took several.
                if let Some(outermost) = spans_slice(&e.spans).last() {
                    return outermost.to_string();
                }
                let same_thread = edges.iter().filter(|o| o.thread == e.thread).count() > 1;
                if same_thread {
                    format!("{} (run {})", e.thread, i + 1)
                } else {
                    e.thread.to_string()
                }
            })
            .collect();
        if self.kind == ReportKind::ClassOrderInversion {
            writeln!(
                out,
                "\npossible deadlock scenario (both paths on the same objects):"
            )?;
        } else {
            writeln!(out, "\npossible deadlock scenario:")?;
        }
        if edges.len() > 4 {
            for (edge, name) in edges.iter().zip(&names) {
                writeln!(
                    out,
                    "    `{name}` holds {} and waits for {}",
                    self.label(edge.from),
                    self.label(edge.to)
                )?;
            }
            return writeln!(out, "    ...each waits for the next: none can proceed.");
        }
        // Each column: what its thread holds, where it blocks, and (for a
        // signal) what it never reaches.
        let steps: Vec<[String; 3]> = edges.iter().map(|e| self.scenario_steps(e)).collect();
        let width = names
            .iter()
            .map(String::len)
            .chain(steps.iter().flatten().map(String::len))
            .max()
            .unwrap_or(0)
            + 2;
        let row = |out: &mut String, col: usize, text: &str| -> fmt::Result {
            let line = format!("{:indent$}{text}", "", indent = col * width);
            writeln!(out, "    {}", line.trim_end())
        };
        let header: String = names.iter().map(|n| format!("{n:<width$}")).collect();
        writeln!(out, "    {}", header.trim_end())?;
        let rule: String = names
            .iter()
            .map(|n| format!("{:<width$}", "-".repeat(n.len())))
            .collect();
        writeln!(out, "    {}", rule.trim_end())?;
        for step in 0..3 {
            for (col, steps) in steps.iter().enumerate() {
                if !steps[step].is_empty() {
                    row(out, col, &steps[step])?;
                }
            }
        }
        Ok(())
    }

    /// One column of the scenario for edge `from -> to`: hold `from`, block
    /// on `to`. A wait blocks on its Condvar or Barrier; a signal's thread
    /// holds nothing of the cycle, blocks on the lock it needs first, and
    /// never reaches the signal.
    fn scenario_steps(&self, edge: &EdgeInfo) -> [String; 3] {
        let (from, to) = (&self.locks[edge.from], &self.locks[edge.to]);
        let (from_label, to_label) = (self.label(edge.from), self.label(edge.to));
        match (from.kind, to.kind) {
            (signalled, _) if signalled.is_event() => [
                String::new(),
                format!("lock({to_label})  <- blocks"),
                format!("{}({from_label})  (never reached)", words(signalled).signal),
            ],
            (_, waited) if waited.is_event() => [
                format!("lock({from_label})"),
                format!("{}({to_label})  <- blocks", words(waited).wait),
                String::new(),
            ],
            _ => [
                format!("lock({from_label})"),
                format!("lock({to_label})  <- blocks"),
                String::new(),
            ],
        }
    }

    /// Each edge of a cycle: who took it (edge 0 now, the others first),
    /// what it did, on which instances, its spans and backtrace.
    fn write_edges(&self, out: &mut String) -> fmt::Result {
        for (j, edge) in self.edges.iter().enumerate() {
            let when = if j == 0 { "now, in" } else { "first taken in" };
            writeln!(
                out,
                "  {} -> {}: {when} {}",
                self.label(edge.from),
                self.label(edge.to),
                actor(&edge.thread)
            )?;
            self.write_edge_steps(out, edge)?;
            if let (Some(from), Some(to)) = (&edge.instances.0, &edge.instances.1) {
                writeln!(out, "      on the instances {from:?} -> {to:?}")?;
            }
            if edge.trace_shared {
                writeln!(
                    out,
                    "      (backtrace of an earlier edge taken at these same two sites)"
                )?;
            }
            Self::write_spans(out, &edge.spans, "      ")?;
            Self::write_trace(out, edge.trace.as_ref(), "      ")?;
        }
        Ok(())
    }

    /// What edge `from -> to` did, in words: `A acquired at .., then B at
    /// ..`, or a wait or signal of a Condvar or Barrier.
    fn write_edge_steps(&self, out: &mut String, edge: &EdgeInfo) -> fmt::Result {
        let (from, to) = (&self.locks[edge.from], &self.locks[edge.to]);
        let (from_label, to_label) = (self.label(edge.from), self.label(edge.to));
        let (first, second) = (edge.from_acquired_at, edge.to_acquired_at);
        if from.kind.is_event() {
            writeln!(
                out,
                "      {to_label} acquired at {second}, then {} {from_label} at {first}",
                words(from.kind).signalled
            )
        } else if to.kind.is_event() {
            writeln!(
                out,
                "      {from_label} acquired at {first}, then {} {to_label} at {second}",
                words(to.kind).waited
            )
        } else {
            writeln!(
                out,
                "      {from_label} acquired at {first}, then {to_label} at {second}"
            )?;
            Self::write_own_code(out, second, edge.trace.as_ref(), "      ")
        }
    }

    /// A [`ReportKind::BlockedWakeup`]: the cycle runs through a wait and
    /// the signal that would end it.
    fn write_blocked_wakeup(&self, out: &mut String) -> fmt::Result {
        let n = self.locks.len();
        let closing = &self.edges[0];
        let (from, to) = (&self.locks[closing.from], &self.locks[closing.to]);
        if matches!(from.kind, LockKind::Thread | LockKind::Task) {
            // A spawned context's acquisition, ordered before its own end.
            writeln!(out, "\n{} is acquiring", actor(&self.thread))?;
            out.push_str("    ");
            self.write_lock(out, closing.to)?;
            writeln!(out, "\n    at {}", closing.to_acquired_at)?;
            writeln!(out, "before its end, which a join waits for:")?;
            out.push_str("    ");
            self.write_lock(out, closing.from)?;
            out.push('\n');
        } else if from.kind.is_event() {
            writeln!(
                out,
                "\n{} is {}",
                actor(&self.thread),
                words(from.kind).signalling
            )?;
            out.push_str("    ");
            self.write_lock(out, closing.from)?;
            writeln!(out, "\n    at {}", self.location)?;
            writeln!(out, "after acquiring")?;
            out.push_str("    ");
            self.write_lock(out, closing.to)?;
            writeln!(out, "\n    at {}", closing.to_acquired_at)?;
        } else {
            let doing = if to.kind.is_event() {
                words(to.kind).waiting
            } else {
                "acquiring"
            };
            writeln!(out, "\n{} is {doing}", actor(&self.thread))?;
            out.push_str("    ");
            self.write_lock(out, closing.to)?;
            writeln!(out, "\n    at {}", self.location)?;
            writeln!(out, "while holding")?;
            out.push_str("    ");
            self.write_lock(out, closing.from)?;
            writeln!(out, "\n    acquired at {}", closing.from_acquired_at)?;
        }
        writeln!(
            out,
            "\nwhich closes a cycle through a wait and the signal that would end it:"
        )?;
        let chain: Vec<String> = (0..=n).map(|i| self.label(i % n)).collect();
        writeln!(out, "    {}", chain.join(" -> "))?;
        writeln!(out, "\nin the cycle:")?;
        for i in 0..n {
            out.push_str("    ");
            self.write_lock(out, i)?;
            out.push('\n');
        }
        writeln!(out, "\nwhere each edge was first taken:")?;
        self.write_edges(out)?;
        // The wait (lock -> event) and the signal (event -> lock) of the
        // cycle, to name them in the explanation and the fix.
        let wait = self
            .edges
            .iter()
            .find(|e| self.locks[e.to].kind.is_event())
            .expect("a wake-up cycle has a wait");
        let signal = self
            .edges
            .iter()
            .find(|e| self.locks[e.from].kind.is_event())
            .expect("a wake-up cycle has a signal");
        let event = &self.locks[wait.to];
        let (held, needed) = (self.label(wait.from), self.label(signal.to));
        let event_label = self.label(wait.to);
        let chain = if held == needed {
            String::new()
        } else {
            format!(" (which, through the orders above, waits for {held})")
        };
        let said = words(event.kind);
        if event.kind == LockKind::Barrier {
            writeln!(
                out,
                "\nA party waits at {event_label} holding {held}; another party must acquire {needed}{chain}\n\
                 before it arrives, so it blocks and never arrives: every party waits forever.\n\
                 lockgraph saw both orders, not necessarily at the same time, so this run did not hang."
            )?;
        } else if event.kind == LockKind::Condvar {
            writeln!(
                out,
                "\nA thread waits on {event_label} holding {held} (a wait releases only the Condvar's own mutex);\n\
                 the thread that would notify it must acquire {needed}{chain} first, so it blocks and\n\
                 never notifies: both wait forever. lockgraph saw both orders, not necessarily at the same\n\
                 time, so this run did not hang."
            )?;
        } else {
            writeln!(
                out,
                "\n{} {event_label} holding {held};\n\
                 {} must acquire {needed}{chain} first, so it blocks and never {}:\n\
                 both wait forever. lockgraph saw both orders, not necessarily at the same time, so this\n\
                 run did not hang (or the report ended the wait).",
                said.waiter, said.producer, said.never
            )?;
        }
        self.write_scenario(out)?;
        self.write_held(out)?;
        writeln!(
            out,
            "\nfix: {}",
            crate::report::waits::fix(event.kind, &held, &needed)
        )
    }

    fn write_self_deadlock(&self, out: &mut String) -> fmt::Result {
        let lock = &self.locks[self.acquiring];
        writeln!(
            out,
            "\n{} is acquiring ({})",
            actor(&self.thread),
            self.access
        )?;
        out.push_str("    ");
        self.write_lock(out, self.acquiring)?;
        writeln!(out, "\n    at {}", self.location)?;
        Self::write_own_code(out, self.location, self.trace.as_ref(), "    ")?;
        if let Some(previous) = &self.previous {
            writeln!(
                out,
                "but it already holds it ({}), acquired at {}",
                previous.access, previous.acquired_at
            )?;
        }
        if self.kind == ReportKind::RecursiveRead {
            writeln!(
                out,
                "\nA second read of {} {} this thread already reads can block forever: if a writer \
                 queues\nbetween the two reads, the lock makes new readers wait for that writer, and \
                 the writer\nwaits for the first read, which this thread cannot release. (std's own \
                 RwLock docs warn\nthat a recursive read may deadlock; parking_lot's task-fair \
                 RwLock does the same.)",
                lock.kind.article(),
                lock.kind
            )?;
            writeln!(
                out,
                "\nfix: keep the first guard and pass it (or the data) down instead of reading again{}.",
                if lock.kind == LockKind::ParkingLotRwLock {
                    ", or use read_recursive()"
                } else {
                    ""
                }
            )?;
        } else if lock.kind.is_cell() {
            writeln!(
                out,
                "\nThe {} is being initialised by this very thread: its initialiser asked for the \
                 value it is\ncomputing. std's one-time initialisation blocks forever (or panics) \
                 here.",
                lock.kind
            )?;
            writeln!(
                out,
                "\nfix: do not reach the cell from its own initialiser; compute what it needs \
                 first, or split\n     the value into two cells."
            )?;
        } else {
            writeln!(
                out,
                "\n{} {} is not reentrant: this acquisition waits for the earlier guard to be \
                 released,\nwhich only this thread can do, so it waits forever. (A guard lives to the \
                 end of its\nscope; a guard in a `match`, `if let` or `while let` scrutinee lives to \
                 the end of the\nwhole statement.)",
                capitalize(lock.kind.article()),
                lock.kind
            )?;
            writeln!(
                out,
                "\nfix: drop the first guard before locking again (or pass the guard or the data \
                 down),\n     or use a ReentrantLock if re-entry is intended."
            )?;
        }
        #[cfg(feature = "tokio")]
        if lock.kind.is_async() {
            writeln!(
                out,
                "\nThe `.await` was reported once it had waited the stuck time ({:?}) with the lock \
                 never\nreleased. Concurrent branches of one task (join!, select!, FuturesUnordered) share its \
                 context, so a\nbranch waiting for a sibling is reported only when it is stuck this \
                 long: if the holder is\na sibling that holds it longer, raise \
                 LOCKGRAPH_STUCK=<seconds>, or give each branch its own\ncontext with \
                 `lockgraph::tokio::scope(branch)`.",
                crate::tokio::stuck_after()
            )?;
        }
        Self::write_spans(out, &self.spans, "")?;
        writeln!(out, "\nbacktrace of this acquisition:")?;
        Self::write_trace(out, self.trace.as_ref(), "    ")?;
        self.write_held(out)
    }
}

impl Report {
    fn write_race(&self, out: &mut String) -> fmt::Result {
        let variable = self
            .variable
            .as_ref()
            .map_or("tracked data".to_owned(), |v| v.to_string());
        let verb = |a: &AccessInfo, now: bool| match (a.write, now) {
            (true, true) => "writes",
            (false, true) => "reads",
            (true, false) => "wrote",
            (false, false) => "read",
        };
        let locks = |a: &AccessInfo| {
            if a.locks.is_empty() {
                "holding no lockgraph lock".to_owned()
            } else {
                let names: Vec<String> = a
                    .locks
                    .iter()
                    .map(|l| match &l.name {
                        Some(name) => format!("{} {name:?}", l.kind),
                        None => format!("{} created at {}", l.kind, l.created_at),
                    })
                    .collect();
                format!("holding {}", names.join(", "))
            }
        };
        let Some(now) = self.accesses.first() else {
            return Ok(());
        };
        writeln!(
            out,
            "\nthread `{}` {} {variable}",
            now.thread,
            verb(now, true)
        )?;
        writeln!(out, "    at {}, {}", now.at, locks(now))?;
        Self::write_spans(out, &now.spans, "      ")?;
        Self::write_trace(out, now.trace.as_ref(), "      ")?;
        if let Some(before) = self.accesses.get(1) {
            writeln!(
                out,
                "and thread `{}` {} it",
                before.thread,
                verb(before, false)
            )?;
            writeln!(out, "    at {}, {}", before.at, locks(before))?;
            Self::write_spans(out, &before.spans, "      ")?;
            Self::write_trace(out, before.trace.as_ref(), "      ")?;
        }
        if self.kind == ReportKind::DataRace {
            writeln!(
                out,
                "\nNothing orders the two accesses: no lockgraph lock released by one thread and\n\
                 then taken by the other, and no spawn, join (lockgraph::thread) or Condvar hand-off\n\
                 between them. Run differently, they interleave, and an update can be lost."
            )?;
        } else {
            writeln!(
                out,
                "\nNo single lock was held at every access by these threads (lockset check): even\n\
                 if this run happened to order them, nothing makes every run do so."
            )?;
        }
        writeln!(
            out,
            "\nfix: protect every access with one lock (keep the data inside a lockgraph::Mutex),\n     \
             or order the threads (spawn and join with lockgraph::thread, hand off through a Condvar)."
        )
    }

    fn lock_phrase(&self, i: Option<usize>) -> String {
        match i {
            Some(i) => {
                let lock = &self.locks[i];
                match &lock.name {
                    Some(name) => {
                        format!("{} {name:?} (created at {})", lock.kind, lock.created_at)
                    }
                    None => format!("{} created at {}", lock.kind, lock.created_at),
                }
            }
            None => "a lock that no longer exists".to_owned(),
        }
    }

    fn write_waits(&self, out: &mut String) -> fmt::Result {
        out.push('\n');
        for wait in &self.waits {
            writeln!(
                out,
                "{} has waited {:.1?} at {}\n    for {}",
                actor(&wait.thread),
                wait.waited,
                wait.at,
                self.lock_phrase(wait.lock)
            )?;
            Self::write_spans(out, &wait.spans, "    ")?;
            let Some(holder) = &wait.holder else {
                writeln!(
                    out,
                    "    held by a thread the watchdog does not know (it locked before the watchdog started)"
                )?;
                continue;
            };
            let who = actor(&holder.thread);
            write!(out, "    held by {who}")?;
            if let (Some(at), Some(held_for)) = (holder.acquired_at, holder.held_for) {
                write!(out, " for {held_for:.1?}, acquired at {at}")?;
            }
            out.push('\n');
            Self::write_spans(out, &holder.spans, "      ")?;
            Self::write_trace(out, holder.trace.as_ref(), "      ")?;
            match &holder.state {
                HolderState::WaitingForLock => {}
                HolderState::WaitingOnCondvar { at, waited, mutex } => {
                    writeln!(out, "    {who} waits on a Condvar at {at} for {waited:.1?}")?;
                    if let Some(m) = mutex {
                        writeln!(
                            out,
                            "    (the Condvar's mutex: {})",
                            self.lock_phrase(Some(*m))
                        )?;
                    }
                    writeln!(
                        out,
                        "    while still holding this lock: if the thread that should notify it needs this\n    \
                         lock, neither can ever proceed (release it before waiting)"
                    )?
                }
                HolderState::Blocked {
                    what,
                    created_at,
                    at,
                    waited,
                } => writeln!(
                    out,
                    "    {who} is blocked in {what} (created at {created_at}) at {at}, for {waited:.1?},\n    \
                     while holding this lock: if what would wake it needs this lock, neither can proceed"
                )?,
                HolderState::NotWaiting if holder.thread.starts_with("task ") => writeln!(
                    out,
                    "    {who} is not waiting on any lockgraph lock: it is suspended at another `.await`\n    \
                     (not being polled: a channel, a timer, I/O) or running, while holding it"
                )?,
                HolderState::NotWaiting => writeln!(
                    out,
                    "    {who} is not waiting on any lockgraph lock: it is busy or blocked elsewhere\n    \
                     (a channel, I/O, a lock of another library) while holding it"
                )?,
            }
        }
        if self.kind == ReportKind::WaitCycle {
            writeln!(
                out,
                "\nEach of these threads waits for a lock the next one holds, and the last for one the\n\
                 first holds: none of them can ever proceed."
            )?;
        }
        self.write_held(out)
    }
}

/// How a report names an unnamed lock: its type and what it protects,
/// `Mutex<Vec<u32>>`.
pub(crate) fn type_label(kind: LockKind, data: &str) -> String {
    if kind.is_event() {
        return kind.to_string();
    }
    format!("{kind}<{}>", short_type(data))
}

/// A type name without its module paths: `alloc::vec::Vec<u32>` reads
/// `Vec<u32>`.
pub(crate) fn short_type(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut path = String::new();
    let flush = |out: &mut String, path: &mut String| {
        out.push_str(path.rsplit("::").next().unwrap_or(""));
        path.clear();
    };
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            flush(&mut out, &mut path);
            out.push(c);
        }
    }
    flush(&mut out, &mut path);
    out
}

impl Report {
    /// A [`ReportKind::HeldAcrossAwait`]: locks 0 (held by the suspended
    /// context named in edge 0) and 1 (being acquired).
    fn write_held_across_await(&self, out: &mut String) -> fmt::Result {
        let holder = &self.edges[0];
        let same = self.locks[0].id == self.locks[1].id;
        writeln!(out, "\n`{}` holds", holder.thread)?;
        out.push_str("    ");
        self.write_lock(out, 0)?;
        writeln!(out, "\n    acquired at {}", holder.from_acquired_at)?;
        writeln!(
            out,
            "and is suspended (another context runs on its thread, so it is not being polled),"
        )?;
        writeln!(out, "while `{}` is acquiring", self.thread)?;
        out.push_str("    ");
        if same {
            out.push_str("the same lock");
        } else {
            self.write_lock(out, 1)?;
        }
        writeln!(out, "\n    at {}", self.location)?;
        let held = self.label(0);
        if same {
            writeln!(
                out,
                "\nThe acquisition blocks this thread, and the holder, which runs on this same thread, can\n\
                 never be polled again to release {held}: the thread hangs."
            )?;
        } else {
            writeln!(
                out,
                "\nA sync lock's guard held across an `.await` stays held while its task is suspended: any\n\
                 task on this thread (a current-thread runtime or a LocalSet runs them all here) that\n\
                 needs {held} blocks the whole thread, and the holder is never polled again to release it."
            )?;
        }
        self.write_held(out)?;
        writeln!(
            out,
            "\nfix: drop the guard of {held} before the `.await` (take what you need out of it first), or use\n     \
             lockgraph::tokio::sync::Mutex, which is made to be held across `.await`s."
        )
    }
}

/// The scenario's name for signalling a Condvar or Barrier.
/// Who did something, as a report says it: `thread \`main\``, or for a
/// tokio task its context name (`task 12 on thread \`worker\``).
pub(crate) fn actor(name: &str) -> String {
    if name.starts_with("task ") {
        name.to_owned()
    } else {
        format!("thread `{name}`")
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        out.push_str(&self.title);
        out.push('\n');
        match self.kind {
            ReportKind::LockOrderInversion | ReportKind::ClassOrderInversion => {
                self.write_inversion(&mut out)?
            }
            ReportKind::BlockedWakeup => self.write_blocked_wakeup(&mut out)?,
            ReportKind::HeldAcrossAwait => self.write_held_across_await(&mut out)?,
            ReportKind::SelfDeadlock | ReportKind::RecursiveRead => {
                self.write_self_deadlock(&mut out)?
            }
            ReportKind::WaitCycle | ReportKind::HeldTooLong => self.write_waits(&mut out)?,
            ReportKind::DataRace | ReportKind::Unprotected => self.write_race(&mut out)?,
        }
        f.write_str(super::paths::dependency_paths(&out).trim_end())
    }
}
