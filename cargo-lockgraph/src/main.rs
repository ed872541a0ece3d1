//! `cargo lockgraph`: the lock order of a whole test suite.
//!
//! Every test process using lockgraph writes its lock-class graph to the
//! directory named by `LOCKGRAPH_RECORD`; this tool runs the tests with it
//! set, merges the records, and reports every cycle of lock classes across
//! the processes, in the text of lockgraph's reports, as JSON, as GitHub
//! annotations, or as a picture. See README.md.

mod check;
mod deps;
mod draw;
mod instrument;
#[path = "../../src/report/paths.rs"]
mod paths;
mod records;
mod sarif;
mod suppress;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand, ValueEnum};

use records::Error;
use suppress::Suppressions;

/// What `test` and `check` print the findings as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// lockgraph's report text.
    Text,
    /// The documented JSON schema (cargo-lockgraph/README.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other CI dashboards.
    Sarif,
}

/// The options every command takes, before or after the command's name.
#[derive(Args, Debug, Clone)]
struct Options {
    /// How `test` and `check` report: text, json or sarif
    #[arg(long, value_enum, global = true, value_name = "FORMAT")]
    format: Option<Format>,
    /// Also print GitHub Actions ::error annotations at each edge's site
    #[arg(long, global = true)]
    github: bool,
    /// Accepted cycles (default: lockgraph.toml in the workspace root, if any)
    #[arg(long, global = true, value_name = "FILE")]
    allow: Option<PathBuf>,
}

impl Options {
    fn format(&self) -> Format {
        self.format.unwrap_or(Format::Text)
    }
}

/// cargo lockgraph: the lock order of the whole test suite, recorded by
/// lockgraph in every test process.
///
/// Exit status: 0 clean; 1 a cycle found (or a test failed); 2 bad input
/// or usage.
#[derive(Parser, Debug)]
#[command(
    name = "cargo-lockgraph",
    bin_name = "cargo lockgraph",
    version,
    propagate_version = true,
    after_help = "Examples:\n  cargo lockgraph test --workspace\n  cargo lockgraph test --format sarif -o lockgraph.sarif\n  cargo lockgraph check target/lockgraph/run-1 target/lockgraph/run-2\n  cargo lockgraph graph target/lockgraph/run-1 -o locks.html"
)]
struct Cli {
    #[command(flatten)]
    options: Options,
    #[command(subcommand)]
    command: Verb,
}

