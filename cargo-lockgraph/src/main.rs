//! `cargo lockgraph`: the lock order of a whole test suite.
//!
//! Every test process using lockgraph writes its lock-class graph to the
//! directory named by `LOCKGRAPH_RECORD`; this tool runs the tests with it
//! set, merges the records, and reports every cycle of lock classes across
//! the processes, in the text of lockgraph's reports, as JSON, as GitHub
//! annotations, or as a picture. See README.md.

mod check;
mod draw;
mod instrument;
mod records;
mod suppress;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use records::Error;
use suppress::Suppressions;

const USAGE: &str = "\
cargo lockgraph: the lock order of the whole test suite, recorded by lockgraph in every test process

usage:
    cargo lockgraph [options] test [--instrument CRATE[,CRATE...]] [cargo test arguments]
        run `cargo test` with recording into a fresh directory under target/lockgraph/,
        then check it; --instrument swaps the std locks of the named dependencies
        (from crates.io) for lockgraph's, in a copy under target/lockgraph/instrument/,
        for this run only (Cargo.toml and Cargo.lock are left as they were)
    cargo lockgraph [options] check <dir>
        merge the records in <dir> and report every cycle of lock classes
    cargo lockgraph [options] graph <dir> -o <file.dot|file.svg|file.html>
        draw the suite's lock hierarchy (cycle edges in red)

options:
    --format text|json   how `test` and `check` report (default text; json: see README.md)
    --github             also print GitHub Actions ::error annotations at each edge's site
    --allow <file>       accepted cycles (default: lockgraph.toml in the workspace root, if any)
    -h, --help           this text
    -V, --version        the version

exit status: 0 clean; 1 a cycle found (or a test failed); 2 bad input or usage";

