#!/usr/bin/env bash
# Runs published crates' own test suites with their lock imports swapped for
# lockgraph's, and lists every report lockgraph made.
#
#   bash scripts/real-crates.sh                 # all the crates below
#   bash scripts/real-crates.sh r2d2@0.8.10     # some of them
#
# Each crate is taken from crates.io at a pinned version (through `cargo
# fetch`), copied to target/real-crates/, and changed in two ways only:
#   - in its src/ (code lines, not comments or doc examples), `std::sync::` becomes `lockgraph::sync::` (lockgraph's
#     locks and Condvar, std's other items), `parking_lot::` becomes
#     `lockgraph::parking_lot::` and `tokio::sync::` becomes
#     `lockgraph::tokio::sync::` (tokio's Mutex and RwLock checked, the rest
#     of tokio::sync re-exported);
#   - its Cargo.toml gains a path dependency on this checkout (and an empty
#     [workspace] so it builds on its own).
# Its tests then run in a debug build (detection on) with
# LOCKGRAPH_CLASSES=panic (class findings raised like instance findings)
# under the default panic policy (a report fails its test, and its text is
# in the log), unless LOCKGRAPH or LOCKGRAPH_CLASSES are set otherwise.
# Not run in CI: it downloads and builds other crates for several minutes.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${REAL_CRATES_DIR:-$root/target/real-crates}
export LOCKGRAPH_CLASSES=${LOCKGRAPH_CLASSES:-panic}
export LOCKGRAPH=${LOCKGRAPH:-panic}

# name@version|test-arguments (after `cargo test`)|lockgraph's features[|tokio]
# (a fourth field `tokio` swaps `tokio::sync::` only: for a crate that
# names std's atomics both through `std::sync::` paths and through grouped
# `use std::{sync::...}` imports, which the textual swap would split)
crates=(
    "threadpool@1.8.1||"
    "r2d2@0.8.10||"
    "scheduled-thread-pool@0.2.7||"
    "crossbeam-utils@0.8.21||"
    "indicatif@0.17.11||"
    "thread_local@1.1.8||"
    # Async code: std and tokio locks in tasks.
    "tokio-graceful-shutdown@0.16.0||tokio"
    "cached@0.56.0|--features async --lib --tests|tokio"
    "bb8@0.9.1||tokio"
    "deadpool@0.12.3|--features rt_tokio_1 --lib --tests|tokio"
    "wiremock@0.6.5||tokio|tokio"
    "tower-sessions-core@0.14.0|--lib|tokio|tokio"
    # Several calls into one lock-holding async API at once, inside one
    # task (join4 under block_on, FuturesUnordered, tokio::join!).
    "dataloader@0.18.0|--no-default-features --features runtime-tokio|tokio"
    "singleflight-async@0.2.0||tokio"
    "async_singleflight@0.6.2||tokio"
)
if [ $# -gt 0 ]; then
    wanted=("$@")
    selected=()
    for entry in "${crates[@]}"; do
        for w in "${wanted[@]}"; do
            [ "${entry%%|*}" = "$w" ] && selected+=("$entry")
        done
    done
    crates=("${selected[@]}")
fi

mkdir -p "$work"
fetch_dir="$work/.fetch"
mkdir -p "$fetch_dir/src"
echo 'fn main() {}' >"$fetch_dir/src/main.rs"

# Where cargo unpacks a crate it fetched.
source_of() {
    local name=$1 version=$2
    ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name-$version" 2>/dev/null | head -1
}

summary=()
for entry in "${crates[@]}"; do
    spec=${entry%%|*}
    rest=${entry#*|}
    args=${rest%%|*}
    rest=${rest#*|}
    features=${rest%%|*}
    only_tokio=0
    [ "$rest" != "$features" ] && [ "${rest#*|}" = tokio ] && only_tokio=1
    name=${spec%@*}
    version=${spec#*@}
    echo "=== $name $version"

    cat >"$fetch_dir/Cargo.toml" <<EOF
[package]
name = "fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
$name = "=$version"
[workspace]
EOF
    if ! (cd "$fetch_dir" && cargo fetch -q); then
        summary+=("$name $version: could not fetch")
        continue
    fi
    src=$(source_of "$name" "$version")
    dest="$work/$name-$version"
    rm -rf "$dest"
    cp -r "$src" "$dest"
    chmod -R u+w "$dest"

    # The swap: lock paths in the crate's own sources.
    # Comment lines (and so doc examples, which use the crate as a user
    # would) are left alone.
    find "$dest/src" -name '*.rs' -print0 | ONLY_TOKIO=$only_tokio xargs -0 perl -pi -e '
        next if m{^\s*//};
        s/(?<![:\w])tokio::sync::/lockgraph::tokio::sync::/g;
        s/(?<![:\w])use tokio::sync;/use lockgraph::tokio::sync;/g;
        next if $ENV{ONLY_TOKIO};
        s/(?<![:\w])std::sync::/lockgraph::sync::/g;
        s/(?<![:\w])use std::sync;/use lockgraph::sync;/g;
        s/(?<![:\w])parking_lot::/lockgraph::parking_lot::/g;
    '
    swapped=$(grep -rl 'lockgraph::' "$dest/src" | wc -l)
    edition=$(grep -E '^edition *=' "$dest/Cargo.toml" | head -1 | grep -o '20[0-9][0-9]' || echo 2015)
    if [ "$edition" = 2015 ] && [ -f "$dest/src/lib.rs" ]; then
        printf '\nextern crate lockgraph;\n' >>"$dest/src/lib.rs"
    fi
    feature_list=""
    [ -n "$features" ] && feature_list="\"$features\""
    cat >>"$dest/Cargo.toml" <<EOF

[dependencies.lockgraph]
path = "$root"
features = [$feature_list]

[workspace]
EOF

    log="$work/$name-$version.log"
    # shellcheck disable=SC2086
    (cd "$dest" && CARGO_TARGET_DIR="$work/target" timeout 1200 cargo test --no-fail-fast $args) >"$log" 2>&1
    status=$?
    results=$(grep -E '^test result:' "$log" | awk '{p+=$4; f+=$6} END {printf "%d passed, %d failed", p, f}')
    reports=$(grep -cE 'potential deadlock|^deadlock|race condition' "$log")
    summary+=("$name $version: $swapped files swapped; cargo test exit $status; $results; $reports report lines (log: $log)")
    grep -E 'potential deadlock|^deadlock|race condition' "$log" | sort | uniq -c | head -20
done

echo
echo "=== summary (LOCKGRAPH_CLASSES=$LOCKGRAPH_CLASSES, LOCKGRAPH=$LOCKGRAPH)"
printf '%s\n' "${summary[@]}"
