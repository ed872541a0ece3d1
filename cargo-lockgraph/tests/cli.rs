//! `cargo lockgraph` as a user runs it: on a fixture crate whose two test
//! files invert two lock classes, and on hand-written records for every
//! bad input, the JSON schema, the GitHub lines and the pictures.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-lockgraph"));
    command.env_remove("LOCKGRAPH_RECORD");
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run cargo-lockgraph");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture")
}

/// One target directory for every run on the fixture, inside this
/// workspace's target, so its build of lockgraph is reused.
fn fixture_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/lockgraph-fixture")
        .canonicalize()
        .unwrap_or_else(|_| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lockgraph-fixture");
            fs::create_dir_all(&dir).unwrap();
            dir.canonicalize().unwrap()
        })
}

fn run_fixture(args: &[&str]) -> (i32, String, String) {
    run(bin()
        .arg("lockgraph")
        .args(args)
        .current_dir(fixture())
        .env("CARGO_TARGET_DIR", fixture_target())
        .env_remove("LOCKGRAPH_CLASSES")
        .env_remove("LOCKGRAPH"))
}

#[test]
fn two_test_files_inverting_two_classes_fail_the_check() {
    let (code, stdout, stderr) = run_fixture(&["test", "--tests"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "potential deadlock: lock order inversion between lock classes, across the test suite"
        ),
        "{stdout}"
    );
    // Both tests passed on their own: the exit status is the cycle's.
    assert!(!stderr.contains("cargo test failed"), "{stderr}");
    // Both acquisition sites, both test files (by target) and test names.
    assert!(
        stdout.contains("then Mutex<u32> at src/lib.rs:30:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("then Mutex<Vec<u32>> at src/lib.rs:38:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("taken by `checkout_takes_the_connection` in pool"),
        "{stdout}"
    );
    assert!(
        stdout.contains("taken by `close_returns_the_connection` in conn"),
        "{stdout}"
    );
    assert!(stdout.contains("lockgraph_fixture::close"), "{stdout}");
}

#[test]
fn one_order_in_both_test_files_is_clean() {
    let (code, stdout, stderr) = run_fixture(&["test", "--tests", "--features", "fixed"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stdout.contains("potential deadlock"), "{stdout}");
    assert!(stderr.contains("0 cycles"), "{stderr}");
}

// ------------------------------------------------------------ records

const HEADER: &str = r#"{"format":"lockgraph-record","version":1,"exe":"/w/target/debug/deps/NAME-0123456789abcdef","pid":1,"args":[]}"#;

fn class(id: u32, file: &str, line: u32, ty: &str) -> String {
    format!(
        r#"{{"class":{id},"kind":"Mutex","file":"{file}","line":{line},"column":5,"type":"{ty}","name":null}}"#
    )
}

fn edge(from: u32, to: u32, test: &str, file: &str, line: u32) -> String {
    format!(
        "{}\n{}",
        format_args!(
            r#"{{"edge":[{from},{to}],"thread":"{test}","from":{{"file":"{file}","line":{},"column":9}},"to":{{"file":"{file}","line":{line},"column":9}}}}"#,
            line - 1
        ),
        format_args!(
            r#"{{"backtrace":[{from},{to}],"frames":[{{"function":"app::{test}","file":"{file}","line":{line}}}]}}"#
        )
    )
}

/// A directory of records: pool.rs takes A -> B, conn.rs B -> A.
fn inverted_records(name: &str) -> PathBuf {
    // Under the target directory, which `cargo clean` empties: not /tmp.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cargo-lockgraph-test-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let a = class(0, "src/pool.rs", 3, "app::Pool");
    let b = class(1, "src/conn.rs", 4, "app::Conn");
    fs::write(
        dir.join("a-pool.jsonl"),
        [
            HEADER.replace("NAME", "pool"),
            a.clone(),
            b.clone(),
            edge(0, 1, "checkout", "src/pool.rs", 20),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    fs::write(
        dir.join("b-conn.jsonl"),
        [
            HEADER.replace("NAME", "conn"),
            b.replace("\"class\":1", "\"class\":7"),
            a.replace("\"class\":0", "\"class\":9"),
            edge(7, 9, "close", "src/conn.rs", 30),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    dir
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    run(bin()
        .args(extra)
        .arg("check")
        .arg(dir)
        .current_dir(std::env::temp_dir()))
}

#[test]
fn a_cycle_across_records_is_reported_with_both_sites() {
    let dir = inverted_records("cycle");
    let (code, stdout, stderr) = check(&dir, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("Mutex<Pool> -> Mutex<Conn> -> Mutex<Pool>"),
        "{stdout}"
    );
    assert!(stdout.contains("taken by `checkout` in pool"), "{stdout}");
    assert!(stdout.contains("taken by `close` in conn"), "{stdout}");
    assert!(
        stdout.contains("then Mutex<Conn> at src/pool.rs:20:9"),
        "{stdout}"
    );
    assert!(
        stdout.contains("then Mutex<Pool> at src/conn.rs:30:9"),
        "{stdout}"
    );
    assert!(
        stderr.contains("2 records, 2 lock classes, 2 class-order edges: 1 cycle"),
        "{stderr}"
    );
}

#[test]
fn one_direction_only_is_clean() {
    let dir = inverted_records("clean");
    fs::remove_file(dir.join("b-conn.jsonl")).unwrap();
    let (code, stdout, stderr) = check(&dir, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn a_suppressed_cycle_passes_and_an_unused_entry_warns() {
    let dir = inverted_records("allow");
    let allow = dir.join("accepted.toml");
    fs::write(
        &allow,
        "[[allow]]\nclasses = [\"src/pool.rs:3\", \"src/conn.rs:*\"]\nreason = \"pool and conn never meet\"\n\n\
         [[allow]]\nclasses = [\"src/gone.rs:1\"]\nreason = \"an old cycle\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = check(&dir, &["--allow", allow.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("accepted (pool and conn never meet): 1 cycle, e.g. Mutex<Pool> -> Mutex<Conn> -> Mutex<Pool>"),
        "{stdout}"
    );
    assert!(!stdout.contains("potential deadlock"), "{stdout}");
    assert!(
        stderr.contains(
            "entry 2 (classes [\"src/gone.rs:1\"], reason \"an old cycle\") matches no cycle"
        ),
        "{stderr}"
    );
}

fn one_error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    lines[0]
}

#[test]
fn a_missing_directory_is_bad_input() {
    let dir = std::env::temp_dir().join("cargo-lockgraph-no-such-dir");
    let (code, _, stderr) = check(&dir, &[]);
    assert_eq!(code, 2);
    let line = one_error_line(&stderr);
    assert!(
        line.contains("no such directory") && line.contains("cargo-lockgraph-no-such-dir"),
        "{line}"
    );
}

#[test]
fn an_empty_directory_is_bad_input() {
    let dir = inverted_records("empty");
    for entry in fs::read_dir(&dir).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let (code, _, stderr) = check(&dir, &[]);
    assert_eq!(code, 2);
    assert!(
        one_error_line(&stderr).contains("no lockgraph records"),
        "{stderr}"
    );
}

#[test]
fn a_corrupt_line_among_good_ones_is_bad_input_naming_file_and_line() {
    let dir = inverted_records("corrupt");
    let path = dir.join("a-pool.jsonl");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{\"class\": oops}");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (code, _, stderr) = check(&dir, &[]);
    assert_eq!(code, 2);
    let line = one_error_line(&stderr);
    assert!(line.contains("a-pool.jsonl:3: corrupt record"), "{line}");
}

#[test]
fn a_record_of_another_version_is_bad_input() {
    let dir = inverted_records("version");
    let path = dir.join("b-conn.jsonl");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("\"version\":1", "\"version\":7");
    fs::write(&path, text).unwrap();
    let (code, _, stderr) = check(&dir, &[]);
    assert_eq!(code, 2);
    let line = one_error_line(&stderr);
    assert!(
        line.contains("b-conn.jsonl:1: record format version 7"),
        "{line}"
    );
}

#[test]
fn a_truncated_last_line_warns_and_the_rest_is_merged() {
    let dir = inverted_records("truncated");
    let path = dir.join("b-conn.jsonl");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("{\"edge\":[9,7],\"thread\":\"cl");
    fs::write(&path, text).unwrap();
    let (code, stdout, stderr) = check(&dir, &[]);
    // The cycle from the intact lines is still found.
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("b-conn.jsonl:6: truncated last line"),
        "{stderr}"
    );
}

#[test]
fn a_suppression_file_with_a_syntax_error_is_bad_input() {
    let dir = inverted_records("toml");
    let allow = dir.join("broken.toml");
    fs::write(&allow, "[[allow]]\nclasses = [\"a\"\nreason = \"x\"\n").unwrap();
    let (code, _, stderr) = check(&dir, &["--allow", allow.to_str().unwrap()]);
    assert_eq!(code, 2);
    let line = one_error_line(&stderr);
    assert!(line.contains("broken.toml:"), "{line}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, stderr) = run(bin().arg("frobnicate"));
    assert_eq!(code, 2);
    assert!(
        one_error_line(&stderr).contains("unrecognized subcommand 'frobnicate'"),
        "{stderr}"
    );
    let (code, _, _) = run(bin().arg("check"));
    assert_eq!(code, 2);
    let (code, stdout, _) = run(bin().args(["lockgraph", "--help"]));
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Usage: cargo lockgraph [OPTIONS] <COMMAND>"),
        "{stdout}"
    );
}

#[test]
fn the_json_output_follows_its_schema() {
    let dir = inverted_records("json");
    let (code, stdout, stderr) = check(&dir, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(json["schema"], "cargo-lockgraph/check");
    assert_eq!(json["version"], 1);
    assert_eq!(json["records"], 2);
    assert_eq!(json["edges"], 2);
    let classes = json["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2);
    assert_eq!(classes[0]["type"], "app::Pool");
    assert_eq!(classes[0]["site"]["file"], "src/pool.rs");
    let cycle = &json["cycles"][0];
    assert_eq!(cycle["suppressed"], false);
    assert_eq!(cycle["classes"].as_array().unwrap().len(), 2);
    let take = &cycle["edges"][0]["takes"][0];
    assert_eq!(take["target"], "pool");
    assert_eq!(take["test"], "checkout");
    assert_eq!(take["to"]["line"], 20);
    assert_eq!(take["backtrace"][0]["function"], "app::checkout");
    assert!(json["unused_suppressions"].as_array().unwrap().is_empty());
}

#[test]
fn github_annotations_point_at_each_edge() {
    let dir = inverted_records("github");
    let (code, stdout, _) = check(&dir, &["--github"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(
            "::error file=src/pool.rs,line=20,col=9,title=lockgraph%3A lock order inversion::"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("::error file=src/conn.rs,line=30,col=9,"),
        "{}",
        lines[1]
    );
    assert!(lines[0].contains("Mutex<Pool> -> Mutex<Conn> taken here by `checkout` in pool"));
}

#[test]
fn the_pictures_parse_and_show_the_cycle_in_red() {
    let dir = inverted_records("graph");
    let out = |ext: &str| dir.join(format!("locks.{ext}"));
    for ext in ["dot", "svg", "html"] {
        let (code, _, stderr) = run(bin().arg("graph").arg(&dir).arg("-o").arg(out(ext)));
        assert_eq!(code, 0, "{ext}: {stderr}");
    }
    let dot = fs::read_to_string(out("dot")).unwrap();
    assert!(dot.starts_with("digraph lockgraph_suite {"), "{dot}");
    assert_eq!(dot.matches(" color=red").count(), 2, "{dot}");

    let svg = fs::read_to_string(out("svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let red_edges = doc
        .descendants()
        .filter(|n| n.has_tag_name("path") && n.attribute("class") == Some("edge"))
        .filter(|n| n.attribute("stroke") == Some("#d00"))
        .count();
    assert_eq!(red_edges, 2);
    let labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert!(labels.contains(&"Mutex<Pool>"), "{labels:?}");
    assert!(labels.contains(&"src/conn.rs:4:5"), "{labels:?}");

    let html = fs::read_to_string(out("html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    let start = html.find("<svg").unwrap();
    let end = html.find("</svg>").unwrap() + "</svg>".len();
    roxmltree::Document::parse(&html[start..end]).expect("the page's SVG is well-formed");
    assert!(html.contains("<h2>Cycle</h2>"), "{html}");
    assert!(
        html.contains("Mutex&lt;Pool&gt; -&gt; Mutex&lt;Conn&gt;"),
        "{html}"
    );

    let (code, _, stderr) = run(bin().arg("graph").arg(&dir).arg("-o").arg(out("png")));
    assert_eq!(code, 2);
    assert!(
        one_error_line(&stderr).contains(".dot, .svg or .html"),
        "{stderr}"
    );
}

/// A copy of `tests/fixture-instrument` (a crate that never names
/// lockgraph; its dependency crossbeam-utils keeps std locks inside each
/// `ShardedLock`) under the target directory, so the runs below cannot
/// touch the repository's files even if they went wrong.
fn instrument_fixture() -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture-instrument");
    let to = fixture_target().join("fixture-instrument-src");
    copy_files(
        &from,
        &to,
        &[
            "Cargo.toml",
            "Cargo.lock",
            "src/lib.rs",
            "tests/transfer.rs",
        ],
    );
    to
}

/// A fresh `to` holding `files` (paths relative to `from`) copied from `from`.
fn copy_files(from: &Path, to: &Path, files: &[&str]) {
    let _ = fs::remove_dir_all(to);
    for file in files {
        let dest = to.join(file);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(from.join(file), dest).unwrap();
    }
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run(bin()
        .arg("lockgraph")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", fixture_target())
        .env_remove("LOCKGRAPH_CLASSES")
        .env_remove("LOCKGRAPH"))
}

/// One test, not several: the runs share the fixture's Cargo.lock, which
/// every patched run rewrites and puts back.
#[test]
fn instrument_reports_a_dependencys_std_locks_and_leaves_the_users_files_alone() {
    let dir = instrument_fixture();
    let manifest = fs::read(dir.join("Cargo.toml")).unwrap();
    let lockfile = fs::read(dir.join("Cargo.lock")).unwrap();
    let untouched = |what: &str| {
        assert_eq!(
            fs::read(dir.join("Cargo.toml")).unwrap(),
            manifest,
            "{what}: Cargo.toml changed"
        );
        assert_eq!(
            fs::read(dir.join("Cargo.lock")).unwrap(),
            lockfile,
            "{what}: Cargo.lock changed"
        );
    };

    // Without --instrument the dependency's locks are std's: the test
    // passes, and nothing is seen.
    let (code, stdout, stderr) = run(Command::new(env!("CARGO"))
        .arg("test")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", fixture_target()));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stdout.contains("potential deadlock"), "{stdout}");
    untouched("plain cargo test");

    // With it, the inversion inside crossbeam-utils' locks is reported,
    // with the user's own frame in the backtrace.
    let (code, stdout, stderr) = run_in(&dir, &["test", "--instrument", "crossbeam-utils"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("cargo lockgraph: instrumented crossbeam-utils 0.8.21"),
        "{stderr}"
    );
    let output = format!("{stdout}{stderr}");
    assert!(
        output.contains("potential deadlock: lock order inversion"),
        "{output}"
    );
    assert!(
        output.contains("crossbeam-utils 0.8.21 src/sync/sharded_lock.rs"),
        "{output}"
    );
    assert!(
        output.contains("lockgraph_fixture_instrument::transfer"),
        "{output}"
    );
    untouched("--instrument");

    // The fixed order is clean, instrumented too (and `=` works).
    let (code, stdout, stderr) = run_in(
        &dir,
        &[
            "test",
            "--instrument=crossbeam-utils",
            "--features",
            "fixed",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    untouched("--instrument, fixed");

    // Bad input: one line each, exit 2, nothing written.
    for (args, expected) in [
        (
            &["test", "--instrument", "no-such-crate"][..],
            "no crate no-such-crate in the dependency graph",
        ),
        (
            &["test", "--instrument", "crossbeam-utils@0.1.0"][..],
            "no crate crossbeam-utils 0.1.0 in the dependency graph",
        ),
        (
            &["test", "--instrument", "lockgraph-fixture-instrument"][..],
            "is a member of this workspace",
        ),
        (
            &["test", "--instrument"][..],
            "a value is required for '--instrument",
        ),
        (
            &["test", "--instrument", ","][..],
            "--instrument takes crate names",
        ),
        (
            &["test", "--deps"][..],
            "no crate in this dependency graph uses lock_api",
        ),
    ] {
        let (code, stdout, stderr) = run_in(&dir, args);
        assert_eq!(code, 2, "{args:?}: {stdout}\n{stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.contains("error")).count(),
            1,
            "{args:?}: {stderr}"
        );
        untouched(&format!("{args:?}"));
    }
}

#[test]
fn the_watchdog_ends_a_hanging_test_with_its_report() {
    // A join under a lock the joined thread needs: without the watchdog
    // this test would hang until CI's timeout.
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = run_fixture(&[
        "test",
        "--features",
        "hang",
        "--test",
        "hangs",
        "--watchdog",
        "1",
    ]);
    let output = format!("{stdout}{stderr}");
    assert_eq!(code, 1, "{output}");
    assert!(stderr.contains("and LOCKGRAPH_WATCHDOG=1"), "{stderr}");
    assert!(
        output.contains("deadlock: threads waiting on each other"),
        "{output}"
    );
    assert!(
        output.contains("is blocked in join of the thread spawned (created at tests/hangs.rs:"),
        "{output}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
    // Bad values: one line, exit 2.
    for bad in ["0", "soon"] {
        let (code, _, stderr) = run_fixture(&["test", "--watchdog", bad]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("'--watchdog <SECS|off>'"), "{stderr}");
    }
}

/// A copy of `tests/fixture-deps` (a crate that never names lockgraph and
/// uses dashmap 6 and parking_lot directly) under the target directory.
fn deps_fixture() -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture-deps");
    let to = fixture_target().join("fixture-deps-src");
    copy_files(
        &from,
        &to,
        &["Cargo.toml", "Cargo.lock", "src/lib.rs", "tests/deps.rs"],
    );
    to
}

/// One test, not several: the runs share the fixture's Cargo.lock, which
/// every patched run rewrites and puts back. Each `bug_*` test of the
/// fixture would hang without lockgraph; with it, it panics with the
/// report before it blocks.
#[test]
fn deps_reports_the_locks_inside_dashmap_and_parking_lot() {
    let dir = deps_fixture();
    let manifest = fs::read(dir.join("Cargo.toml")).unwrap();
    let lockfile = fs::read(dir.join("Cargo.lock")).unwrap();
    let untouched = |what: &str| {
        assert_eq!(
            fs::read(dir.join("Cargo.toml")).unwrap(),
            manifest,
            "{what}: Cargo.toml changed"
        );
        assert_eq!(
            fs::read(dir.join("Cargo.lock")).unwrap(),
            lockfile,
            "{what}: Cargo.lock changed"
        );
        assert!(
            !dir.join("target").exists(),
            "{what}: wrote into the user's tree"
        );
    };
    let deps = |filter: &[&str]| {
        let mut args = vec!["test", "--deps", "--"];
        args.extend_from_slice(filter);
        run_in(&dir, &args)
    };

    // Without --deps the clean tests pass and nothing is seen (the bug
    // tests would hang: they are skipped).
    let (code, stdout, stderr) = run(Command::new(env!("CARGO"))
        .args(["test", "--", "--skip", "bug_"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", fixture_target()));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        !format!("{stdout}{stderr}").contains("deadlock"),
        "{stdout}"
    );
    untouched("plain cargo test");

    // A dashmap `Ref` held while inserting into its shard: reported in
    // dashmap's terms, with the user's frame in the backtrace.
    let (code, stdout, stderr) = deps(&["bug_ref_held_while_inserting"]);
    let output = format!("{stdout}{stderr}");
    assert_eq!(code, 1, "{output}");
    assert!(
        stderr.contains("--deps: lock_api 0.4.14 patched") && stderr.contains("dashmap 6.1.0"),
        "{stderr}"
    );
    assert!(
        output.contains("deadlock: relocking a lock_api::RwLock"),
        "{output}"
    );
    assert!(
        output.contains("created at dashmap 6.1.0 src/lib.rs:"),
        "{output}"
    );
    assert!(
        output.contains(
            "in your code: src/lib.rs:22, lockgraph_fixture_deps::Registry::rename_in_place"
        ),
        "{output}"
    );
    untouched("--deps, dashmap relock");

    // parking_lot: a relock and a second read, at the test's own lines.
    let (code, stdout, stderr) = deps(&["bug_parking_lot"]);
    let output = format!("{stdout}{stderr}");
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("deadlock: relocking a lock_api::Mutex"),
        "{output}"
    );
    assert!(
        output.contains("created at tests/deps.rs:49:19"),
        "{output}"
    );
    assert!(
        output.contains("potential deadlock: recursive read of a lock_api::RwLock"),
        "{output}"
    );
    assert!(output.contains("at tests/deps.rs:69:25"), "{output}");
    untouched("--deps, parking_lot");

    // The twins, and a second read of one dashmap shard (its raw lock
    // lets readers in while a writer waits): clean.
    let (code, stdout, stderr) = deps(&["clean_"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("test result: ok. 4 passed"), "{stdout}");
    assert!(
        !format!("{stdout}{stderr}").contains("deadlock"),
        "{stdout}\n{stderr}"
    );

    // Two maps in opposite orders in two tests: no test hangs, the suite's
    // lock classes have a cycle, named by crate and version.
    let (code, stdout, stderr) = deps(&["maps_"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("potential deadlock: lock order inversion between lock classes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("created at dashmap 6.1.0 src/lib.rs:286"),
        "{stdout}"
    );
    // The class edges' steps name the user's frame too (the test process's
    // own report of the second order, on standard output).
    assert!(
        stdout.contains(
            "in your code: src/lib.rs:44, lockgraph_fixture_deps::Registry::name_by_score"
        ),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(bin()
        .args(["lockgraph", "test", "--deps", "--", "maps_"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", fixture_target())
        .env("FIXTURE_ORDERED", "1")
        .env_remove("LOCKGRAPH_CLASSES")
        .env_remove("LOCKGRAPH"));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    untouched("--deps, classes");

    // The example of the guide (examples/dashmap-cache): a `Ref` alive in
    // a `match` while the map is written; `--features fixed` is clean.
    let example = fixture_target().join("example-dashmap-cache");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/dashmap-cache");
    copy_files(
        &from,
        &example,
        &["Cargo.toml", "Cargo.lock", "src/lib.rs", "tests/cache.rs"],
    );
    let (code, stdout, stderr) = run_in(&example, &["test", "--deps"]);
    let output = format!("{stdout}{stderr}");
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("deadlock: relocking a lock_api::RwLock"),
        "{output}"
    );
    assert!(
        output.contains("dashmap_cache::Cache::get_or_insert"),
        "{output}"
    );
    let (code, stdout, stderr) = run_in(&example, &["test", "--deps", "--features", "fixed"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // A lockfile pinning an older parking_lot_core (through dashmap) than
    // lockgraph's own parking_lot asks for: the vendored engine takes it.
    let (code, stdout, stderr) = run(Command::new(env!("CARGO"))
        .args(["update", "-p", "parking_lot_core", "--precise", "0.9.9"])
        .current_dir(&example));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let pinned = fs::read(example.join("Cargo.lock")).unwrap();
    let (code, stdout, stderr) = run_in(&example, &["test", "--deps", "--features", "fixed"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(fs::read(example.join("Cargo.lock")).unwrap(), pinned);

    // A workspace that names lockgraph itself (tests/fixture): its own
    // lockgraph and the copy the shim links are two packages, both built;
    // its class cycle is still found, its fixed order clean.
    // A copy: the patched runs rewrite a lockfile the other tests' runs of
    // tests/fixture read at the same time.
    let named = fixture_target().join("fixture-names-lockgraph");
    let tests: Vec<String> = fs::read_dir(fixture().join("tests"))
        .unwrap()
        .map(|e| format!("tests/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let mut files = vec!["Cargo.lock", "src/lib.rs"];
    files.extend(tests.iter().map(String::as_str));
    copy_files(&fixture(), &named, &files);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let manifest_text = fs::read_to_string(fixture().join("Cargo.toml"))
        .unwrap()
        .replace(
            "path = \"../../..\"",
            &format!("path = {:?}", repo.display().to_string()),
        );
    fs::write(named.join("Cargo.toml"), manifest_text).unwrap();
    let (code, stdout, stderr) = run_in(&named, &["test", "--deps", "--features", "fixed"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("names lockgraph itself"), "{stderr}");
    let (code, stdout, stderr) = run_in(&named, &["test", "--deps"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("potential deadlock: lock order inversion between lock classes"),
        "{stdout}"
    );

    // A workspace that patches lock_api itself: one line, exit 2.
    let mut patched = String::from_utf8(manifest.clone()).unwrap();
    patched.push_str("\n[patch.crates-io]\nlock_api = { path = \"nowhere\" }\n");
    fs::write(dir.join("Cargo.toml"), &patched).unwrap();
    let (code, stdout, stderr) = deps(&[]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("patches lock_api itself"), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.contains("error")).count(),
        1,
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(dir.join("Cargo.toml")).unwrap(), patched);
}

/// `inverted_records` split in two shards: each clean alone.
fn sharded_records(name: &str) -> (PathBuf, PathBuf) {
    let all = inverted_records(name);
    let (one, two) = (all.join("shard-1"), all.join("shard-2"));
    fs::create_dir_all(&one).unwrap();
    fs::create_dir_all(&two).unwrap();
    fs::rename(all.join("a-pool.jsonl"), one.join("a-pool.jsonl")).unwrap();
    fs::rename(all.join("b-conn.jsonl"), two.join("b-conn.jsonl")).unwrap();
    (one, two)
}

#[test]
fn options_go_before_or_after_the_command() {
    let dir = inverted_records("after");
    let (before_code, before, _) = check(&dir, &["--format", "json"]);
    let (after_code, after, stderr) = run(bin()
        .args(["lockgraph", "check"])
        .arg(&dir)
        .args(["--format", "json"])
        .current_dir(std::env::temp_dir()));
    assert_eq!((before_code, after_code), (1, 1), "{stderr}");
    assert_eq!(before, after);
    let (code, stdout, _) = run(bin()
        .args(["lockgraph", "check", "--github"])
        .arg(&dir)
        .current_dir(std::env::temp_dir()));
    assert_eq!(code, 1);
    assert!(stdout.contains("::error file=src/"), "{stdout}");
}

#[test]
fn every_command_has_help_with_examples() {
    for verb in ["test", "nextest", "check", "graph"] {
        let (code, stdout, stderr) = run(bin().args(["lockgraph", verb, "--help"]));
        assert_eq!(code, 0, "{verb}: {stderr}");
        assert!(stdout.contains("Examples:"), "{verb}: {stdout}");
        assert!(
            stdout.contains(&format!("cargo lockgraph {verb}")),
            "{verb}: {stdout}"
        );
    }
}

#[test]
fn bad_arguments_are_one_line_naming_them_exit_2() {
    let dir = inverted_records("badargs");
    let dir = dir.to_str().unwrap();
    let unwritable = "/nonexistent-dir-of-cargo-lockgraph/out.sarif";
    for (args, expected) in [
        (vec!["check", dir, "--frob"], "'--frob'"),
        (vec!["frob", dir], "'frob'"),
        (vec!["check", dir, "--format"], "--format"),
        (vec!["check", dir, "--format", "xml"], "'xml'"),
        (
            vec!["check", "--format", "json", dir, "--format", "text"],
            "cannot be used multiple times",
        ),
        (
            vec!["check", dir, "--format", "sarif", "-o", unwritable],
            "cannot write",
        ),
        (vec!["check"], "RECORDS"),
        (vec![], "no command"),
    ] {
        let (code, stdout, stderr) = run(bin()
            .arg("lockgraph")
            .args(&args)
            .current_dir(std::env::temp_dir()));
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        let line = one_error_line(&stderr);
        assert!(
            line.starts_with("cargo lockgraph: error: "),
            "{args:?}: {line}"
        );
        assert!(line.contains(expected), "{args:?}: {line}");
    }
}

#[test]
fn shards_merge_as_one_suite() {
    let (one, two) = sharded_records("shards");
    for shard in [&one, &two] {
        let (code, _, stderr) = check(shard, &[]);
        assert_eq!(code, 0, "{stderr}");
    }
    let (code, stdout, stderr) = run(bin()
        .args(["lockgraph", "check"])
        .args([&one, &two])
        .current_dir(std::env::temp_dir()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("src/pool.rs") && stdout.contains("src/conn.rs"),
        "{stdout}"
    );
    assert!(stderr.contains("2 records"), "{stderr}");
    // Files merge like directories.
    let (code, _, _) = run(bin()
        .args(["lockgraph", "check"])
        .arg(one.join("a-pool.jsonl"))
        .arg(two.join("b-conn.jsonl"))
        .current_dir(std::env::temp_dir()));
    assert_eq!(code, 1);
    let (code, _, stderr) = run(bin()
        .args(["lockgraph", "graph"])
        .args([&one, &two])
        .arg("-o")
        .arg(one.join("locks.dot")));
    assert_eq!(code, 0, "{stderr}");
    // A missing or empty shard is an error naming it.
    let empty = one.parent().unwrap().join("empty");
    fs::create_dir_all(&empty).unwrap();
    for bad in [one.parent().unwrap().join("missing"), empty] {
        let (code, _, stderr) = run(bin()
            .args(["lockgraph", "check"])
            .arg(&one)
            .arg(&bad)
            .current_dir(std::env::temp_dir()));
        assert_eq!(code, 2);
        assert!(
            one_error_line(&stderr).contains(bad.to_str().unwrap()),
            "{stderr}"
        );
    }
}

fn validator() -> (boon::Schemas, boon::SchemaIndex) {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("sarif-schema-2.1.0.json", schema)
        .unwrap();
    let index = compiler
        .compile("sarif-schema-2.1.0.json", &mut schemas)
        .unwrap();
    (schemas, index)
}

#[test]
fn the_sarif_output_is_valid_sarif_2_1_0_with_stable_fingerprints() {
    let (schemas, index) = validator();
    let dir = inverted_records("sarif");
    let (code, stdout, stderr) = check(&dir, &["--format", "sarif"]);
    assert_eq!(code, 1, "{stderr}");
    let log: Value = serde_json::from_str(&stdout).unwrap();
    if let Err(error) = schemas.validate(&log, index) {
        panic!("not SARIF 2.1.0: {error:#}\n{stdout}");
    }
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let result = &results[0];
    assert_eq!(result["ruleId"], "lockgraph/class-order-inversion");
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .contains("lock order inversion")
    );
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uriBaseId"], "SRCROOT");
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("src/")
    );
    // Every edge's two sites are related locations; the tests are named.
    assert_eq!(result["relatedLocations"].as_array().unwrap().len(), 4);
    let tests = result["properties"]["edges"].to_string();
    assert!(
        tests.contains("checkout") && tests.contains("close"),
        "{tests}"
    );
    // The same cycle, recorded again elsewhere (other record order, other
    // class ids): the same fingerprint.
    let fingerprint = result["partialFingerprints"]["lockgraphCycle/v1"].clone();
    let (one, two) = sharded_records("sarif-again");
    let (_, stdout, _) = run(bin()
        .args(["lockgraph", "check", "--format", "sarif"])
        .args([&two, &one])
        .current_dir(std::env::temp_dir()));
    let again: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        again["runs"][0]["results"][0]["partialFingerprints"]["lockgraphCycle/v1"],
        fingerprint
    );
    // A clean suite: a valid log with no results; to a file with -o.
    let clean = one.join("out.sarif");
    let (code, stdout, _) = run(bin()
        .args(["lockgraph", "check", "--format", "sarif", "-o"])
        .arg(&clean)
        .arg(&one)
        .current_dir(std::env::temp_dir()));
    assert_eq!(code, 0);
    assert!(stdout.is_empty(), "{stdout}");
    let log: Value = serde_json::from_str(&fs::read_to_string(&clean).unwrap()).unwrap();
    assert!(schemas.validate(&log, index).is_ok());
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn an_accepted_cycle_is_a_suppressed_sarif_result() {
    let (schemas, index) = validator();
    let dir = inverted_records("sarif-allow");
    let allow = dir.join("lockgraph.toml");
    fs::write(
        &allow,
        "[[allow]]\nclasses = [\"src/pool.rs:3:*\", \"src/conn.rs:4:*\"]\nreason = \"ordered by slot\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = check(
        &dir,
        &["--format", "sarif", "--allow", allow.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    let log: Value = serde_json::from_str(&stdout).unwrap();
    assert!(schemas.validate(&log, index).is_ok());
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["suppressions"][0]["kind"], "external");
    assert!(
        result["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("ordered by slot")
    );
}

#[test]
fn test_passes_what_follows_dashes_to_the_test_binaries_and_writes_sarif() {
    let out = fixture_target().join("fixture.sarif");
    let _ = fs::remove_file(&out);
    let (code, stdout, stderr) = run_fixture(&[
        "test",
        "--format",
        "sarif",
        "-o",
        out.to_str().unwrap(),
        "--tests",
        "--",
        "--test-threads=1",
    ]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("running `cargo test --tests -- --test-threads=1`"),
        "{stderr}"
    );
    let log: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    let (schemas, index) = validator();
    assert!(schemas.validate(&log, index).is_ok());
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 1);
    let uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .unwrap();
    assert_eq!(uri, "src/lib.rs", "relative to the fixture's root");
}

#[test]
fn nextest_runs_each_test_in_its_own_process_recorded() {
    let installed = Command::new(env!("CARGO"))
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        eprintln!("skipped: cargo-nextest is not installed here");
        return;
    }
    let (code, stdout, stderr) = run_fixture(&["nextest"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("running `cargo nextest run`"), "{stderr}");
    assert!(stdout.contains("lockgraph_fixture::close"), "{stdout}");
    let (code, stdout, stderr) = run_fixture(&["nextest", "--features", "fixed"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

#[test]
fn nextest_missing_is_a_clear_error() {
    let (code, _, stderr) = run(bin()
        .args(["lockgraph", "nextest"])
        .env("CARGO", "false")
        .current_dir(std::env::temp_dir()));
    assert_eq!(code, 2);
    assert!(
        one_error_line(&stderr).contains("cargo-nextest is not installed"),
        "{stderr}"
    );
}

#[test]
fn test_with_sarif_on_standard_output_keeps_it_parseable() {
    let (code, stdout, stderr) = run_fixture(&["test", "--tests", "--format", "sarif"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let log: Value = serde_json::from_str(&stdout).expect("stdout is the SARIF log alone");
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 1);
    assert!(
        stderr.contains("test result:"),
        "the tests' output went to stderr"
    );
}

#[test]
fn a_report_survives_a_process_that_aborts() {
    let (code, stdout, stderr) = run_fixture(&["test", "--features", "abort", "--test", "aborts"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("a test process raised 1 report and died before it could print it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("potential deadlock: lock order inversion"),
        "{stderr}"
    );
    // A process that exits normally leaves its reports to libtest.
    let (_, _, stderr) = run_fixture(&["test", "--tests"]);
    assert!(!stderr.contains("died before it could print"), "{stderr}");
}
