//! `cargo lockgraph test --instrument CRATE[,CRATE...]`: the std locks of
//! named dependencies, swapped for lockgraph's in a copy of their sources,
//! patched into the build for this run only.
//!
//! For each crate named: its package is found with `cargo metadata` (it
//! must come from crates.io), its sources are copied to
//! `<target>/lockgraph/instrument/NAME-VERSION/`, and in that copy every
//! `std::sync::` path in code (not comments) becomes `lockgraph::sync::` —
//! lockgraph's `Mutex`, `RwLock`, `Condvar`, `Once`... and std's other items,
//! so a crate's own `sync` facade module (`pub use std::sync::*;`) is swapped
//! with it. The copy depends on the same lockgraph as the workspace (or,
//! if the workspace has none, on the one this tool was built from) and is
//! patched in with `--config patch.crates-io.NAME.path=...`: the user's
//! `Cargo.toml` is never written, and `Cargo.lock`, which cargo rewrites for
//! a patched build, is put back byte for byte when the run ends.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::records::Error;

/// One dependency swapped to lockgraph's locks.
pub(crate) struct Instrumented {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) dir: PathBuf,
    /// Source files where a path was swapped.
    pub(crate) files: usize,
}

/// The crate names of `--instrument a,b --instrument c` (and `=` forms).
pub(crate) fn parse_names(value: &str) -> Result<Vec<String>, Error> {
    let names: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(Error(
            "--instrument takes crate names, as in --instrument dashmap,r2d2".into(),
        ));
    }
    Ok(names)
}

