//! Randomised lock programs checked against an independent oracle.
//!
//! A program is 1-4 threads of acquire/release steps over 2-8 locks of
//! mixed kinds (Mutex, RwLock read/write, ReentrantLock, and their `try_`
//! forms), with releases in any order. The threads run one after another
//! (a serial schedule, so nothing can really deadlock), each on its own OS
//! thread, under a callback policy that records every report with the step
//! that raised it. The oracle replays the same program with the contract's
//! rules — every blocking acquisition orders every held lock before it;
//! `try_` adds no edge; re-entering a reentrant lock is free; relocking is a
//! self-deadlock (a second read, a recursive read) — and finds cycles by a
//! plain depth-first search. Each lock also has one of three lock classes
//! (fresh class names per case): a new instance edge between different
//! classes is a class edge, and a class edge that closes a cycle of classes
//! is a class finding when the acquisition closes no instance cycle. lockgraph must report exactly when, where and
//! what the oracle does, and a reported cycle must be a real cycle of the
//! oracle's graph. proptest shrinks a failing program to a minimal one.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use lockgraph::{Policy, ReportKind};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Mutex,
    RwLock,
    Reentrant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    Lock,
    Read,
    Write,
    TryLock,
    TryRead,
    TryWrite,
}

#[derive(Clone, Debug)]
enum Op {
    Acquire(usize, How),
    /// Release the n-th (modulo) currently held guard: any order.
    Release(usize),
}

/// What a step does once the lock kind is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    Lock,
    Read,
    Write,
    TryLock,
    TryRead,
    TryWrite,
}

impl Act {
    fn of(kind: Kind, how: How) -> Act {
        let try_ = matches!(how, How::TryLock | How::TryRead | How::TryWrite);
        match (kind, try_) {
            (Kind::RwLock, false) if how == How::Read => Act::Read,
            (Kind::RwLock, false) => Act::Write,
            (Kind::RwLock, true) if how == How::TryRead => Act::TryRead,
            (Kind::RwLock, true) => Act::TryWrite,
            (_, false) => Act::Lock,
            (_, true) => Act::TryLock,
        }
    }

    fn is_try(self) -> bool {
        matches!(self, Act::TryLock | Act::TryRead | Act::TryWrite)
    }

    fn shared(self) -> bool {
        matches!(self, Act::Read | Act::TryRead)
    }
}

#[derive(Clone, Debug)]
struct Program {
    kinds: Vec<Kind>,
    /// Each lock's class, 0..3.
    classes: Vec<usize>,
    threads: Vec<Vec<Op>>,
}

fn program() -> impl Strategy<Value = Program> {
    let kind = prop_oneof![Just(Kind::Mutex), Just(Kind::RwLock), Just(Kind::Reentrant)];
    let how = prop_oneof![
        3 => Just(How::Lock),
        2 => Just(How::Read),
        2 => Just(How::Write),
        1 => Just(How::TryLock),
        1 => Just(How::TryRead),
        1 => Just(How::TryWrite),
    ];
    let op = prop_oneof![
        3 => (0..8usize, how).prop_map(|(lock, how)| Op::Acquire(lock, how)),
        2 => (0..8usize).prop_map(Op::Release),
    ];
    let thread = prop::collection::vec(op, 0..12);
    (
        prop::collection::vec((kind, 0..3usize), 2..=8),
        prop::collection::vec(thread, 1..=4),
    )
        .prop_map(|(locks, threads)| Program {
            kinds: locks.iter().map(|(kind, _)| *kind).collect(),
            classes: locks.iter().map(|(_, class)| *class).collect(),
            threads,
        })
}

/// A report as the comparison sees it: where, what, and the cycle's locks
/// (indices into the program's locks) in report order.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Finding {
    thread: usize,
    step: usize,
    kind: ReportKind,
    locks: Vec<usize>,
}

// ---------------------------------------------------------------- oracle

/// The rules of the contract, written independently of the library.
#[derive(Default)]
struct Oracle {
    edges: BTreeSet<(usize, usize)>,
    class_edges: BTreeSet<(usize, usize)>,
}

fn reaches(edges: &BTreeSet<(usize, usize)>, from: usize, to: usize) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n) {
            stack.extend(edges.iter().filter(|(a, _)| *a == n).map(|(_, b)| *b));
        }
    }
    false
}

impl Oracle {
    fn reaches(&self, from: usize, to: usize) -> bool {
        reaches(&self.edges, from, to)
    }

