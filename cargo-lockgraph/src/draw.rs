//! The suite's lock hierarchy as a picture: Graphviz DOT, or an SVG (and an
//! HTML page around it) laid out here, so no Graphviz is needed to look at
//! it. Classes are boxes labelled by name or type and creation site, placed
//! in layers by the lock order (a class below every class taken before it);
//! edges on a cycle are red (dashed grey when the cycle is accepted in
//! lockgraph.toml).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

use crate::check::{Findings, cycle_text};
use crate::records::Merged;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Plain,
    Cycle,
    Accepted,
}

fn marks(findings: &Findings) -> BTreeMap<(usize, usize), Mark> {
    let mut marks = BTreeMap::new();
    for cycle in &findings.cycles {
        let mark = if cycle.suppressed.is_some() {
            Mark::Accepted
        } else {
            Mark::Cycle
        };
        for edge in cycle.edges() {
            let entry = marks.entry(edge).or_insert(mark);
            if mark == Mark::Cycle {
                *entry = Mark::Cycle;
            }
        }
    }
    marks
}

fn mark_of(marks: &BTreeMap<(usize, usize), Mark>, edge: (usize, usize)) -> Mark {
    marks.get(&edge).copied().unwrap_or(Mark::Plain)
}

/// Graphviz DOT.
pub fn dot(merged: &Merged, findings: &Findings) -> String {
    let marks = marks(findings);
    let mut out = String::from(
        "digraph lockgraph_suite {\n    node [shape=box, fontname=\"monospace\"];\n    edge [fontname=\"monospace\", fontsize=10];\n",
    );
    for (i, class) in merged.classes.iter().enumerate() {
        let label = format!("{}\\n{}", class.label(), class.site);
        let _ = writeln!(out, "    c{i} [label=\"{}\"];", label.replace('"', "\\\""));
    }
    for (&(from, to), takes) in &merged.edges {
        let take = &takes[0];
        let label = format!("{} ({})", take.thread, take.target()).replace('"', "\\\"");
        let style = match mark_of(&marks, (from, to)) {
            Mark::Plain => String::new(),
            Mark::Cycle => ", color=red, fontcolor=red, penwidth=2".to_owned(),
            Mark::Accepted => ", color=gray50, fontcolor=gray50, style=dashed".to_owned(),
        };
        let _ = writeln!(out, "    c{from} -> c{to} [label=\"{label}\"{style}];");
    }
    out.push_str("}\n");
    out
}

struct Layout {
    /// Per class: x, y of the box's top-left corner, and its width.
    boxes: Vec<(f64, f64, f64)>,
    width: f64,
    height: f64,
}

const CHAR: f64 = 7.2;
const BOX_HEIGHT: f64 = 38.0;
const ROW: f64 = 110.0;
const GAP: f64 = 36.0;
const MARGIN: f64 = 24.0;
/// Room above the first row for the title and for arcs between classes of
/// one row.
const TOP: f64 = 100.0;

