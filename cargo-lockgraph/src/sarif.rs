//! `--format sarif`: the findings as SARIF 2.1.0, the format GitHub code
//! scanning, GitLab and most CI dashboards read. One result per cycle of
//! lock classes (rule `lockgraph/class-order-inversion`): the message names
//! the cycle; the location is the acquisition that takes the first edge;
//! every edge's two acquisition sites are related locations; the tests that
//! took each edge are in the result's properties; an accepted cycle
//! (`lockgraph.toml`) carries its reason as an external suppression. Paths
//! under the workspace root are relative to it (`uriBaseId` `SRCROOT`), and
//! each result's fingerprint hashes its classes (kind, creation site
//! relative to the root, type, name) in a canonical rotation, so the same
//! cycle is the same result in every run and on every machine.

use std::path::Path;

use serde_json::{Value, json};

use crate::check::{Cycle, Findings, relative};
use crate::records::{Class, Merged, Site};

const RULE: &str = "lockgraph/class-order-inversion";

/// The SARIF log of `findings`.
pub fn log(merged: &Merged, findings: &Findings, root: &Path) -> Value {
    let results: Vec<Value> = findings
        .cycles
        .iter()
        .map(|cycle| result(merged, cycle, root))
        .collect();
    let root_uri = format!(
        "file://{}/",
        root.display().to_string().trim_end_matches('/')
    );
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cargo-lockgraph",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://crates.io/crates/lockgraph",
                    "rules": [{
                        "id": RULE,
                        "name": "LockOrderInversion",
                        "shortDescription": {
                            "text": "Lock classes taken in a cycle across the test suite"
                        },
                        "fullDescription": {
                            "text": "The test suite took locks of these classes in orders that form a \
                                     cycle. Two threads running these paths on the same objects \
                                     can deadlock, each holding one lock and waiting for the next."
                        },
                        "help": {
                            "text": "Take the locks in one global order, or release the first before \
                                     taking the second. A cycle that cannot deadlock (the locks are \
                                     ordered by another rule) can be accepted in lockgraph.toml with \
                                     a reason."
                        },
                        "defaultConfiguration": { "level": "error" }
                    }]
                }
            },
            "originalUriBaseIds": { "SRCROOT": { "uri": root_uri } },
            "results": results
        }]
    })
}

fn result(merged: &Merged, cycle: &Cycle, root: &Path) -> Value {
    let classes: Vec<&Class> = cycle.classes.iter().map(|&c| &merged.classes[c]).collect();
    let labels: Vec<String> = classes.iter().map(|c| c.label()).collect();
    let n = labels.len();
    let chain: Vec<&str> = (0..=n).map(|i| labels[i % n].as_str()).collect();
    let mut related = Vec::new();
    let mut edges = Vec::new();
    let mut first: Option<Value> = None;
    for (j, edge) in cycle.edges().enumerate() {
        let takes = &merged.edges[&edge];
        let take = &takes[0];
        let (from, to) = (&labels[j], &labels[(j + 1) % n]);
        let message = format!(
            "{from} -> {to}: {to} acquired here while holding {from} (by `{}` in {})",
            take.thread,
            take.target()
        );
        if first.is_none() {
            first = Some(location(&take.to, root, None, &message));
        }
        related.push(location(
            &take.from,
            root,
            Some(related.len()),
            &format!("{from} acquired here (edge {from} -> {to})"),
        ));
        related.push(location(&take.to, root, Some(related.len()), &message));
        let tests: Vec<String> = takes
            .iter()
            .map(|t| format!("{} in {}", t.thread, t.target()))
            .collect();
        edges.push(json!({ "from": from, "to": to, "tests": tests }));
    }
    let text = format!(
        "potential deadlock: lock order inversion between lock classes: {} (each edge taken by the \
         test suite; two threads running these paths on the same objects deadlock)",
        chain.join(" -> ")
    );
    let mut result = json!({
        "ruleId": RULE,
        "ruleIndex": 0,
        "level": "error",
        "message": { "text": text },
        "locations": [first.expect("a cycle has edges")],
        "relatedLocations": related,
        "partialFingerprints": { "lockgraphCycle/v1": fingerprint(&classes, root) },
        "properties": { "classes": labels, "edges": edges }
    });
    if let Some((_, reason)) = &cycle.suppressed {
        result["suppressions"] = json!([{
            "kind": "external",
            "justification": format!("accepted in lockgraph.toml: {reason}")
        }]);
    }
    result
}

/// A SARIF location at `site`: relative to `SRCROOT` when under the root.
fn location(site: &Site, root: &Path, id: Option<usize>, message: &str) -> Value {
    let path = relative(&site.file, root);
    let artifact = if Path::new(&path).is_absolute() {
        json!({ "uri": format!("file://{path}") })
    } else {
        json!({ "uri": path, "uriBaseId": "SRCROOT" })
    };
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": {
                "startLine": site.line.max(1),
                "startColumn": site.column.max(1)
            }
        },
        "message": { "text": message }
    });
    if let Some(id) = id {
        location["id"] = json!(id);
    }
    location
}

/// The classes' identities (relative to the root), rotated so the least is
/// first, hashed (64-bit FNV-1a, hex): the same cycle, the same value.
fn fingerprint(classes: &[&Class], root: &Path) -> String {
    let keys: Vec<String> = classes
        .iter()
        .map(|c| {
            format!(
                "{}|{}:{}:{}|{}|{}",
                c.kind,
                relative(&c.site.file, root),
                c.site.line,
                c.site.column,
                c.data,
                c.name.as_deref().unwrap_or("")
            )
        })
        .collect();
    let start = (0..keys.len()).min_by_key(|&i| &keys[i]).unwrap_or(0);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 0..keys.len() {
        for byte in keys[(start + i) % keys.len()].bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
