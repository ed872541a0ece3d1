//! Reading the record files lockgraph writes under `LOCKGRAPH_RECORD` and
//! merging them into one class graph.
//!
//! A class is the same across processes when its explicit name agrees, or
//! else its creation site and protected type. Bad input is an [`Error`]
//! naming the file (and line); the one thing tolerated with a warning is a
//! cut-short last line (a process killed mid-write).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The record format version this tool reads.
pub const RECORD_VERSION: u64 = 1;

/// Bad input: one line naming the file and, where known, the line.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A source location.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Site {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One frame of an edge's backtrace (user frames only, resolved).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Frame {
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// A lock class of the merged graph.
#[derive(Clone, Debug, Serialize)]
pub struct Class {
    /// `Mutex`, `RwLock`, `parking_lot::Mutex`, ...
    pub kind: String,
    /// Where its first lock was created (or first locked, for locks created
    /// inside std).
    pub site: Site,
    /// `type_name` of the protected data.
    #[serde(rename = "type")]
    pub data: String,
    /// The explicit class name (`with_class`), if any.
    pub name: Option<String>,
}

impl Class {
    /// How the text and the pictures name the class: its name, else its
    /// type and site.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} class {name:?}", self.kind),
            None => format!("{}<{}>", self.kind, short_type(&self.data)),
        }
    }
}

/// One process's taking of a class edge.
#[derive(Clone, Debug, Serialize)]
pub struct Take {
    /// The executable's path.
    pub exe: String,
    /// The record file it came from.
    pub record: String,
    /// The thread: libtest names a test's thread after the test.
    pub thread: String,
    pub from: Site,
    pub to: Site,
    pub backtrace: Vec<Frame>,
}

impl Take {
    /// The executable as cargo names its target: the file name without
    /// cargo's `-<16 hex digits>` suffix.
    pub fn target(&self) -> String {
        target_name(&self.exe)
    }
}

/// The merged class graph of every record in a directory.
#[derive(Debug, Default)]
pub struct Merged {
    pub classes: Vec<Class>,
    /// Class edges `(from, to)` with every process's take, in file order.
    pub edges: BTreeMap<(usize, usize), Vec<Take>>,
    /// Record files merged.
    pub files: usize,
    /// Tolerated problems, each naming its file.
    pub warnings: Vec<String>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone)]
enum Key {
    Named(String),
    Site(Site, String),
}

/// The files in `dir` with extension `ext`, sorted.
fn files_ending(dir: &Path, ext: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

/// The records a path names: a directory's `*.jsonl` files (sorted), or the
/// file itself. A missing path or a directory without records is an error
/// naming it.
fn record_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let metadata = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error(format!(
            "{}: no such directory or record file",
            path.display()
        )),
        _ => Error(format!("{}: cannot read: {e}", path.display())),
    })?;
    if metadata.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let paths = files_ending(path, "jsonl").map_err(|e| {
        Error(format!(
            "{}: cannot read the directory: {e}",
            path.display()
        ))
    })?;
    if paths.is_empty() {
        return Err(Error(format!(
            "{}: no lockgraph records (*.jsonl) in this directory; run the tests with \
             LOCKGRAPH_RECORD={} set, in a build with detection on",
            path.display(),
            path.display()
        )));
    }
    Ok(paths)
}

/// Reads and merges the records of every path (directories of records, or
/// record files) as one suite: the shards of a suite split across CI jobs.
pub fn merge_paths(paths: &[PathBuf]) -> Result<Merged, Error> {
    let mut merged = Merged::default();
    let mut keys: BTreeMap<Key, usize> = BTreeMap::new();
    for path in paths {
        let before = merged.files;
        let files = record_files(path)?;
        for file in &files {
            merge_file(file, &mut merged, &mut keys)?;
        }
        if merged.files == before {
            return Err(Error(format!(
                "{}: every record is truncated or empty ({})",
                path.display(),
                merged.warnings.join("; ")
            )));
        }
    }
    Ok(merged)
}