    /// Runs the program; returns the first finding, if any.
    fn run(&mut self, program: &Program) -> Option<Finding> {
        for (t, ops) in program.threads.iter().enumerate() {
            // (lock, act) per held guard, in acquisition order.
            let mut held: Vec<(usize, Act)> = Vec::new();
            for (step, op) in ops.iter().enumerate() {
                match *op {
                    Op::Release(n) => {
                        if !held.is_empty() {
                            held.remove(n % held.len());
                        }
                    }
                    Op::Acquire(lock, how) => {
                        let lock = lock % program.kinds.len();
                        let kind = program.kinds[lock];
                        let act = Act::of(kind, how);
                        let mine: Vec<Act> = held
                            .iter()
                            .filter(|(l, _)| *l == lock)
                            .map(|(_, a)| *a)
                            .collect();
                        if act.is_try() {
                            let ok = match (kind, act) {
                                (Kind::Reentrant, _) => true,
                                (Kind::RwLock, Act::TryRead) => mine.iter().all(|a| a.shared()),
                                _ => mine.is_empty(),
                            };
                            if ok {
                                held.push((lock, act));
                            }
                            continue;
                        }
                        if !mine.is_empty() {
                            let finding = |kind| {
                                Some(Finding {
                                    thread: t,
                                    step,
                                    kind,
                                    locks: vec![lock],
                                })
                            };
                            match kind {
                                Kind::Reentrant => {
                                    held.push((lock, act));
                                    continue;
                                }
                                Kind::RwLock if act.shared() && mine.iter().all(|a| a.shared()) => {
                                    return finding(ReportKind::RecursiveRead);
                                }
                                _ => return finding(ReportKind::SelfDeadlock),
                            }
                        }
                        let sources: BTreeSet<usize> = held.iter().map(|(l, _)| *l).collect();
                        let closing = sources.iter().copied().find(|&h| self.reaches(lock, h));
                        if let Some(h) = closing {
                            return Some(Finding {
                                thread: t,
                                step,
                                kind: ReportKind::LockOrderInversion,
                                locks: vec![h, lock],
                            });
                        }
                        let class = program.classes[lock];
                        let mut class_finding = None;
                        for h in sources {
                            let new = self.edges.insert((h, lock));
                            let held_class = program.classes[h];
                            if !new || held_class == class {
                                continue;
                            }
                            if reaches(&self.class_edges, class, held_class) {
                                class_finding.get_or_insert(Finding {
                                    thread: t,
                                    step,
                                    kind: ReportKind::ClassOrderInversion,
                                    locks: vec![h, lock],
                                });
                            } else {
                                self.class_edges.insert((held_class, class));
                            }
                        }
                        if class_finding.is_some() {
                            return class_finding;
                        }
                        held.push((lock, act));
                    }
                }
            }
        }
        None
    }
}

// ---------------------------------------------------------------- lockgraph

enum Lock {
    Mutex(lockgraph::Mutex<()>),
    RwLock(lockgraph::RwLock<()>),
    Reentrant(lockgraph::ReentrantLock<()>),
}