/// `cargo metadata` of the workspace at `root`, with `config` applied.
pub(crate) fn metadata(root: &Path, config: &[String]) -> Result<Value, Error> {
    let out = crate::cargo()
        .args(["metadata", "--format-version", "1"])
        .args(config)
        .current_dir(root)
        .output()
        .map_err(|e| Error(format!("cannot run cargo metadata: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_else(|| stderr.lines().next().unwrap_or("(no output)"));
        return Err(Error(format!(
            "cargo metadata failed, so no dependency can be instrumented: {first}"
        )));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| Error(format!("cargo metadata printed no JSON: {e}")))
}

/// The lockgraph an instrumented crate depends on: the workspace's own, if
/// its graph has one from a path, else the sources this tool was built from
/// (or `LOCKGRAPH_SOURCE`).
fn lockgraph_source(meta: &Value) -> Result<String, Error> {
    let packages = meta["packages"].as_array().into_iter().flatten();
    for package in packages {
        if package["name"] == "lockgraph" {
            if package["source"].is_null() {
                let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or(""));
                if let Some(dir) = manifest.parent() {
                    return Ok(format!("path = {}", toml_string(dir)));
                }
            } else if let Some(version) = package["version"].as_str() {
                return Ok(format!("version = \"={version}\""));
            }
        }
    }
    let dir = source_dir()?;
    Ok(format!("path = {}", toml_string(&dir)))
}

/// The lockgraph sources this tool was built from (or `LOCKGRAPH_SOURCE`).
pub(crate) fn source_dir() -> Result<PathBuf, Error> {
    let built_from = std::env::var_os("LOCKGRAPH_SOURCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    let manifest = built_from.join("Cargo.toml");
    let is_lockgraph =
        std::fs::read_to_string(&manifest).is_ok_and(|text| text.contains("name = \"lockgraph\""));
    if !is_lockgraph {
        return Err(Error(format!(
            "{} is not lockgraph's sources: set LOCKGRAPH_SOURCE to a checkout of lockgraph",
            built_from.display()
        )));
    }
    Ok(built_from.canonicalize().unwrap_or(built_from))
}

/// Whether the workspace's graph has a lockgraph of its own.
pub(crate) fn has_lockgraph(meta: &Value) -> bool {
    let resolved = resolved_ids(meta);
    meta["packages"].as_array().into_iter().flatten().any(|p| {
        p["name"] == "lockgraph" && p["id"].as_str().is_some_and(|id| resolved.contains(&id))
    })
}

pub(crate) fn toml_string(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

/// The ids of the packages in the resolved graph (not just the lockfile).
pub(crate) fn resolved_ids(meta: &Value) -> Vec<&str> {
    meta["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|node| node["id"].as_str())
        .collect()
}

/// Finds each named crate in the dependency graph and makes its
/// instrumented copy under `target`.
/// The copies depend on `lockgraph` (a TOML dependency body) if given,
/// else on the workspace's lockgraph or this tool's sources.
pub(crate) fn prepare(
    root: &Path,
    target: &Path,
    names: &[String],
    lockgraph: Option<&str>,
) -> Result<Vec<Instrumented>, Error> {
    let meta = metadata(root, &[])?;
    let lockgraph = match lockgraph {
        Some(dep) => dep.to_owned(),
        None => lockgraph_source(&meta)?,
    };
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let resolved = resolved_ids(&meta);
    let mut done = Vec::new();
    for name in names {
        let (name, wanted_version) = match name.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (name.as_str(), None),
        };
        let candidates: Vec<&Value> = meta["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["name"] == name)
            .filter(|p| p["id"].as_str().is_some_and(|id| resolved.contains(&id)))
            .filter(|p| wanted_version.is_none_or(|v| p["version"] == v))
            .collect();
        let package = match candidates[..] {
            [] => {
                return Err(Error(format!(
                    "--instrument {name}: no crate {name}{} in the dependency graph",
                    wanted_version.map_or(String::new(), |v| format!(" {v}"))
                )));
            }
            [one] => one,
            _ => {
                let versions: Vec<&str> = candidates
                    .iter()
                    .filter_map(|p| p["version"].as_str())
                    .collect();
                return Err(Error(format!(
                    "--instrument {name}: the graph has {} versions of it ({}): name one, as in \
                     --instrument {name}@{}",
                    versions.len(),
                    versions.join(", "),
                    versions[0]
                )));
            }
        };
        let id = package["id"].as_str().unwrap_or("");
        if members.contains(&id) {
            return Err(Error(format!(
                "--instrument {name}: {name} is a member of this workspace; swap its imports \
                 yourself (`use lockgraph::sync::...`)"
            )));
        }
        let source = package["source"].as_str().unwrap_or("");
        if !(source.starts_with("registry+https://github.com/rust-lang/crates.io-index")
            || source.starts_with("sparse+https://index.crates.io/"))
        {
            let what = if source.starts_with("git+") {
                "a git dependency"
            } else if source.is_empty() {
                "a path (or already patched) dependency"
            } else {
                "not from crates.io"
            };
            return Err(Error(format!(
                "--instrument {name}: {name} is {what} ({}); only crates.io dependencies can be \
                 instrumented",
                if source.is_empty() {
                    "no registry"
                } else {
                    source
                }
            )));
        }
        let version = package["version"].as_str().unwrap_or("").to_owned();
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or(""));
        let from = manifest
            .parent()
            .ok_or_else(|| Error(format!("--instrument {name}: no sources at {manifest:?}")))?;
        let dir = target
            .join("lockgraph")
            .join("instrument")
            .join(format!("{name}-{version}"));
        let files = copy_swapped(from, &dir, &lockgraph)
            .map_err(|e| Error(format!("--instrument {name}: {}: {e}", dir.display())))?;
        done.push(Instrumented {
            name: name.to_owned(),
            version,
            dir,
            files,
        });
    }
    Ok(done)
}

/// The `--config` arguments that patch the copies in.
pub(crate) fn config_args(crates: &[Instrumented]) -> Vec<String> {
    crates
        .iter()
        .flat_map(|c| {
            [
                "--config".to_owned(),
                format!(
                    "patch.crates-io.{}.path={}",
                    c.name,
                    toml_string(&c.dir.canonicalize().unwrap_or_else(|_| c.dir.clone()))
                ),
            ]
        })
        .collect()
}

/// Whether every copy is in the patched graph (cargo ignores a patch whose
/// version does not match, saying only "patch was not used").
pub(crate) fn check_used(
    root: &Path,
    crates: &[Instrumented],
    deps_config: &[String],
) -> Result<(), Error> {
    let mut config = deps_config.to_vec();
    config.extend(config_args(crates));
    let meta = metadata(root, &config)?;
    let resolved = resolved_ids(&meta);
    for c in crates {
        let dir = c.dir.canonicalize().unwrap_or_else(|_| c.dir.clone());
        let used = meta["packages"].as_array().into_iter().flatten().any(|p| {
            p["name"] == c.name.as_str()
                && p["id"].as_str().is_some_and(|id| resolved.contains(&id))
                && p["manifest_path"]
                    .as_str()
                    .is_some_and(|m| Path::new(m).starts_with(&dir))
        });
        if !used {
            return Err(Error(format!(
                "the patch of {} {} was not used: cargo kept the crates.io copy, so its locks \
                 would not be seen",
                c.name, c.version
            )));
        }
    }
    Ok(())
}

/// Copies the crate at `from` to `to` (fresh), swaps its std lock paths,
/// and adds the dependency on lockgraph (`lockgraph` is a TOML dependency
/// body: `path = ...` or `version = ...`). Returns how many files changed.
fn copy_swapped(from: &Path, to: &Path, lockgraph: &str) -> std::io::Result<usize> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    copy_dir(from, to)?;
    let mut files = 0;
    let src = to.join("src");
    for file in rust_files(&src)? {
        let text = std::fs::read_to_string(&file)?;
        let swapped = swap_paths(&text);
        if swapped != text {
            std::fs::write(&file, swapped)?;
            files += 1;
        }
    }
    let manifest = to.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest)?;
    let edition_2015 = !toml.lines().any(|l| l.trim_start().starts_with("edition"));
    toml.push_str(&format!(
        "\n# added by cargo lockgraph --instrument\n[dependencies.lockgraph]\n{lockgraph}\n\n[workspace]\n"
    ));
    std::fs::write(&manifest, toml)?;
    // The crate root: its warnings are not the user's, and a 2015-edition
    // crate needs the `extern crate`.
    for root in ["src/lib.rs", "src/main.rs"] {
        let path = to.join(root);
        if let Ok(text) = std::fs::read_to_string(&path) {
            let mut text = format!("#![allow(warnings)]\n{text}");
            if edition_2015 {
                text.push_str("\nextern crate lockgraph;\n");
            }
            std::fs::write(&path, text)?;
        }
    }
    Ok(files)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest)?;
            // Registry sources are read-only: the copy must be writable.
            let mut permissions = std::fs::metadata(&dest)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&dest, permissions)?;
        }
    }
    Ok(())
}

