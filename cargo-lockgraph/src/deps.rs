//! `cargo lockgraph test --deps`: lockgraph's `lock_api` 0.4 shim patched
//! over `lock_api` for the whole dependency graph, for this run only, so
//! that parking_lot's locks, dashmap's shards and every other `lock_api`
//! lock in the tree are checked.
//!
//! The shim depends on lockgraph, and lockgraph itself locks with
//! parking_lot, which depends on `lock_api`: patched as is, the graph would
//! be a cycle, and the detector would watch its own locks. So lockgraph is
//! built from a copy whose parking_lot (its lock engine) is a vendored copy
//! depending on a vendored copy of the real `lock_api`, renamed
//! (`lockgraph-engine-*`) so that neither the patch nor the user's graph
//! ever meets them. Everything lives under `<target>/lockgraph/deps/`; the
//! patch is given with `--config`, so the user's `Cargo.toml` is never
//! written, and `Cargo.lock` is put back as it was when the run ends
//! ([`crate::instrument::LockfileGuard`]).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::instrument::{metadata, resolved_ids, toml_string};
use crate::records::Error;

/// The version of `lock_api` the shim stands in for: the newest 0.4.
pub(crate) const LOCK_API_VERSION: &str = "0.4.14";

/// lockgraph (the copy the shim links, and the workspace's own if it has
/// one) and the crates it symbolizes backtraces with, all in the graph
/// whenever the shim is.
const DETECTOR_PACKAGES: [&str; 8] = [
    COPY_PACKAGE,
    "lockgraph",
    "backtrace",
    "addr2line",
    "gimli",
    "object",
    "miniz_oxide",
    "petgraph",
];

/// The prepared patch.
pub(crate) struct Deps {
    /// The shim's copy, patched in as `lock_api`.
    pub(crate) shim: PathBuf,
    /// The copy of lockgraph the shim links (a TOML dependency body), which
    /// `--instrument`ed crates must use too: one detector per process.
    pub(crate) lockgraph: String,
    /// The crates of the graph that depend on `lock_api` (`name version`).
    pub(crate) users: Vec<String>,
    /// The lock_api 0.4 versions the workspace's graph resolved to before.
    pub(crate) locked: Vec<String>,
    /// Whether the workspace's graph has a lockgraph of its own.
    pub(crate) own_lockgraph: bool,
}

impl Deps {
    /// The `--config` arguments that patch the shim in, and build the
    /// detector and its backtrace symbolizer optimised and without debug
    /// information (as `[profile.dev.package.NAME]` would): every test
    /// binary and doc test links them, and their own frames never show in
    /// a report. `debug_assertions`, which keeps detection on, is left as
    /// the profile has it.
    pub(crate) fn config_args(&self) -> Vec<String> {
        let mut args = vec![
            "--config".to_owned(),
            format!("patch.crates-io.lock_api.path={}", toml_string(&self.shim)),
        ];
        for package in DETECTOR_PACKAGES {
            for setting in ["debug=false", "opt-level=2"] {
                args.push("--config".into());
                args.push(format!("profile.dev.package.{package}.{setting}"));
            }
        }
        args
    }
}

