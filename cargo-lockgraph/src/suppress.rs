//! Accepted cycles, from a checked-in `lockgraph.toml`:
//!
//! ```toml
//! [[allow]]
//! classes = ["tests/cycles.rs:*", "pool.idle"]
//! reason = "these tests invert orders on purpose"
//! ```
//!
//! A pattern names a class by its explicit name, or by its creation site as
//! `file`, `file:line` or `file:line:column`; `*` matches any run of
//! characters. An entry can also name a dependency, `crate = "tokio"`: a
//! class created in that crate's sources (cargo's registry, or an
//! `--instrument` copy: a path through `NAME-VERSION/`) matches it. An entry
//! accepts a cycle when every class of the cycle matches one of its
//! patterns or its crate.
//!
//! ```toml
//! [[allow]]
//! crate = "tokio"
//! reason = "tokio's own lock order, not ours"
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::records::{Class, Error};

/// One accepted set of classes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    #[serde(default)]
    pub classes: Vec<String>,
    /// A dependency whose classes this entry accepts.
    #[serde(default, rename = "crate")]
    pub krate: Option<String>,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppressions {
    #[serde(default, rename = "allow")]
    pub entries: Vec<Entry>,
}

impl Suppressions {
    /// Reads `path`; a syntax error is an error naming the file and line.
    pub fn load(path: &Path) -> Result<Suppressions, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error(format!("{}: cannot read: {e}", path.display())))?;
        let parsed: Suppressions = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            let message = e.message().trim().to_owned();
            match line {
                Some(line) => Error(format!("{}:{line}: {message}", path.display())),
                None => Error(format!("{}: {message}", path.display())),
            }
        })?;
        for (i, entry) in parsed.entries.iter().enumerate() {
            let names_something = !entry.classes.is_empty()
                || entry.krate.as_deref().is_some_and(|c| !c.trim().is_empty());
            if !names_something || entry.reason.trim().is_empty() {
                return Err(Error(format!(
                    "{}: [[allow]] entry {} needs a non-empty `classes` list or a `crate`, and a `reason`",
                    path.display(),
                    i + 1
                )));
            }
        }
        Ok(parsed)
    }

    /// The first entry that accepts a cycle of these classes.
    pub fn matching(&self, classes: &[&Class]) -> Option<usize> {
        self.entries.iter().position(|entry| {
            classes.iter().all(|class| {
                entry.classes.iter().any(|p| matches_class(p, class))
                    || entry
                        .krate
                        .as_deref()
                        .is_some_and(|krate| in_crate(krate, &class.site.file))
            })
        })
    }
}

/// Whether `file` lies in the sources of crate `krate`: a path through a
/// `krate-VERSION/` directory (cargo's registry, an `--instrument` copy).
fn in_crate(krate: &str, file: &str) -> bool {
    let file = file.replace('\\', "/");
    file.split('/').any(|segment| {
        segment
            .strip_prefix(krate)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
    })
}

fn matches_class(pattern: &str, class: &Class) -> bool {
    let site = &class.site;
    // A dependency's file as this machine's path or as reports show it
    // (`dashmap 6.1.0 src/lib.rs`, the same on every machine).
    let shown = crate::paths::dependency_paths(&site.file);
    let files = [&site.file, &shown];
    class
        .name
        .as_deref()
        .is_some_and(|name| glob(pattern, name))
        || files.iter().any(|file| {
            [
                (*file).clone(),
                format!("{file}:{}", site.line),
                format!("{file}:{}:{}", site.line, site.column),
            ]
            .iter()
            .any(|name| glob(pattern, name))
        })
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("tests/*.rs:*", "tests/a.rs:12"));
        assert!(glob("a*b*c", "abbc"));
        assert!(!glob("a*b*c", "acb"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("*", ""));
        assert!(!glob("ab*ba", "aba"));
    }

    fn class_at(file: &str) -> Class {
        Class {
            kind: "Mutex".into(),
            site: crate::records::Site {
                file: file.into(),
                line: 1,
                column: 1,
            },
            data: "u32".into(),
            name: None,
        }
    }

    #[test]
    fn an_entry_accepts_the_classes_of_a_crate() {
        let parsed: Suppressions =
            toml::from_str("[[allow]]\ncrate = \"tokio\"\nreason = \"tokio's own order\"\n")
                .unwrap();
        let registry = class_at(
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.54.1/src/sync/mutex.rs",
        );
        let copy = class_at("/w/target/lockgraph/instrument/tokio-1.54.1/src/time.rs");
        let other = class_at("/root/.cargo/registry/src/index/tokio-util-0.7.1/src/lib.rs");
        let ours = class_at("src/lib.rs");
        assert_eq!(parsed.matching(&[&registry, &copy]), Some(0));
        assert_eq!(parsed.matching(&[&registry, &other]), None);
        assert_eq!(parsed.matching(&[&registry, &ours]), None);
    }
}
