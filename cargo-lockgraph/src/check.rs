//! Finding the class cycles of a merged graph, applying suppressions, and
//! saying what was found: lockdep-style text, JSON, GitHub annotations.

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write as _;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::records::{Class, Merged, Site, Take};
use crate::suppress::Suppressions;

/// At most this many cycles are listed per strongly connected set of
/// classes (each edge of the set is in at least one of them).
const MAX_CYCLES_PER_COMPONENT: usize = 50;

/// A class cycle: `classes[i] -> classes[i + 1]`, the last back to the
/// first.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub classes: Vec<usize>,
    /// The suppression entry that accepts it: its index and reason.
    pub suppressed: Option<(usize, String)>,
}

impl Cycle {
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let n = self.classes.len();
        (0..n).map(move |i| (self.classes[i], self.classes[(i + 1) % n]))
    }
}

/// What `check` found.
pub struct Findings {
    pub cycles: Vec<Cycle>,
    /// Suppression entries that matched no cycle (their index).
    pub unused: Vec<usize>,
}

impl Findings {
    pub fn failing(&self) -> usize {
        self.cycles
            .iter()
            .filter(|c| c.suppressed.is_none())
            .count()
    }
}

/// Every elementary cycle needed to cover each edge that lies on a cycle:
/// per strongly connected set of classes, for each edge `a -> b` in it, the
/// shortest way back from `b` to `a`; repeats of one cycle are dropped.
pub fn find_cycles(merged: &Merged, suppressions: &Suppressions) -> Findings {
    let mut graph = DiGraph::<(), ()>::new();
    let nodes: Vec<NodeIndex> = merged.classes.iter().map(|_| graph.add_node(())).collect();
    for &(from, to) in merged.edges.keys() {
        graph.add_edge(nodes[from], nodes[to], ());
    }
    let mut cycles = Vec::new();
    let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
    for component in tarjan_scc(&graph) {
        if component.len() < 2 {
            continue;
        }
        let members: BTreeSet<usize> = component.iter().map(|n| n.index()).collect();
        let mut found = 0;
        for &(from, to) in merged.edges.keys() {
            if !members.contains(&from) || !members.contains(&to) {
                continue;
            }
            let Some(back) = shortest_path(merged, &members, to, from) else {
                continue;
            };
            // [from, to, ..., (back to from)]
            let mut classes = vec![from];
            classes.extend_from_slice(&back[..back.len() - 1]);
            let key = canonical(&classes);
            if seen.insert(key.clone()) {
                cycles.push(Cycle {
                    classes: key,
                    suppressed: None,
                });
                found += 1;
                if found == MAX_CYCLES_PER_COMPONENT {
                    break;
                }
            }
        }
    }
    let mut used = vec![false; suppressions.entries.len()];
    for cycle in &mut cycles {
        let classes: Vec<&Class> = cycle.classes.iter().map(|&c| &merged.classes[c]).collect();
        if let Some(i) = suppressions.matching(&classes) {
            used[i] = true;
            cycle.suppressed = Some((i, suppressions.entries[i].reason.clone()));
        }
    }
    let unused = used
        .iter()
        .enumerate()
        .filter(|(_, used)| !**used)
        .map(|(i, _)| i)
        .collect();
    Findings { cycles, unused }
}

/// Rotates a cycle to start at its smallest class, so one cycle has one key.
fn canonical(cycle: &[usize]) -> Vec<usize> {
    let start = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
    cycle[start..]
        .iter()
        .chain(&cycle[..start])
        .copied()
        .collect()
}

/// The shortest path `from ... to` (both included) through `members`.
fn shortest_path(
    merged: &Merged,
    members: &BTreeSet<usize>,
    from: usize,
    to: usize,
) -> Option<Vec<usize>> {
    let mut previous: Vec<Option<usize>> = vec![None; merged.classes.len()];
    let mut queue = VecDeque::from([from]);
    let mut reached = BTreeSet::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            let mut path = vec![to];
            let mut at = to;
            while let Some(p) = previous[at] {
                path.push(p);
                at = p;
            }
            path.reverse();
            return Some(path);
        }
        for (&(a, b), _) in merged.edges.range((node, 0)..=(node, usize::MAX)) {
            debug_assert_eq!(a, node);
            if members.contains(&b) && reached.insert(b) {
                previous[b] = Some(node);
                queue.push_back(b);
            }
        }
    }
    None
}

/// Labels for the classes of one cycle, numbered where two read the same.
fn labels(merged: &Merged, cycle: &Cycle) -> Vec<String> {
    let plain: Vec<String> = cycle
        .classes
        .iter()
        .map(|&c| merged.classes[c].label())
        .collect();
    plain
        .iter()
        .enumerate()
        .map(|(i, label)| {
            if plain.iter().filter(|l| *l == label).count() > 1 {
                format!("{label}#{}", i + 1)
            } else {
                label.clone()
            }
        })
        .collect()
}