enum Guard<'a> {
    Mutex(#[allow(dead_code)] lockgraph::MutexGuard<'a, ()>),
    Read(#[allow(dead_code)] lockgraph::RwLockReadGuard<'a, ()>),
    Write(#[allow(dead_code)] lockgraph::RwLockWriteGuard<'a, ()>),
    Reentrant(#[allow(dead_code)] lockgraph::ReentrantLockGuard<'a, ()>),
}

impl Lock {
    fn take(&self, act: Act) -> Option<Guard<'_>> {
        match (self, act) {
            (Lock::Mutex(m), Act::TryLock) => m.try_lock().ok().map(Guard::Mutex),
            (Lock::Mutex(m), _) => Some(Guard::Mutex(m.lock().unwrap())),
            (Lock::RwLock(l), Act::Read) => Some(Guard::Read(l.read().unwrap())),
            (Lock::RwLock(l), Act::Write) => Some(Guard::Write(l.write().unwrap())),
            (Lock::RwLock(l), Act::TryRead) => l.try_read().ok().map(Guard::Read),
            (Lock::RwLock(l), _) => l.try_write().ok().map(Guard::Write),
            (Lock::Reentrant(r), Act::TryLock) => r.try_lock().map(Guard::Reentrant),
            (Lock::Reentrant(r), _) => Some(Guard::Reentrant(r.lock())),
        }
    }
}

thread_local! {
    /// The step being run on this thread, for the callback to record.
    static STEP: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

type Recorded = Arc<StdMutex<Vec<Finding>>>;

fn lock_index(name: Option<&str>) -> usize {
    name.and_then(|n| n.strip_prefix("p"))
        .and_then(|n| n.parse().ok())
        .expect("a program lock")
}

/// Runs the program against lockgraph; returns its first report and the
/// reported cycle's locks.
fn run_lockgraph(program: &Program, recorded: &Recorded) -> Option<Finding> {
    recorded.lock().unwrap().clear();
    static CASE: AtomicUsize = AtomicUsize::new(0);
    let case = CASE.fetch_add(1, Ordering::Relaxed);
    let locks: Arc<Vec<Lock>> = Arc::new(
        program
            .kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let name = format!("p{i}");
                let class = format!("case{case}-class{}", program.classes[i]);
                match kind {
                    Kind::Mutex => {
                        Lock::Mutex(lockgraph::Mutex::named(name, ()).with_class(&class))
                    }
                    Kind::RwLock => {
                        Lock::RwLock(lockgraph::RwLock::named(name, ()).with_class(&class))
                    }
                    Kind::Reentrant => Lock::Reentrant(
                        lockgraph::ReentrantLock::named(name, ()).with_class(&class),
                    ),
                }
            })
            .collect(),
    );
    for (t, ops) in program.threads.iter().enumerate() {
        let (locks, ops, kinds, recorded) = (
            locks.clone(),
            ops.clone(),
            program.kinds.clone(),
            recorded.clone(),
        );
        let stop = std::thread::spawn(move || {
            let mut guards: Vec<Guard<'_>> = Vec::new();
            for (step, op) in ops.iter().enumerate() {
                match *op {
                    Op::Release(n) => {
                        if !guards.is_empty() {
                            guards.remove(n % guards.len());
                        }
                    }
                    Op::Acquire(lock, how) => {
                        let lock = lock % kinds.len();
                        STEP.with(|s| s.set((t, step)));
                        let act = Act::of(kinds[lock], how);
                        // A self-deadlock panics after the callback; the
                        // guards drop as it unwinds.
                        let taken = panic::catch_unwind(AssertUnwindSafe(|| locks[lock].take(act)));
                        match taken {
                            Ok(Some(guard)) => guards.push(guard),
                            Ok(None) => {}
                            Err(_) => return true,
                        }
                        if !recorded.lock().unwrap().is_empty() {
                            return true;
                        }
                    }
                }
            }
            false
        })
        .join()
        .expect("the harness thread");
        if stop {
            break;
        }
    }
    recorded.lock().unwrap().first().cloned()
}

fn check(program: &Program, recorded: &Recorded) -> Result<(), TestCaseError> {
    let expected = Oracle::default().run(program);
    let actual = run_lockgraph(program, recorded);
    match (&expected, &actual) {
        (None, None) => Ok(()),
        (Some(e), Some(a)) => {
            prop_assert_eq!((e.thread, e.step, e.kind), (a.thread, a.step, a.kind));
            if e.kind == ReportKind::LockOrderInversion {
                // The reported cycle starts with the closing edge
                // held -> acquired and continues through edges the oracle
                // has, back to the held lock.
                let mut oracle = Oracle::default();
                let prefix = Program {
                    kinds: program.kinds.clone(),
                    classes: program.classes.clone(),
                    threads: program.threads.iter().take(a.thread + 1).cloned().collect(),
                };
                oracle.run(&prefix);
                prop_assert_eq!(a.locks[1], e.locks[1], "the acquired lock");
                let n = a.locks.len();
                prop_assert!(n >= 2);
                for i in 1..n {
                    let edge = (a.locks[i], a.locks[(i + 1) % n]);
                    prop_assert!(
                        oracle.edges.contains(&edge),
                        "edge {:?} of the reported cycle {:?}",
                        edge,
                        a.locks
                    );
                }
            } else if e.kind == ReportKind::ClassOrderInversion {
                // The reported class cycle: the closing class edge, then
                // class edges the oracle has, back to the held lock's class.
                let mut oracle = Oracle::default();
                let before = Program {
                    kinds: program.kinds.clone(),
                    classes: program.classes.clone(),
                    threads: program.threads.iter().take(a.thread + 1).cloned().collect(),
                };
                oracle.run(&before);
                prop_assert_eq!(a.locks[1], e.locks[1], "the acquired lock");
                let class = |i: usize| program.classes[a.locks[i]];
                let n = a.locks.len();
                prop_assert!(n >= 2);
                for i in 1..n {
                    let edge = (class(i), class((i + 1) % n));
                    prop_assert!(
                        oracle.class_edges.contains(&edge),
                        "class edge {:?} of the reported cycle {:?}",
                        edge,
                        a.locks
                    );
                }
            } else {
                prop_assert_eq!(&a.locks, &e.locks);
            }
            Ok(())
        }
        _ => Err(TestCaseError::fail(format!(
            "oracle {expected:?}, lockgraph {actual:?}"
        ))),
    }
}

#[test]
fn lockgraph_agrees_with_the_oracle() {
    if !lockgraph::ENABLED {
        return;
    }
    lockgraph::classes::set_mode(lockgraph::classes::Mode::Panic);
    let recorded: Recorded = Arc::new(StdMutex::new(Vec::new()));
    let sink = recorded.clone();
    lockgraph::set_policy(Policy::callback(move |report| {
        let (thread, step) = STEP.with(Cell::get);
        let locks = report
            .locks()
            .iter()
            .map(|l| lock_index(l.name()))
            .collect();
        sink.lock().unwrap().push(Finding {
            thread,
            step,
            kind: report.kind(),
            locks,
        });
    }));
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or("");
        if !text.contains("deadlock") {
            default_hook(info);
        }
    }));
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(3000);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let result = runner.run(&program(), |program| check(&program, &recorded));
    if let Err(err) = result {
        panic!("{err}");
    }
}
