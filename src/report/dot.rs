//! A report drawn as Graphviz DOT.

use std::fmt::Write as _;

use super::{Report, ReportKind};

impl Report {
    /// The report's locks and edges as a Graphviz DOT graph: for an
    /// inversion, the cycle, with the edge that would close it in red; for
    /// a self-deadlock, the lock with a red loop.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex as StdMutex};
    /// use lockgraph::{Mutex, Policy, set_policy};
    ///
    /// let dots = Arc::new(StdMutex::new(Vec::new()));
    /// let sink = dots.clone();
    /// let previous = set_policy(Policy::callback(move |report| {
    ///     sink.lock().unwrap().push(report.to_dot());
    /// }));
    /// let (a, b) = (Mutex::named("a", ()), Mutex::named("b", ()));
    /// {
    ///     let _a = a.lock().unwrap();
    ///     let _b = b.lock().unwrap();
    /// }
    /// {
    ///     let _b = b.lock().unwrap();
    ///     let _a = a.lock().unwrap(); // closes the cycle: reported, then goes on
    /// }
    /// set_policy(previous);
    /// # if lockgraph::ENABLED {
    /// let dots = dots.lock().unwrap();
    /// assert!(dots[0].starts_with("digraph lockgraph_report {"));
    /// assert!(dots[0].contains("color=red"));
    /// # }
    /// ```
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph lockgraph_report {\n    node [shape=box, fontname=\"monospace\"];\n    edge [fontname=\"monospace\"];\n",
        );
        let _ = writeln!(out, "    label=\"{}\";", dot_escape(&self.title));
        for (i, lock) in self.locks.iter().enumerate() {
            let label = format!("{} {}\\n{}", lock.kind, self.label(i), lock.created_at);
            let _ = writeln!(out, "    l{i} [label=\"{}\"];", dot_escape(&label));
        }
        for (j, edge) in self.edges.iter().enumerate() {
            let (color, what) = if j == 0 {
                ("red", "now, closes the cycle")
            } else {
                ("black", "first")
            };
            let label = format!("{what}: {} at {}", edge.thread, edge.to_acquired_at);
            let _ = writeln!(
                out,
                "    l{} -> l{} [label=\"{}\", color={color}, fontcolor={color}];",
                edge.from,
                edge.to,
                dot_escape(&label)
            );
        }
        if self.edges.is_empty()
            && matches!(
                self.kind,
                ReportKind::SelfDeadlock | ReportKind::RecursiveRead
            )
        {
            let _ = writeln!(
                out,
                "    l0 -> l0 [label=\"relocked at {}\", color=red, fontcolor=red];",
                self.location
            );
        }
        out.push_str("}\n");
        out
    }
}

/// Escapes `"` for a DOT label (`\\n` sequences stay line breaks).
pub(crate) fn dot_escape(label: &str) -> String {
    label.replace('"', "\\\"")
}