fn layout(merged: &Merged) -> Layout {
    let n = merged.classes.len();
    let mut graph = DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..n).map(|i| graph.add_node(i)).collect();
    for &(from, to) in merged.edges.keys() {
        graph.add_edge(nodes[from], nodes[to], ());
    }
    // Strongly connected sets in reverse topological order; layer them by
    // the longest path from a set nothing is ordered before.
    let mut components = tarjan_scc(&graph);
    components.reverse();
    let mut component_of = vec![0; n];
    for (c, members) in components.iter().enumerate() {
        for node in members {
            component_of[node.index()] = c;
        }
    }
    let mut layer = vec![0usize; components.len()];
    for (c, members) in components.iter().enumerate() {
        for node in members {
            for (&(from, _), _) in merged
                .edges
                .iter()
                .filter(|((_, to), _)| *to == node.index())
            {
                let p = component_of[from];
                if p != c {
                    layer[c] = layer[c].max(layer[p] + 1);
                }
            }
        }
    }
    let widths: Vec<f64> = merged
        .classes
        .iter()
        .map(|class| {
            let chars = class.label().len().max(class.site.to_string().len());
            chars as f64 * CHAR + 20.0
        })
        .collect();
    let mut rows: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (c, members) in components.iter().enumerate() {
        let mut ids: Vec<usize> = members.iter().map(|m| m.index()).collect();
        ids.sort_unstable();
        rows.entry(layer[c]).or_default().extend(ids);
    }
    // Order each row by where its predecessors sit (one barycentre pass).
    let mut position: Vec<f64> = vec![0.0; n];
    let mut boxes = vec![(0.0, 0.0, 0.0); n];
    let mut width: f64 = 0.0;
    let mut rows_placed: Vec<(usize, Vec<usize>, f64)> = Vec::new();
    for (&row, ids) in &rows {
        let mut ids = ids.clone();
        let key = |id: usize| {
            let preds: Vec<f64> = merged
                .edges
                .keys()
                .filter(|(from, to)| *to == id && component_of[*from] != component_of[id])
                .map(|(from, _)| position[*from])
                .collect();
            if preds.is_empty() {
                f64::MAX
            } else {
                preds.iter().sum::<f64>() / preds.len() as f64
            }
        };
        let keys: BTreeMap<usize, f64> = ids.iter().map(|&id| (id, key(id))).collect();
        ids.sort_by(|a, b| {
            keys[a]
                .partial_cmp(&keys[b])
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(component_of[*a].cmp(&component_of[*b]))
                .then(a.cmp(b))
        });
        let mut x = 0.0;
        for &id in &ids {
            position[id] = x + widths[id] / 2.0;
            x += widths[id] + GAP;
        }
        let row_width = x - GAP;
        width = width.max(row_width);
        rows_placed.push((row, ids, row_width));
    }
    for (row, ids, row_width) in rows_placed {
        let mut x = MARGIN + (width - row_width) / 2.0;
        let y = TOP + row as f64 * ROW;
        for id in ids {
            boxes[id] = (x, y, widths[id]);
            x += widths[id] + GAP;
        }
    }
    let rows = rows.keys().next_back().map_or(0, |r| r + 1);
    Layout {
        boxes,
        width: width + 2.0 * MARGIN,
        height: TOP + rows as f64 * ROW,
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A standalone SVG of the class graph.
pub fn svg(merged: &Merged, findings: &Findings, title: &str) -> String {
    let layout = layout(merged);
    let marks = marks(findings);
    let width = layout
        .width
        .max(title.len() as f64 * 8.4 + 2.0 * MARGIN)
        .max(420.0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"monospace\" font-size=\"12\">",
        w = width,
        h = layout.height
    );
    let _ = writeln!(out, "  <title>{}</title>", xml(title));
    out.push_str(
        "  <defs>\n    <marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#444\"/></marker>\n    <marker id=\"arrow-red\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#d00\"/></marker>\n  </defs>\n",
    );
    let _ = writeln!(
        out,
        "  <rect x=\"0\" y=\"0\" width=\"{width:.0}\" height=\"{:.0}\" fill=\"white\"/>",
        layout.height
    );
    let _ = writeln!(
        out,
        "  <text x=\"{MARGIN}\" y=\"{:.0}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        MARGIN + 4.0,
        xml(title)
    );
    // Rows are centred on the picture's width.
    let _ = writeln!(
        out,
        "  <g transform=\"translate({:.1} 0)\">",
        (width - layout.width) / 2.0
    );
    // Edges first, so boxes cover their ends.
    for (k, (&(from, to), takes)) in merged.edges.iter().enumerate() {
        let (fx, fy, fw) = layout.boxes[from];
        let (tx, ty, tw) = layout.boxes[to];
        let (x1, x2) = (fx + fw / 2.0, tx + tw / 2.0);
        let path = if ty > fy {
            let (y1, y2) = (fy + BOX_HEIGHT, ty);
            let mid = (y1 + y2) / 2.0;
            format!("M {x1:.1} {y1:.1} C {x1:.1} {mid:.1}, {x2:.1} {mid:.1}, {x2:.1} {y2:.1}")
        } else {
            // Same row or upwards (a cycle): arc out to the side.
            let bend = 40.0 + 12.0 * (k % 4) as f64;
            let (y1, y2) = (fy + BOX_HEIGHT / 2.0, ty + BOX_HEIGHT / 2.0);
            let (sx, ex) = if x2 >= x1 {
                (fx + fw, tx)
            } else {
                (fx, tx + tw)
            };
            if (y1 - y2).abs() < 1.0 {
                let lift = if x2 >= x1 { -bend } else { bend };
                let (s, e) = (x1, x2);
                let y = if lift < 0.0 { fy } else { fy + BOX_HEIGHT };
                format!(
                    "M {s:.1} {y:.1} C {s:.1} {:.1}, {e:.1} {:.1}, {e:.1} {y:.1}",
                    y + lift,
                    y + lift
                )
            } else {
                format!(
                    "M {sx:.1} {y1:.1} C {:.1} {y1:.1}, {:.1} {y2:.1}, {ex:.1} {y2:.1}",
                    sx + bend,
                    ex + bend
                )
            }
        };
        let (stroke, extra, marker) = match mark_of(&marks, (from, to)) {
            Mark::Plain => ("#444", "", "arrow"),
            Mark::Cycle => ("#d00", " stroke-width=\"2.5\"", "arrow-red"),
            Mark::Accepted => ("#999", " stroke-dasharray=\"6 4\"", "arrow"),
        };
        let take = &takes[0];
        let _ = writeln!(
            out,
            "  <path class=\"edge\" d=\"{path}\" fill=\"none\" stroke=\"{stroke}\"{extra} marker-end=\"url(#{marker})\"><title>{}</title></path>",
            xml(&format!(
                "{} -> {}: {} ({}) at {}",
                merged.classes[from].label(),
                merged.classes[to].label(),
                take.thread,
                take.target(),
                take.to
            ))
        );
    }
    for (i, class) in merged.classes.iter().enumerate() {
        let (x, y, w) = layout.boxes[i];
        let in_cycle = merged
            .edges
            .keys()
            .any(|&(a, b)| (a == i || b == i) && mark_of(&marks, (a, b)) == Mark::Cycle);
        let stroke = if in_cycle { "#d00" } else { "#333" };
        let _ = writeln!(
            out,
            "  <g class=\"class\"><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BOX_HEIGHT}\" rx=\"4\" fill=\"#f7f7f2\" stroke=\"{stroke}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\" font-size=\"11\">{}</text></g>",
            x + 10.0,
            y + 16.0,
            xml(&class.label()),
            x + 10.0,
            y + 31.0,
            xml(&class.site.to_string())
        );
    }
    out.push_str("  </g>\n</svg>\n");
    out
}

/// An HTML page: a summary, the SVG, and each cycle's text.
pub fn html(merged: &Merged, findings: &Findings, title: &str) -> String {
    let mut out = String::new();
    let failing = findings.failing();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>\nbody {{ font-family: sans-serif; margin: 2em; color: #222; }}\npre {{ background: #f7f7f2; padding: 1em; overflow-x: auto; }}\n.bad {{ color: #d00; }}\ntable {{ border-collapse: collapse; }}\ntd, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; font-family: monospace; text-align: left; }}\n</style>\n</head>\n<body>\n<h1>{t}</h1>\n<p>{} records, {} lock classes, {} class-order edges: <span class=\"{}\">{} cycle(s)</span>, {} accepted in lockgraph.toml. Red edges lie on a cycle.</p>\n",
        merged.files,
        merged.classes.len(),
        merged.edges.len(),
        if failing > 0 { "bad" } else { "ok" },
        failing,
        findings.cycles.len() - failing,
        t = xml(title)
    );
    out.push_str(&svg(merged, findings, title));
    for cycle in &findings.cycles {
        let heading = match &cycle.suppressed {
            Some((_, reason)) => format!("Accepted cycle ({})", xml(reason)),
            None => "Cycle".to_owned(),
        };
        let _ = writeln!(
            out,
            "<h2>{heading}</h2>\n<pre>{}</pre>",
            xml(&cycle_text(merged, cycle))
        );
    }
    out.push_str("<h2>Lock classes</h2>\n<table>\n<tr><th>class</th><th>created at</th><th>ordered before</th></tr>\n");
    for (i, class) in merged.classes.iter().enumerate() {
        let after: BTreeSet<String> = merged
            .edges
            .keys()
            .filter(|(from, _)| *from == i)
            .map(|(_, to)| merged.classes[*to].label())
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            xml(&class.label()),
            xml(&class.site.to_string()),
            xml(&after.into_iter().collect::<Vec<_>>().join(", "))
        );
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}