/// `test`'s and `nextest`'s own options; everything else goes to the test
/// runner (options first, then cargo's; after `--`, the test binaries').
#[derive(Args, Debug)]
struct RunArgs {
    /// Swap the std locks of these crates.io dependencies for lockgraph's,
    /// in a copy under target/lockgraph/instrument/, for this run only
    #[arg(long, value_name = "CRATE[,CRATE...]")]
    instrument: Vec<String>,
    /// Patch lockgraph's lock_api shim over lock_api for the whole graph, for
    /// this run only: parking_lot's locks, dashmap's shards and every other
    /// lock_api lock in the dependencies are checked
    #[arg(long)]
    deps: bool,
    /// The watchdog's threshold in the test processes: a thread blocked this
    /// long (on a lock, a join, a channel...) is reported with what it waits
    /// for, and a deadlock fails its test instead of hanging; `off` turns it
    /// off. Default 10 (seconds), unless LOCKGRAPH_WATCHDOG is set
    #[arg(long, value_name = "SECS|off")]
    watchdog: Option<String>,
    /// Write the findings (in --format) to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Arguments for the test runner
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    runner: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Verb {
    /// Run `cargo test` with recording into a fresh directory under
    /// target/lockgraph/, then check it
    #[command(
        after_help = "Examples:\n  cargo lockgraph test --workspace\n  cargo lockgraph test --format sarif -o lockgraph.sarif --workspace\n  cargo lockgraph test --deps\n  cargo lockgraph test --instrument crossbeam-utils -- --nocapture\n  cargo lockgraph test --watchdog off"
    )]
    Test(RunArgs),
    /// Run `cargo nextest run` (each test its own process) with recording,
    /// then check it
    #[command(
        after_help = "Examples:\n  cargo lockgraph nextest --workspace\n  cargo lockgraph nextest --format sarif -o lockgraph.sarif --partition count:1/4"
    )]
    Nextest(RunArgs),
    /// Merge the records in DIRs (and record FILEs) as one suite and report
    /// every cycle of lock classes
    #[command(
        after_help = "Examples:\n  cargo lockgraph check target/lockgraph/run-1\n  cargo lockgraph check shard-1/ shard-2/ --format sarif -o lockgraph.sarif"
    )]
    Check {
        /// Record directories or files (several are merged)
        #[arg(required = true, value_name = "RECORDS")]
        records: Vec<PathBuf>,
        /// Write the findings (in --format) to FILE instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Draw the suite's lock hierarchy (cycle edges in red)
    #[command(
        after_help = "Examples:\n  cargo lockgraph graph target/lockgraph/run-1 -o locks.html\n  cargo lockgraph graph shard-1/ shard-2/ -o locks.dot"
    )]
    Graph {
        /// Record directories or files (several are merged)
        #[arg(required = true, value_name = "RECORDS")]
        records: Vec<PathBuf>,
        /// The picture: .dot, .svg or .html
        #[arg(short, long, required = true, value_name = "FILE")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    // `cargo lockgraph ...` runs `cargo-lockgraph lockgraph ...`.
    if args.get(1).map(String::as_str) == Some("lockgraph") {
        args.remove(1);
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

/// clap's error as one line (its first), naming the bad argument.
fn clap_error(error: &clap::Error) -> Error {
    let rendered = error.render().to_string();
    // The first paragraph: the message, and what it lists (the missing
    // arguments, say), on one line.
    let paragraph: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let joined = paragraph.join(" ");
    let first = if joined.is_empty() {
        "bad arguments"
    } else {
        joined.as_str()
    };
    let first = first.strip_prefix("error: ").unwrap_or(first);
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        || error.kind() == ErrorKind::MissingSubcommand
    {
        return usage_error("no command: expected test, nextest, check or graph");
    }
    usage_error(first)
}

fn run(mut args: Vec<String>) -> Result<u8, Error> {
    // What follows a `--` is the test binaries': kept apart from clap, so
    // that `test -- --nocapture` reaches them as `cargo test -- --nocapture`.
    let binaries: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--")
        .map(|at| args.split_off(at).into_iter().skip(1).collect());
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                print!("{}", error.render());
                return Ok(0);
            }
            _ => return Err(clap_error(&error)),
        },
    };
    let options = cli.options;
    let root = workspace_root();
    match cli.command {
        Verb::Test(run) => test(&options, &root, Runner::Cargo, run, binaries),
        Verb::Nextest(run) => test(&options, &root, Runner::Nextest, run, binaries),
        Verb::Check { records, output } => {
            if binaries.is_some() {
                return Err(usage_error("check takes no `--`"));
            }
            check(&options, &root, &records, output.as_deref())
        }
        Verb::Graph { records, output } => graph(&options, &root, &records, &output),
    }
}

/// A `cargo` command: the cargo that runs this subcommand (`CARGO`), else
/// the one on the path.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The workspace root (where lockgraph.toml lives), or the current
/// directory.
fn workspace_root() -> PathBuf {
    let located = cargo()
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

/// The test runner of `test` and `nextest`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runner {
    Cargo,
    Nextest,
}

impl Runner {
    /// The cargo subcommand's words.
    fn words(self) -> &'static [&'static str] {
        match self {
            Runner::Cargo => &["test"],
            Runner::Nextest => &["nextest", "run"],
        }
    }
}

/// lockgraph's own options among the test runner's arguments (`test
/// --workspace --format sarif`: clap hands everything after the first
/// argument it does not know to the runner). cargo has none of these names;
/// the test binaries' own `--format` comes after `--`, which never reaches
/// here.
fn own_options(options: &mut Options, run: &mut RunArgs) -> Result<(), Error> {
    let mut rest = Vec::new();
    let mut args = std::mem::take(&mut run.runner).into_iter();
    let value =
        |name: &str, inline: Option<&str>, args: &mut std::vec::IntoIter<String>| match inline {
            Some(v) => Ok(v.to_owned()),
            None => args.next().ok_or_else(|| {
                usage_error(&format!(
                    "a value is required for '{name}' but none was supplied"
                ))
            }),
        };
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        match name.as_str() {
            "--format" => {
                if options.format.is_some() {
                    return Err(usage_error(
                        "the argument '--format <FORMAT>' cannot be used multiple times",
                    ));
                }
                let v = value("--format", inline.as_deref(), &mut args)?;
                options.format = Some(Format::from_str(&v, false).map_err(|_| {
                    usage_error(&format!(
                        "invalid value '{v}' for '--format <FORMAT>' (text, json or sarif)"
                    ))
                })?);
            }
            "--github" if inline.is_none() => options.github = true,
            "--allow" => {
                options.allow = Some(value("--allow", inline.as_deref(), &mut args)?.into())
            }
            "-o" | "--output" => {
                run.output = Some(value("--output", inline.as_deref(), &mut args)?.into())
            }
            "--instrument" => {
                run.instrument
                    .push(value("--instrument", inline.as_deref(), &mut args)?)
            }
            "--deps" if inline.is_none() => run.deps = true,
            "--watchdog" => run.watchdog = Some(value("--watchdog", inline.as_deref(), &mut args)?),
            _ => rest.push(arg),
        }
    }
    run.runner = rest;
    Ok(())
}