/// What the command line asked for.
struct Options {
    json: bool,
    github: bool,
    allow: Option<PathBuf>,
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo lockgraph ...` runs `cargo-lockgraph lockgraph ...`.
    if args.first().map(String::as_str) == Some("lockgraph") {
        args.remove(0);
    }
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(Error(message)) => {
            eprintln!("cargo lockgraph: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn usage_error(message: &str) -> Error {
    Error(format!("{message} (see cargo lockgraph --help)"))
}

fn run(args: Vec<String>) -> Result<u8, Error> {
    let mut options = Options {
        json: false,
        github: false,
        allow: None,
    };
    let mut rest = args.into_iter();
    let verb = loop {
        let Some(arg) = rest.next() else {
            return Err(usage_error("no command: expected test, check or graph"));
        };
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(0);
            }
            "-V" | "--version" => {
                println!("cargo-lockgraph {}", env!("CARGO_PKG_VERSION"));
                return Ok(0);
            }
            "--github" => options.github = true,
            "--format" => match rest.next().as_deref() {
                Some("json") => options.json = true,
                Some("text") => options.json = false,
                other => {
                    return Err(usage_error(&format!(
                        "--format takes text or json, not {}",
                        other.unwrap_or("nothing")
                    )));
                }
            },
            "--allow" => match rest.next() {
                Some(path) => options.allow = Some(PathBuf::from(path)),
                None => return Err(usage_error("--allow takes a file")),
            },
            "test" | "check" | "graph" => break arg,
            other => return Err(usage_error(&format!("unknown argument {other:?}"))),
        }
    };
    let rest: Vec<String> = rest.collect();
    let root = workspace_root();
    match verb.as_str() {
        "test" => test(&options, &root, rest),
        "check" => {
            let [dir] = &rest[..] else {
                return Err(usage_error("check takes one directory"));
            };
            check(&options, &root, Path::new(dir))
        }
        _ => graph(&options, &root, rest),
    }
}

/// The workspace root (where lockgraph.toml lives), or the current
/// directory.
fn workspace_root() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let located = Command::new(cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output();
    match located {
        Ok(out) if out.status.success() => {
            let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            manifest
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."))
        }
        _ => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

fn suppressions(options: &Options, root: &Path) -> Result<(Suppressions, Option<PathBuf>), Error> {
    let path = match &options.allow {
        Some(path) => path.clone(),
        None => {
            let default = root.join("lockgraph.toml");
            if !default.exists() {
                return Ok((Suppressions::default(), None));
            }
            default
        }
    };
    Ok((Suppressions::load(&path)?, Some(path)))
}

/// `test`'s own options, taken out of the arguments before a `--`; the
/// rest goes to `cargo test`.
struct TestArgs {
    instrument: Vec<String>,
    cargo: Vec<String>,
}

fn test_args(args: Vec<String>) -> Result<TestArgs, Error> {
    let mut instrument = Vec::new();
    let mut cargo = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            cargo.push(arg);
            cargo.extend(args.by_ref());
            break;
        }
        if arg == "--instrument" {
            let Some(value) = args.next() else {
                return Err(usage_error("--instrument takes crate names"));
            };
            instrument.extend(instrument::parse_names(&value)?);
        } else if let Some(value) = arg.strip_prefix("--instrument=") {
            instrument.extend(instrument::parse_names(value)?);
        } else if arg == "--deps" {
            return Err(usage_error(
                "--deps (the lock_api shim that reaches parking_lot and dashmap locks) is not \
                 in this version yet; --instrument CRATE swaps a dependency's std locks",
            ));
        } else {
            cargo.push(arg);
        }
    }
    Ok(TestArgs { instrument, cargo })
}

fn test(options: &Options, root: &Path, args: Vec<String>) -> Result<u8, Error> {
    let TestArgs {
        instrument: names,
        cargo: args,
    } = test_args(args)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    // Before any patched cargo run: they rewrite Cargo.lock.
    let _lockfile = (!names.is_empty()).then(|| instrument::LockfileGuard::new(root));
    let mut crates = if names.is_empty() {
        Vec::new()
    } else {
        instrument::prepare(root, &target, &names)?
    };
    for c in &crates {
        eprintln!(
            "cargo lockgraph: instrumented {} {}: std locks swapped for lockgraph's in {} file{} ({})",
            c.name,
            c.version,
            c.files,
            if c.files == 1 { "" } else { "s" },
            c.dir.display()
        );
    }
    if !crates.is_empty() {
        instrument::check_used(root, &crates)?;
        crates = build_instrumented(root, &args, crates)?;
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let dir = target
        .join("lockgraph")
        .join(format!("run-{stamp}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error(format!("{}: cannot create: {e}", dir.display())))?;
    eprintln!(
        "cargo lockgraph: running `cargo test{}{}` with LOCKGRAPH_RECORD={}",
        if args.is_empty() { "" } else { " " },
        args.join(" "),
        dir.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(instrument::config_args(&crates))
        .arg("test")
        .args(&args)
        .env("LOCKGRAPH_RECORD", &dir)
        .status()
        .map_err(|e| Error(format!("cannot run cargo test: {e}")))?;
    let tests_failed = !status.success();
    let verdict = check(options, root, &dir)?;
    if tests_failed {
        eprintln!("cargo lockgraph: cargo test failed ({status})");
        return Ok(1);
    }
    Ok(verdict)
}

/// Builds the tests with the instrumented crates patched in; a crate that
/// no longer compiles with lockgraph's locks is named with its first error
/// and left out, and the build tried again without it.
fn build_instrumented(
    root: &Path,
    args: &[String],
    mut crates: Vec<instrument::Instrumented>,
) -> Result<Vec<instrument::Instrumented>, Error> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The arguments before a `--` are cargo's; the test binaries' own
    // arguments do not apply to a build.
    let build_args: Vec<&String> = args.iter().take_while(|a| *a != "--").collect();
    while !crates.is_empty() {
        let out = Command::new(&cargo)
            .args(instrument::config_args(&crates))
            .args(["test", "--no-run"])
            .args(&build_args)
            .current_dir(root)
            .output()
            .map_err(|e| Error(format!("cannot run cargo test --no-run: {e}")))?;
        if out.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let failed = crates.iter().position(|c| {
            stderr.contains(&format!("could not compile `{}`", c.name))
                && stderr.contains(&c.dir.display().to_string())
        });
        let Some(i) = failed else {
            // The user's own code fails to build: `cargo test` will say so.
            break;
        };
        let c = crates.remove(i);
        let dir = c.dir.display().to_string();
        let first = stderr
            .split("\nerror")
            .skip(1)
            .map(|e| format!("error{e}"))
            .find(|e| e.contains(&dir))
            .map(|e| e.lines().take(2).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "(see cargo test --no-run)".into());
        eprintln!(
            "cargo lockgraph: warning: {} {} does not compile with lockgraph's locks, so its \
             locks are not seen in this run: {}",
            c.name,
            c.version,
            first.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    Ok(crates)
}

fn check(options: &Options, root: &Path, dir: &Path) -> Result<u8, Error> {
    let (suppressions, allow_path) = suppressions(options, root)?;
    let merged = records::merge_dir(dir)?;
    for warning in &merged.warnings {
        eprintln!("cargo lockgraph: warning: {warning}");
    }
    let findings = check::find_cycles(&merged, &suppressions);
    for &i in &findings.unused {
        let entry = &suppressions.entries[i];
        eprintln!(
            "cargo lockgraph: warning: {}: [[allow]] entry {} (classes {:?}, reason {:?}) matches no cycle any more",
            allow_path
                .as_deref()
                .map_or("lockgraph.toml".into(), |p| p.display().to_string()),
            i + 1,
            entry.classes,
            entry.reason
        );
    }
    if options.json {
        let json = check::json(&merged, &findings, &suppressions);
        println!(
            "{}",
            serde_json::to_string_pretty(&json).expect("the JSON output serialises")
        );
    } else {
        for cycle in findings.cycles.iter().filter(|c| c.suppressed.is_none()) {
            println!("{}", check::cycle_text(&merged, cycle));
        }
        // Accepted cycles: one line per lockgraph.toml entry, with the first
        // cycle it accepted.
        for (i, entry) in suppressions.entries.iter().enumerate() {
            let accepted: Vec<&check::Cycle> = findings
                .cycles
                .iter()
                .filter(|c| c.suppressed.as_ref().is_some_and(|(j, _)| *j == i))
                .collect();
            let Some(first) = accepted.first() else {
                continue;
            };
            let chain: Vec<String> = first
                .classes
                .iter()
                .map(|&c| merged.classes[c].label())
                .collect();
            println!(
                "accepted ({}): {} cycle{}, e.g. {} -> {}",
                entry.reason,
                accepted.len(),
                if accepted.len() == 1 { "" } else { "s" },
                chain.join(" -> "),
                chain[0]
            );
        }
    }
    if options.github {
        for cycle in findings.cycles.iter().filter(|c| c.suppressed.is_none()) {
            for line in check::github_lines(&merged, cycle, root) {
                println!("{line}");
            }
        }
    }
    let failing = findings.failing();
    eprintln!(
        "cargo lockgraph: {} records, {} lock classes, {} class-order edges: {} cycle{}{}",
        merged.files,
        merged.classes.len(),
        merged.edges.len(),
        failing,
        if failing == 1 { "" } else { "s" },
        match findings.cycles.len() - failing {
            0 => String::new(),
            accepted => format!(" ({accepted} accepted in lockgraph.toml)"),
        }
    );
    Ok(if failing > 0 { 1 } else { 0 })
}

fn graph(options: &Options, root: &Path, args: Vec<String>) -> Result<u8, Error> {
    let mut dir = None;
    let mut output = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-o" | "--output" => output = args.next().map(PathBuf::from),
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            other => return Err(usage_error(&format!("unexpected argument {other:?}"))),
        }
    }
    let (Some(dir), Some(output)) = (dir, output) else {
        return Err(usage_error("graph takes a directory and -o <file>"));
    };
    let (suppressions, _) = suppressions(options, root)?;
    let merged = records::merge_dir(&dir)?;
    for warning in &merged.warnings {
        eprintln!("cargo lockgraph: warning: {warning}");
    }
    let findings = check::find_cycles(&merged, &suppressions);
    let title = format!("lock hierarchy of {}", dir.display());
    let text = match output.extension().and_then(|e| e.to_str()) {
        Some("dot") => draw::dot(&merged, &findings),
        Some("svg") => draw::svg(&merged, &findings, &title),
        Some("html") => draw::html(&merged, &findings, &title),
        _ => {
            return Err(usage_error(&format!(
                "{}: the output must end in .dot, .svg or .html",
                output.display()
            )));
        }
    };
    std::fs::write(&output, text)
        .map_err(|e| Error(format!("{}: cannot write: {e}", output.display())))?;
    eprintln!(
        "cargo lockgraph: wrote {} ({} classes, {} edges, {} cycles)",
        output.display(),
        merged.classes.len(),
        merged.edges.len(),
        findings.failing()
    );
    Ok(0)
}
