#!/usr/bin/env bash
# `cargo lockgraph test --instrument` on a deadlock that shipped: indicatif
# 0.17.2 (and 0.17.3) relock their MultiProgress state when the same
# ProgressBar is added twice (console-rs/indicatif#503: `internalize` holds
# the state's write lock while `set_draw_target` drops the bar's old remote
# target, whose drop write-locks the same state). 0.17.4 drops the guard
# first. A user crate that depends on each release runs the issue's
# program as a test, through --instrument indicatif:
#   0.17.2: exit 1, reported at the second `add` in the test;
#   0.17.4: exit 0.
# Not run in CI (it downloads and builds indicatif twice).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${KNOWN_BUG_DIR:-$root/target/known-bug}
(cd "$root" && cargo build -q -p cargo-lockgraph) || exit 1
lockgraph="$root/target/debug/cargo-lockgraph"
export LOCKGRAPH_SOURCE="$root"
status=0
for version in 0.17.2 0.17.4; do
    dir="$work/indicatif-$version"
    mkdir -p "$dir/src" "$dir/tests"
    cat >"$dir/Cargo.toml" <<TOML
[package]
name = "known-bug"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
indicatif = "=$version"
[workspace]
TOML
    : >"$dir/src/lib.rs"
    cat >"$dir/tests/issue503.rs" <<'RUST'
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[test]
fn same_bar_added_twice() {
    let mp = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
    let pb = ProgressBar::new(0);
    pb.set_style(ProgressStyle::with_template("{msg}").unwrap());
    mp.add(pb.clone());
    mp.add(pb.clone());
    pb.set_message("Boom!");
    pb.finish();
}
RUST
    (cd "$dir" && timeout 900 "$lockgraph" lockgraph test --instrument indicatif --watchdog 5 >"$dir.log" 2>&1)
    code=$?
    echo "indicatif $version: exit $code"
    grep -E '^(potential )?deadlock|in your code' "$dir.log" | sort -u
    case "$version:$code" in
        0.17.2:1) grep -q "write-locking an RwLock already held by this thread" "$dir.log" || status=1 ;;
        0.17.4:0) ;;
        *) status=1 ;;
    esac
done
exit $status
