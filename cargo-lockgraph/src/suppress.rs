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
//! characters. An entry accepts a cycle when every class of the cycle
//! matches one of its patterns.

use std::path::Path;

use serde::Deserialize;

use crate::records::{Class, Error};

/// One accepted set of classes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub classes: Vec<String>,
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
            if entry.classes.is_empty() || entry.reason.trim().is_empty() {
                return Err(Error(format!(
                    "{}: [[allow]] entry {} needs a non-empty `classes` list and a `reason`",
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
            classes
                .iter()
                .all(|class| entry.classes.iter().any(|p| matches_class(p, class)))
        })
    }
}

fn matches_class(pattern: &str, class: &Class) -> bool {
    let site = &class.site;
    let names = [
        class.name.clone(),
        Some(site.file.clone()),
        Some(format!("{}:{}", site.file, site.line)),
        Some(format!("{}:{}:{}", site.file, site.line, site.column)),
    ];
    names.iter().flatten().any(|name| glob(pattern, name))
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
}