fn merge_file(
    path: &Path,
    merged: &mut Merged,
    keys: &mut BTreeMap<Key, usize>,
) -> Result<(), Error> {
    let name = path.display().to_string();
    let bytes = fs::read(path).map_err(|e| Error(format!("{name}: cannot read: {e}")))?;
    let text = String::from_utf8_lossy(&bytes);
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        merged.warnings.push(format!(
            "{name}: empty record (the process ended before writing it); skipped"
        ));
        return Ok(());
    }
    // This file's class numbers -> merged class indices.
    let mut local: BTreeMap<u64, usize> = BTreeMap::new();
    let mut exe = String::new();
    for (i, line) in lines.iter().enumerate() {
        let number = i + 1;
        let last = i + 1 == lines.len();
        let value: Value = match serde_json::from_str(line) {
            Ok(value) => value,
            Err(e) if last && (!complete || e.is_eof()) => {
                merged.warnings.push(format!(
                    "{name}:{number}: truncated last line (the process was killed while \
                     writing?); the rest of this record is merged"
                ));
                if i == 0 {
                    return Ok(());
                }
                break;
            }
            Err(e) => return Err(Error(format!("{name}:{number}: corrupt record: {e}"))),
        };
        let corrupt = |what: &str| Error(format!("{name}:{number}: corrupt record: {what}"));
        if i == 0 {
            if value.get("format").and_then(Value::as_str) != Some("lockgraph-record") {
                return Err(corrupt("the first line is not a lockgraph record header"));
            }
            let version = value.get("version").and_then(Value::as_u64);
            if version != Some(RECORD_VERSION) {
                return Err(Error(format!(
                    "{name}:{number}: record format version {} (this cargo-lockgraph reads \
                     version {RECORD_VERSION}): use the cargo-lockgraph of the same lockgraph \
                     release",
                    version.map_or("missing".to_owned(), |v| v.to_string())
                )));
            }
            exe = value
                .get("exe")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            continue;
        }
        if let Some(id) = value.get("class").and_then(Value::as_u64) {
            let site = site_of(&value).ok_or_else(|| corrupt("a class without its site"))?;
            let field = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
            let data = field("type").ok_or_else(|| corrupt("a class without its type"))?;
            let class = Class {
                kind: field("kind").unwrap_or_else(|| "lock".to_owned()),
                site: site.clone(),
                data: data.clone(),
                name: field("name"),
            };
            let key = match &class.name {
                Some(n) => Key::Named(n.clone()),
                None => Key::Site(site, data),
            };
            let index = *keys.entry(key).or_insert_with(|| {
                merged.classes.push(class);
                merged.classes.len() - 1
            });
            local.insert(id, index);
        } else if let Some(pair) = value.get("edge").and_then(Value::as_array) {
            let ids: Vec<u64> = pair.iter().filter_map(Value::as_u64).collect();
            let [from, to] = ids[..] else {
                return Err(corrupt("an edge is not a pair of class numbers"));
            };
            let (Some(&from), Some(&to)) = (local.get(&from), local.get(&to)) else {
                return Err(corrupt(
                    "an edge names a class this record has not described",
                ));
            };
            let site = |key: &str| value.get(key).and_then(site_of);
            let (Some(from_site), Some(to_site)) = (site("from"), site("to")) else {
                return Err(corrupt("an edge without both acquisition sites"));
            };
            if from == to {
                // Two explicit classes merged into one: same-class nesting.
                continue;
            }
            merged.edges.entry((from, to)).or_default().push(Take {
                exe: exe.clone(),
                record: name.clone(),
                thread: value
                    .get("thread")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                from: from_site,
                to: to_site,
                backtrace: Vec::new(),
            });
        } else if let Some(pair) = value.get("backtrace").and_then(Value::as_array) {
            // The backtrace of an edge written earlier in this file.
            let ids: Vec<u64> = pair.iter().filter_map(Value::as_u64).collect();
            let [from, to] = ids[..] else {
                return Err(corrupt("a backtrace is not for a pair of class numbers"));
            };
            let frames: Vec<Frame> = match value.get("frames") {
                Some(frames) => serde_json::from_value(frames.clone())
                    .map_err(|e| corrupt(&format!("bad backtrace frames: {e}")))?,
                None => Vec::new(),
            };
            if let (Some(&from), Some(&to)) = (local.get(&from), local.get(&to)) {
                if let Some(take) = merged
                    .edges
                    .get_mut(&(from, to))
                    .and_then(|takes| takes.iter_mut().rev().find(|t| t.record == name))
                {
                    take.backtrace = frames;
                }
            }
        } else {
            return Err(corrupt("neither a class, an edge nor a backtrace"));
        }
    }
    merged.files += 1;
    Ok(())
}

fn site_of(value: &Value) -> Option<Site> {
    Some(Site {
        file: value.get("file")?.as_str()?.to_owned(),
        line: u32::try_from(value.get("line")?.as_u64()?).ok()?,
        column: u32::try_from(value.get("column")?.as_u64()?).ok()?,
    })
}

/// A test binary's target name: `pool-0123456789abcdef` is `pool`.
pub fn target_name(exe: &str) -> String {
    let file = Path::new(exe)
        .file_name()
        .map_or_else(|| exe.to_owned(), |f| f.to_string_lossy().into_owned());
    match file.rsplit_once('-') {
        Some((stem, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            stem.to_owned()
        }
        _ => file,
    }
}

/// A type name without module paths: `alloc::vec::Vec<u32>` is `Vec<u32>`.
pub fn short_type(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut path = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            out.push_str(path.rsplit("::").next().unwrap_or(""));
            path.clear();
            out.push(c);
        }
    }
    out.push_str(path.rsplit("::").next().unwrap_or(""));
    out
}

/// The line that ends a process's `.reports` file when the process exits
/// normally (lockgraph's `record::EXITED`).
const EXITED: &str = "=== lockgraph: the process exited normally ===";
/// The line that starts each report there (`record::REPORT`).
const REPORT: &str = "=== lockgraph report ===";

/// The reports of the processes that raised some and then died before
/// exiting (an abort, a signal): libtest never printed them. Each with its
/// file, in file order.
pub fn orphaned_reports(dir: &Path) -> Vec<(PathBuf, Vec<String>)> {
    files_ending(dir, "reports")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|path| {
            let text = fs::read_to_string(&path).ok()?;
            if text.lines().any(|l| l == EXITED) {
                return None;
            }
            let reports: Vec<String> = text
                .split(&format!("{REPORT}\n"))
                .map(str::trim_end)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect();
            (!reports.is_empty()).then_some((path, reports))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_drop_cargos_hash() {
        assert_eq!(target_name("/t/debug/deps/pool-0123456789abcdef"), "pool");
        assert_eq!(target_name("/t/debug/examples/pool_conn"), "pool_conn");
        assert_eq!(target_name("a-b-xyz"), "a-b-xyz");
    }

    #[test]
    fn short_types_drop_paths() {
        assert_eq!(short_type("alloc::vec::Vec<u32>"), "Vec<u32>");
        assert_eq!(short_type("(a::B, &c::D)"), "(B, &D)");
    }
}