fn rust_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

/// The visibility (`pub(crate) `, or empty) of a line that is a glob import
/// of all of std: `use std::*;`, `pub(crate) use ::std::*;`.
fn glob_of_std(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    let (visibility, rest) = match trimmed.find("use ") {
        Some(at) => (&trimmed[..at], &trimmed[at + "use ".len()..]),
        None => return None,
    };
    let visible =
        visibility.is_empty() || (visibility.starts_with("pub") && visibility.ends_with(' '));
    let rest = rest.trim_start_matches("::");
    (visible && rest == "std::*;").then_some(visibility)
}

/// `std::sync::` → `lockgraph::sync::` (and `use std::sync;`) on every line
/// that is not a comment (doc examples use the crate as its users do), where
/// `std` starts a path (`::std::sync::` too).
pub(crate) fn swap_paths(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    // The attribute line before the current one (a `#[cfg(...)]`).
    let mut attribute: Option<&str> = None;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("//") {
            out.push_str(line);
            continue;
        }
        // A facade of all of std (`pub(crate) use std::*;`, as tracing-core's
        // `stdlib`): a `sync` module of lockgraph's beside the glob shadows
        // std's (an item beats a glob import), under the same attribute.
        if let Some(visibility) = glob_of_std(line) {
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push('\n');
            }
            if let Some(attribute) = attribute {
                out.push_str(attribute.trim_end());
                out.push('\n');
            }
            out.push_str(&format!(
                "{visibility}mod sync {{ pub use lockgraph::sync::*; }} // added by cargo lockgraph --instrument\n"
            ));
            attribute = None;
            continue;
        }
        let trimmed = line.trim();
        attribute = (trimmed.starts_with("#[") && trimmed.ends_with(']')).then_some(line);
        let mut rest = line;
        while let Some(at) = find_std_sync(rest) {
            out.push_str(&rest[..at]);
            out.push_str("lockgraph::sync");
            rest = &rest[at + "std::sync".len()..];
        }
        out.push_str(rest);
    }
    out
}