/// Makes the copies under `<target>/lockgraph/deps/` for the workspace at
/// `root`, whose lockgraph sources are at `source`.
pub(crate) fn prepare(root: &Path, target: &Path, source: &Path) -> Result<Deps, Error> {
    refuse_own_patch(root)?;
    let meta = metadata(root, &[])?;
    let resolved = resolved_ids(&meta);
    let mut users = Vec::new();
    let mut locked = Vec::new();
    let mut found = false;
    for package in meta["packages"].as_array().into_iter().flatten() {
        let Some(id) = package["id"].as_str() else {
            continue;
        };
        if !resolved.contains(&id) {
            continue;
        }
        if package["name"] == "lock_api" {
            let version = package["version"].as_str().unwrap_or("");
            if !version.starts_with("0.4.") {
                continue;
            }
            found = true;
            locked.push(version.to_owned());
            let source = package["source"].as_str().unwrap_or("");
            if !is_crates_io(source) {
                return Err(Error(format!(
                    "--deps: lock_api {version} in this graph does not come from crates.io \
                     ({}), so it cannot be patched",
                    if source.is_empty() {
                        "a path dependency"
                    } else {
                        source
                    }
                )));
            }
        }
        let uses_lock_api = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["name"] == "lock_api" && d["kind"].is_null());
        if uses_lock_api {
            users.push(format!(
                "{} {}",
                package["name"].as_str().unwrap_or("?"),
                package["version"].as_str().unwrap_or("?")
            ));
        }
    }
    if !found {
        return Err(Error(
            "--deps: no crate in this dependency graph uses lock_api 0.4 (parking_lot, dashmap \
             ...), so there is nothing to patch; --instrument CRATE swaps a dependency's std locks"
                .into(),
        ));
    }
    users.sort();
    users.dedup();
    let dir = target.join("lockgraph").join("deps");
    let lockgraph_dir = dir.join("lockgraph");
    let prepared = (|| -> Result<(), String> {
        let engine = vendor_engine(&meta, source, &dir)?;
        copy_lockgraph(source, &lockgraph_dir, &engine)?;
        copy_shim(source, &dir.join("lock_api"), &lockgraph_dir)
    })();
    prepared.map_err(|e| Error(format!("--deps: {e}")))?;
    let canonical = |p: PathBuf| p.canonicalize().unwrap_or(p);
    let lockgraph_dir = canonical(lockgraph_dir);
    Ok(Deps {
        shim: canonical(dir.join("lock_api")),
        lockgraph: format!(
            "package = \"{COPY_PACKAGE}\"\npath = {}\ndefault-features = false",
            toml_string(&lockgraph_dir)
        ),
        users,
        locked,
        own_lockgraph: crate::instrument::has_lockgraph(&meta),
    })
}

fn is_crates_io(source: &str) -> bool {
    source.starts_with("registry+https://github.com/rust-lang/crates.io-index")
        || source.starts_with("sparse+https://index.crates.io/")
}

/// A workspace that patches `lock_api` itself would meet two patches.
fn refuse_own_patch(root: &Path) -> Result<(), Error> {
    let manifest = root.join("Cargo.toml");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        return Ok(());
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let patches = value.get("patch").and_then(toml::Value::as_table);
    let own = patches.into_iter().flat_map(|p| p.values()).any(|source| {
        source
            .as_table()
            .is_some_and(|crates| crates.contains_key("lock_api"))
    });
    if own {
        return Err(Error(format!(
            "--deps: {} patches lock_api itself ([patch]), and cargo takes one patch per crate; \
             remove that patch for the run or drop --deps",
            manifest.display()
        )));
    }
    Ok(())
}

fn read_manifest(dir: &Path) -> Result<toml::Table, String> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.parse::<toml::Table>()
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn write_manifest(dir: &Path, manifest: &toml::Table) -> Result<(), String> {
    let text = format!(
        "# written by cargo lockgraph test --deps\n{}",
        toml::to_string(manifest).map_err(|e| e.to_string())?
    );
    write_if_changed(&dir.join("Cargo.toml"), text.as_bytes())
}

/// Copies the directories listed from `from` to `to` (the manifest is
/// rewritten by the caller), writing only the files whose contents
/// changed: a second run finds the copies as the last one left them, and
/// cargo rebuilds nothing.
fn copy_crate(from: &Path, to: &Path, dirs: &[&str]) -> Result<(), String> {
    // A build script (lock_api before 0.4.13 finds its `const fn`s so).
    if from.join("build.rs").is_file() {
        sync_file(&from.join("build.rs"), &to.join("build.rs"))?;
    }
    for dir in dirs {
        if from.join(dir).is_dir() {
            sync_dir(&from.join(dir), &to.join(dir))?;
        }
    }
    Ok(())
}