fn who(take: &Take) -> String {
    format!("`{}` in {}", take.thread, take.target())
}

/// The lockdep-style text of one cycle.
pub fn cycle_text(merged: &Merged, cycle: &Cycle) -> String {
    let mut out = String::new();
    let labels = labels(merged, cycle);
    let n = cycle.classes.len();
    let _ = writeln!(
        out,
        "potential deadlock: lock order inversion between lock classes, across the test suite"
    );
    let _ = writeln!(out, "\nthe lock order has a cycle of {n} lock classes:");
    let chain: Vec<&str> = (0..=n).map(|i| labels[i % n].as_str()).collect();
    let _ = writeln!(out, "    {}", chain.join(" -> "));
    let _ = writeln!(
        out,
        "\nlock classes in the cycle (a class is a creation site and the type a lock protects,\nor a name given with `with_class`):"
    );
    for (i, &c) in cycle.classes.iter().enumerate() {
        let class = &merged.classes[c];
        let _ = writeln!(out, "    {} created at {}", labels[i], class.site);
    }
    let _ = writeln!(
        out,
        "\nwhere each edge of the cycle was taken (the executable, and the test that ran it):"
    );
    let mut firsts = Vec::new();
    for (j, edge) in cycle.edges().enumerate() {
        let takes = &merged.edges[&edge];
        let first = &takes[0];
        firsts.push(first);
        let (a, b) = (&labels[j], &labels[(j + 1) % n]);
        let more = match takes.len() {
            1 => String::new(),
            k => format!(" (and {} more)", k - 1),
        };
        let _ = writeln!(out, "  {a} -> {b}: taken by {}{more}", who(first));
        let _ = writeln!(
            out,
            "      {a} acquired at {}, then {b} at {}",
            first.from, first.to
        );
        // A dependency's acquisition: where the program's own code called it.
        if crate::paths::in_dependency(&first.to.file) {
            let own = first.backtrace.iter().find(|frame| {
                frame
                    .file
                    .as_deref()
                    .is_some_and(|file| !crate::paths::in_dependency(file))
            });
            if let Some(frame) = own {
                let _ = writeln!(
                    out,
                    "      in your code: {}:{}, {}",
                    frame.file.as_deref().unwrap_or(""),
                    frame.line.unwrap_or(0),
                    frame.function
                );
            }
        }
        if first.backtrace.is_empty() {
            let _ = writeln!(out, "      (no backtrace recorded)");
        }
        for (i, frame) in first.backtrace.iter().enumerate() {
            let _ = writeln!(out, "      {i:>2}: {}", frame.function);
            if let (Some(file), Some(line)) = (&frame.file, frame.line) {
                let _ = writeln!(out, "              at {file}:{line}");
            }
        }
    }
    let _ = writeln!(
        out,
        "\nNo one process took every order of this cycle, so no test hung; but code that runs\nthese paths concurrently on the same objects deadlocks."
    );
    // The scenario: one column per edge, each holding its first class and
    // blocking on its second.
    let names: Vec<String> = firsts.iter().map(|t| t.thread.clone()).collect();
    if n <= 4 {
        let width = names
            .iter()
            .map(String::len)
            .chain(labels.iter().map(|l| l.len() + 18))
            .max()
            .unwrap_or(0)
            + 2;
        let _ = writeln!(
            out,
            "\npossible deadlock scenario (the paths run at once, on the same objects):"
        );
        let header: String = names.iter().map(|n| format!("{n:<width$}")).collect();
        let _ = writeln!(out, "    {}", header.trim_end());
        let rule: String = names
            .iter()
            .map(|n| format!("{:<width$}", "-".repeat(n.len())))
            .collect();
        let _ = writeln!(out, "    {}", rule.trim_end());
        for (col, label) in labels.iter().enumerate() {
            let line = format!("{:indent$}lock({label})", "", indent = col * width);
            let _ = writeln!(out, "    {}", line.trim_end());
        }
        for col in 0..n {
            let line = format!(
                "{:indent$}lock({})  <- blocks",
                "",
                labels[(col + 1) % n],
                indent = col * width
            );
            let _ = writeln!(out, "    {}", line.trim_end());
        }
    } else {
        let _ = writeln!(out, "\npossible deadlock scenario:");
        for col in 0..n {
            let _ = writeln!(
                out,
                "    `{}` holds {} and waits for {}",
                names[col],
                labels[col],
                labels[(col + 1) % n]
            );
        }
    }
    let _ = writeln!(
        out,
        "\nfix: take these locks in one global order everywhere; if the locks of one class play\n     roles that never meet, give a role its own class (`.with_class(\"name\")`); or accept\n     the cycle in lockgraph.toml:\n         [[allow]]\n         classes = [{}]\n         reason = \"why this order can never deadlock\"",
        cycle
            .classes
            .iter()
            .map(|&c| format!("\"{}\"", pattern_for(&merged.classes[c])))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

/// The suppression pattern that names a class.
fn pattern_for(class: &Class) -> String {
    match &class.name {
        Some(name) => name.clone(),
        None => format!("{}:{}", class.site.file, class.site.line),
    }
}

/// GitHub Actions annotations: one `::error` at each edge's second
/// acquisition site, with the path relative to the workspace root.
pub fn github_lines(merged: &Merged, cycle: &Cycle, root: &std::path::Path) -> Vec<String> {
    let labels = labels(merged, cycle);
    let n = cycle.classes.len();
    let chain: Vec<&str> = (0..=n).map(|i| labels[i % n].as_str()).collect();
    cycle
        .edges()
        .enumerate()
        .map(|(j, edge)| {
            let take = &merged.edges[&edge][0];
            let message = format!(
                "{} -> {} taken here by {}; the lock classes form a cycle {} across the test \
                 suite: two threads running these paths on the same objects deadlock",
                labels[j],
                labels[(j + 1) % n],
                who(take),
                chain.join(" -> ")
            );
            format!(
                "::error file={},line={},col={},title={}::{}",
                escape_property(&relative(&take.to.file, root)),
                take.to.line,
                take.to.column,
                escape_property("lockgraph: lock order inversion"),
                escape_data(&message)
            )
        })
        .collect()
}

/// A path as GitHub shows it: relative to the workspace root when inside it.
pub fn relative(file: &str, root: &std::path::Path) -> String {
    let path = std::path::Path::new(file);
    match path.strip_prefix(root) {
        Ok(rest) => rest.display().to_string(),
        Err(_) => file.to_owned(),
    }
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The JSON output, version 1 (documented in README.md).
#[derive(Serialize)]
pub struct Json<'a> {
    pub schema: &'static str,
    pub version: u32,
    pub records: usize,
    pub classes: &'a [Class],
    pub edges: usize,
    pub cycles: Vec<JsonCycle<'a>>,
    pub unused_suppressions: Vec<JsonSuppression>,
    pub warnings: &'a [String],
}

#[derive(Serialize)]
pub struct JsonCycle<'a> {
    /// Indices into `classes`, in cycle order.
    pub classes: Vec<usize>,
    pub edges: Vec<JsonEdge<'a>>,
    pub suppressed: bool,
    pub reason: Option<String>,
}

#[derive(Serialize)]
pub struct JsonEdge<'a> {
    pub from: usize,
    pub to: usize,
    pub takes: Vec<JsonTake<'a>>,
}