/// Where `std::sync` starts a path in `line`: followed by `::` or `;` (a
/// `use std::sync;`), and preceded by neither an identifier character nor
/// a path separator other than a leading `::`.
fn find_std_sync(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find("std::sync") {
        let at = from + i;
        let before = &line[..at];
        let after = &line[at + "std::sync".len()..];
        let starts_path = match before.strip_suffix("::") {
            // `::std::sync::`: the extern prelude's std.
            Some(b) => !b.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':'),
            None => !before.ends_with(|c: char| c.is_alphanumeric() || c == '_'),
        };
        let ends_path = after.starts_with("::") || after.trim_start().starts_with(';');
        if starts_path && ends_path {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Puts `Cargo.lock` back as it was when made (absent stays absent), when
/// dropped: the patched runs rewrite it.
pub(crate) struct LockfileGuard {
    path: PathBuf,
    before: Option<Vec<u8>>,
}

impl LockfileGuard {
    pub(crate) fn new(root: &Path) -> LockfileGuard {
        let path = root.join("Cargo.lock");
        let before = std::fs::read(&path).ok();
        LockfileGuard { path, before }
    }
}

impl Drop for LockfileGuard {
    fn drop(&mut self) {
        let restored = match &self.before {
            Some(bytes) => std::fs::write(&self.path, bytes),
            None => match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if let Err(e) = restored {
            eprintln!(
                "cargo lockgraph: error: could not restore {}: {e}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::swap_paths;

    #[test]
    fn swaps_std_sync_paths_in_code_only() {
        let text = "use std::sync::{Arc, Mutex};\n\
                    // std::sync::Mutex in a comment\n\
                    /// let m = std::sync::Mutex::new(0);\n\
                    use std::sync;\n\
                    let m = ::std::sync::Mutex::new(0);\n\
                    let n = mystd::sync::X; let o = core::std::sync::Y;\n\
                    pub use std::sync::*;\n";
        assert_eq!(
            swap_paths(text),
            "use lockgraph::sync::{Arc, Mutex};\n\
             // std::sync::Mutex in a comment\n\
             /// let m = std::sync::Mutex::new(0);\n\
             use lockgraph::sync;\n\
             let m = ::lockgraph::sync::Mutex::new(0);\n\
             let n = mystd::sync::X; let o = core::std::sync::Y;\n\
             pub use lockgraph::sync::*;\n"
        );
    }

    #[test]
    fn a_facade_of_all_of_std_gets_lockgraphs_sync_beside_it() {
        let text = "#[cfg(feature = \"std\")]\n\
                    pub(crate) use std::*;\n\
                    use crate::stdlib::sync::Mutex;\n";
        assert_eq!(
            swap_paths(text),
            "#[cfg(feature = \"std\")]\n\
             pub(crate) use std::*;\n\
             #[cfg(feature = \"std\")]\n\
             pub(crate) mod sync { pub use lockgraph::sync::*; } // added by cargo lockgraph --instrument\n\
             use crate::stdlib::sync::Mutex;\n"
        );
        assert_eq!(
            swap_paths("use ::std::*;\n"),
            "use ::std::*;\nmod sync { pub use lockgraph::sync::*; } // added by cargo lockgraph --instrument\n"
        );
        assert_eq!(swap_paths("use std::fmt::*;\n"), "use std::fmt::*;\n");
    }
}