fn sync_dir(from: &Path, to: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let path = entry.path();
        if path.is_dir() {
            sync_dir(&path, &to.join(entry.file_name()))?;
        } else {
            sync_file(&path, &to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn sync_file(from: &Path, to: &Path) -> Result<(), String> {
    let bytes = std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    write_if_changed(to, &bytes)
}

/// Writes `bytes` to `path` unless it holds them already (a fresh file is
/// writable, whatever the registry's copy was).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    // Replaced, not written through: a registry file copied before may be
    // read-only.
    let _ = std::fs::remove_file(path);
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// A manifest as a dependency of others: no workspace, dev-dependencies,
/// benches, examples, tests or lints of its own, and its own workspace root
/// (it lives under the user's target directory).
fn as_dependency(manifest: &mut toml::Table) {
    for key in [
        "dev-dependencies",
        "bench",
        "example",
        "test",
        "lints",
        "workspace",
        "badges",
    ] {
        manifest.remove(key);
    }
    if let Some(package) = manifest
        .get_mut("package")
        .and_then(toml::Value::as_table_mut)
    {
        for key in [
            "readme",
            "workspace",
            "autobenches",
            "autoexamples",
            "autotests",
        ] {
            package.remove(key);
        }
        package.insert("publish".into(), false.into());
        package.insert("autobenches".into(), false.into());
        package.insert("autoexamples".into(), false.into());
        package.insert("autotests".into(), false.into());
    }
    manifest.insert("workspace".into(), toml::Table::new().into());
}

/// The directory of the package named `name` from crates.io, at a version
/// starting with `version` (`0.12.`), in `meta`'s resolved graph.
fn registry_package(meta: &Value, name: &str, version: &str) -> Option<PathBuf> {
    let resolved = resolved_ids(meta);
    meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["id"].as_str().is_some_and(|id| resolved.contains(&id)))
        .find(|p| {
            p["name"] == name
                && p["version"]
                    .as_str()
                    .is_some_and(|v| v.starts_with(version))
                && p["source"].as_str().is_some_and(is_crates_io)
        })
        .and_then(|p| p["manifest_path"].as_str())
        .and_then(|m| Path::new(m).parent().map(Path::to_path_buf))
}

/// Replaces dependency `key` of `manifest` with the path dependency on the
/// vendored `package` at `path`, keeping the features it asked for.
fn vendored(
    manifest: &mut toml::Table,
    key: &str,
    package: &str,
    path: &Path,
) -> Result<(), String> {
    let deps = manifest
        .get_mut("dependencies")
        .and_then(toml::Value::as_table_mut)
        .ok_or_else(|| format!("no [dependencies] where {key} was expected"))?;
    let mut dep = toml::Table::new();
    dep.insert("package".into(), package.into());
    dep.insert("path".into(), path.display().to_string().into());
    if let Some(features) = deps.get(key).and_then(|d| d.get("features")) {
        dep.insert("features".into(), features.clone());
    }
    deps.insert(key.into(), dep.into());
    Ok(())
}

/// Vendors lockgraph's lock engine, parking_lot 0.12 and the real lock_api
/// (renamed), into `dir`; returns where parking_lot went. The versions are
/// the user's graph's (`user`), where it has them: the engine shares
/// parking_lot_core and scopeguard with the user's parking_lot, and cargo
/// keeps one version of each in a lockfile. Else lockgraph's own.
fn vendor_engine(user: &Value, source: &Path, dir: &Path) -> Result<PathBuf, String> {
    let mut own = None;
    // lockgraph's own graph takes a second to resolve: where it was asked
    // before, its answer is remembered beside the copies.
    let remembered = dir.join("engine-sources.txt");
    let mut find = |name: &str, version: &str, floor: u64| -> Result<PathBuf, String> {
        if let Some(found) = registry_package(user, name, version)
            .filter(|dir| patch_of(dir).is_some_and(|patch| patch >= floor))
        {
            return Ok(found);
        }
        let key = format!("{name} {version} ");
        let known = std::fs::read_to_string(&remembered).unwrap_or_default();
        let cached = known
            .lines()
            .find_map(|line| line.strip_prefix(&key))
            .map(PathBuf::from)
            .filter(|dir| dir.join("Cargo.toml").is_file());
        if let Some(dir) = cached {
            return Ok(dir);
        }
        if own.is_none() {
            own = Some(metadata(source, &[]).map_err(|Error(e)| e)?);
        }
        let found =
            registry_package(own.as_ref().expect("just set"), name, version).ok_or_else(|| {
                format!("lockgraph's dependency {name} {version}x is not in its graph")
            })?;
        let line = format!("{key}{}\n", found.display());
        write_if_changed(&remembered, format!("{known}{line}").as_bytes())?;
        Ok(found)
    };
    let users_parking_lot = registry_package(user, "parking_lot", "0.12.").is_some();
    let parking_lot = find("parking_lot", "0.12.", 0)?;
    // lockgraph's floor for lock_api (its Cargo.toml): an older one in the
    // user's graph gives way to lockgraph's own.
    let lock_api = find("lock_api", "0.4.", 12)?;
    let engine_lock_api = dir.join("engine-lock_api");
    let engine_parking_lot = dir.join("engine-parking_lot");

    copy_crate(&lock_api, &engine_lock_api, &["src"])?;
    let mut manifest = read_manifest(&lock_api)?;
    as_dependency(&mut manifest);
    rename(&mut manifest, "lockgraph-engine-lock-api", "lock_api");
    write_manifest(&engine_lock_api, &manifest)?;

    copy_crate(&parking_lot, &engine_parking_lot, &["src"])?;
    let mut manifest = read_manifest(&parking_lot)?;
    as_dependency(&mut manifest);
    rename(&mut manifest, "lockgraph-engine-parking-lot", "parking_lot");
    vendored(
        &mut manifest,
        "lock_api",
        "lockgraph-engine-lock-api",
        &engine_lock_api,
    )?;
    if !users_parking_lot {
        // lockgraph's own parking_lot asks for a recent parking_lot_core
        // 0.9, which the user's lockfile (through dashmap, say) may pin
        // older: any 0.9 will do for the engine.
        relax(&mut manifest, "parking_lot_core", "0.9");
    }
    write_manifest(&engine_parking_lot, &manifest)?;
    Ok(engine_parking_lot)
}

/// The patch number of a crate unpacked at `dir` (`lock_api-0.4.12`: 12).
fn patch_of(dir: &Path) -> Option<u64> {
    let name = dir.file_name()?.to_str()?;
    name.rsplit('.').next()?.parse().ok()
}

/// The copy's package name: a workspace that names lockgraph itself has a
/// `lockgraph` 0.1.0 of its own, and cargo writes one package per name and
/// version in a lockfile. Its library keeps the name `lockgraph`.
const COPY_PACKAGE: &str = "lockgraph-under-deps";

/// lockgraph's sources as a dependency, locking with the vendored engine.
fn copy_lockgraph(source: &Path, to: &Path, engine: &Path) -> Result<(), String> {
    copy_crate(source, to, &["src"])?;
    let mut manifest = read_manifest(source)?;
    as_dependency(&mut manifest);
    rename(&mut manifest, COPY_PACKAGE, "lockgraph");
    vendored(
        &mut manifest,
        "parking_lot",
        "lockgraph-engine-parking-lot",
        engine,
    )?;
    // lockgraph's floor on lock_api: the engine's, not the shim.
    if manifest
        .get("dependencies")
        .and_then(|deps| deps.get("lock_api"))
        .is_some()
    {
        let engine_lock_api = engine.with_file_name("engine-lock_api");
        vendored(
            &mut manifest,
            "lock_api",
            "lockgraph-engine-lock-api",
            &engine_lock_api,
        )?;
    }
    // Not its loom models: cargo would resolve loom (never built outside
    // `--cfg loom`) into the user's graph, where a crate may pin another
    // loom. The cfg stays known to the lints.
    manifest.remove("target");
    let lints: toml::Table =
        "[rust]\nunexpected_cfgs = { level = \"warn\", check-cfg = ['cfg(loom)'] }"
            .parse()
            .expect("the lints table parses");
    manifest.insert("lints".into(), lints.into());
    write_manifest(to, &manifest)
}

/// Sets the version requirement of dependency `key` to `version`.
fn relax(manifest: &mut toml::Table, key: &str, version: &str) {
    let dep = manifest
        .get_mut("dependencies")
        .and_then(toml::Value::as_table_mut)
        .and_then(|deps| deps.get_mut(key));
    match dep {
        Some(toml::Value::Table(table)) => {
            table.insert("version".into(), version.into());
        }
        Some(other) => *other = version.into(),
        None => {}
    }
}

/// Renames a vendored package; its library keeps its name (`lib`), so its
/// own sources and doc examples read as before.
fn rename(manifest: &mut toml::Table, package: &str, lib: &str) {
    if let Some(p) = manifest
        .get_mut("package")
        .and_then(toml::Value::as_table_mut)
    {
        p.insert("name".into(), package.into());
    }
    let lib_table = manifest
        .entry("lib")
        .or_insert_with(|| toml::Table::new().into());
    if let Some(t) = lib_table.as_table_mut() {
        t.insert("name".into(), lib.into());
    }
}

/// The shim, depending on the copy of lockgraph at `lockgraph`.
fn copy_shim(source: &Path, to: &Path, lockgraph: &Path) -> Result<(), String> {
    let shim = source.join("shim").join("lock_api");
    if !shim.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} is not lockgraph's lock_api shim: set LOCKGRAPH_SOURCE to a checkout of lockgraph",
            shim.display()
        ));
    }
    copy_crate(&shim, to, &["src"])?;
    let mut manifest = read_manifest(&shim)?;
    as_dependency(&mut manifest);
    // lock_api 0.4.14's own edition and rust-version (the sources build
    // with either edition): cargo's MSRV-aware resolver passes over a patch
    // that declares a newer rust-version than the user's crate, and picks
    // an older lock_api from crates.io instead.
    if let Some(package) = manifest
        .get_mut("package")
        .and_then(toml::Value::as_table_mut)
    {
        package.insert("edition".into(), "2021".into());
        package.insert("rust-version".into(), "1.71".into());
    }
    let deps = manifest
        .get_mut("dependencies")
        .and_then(toml::Value::as_table_mut)
        .ok_or("the shim's manifest has no dependencies")?;
    let mut dep = toml::Table::new();
    dep.insert("package".into(), COPY_PACKAGE.into());
    dep.insert("path".into(), lockgraph.display().to_string().into());
    dep.insert("default-features".into(), false.into());
    deps.insert("lockgraph".into(), dep.into());
    write_manifest(to, &manifest)
}