fn test(
    options: &Options,
    root: &Path,
    runner: Runner,
    mut run: RunArgs,
    binaries: Option<Vec<String>>,
) -> Result<u8, Error> {
    let mut options = options.clone();
    own_options(&mut options, &mut run)?;
    let options = &options;
    let watchdog = watchdog_setting(run.watchdog.as_deref())?;
    let mut names = Vec::new();
    for value in &run.instrument {
        names.extend(instrument::parse_names(value)?);
    }
    let mut args = run.runner;
    if let Some(binaries) = binaries {
        args.push("--".into());
        args.extend(binaries);
    }
    if runner == Runner::Nextest {
        let found = cargo()
            .args(["nextest", "--version"])
            .output()
            .is_ok_and(|out| out.status.success());
        if !found {
            return Err(Error(
                "cargo-nextest is not installed (cargo install cargo-nextest), so `cargo lockgraph \
                 nextest` cannot run; `cargo lockgraph test` runs cargo test"
                    .into(),
            ));
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    // Before any patched cargo run: they rewrite Cargo.lock.
    let _lockfile = (!names.is_empty() || run.deps).then(|| instrument::LockfileGuard::new(root));
    let deps = if run.deps {
        let deps = deps::prepare(root, &target, &instrument::source_dir()?)?;
        let config = deps.config_args();
        deps::update_lockfile(root, &deps, &config)?;
        deps::check_used(root, &deps, &config)?;
        eprintln!(
            "cargo lockgraph: --deps: lock_api {} patched with lockgraph's shim for the whole \
             graph: the locks of {} are checked",
            deps::LOCK_API_VERSION,
            deps.users.join(", ")
        );
        if deps.own_lockgraph {
            eprintln!(
                "cargo lockgraph: --deps: note: this workspace names lockgraph itself; its own \
                 lockgraph locks and the dependencies' lock_api locks are checked by two \
                 detectors, each in its own graph"
            );
        }
        Some(deps)
    } else {
        None
    };
    let mut crates = if names.is_empty() {
        Vec::new()
    } else {
        instrument::prepare(
            root,
            &target,
            &names,
            deps.as_ref().map(|d| d.lockgraph.as_str()),
        )?
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
    let deps_config = deps
        .as_ref()
        .map(deps::Deps::config_args)
        .unwrap_or_default();
    if !crates.is_empty() {
        instrument::check_used(root, &crates, &deps_config)?;
        crates = build_instrumented(root, runner, &args, &deps_config, crates)?;
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let dir = target
        .join("lockgraph")
        .join(format!("run-{stamp}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error(format!("{}: cannot create: {e}", dir.display())))?;
    let command = format!("cargo {}", runner.words().join(" "));
    eprintln!(
        "cargo lockgraph: running `{command}{}{}` with LOCKGRAPH_RECORD={}{}",
        if args.is_empty() { "" } else { " " },
        args.join(" "),
        dir.display(),
        match &watchdog {
            Watchdog::Seconds(secs) => format!(" and LOCKGRAPH_WATCHDOG={secs}"),
            Watchdog::Inherited(secs) =>
                format!(" (LOCKGRAPH_WATCHDOG={secs} from the environment)"),
            Watchdog::Off => String::new(),
        }
    );
    let mut tests = cargo();
    tests
        .args(&deps_config)
        .args(instrument::config_args(&crates))
        .args(runner.words())
        .args(&args)
        .env("LOCKGRAPH_RECORD", &dir);
    match &watchdog {
        Watchdog::Seconds(secs) => {
            tests.env("LOCKGRAPH_WATCHDOG", secs);
        }
        Watchdog::Inherited(_) => {}
        Watchdog::Off => {
            tests.env_remove("LOCKGRAPH_WATCHDOG");
        }
    }
    // JSON or SARIF on standard output stays parseable: the test runner's
    // own output goes to standard error then.
    if options.format() != Format::Text && run.output.is_none() {
        tests.stdout(std::process::Stdio::from(std::io::stderr()));
    }
    let status = tests
        .status()
        .map_err(|e| Error(format!("cannot run {command}: {e}")))?;
    let tests_failed = !status.success();
    for (file, reports) in records::orphaned_reports(&dir) {
        eprintln!(
            "cargo lockgraph: a test process raised {} report{} and died before it could print \
             {} ({}):",
            reports.len(),
            if reports.len() == 1 { "" } else { "s" },
            if reports.len() == 1 { "it" } else { "them" },
            file.display()
        );
        for report in reports {
            eprintln!("\n{report}\n");
        }
    }
    let verdict = check(options, root, &[dir], run.output.as_deref())?;
    if tests_failed {
        eprintln!("cargo lockgraph: {command} failed ({status})");
        return Ok(1);
    }
    Ok(verdict)
}

/// The watchdog of the test processes (`--watchdog`).
enum Watchdog {
    /// Started by `cargo lockgraph`, at this many seconds.
    Seconds(String),
    /// Left as the environment has it (`LOCKGRAPH_WATCHDOG` set).
    Inherited(String),
    Off,
}

/// The default threshold: far above any lock a correct test holds while
/// another thread waits for it, far below CI's timeouts.
const WATCHDOG_SECS: &str = "10";

fn watchdog_setting(value: Option<&str>) -> Result<Watchdog, Error> {
    match value {
        Some("off") => Ok(Watchdog::Off),
        Some(secs) => match secs.parse::<f64>() {
            Ok(s) if s > 0.0 && s.is_finite() => Ok(Watchdog::Seconds(secs.to_owned())),
            _ => Err(usage_error(&format!(
                "invalid value '{secs}' for '--watchdog <SECS|off>' (seconds above 0, or off)"
            ))),
        },
        None => Ok(match std::env::var("LOCKGRAPH_WATCHDOG") {
            Ok(secs) if !secs.is_empty() => Watchdog::Inherited(secs),
            _ => Watchdog::Seconds(WATCHDOG_SECS.to_owned()),
        }),
    }
}

/// Builds the tests with the instrumented crates patched in; a crate that
/// no longer compiles with lockgraph's locks is named with its first error
/// and left out, and the build tried again without it.
fn build_instrumented(
    root: &Path,
    runner: Runner,
    args: &[String],
    deps_config: &[String],
    mut crates: Vec<instrument::Instrumented>,
) -> Result<Vec<instrument::Instrumented>, Error> {
    // The arguments before a `--` are cargo's; the test binaries' own
    // arguments do not apply to a build.
    let build_args: Vec<&String> = args.iter().take_while(|a| *a != "--").collect();
    // Builds the tests without running them.
    let build: &[&str] = match runner {
        Runner::Cargo => &["test", "--no-run"],
        Runner::Nextest => &["nextest", "list"],
    };
    while !crates.is_empty() {
        let out = cargo()
            .args(deps_config)
            .args(instrument::config_args(&crates))
            .args(build)
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

fn check(
    options: &Options,
    root: &Path,
    records: &[PathBuf],
    output: Option<&Path>,
) -> Result<u8, Error> {
    let (suppressions, allow_path) = suppressions(options, root)?;
    let merged = records::merge_paths(records)?;
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
    let mut out = String::new();
    match options.format() {
        Format::Json => {
            let json = check::json(&merged, &findings, &suppressions);
            out.push_str(&serde_json::to_string_pretty(&json).expect("the JSON output serialises"));
            out.push('\n');
        }
        Format::Sarif => {
            let log = sarif::log(&merged, &findings, root);
            out.push_str(&serde_json::to_string_pretty(&log).expect("the SARIF log serialises"));
            out.push('\n');
        }
        Format::Text => {
            for cycle in findings.cycles.iter().filter(|c| c.suppressed.is_none()) {
                out.push_str(&check::cycle_text(&merged, cycle));
                out.push('\n');
            }
            // Accepted cycles: one line per lockgraph.toml entry, with the
            // first cycle it accepted.
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
                out.push_str(&format!(
                    "accepted ({}): {} cycle{}, e.g. {} -> {}\n",
                    entry.reason,
                    accepted.len(),
                    if accepted.len() == 1 { "" } else { "s" },
                    chain.join(" -> "),
                    chain[0]
                ));
            }
        }
    }
    if options.format() == Format::Text {
        // `dashmap 6.1.0 src/lib.rs`, not the registry's path on this
        // machine, as the test processes' own reports name it.
        out = paths::dependency_paths(&out);
    }
    match output {
        Some(path) => std::fs::write(path, &out)
            .map_err(|e| Error(format!("{}: cannot write: {e}", path.display())))?,
        None => print!("{out}"),
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

fn graph(options: &Options, root: &Path, records: &[PathBuf], output: &Path) -> Result<u8, Error> {
    let (suppressions, _) = suppressions(options, root)?;
    let merged = records::merge_paths(records)?;
    for warning in &merged.warnings {
        eprintln!("cargo lockgraph: warning: {warning}");
    }
    let findings = check::find_cycles(&merged, &suppressions);
    let names: Vec<String> = records.iter().map(|p| p.display().to_string()).collect();
    let title = format!("lock hierarchy of {}", names.join(", "));
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
    std::fs::write(output, text)
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