#[derive(Serialize)]
pub struct JsonTake<'a> {
    pub exe: &'a str,
    pub target: String,
    pub test: &'a str,
    pub from: &'a Site,
    pub to: &'a Site,
    pub backtrace: &'a [crate::records::Frame],
    pub record: &'a str,
}

#[derive(Serialize)]
pub struct JsonSuppression {
    pub classes: Vec<String>,
    pub reason: String,
}

pub fn json<'a>(merged: &'a Merged, findings: &Findings, suppressions: &Suppressions) -> Json<'a> {
    Json {
        schema: "cargo-lockgraph/check",
        version: 1,
        records: merged.files,
        classes: &merged.classes,
        edges: merged.edges.len(),
        cycles: findings
            .cycles
            .iter()
            .map(|cycle| JsonCycle {
                classes: cycle.classes.clone(),
                edges: cycle
                    .edges()
                    .map(|(from, to)| JsonEdge {
                        from,
                        to,
                        takes: merged.edges[&(from, to)]
                            .iter()
                            .map(|t| JsonTake {
                                exe: &t.exe,
                                target: t.target(),
                                test: &t.thread,
                                from: &t.from,
                                to: &t.to,
                                backtrace: &t.backtrace,
                                record: &t.record,
                            })
                            .collect(),
                    })
                    .collect(),
                suppressed: cycle.suppressed.is_some(),
                reason: cycle.suppressed.as_ref().map(|(_, r)| r.clone()),
            })
            .collect(),
        unused_suppressions: findings
            .unused
            .iter()
            .map(|&i| JsonSuppression {
                classes: suppressions.entries[i].classes.clone(),
                reason: suppressions.entries[i].reason.clone(),
            })
            .collect(),
        warnings: &merged.warnings,
    }
}