/// Points the workspace's lockfile at the shim: cargo keeps a locked
/// lock_api older than the patch (and ignores the patch) until told to
/// update it. The lockfile is put back when the run ends.
pub(crate) fn update_lockfile(root: &Path, deps: &Deps, config: &[String]) -> Result<(), Error> {
    for version in &deps.locked {
        if version == LOCK_API_VERSION {
            continue;
        }
        let out = crate::cargo()
            .args(config)
            .args(["update", "--quiet", "--package"])
            .arg(format!("lock_api@{version}"))
            .current_dir(root)
            .output()
            .map_err(|e| Error(format!("cannot run cargo update: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let first = stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("");
            return Err(Error(format!(
                "--deps: cargo update could not move lock_api {version} to the shim: {first}"
            )));
        }
    }
    Ok(())
}

/// Whether the shim is in the patched graph (cargo ignores a patch it
/// cannot use, saying only "patch was not used").
pub(crate) fn check_used(root: &Path, deps: &Deps, config: &[String]) -> Result<(), Error> {
    let meta = metadata(root, config)?;
    let resolved = resolved_ids(&meta);
    let used = meta["packages"].as_array().into_iter().flatten().any(|p| {
        p["name"] == "lock_api"
            && p["id"].as_str().is_some_and(|id| resolved.contains(&id))
            && p["manifest_path"]
                .as_str()
                .is_some_and(|m| Path::new(m).starts_with(&deps.shim))
    });
    let crates_io = meta["packages"].as_array().into_iter().flatten().any(|p| {
        p["name"] == "lock_api"
            && p["id"].as_str().is_some_and(|id| resolved.contains(&id))
            && p["version"].as_str().is_some_and(|v| v.starts_with("0.4."))
            && p["source"].as_str().is_some_and(is_crates_io)
    });
    if !used || crates_io {
        return Err(Error(format!(
            "--deps: the lock_api {LOCK_API_VERSION} patch was not used: cargo kept crates.io's \
             lock_api, so the dependencies' locks would not be seen (is a lock_api newer than \
             {LOCK_API_VERSION} pinned?)"
        )));
    }
    Ok(())
}
