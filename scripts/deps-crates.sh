#!/usr/bin/env bash
# `cargo lockgraph test --deps` on published crates' own test suites: the
# evidence that the lock_api shim changes no result and costs little.
#
#   bash scripts/deps-crates.sh                  # all the crates below
#   bash scripts/deps-crates.sh dashmap@5.5.3    # some of them
#
# Each crate is taken from crates.io at a pinned version (through `cargo
# fetch`) and copied, unchanged but for an empty [workspace] table (and without a
# rust-toolchain file), to
# target/deps-crates/. Its suite then runs twice after a build of each:
# plain `cargo test ARGS` (lock_api as published), and `cargo lockgraph
# test --deps ARGS` (the shim patched over lock_api for the whole graph,
# so the crate's own parking_lot or dashmap locks and those of its
# dependencies are checked). The summary gives both results, both wall
# times (of the second, built, run) and every report; the logs stay in
# target/deps-crates/NAME-VERSION.{plain,deps}.log.
# Not run in CI: it downloads and builds other crates for several minutes.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${DEPS_CRATES_DIR:-$root/target/deps-crates}

# name@version|cargo test arguments
crates=(
    "dashmap@5.5.3|"
    "moka@0.12.16|--features sync --lib"
    "quick_cache@0.6.24|"
    "prometheus@0.14.0|"
    # tokio with its parking_lot feature (`full`): tokio's own locks under the shim.
    "tokio-graceful-shutdown@0.16.0|"
)
if [ $# -gt 0 ]; then
    selected=()
    for entry in "${crates[@]}"; do
        for w in "$@"; do
            [ "${entry%%|*}" = "$w" ] && selected+=("$entry")
        done
    done
    crates=("${selected[@]}")
fi

(cd "$root" && cargo build -q -p cargo-lockgraph) || exit 1
lockgraph="$root/target/debug/cargo-lockgraph"
export LOCKGRAPH_SOURCE="$root"

mkdir -p "$work/.fetch/src"
echo 'fn main() {}' >"$work/.fetch/src/main.rs"
source_of() {
    ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$1-$2" 2>/dev/null | head -1
}

# The counts of one run's log: passed, failed.
counts() {
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
         END { printf "%d passed, %d failed", p, f }' "$1"
}

summary=()
for entry in "${crates[@]}"; do
    spec=${entry%%|*}
    args=${entry#*|}
    name=${spec%@*}
    version=${spec#*@}
    dir="$work/$name-$version"
    echo "=== $name $version"
    cat >"$work/.fetch/Cargo.toml" <<TOML
[package]
name = "fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
$name = "=$version"
[workspace]
TOML
    (cd "$work/.fetch" && cargo fetch -q) || { summary+=("$spec: fetch failed"); continue; }
    src=$(source_of "$name" "$version")
    if [ ! -d "$dir" ]; then
        cp -r "$src" "$dir"
        chmod -R u+w "$dir"
        grep -q '^\[workspace\]' "$dir/Cargo.toml" || printf '\n[workspace]\n' >>"$dir/Cargo.toml"
        # The machine's toolchain, not the one the crate's authors pin.
        rm -f "$dir/rust-toolchain" "$dir/rust-toolchain.toml"
    fi
    # shellcheck disable=SC2086
    (cd "$dir" && cargo test --no-run $args >/dev/null 2>&1)
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    (cd "$dir" && cargo test --no-fail-fast $args >"$dir.plain.log" 2>&1)
    plain_time=$(echo "$(date +%s.%N) - $start" | bc)
    # The first run builds the patched graph; the second is timed.
    # shellcheck disable=SC2086
    (cd "$dir" && "$lockgraph" lockgraph test --deps --no-fail-fast $args >/dev/null 2>&1)
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    (cd "$dir" && "$lockgraph" lockgraph test --deps --no-fail-fast $args >"$dir.deps.log" 2>&1)
    deps_status=$?
    deps_time=$(echo "$(date +%s.%N) - $start" | bc)
    patched=$(grep -o 'the locks of .* are checked' "$dir.deps.log" | head -1)
    reports=$(grep -cE '^(potential )?deadlock' "$dir.deps.log")
    line=$(printf '%s: plain %s (%.1f s); --deps %s (%.1f s, %.2fx), exit %d, %d report lines; %s' \
        "$spec" "$(counts "$dir.plain.log")" "$plain_time" "$(counts "$dir.deps.log")" \
        "$deps_time" "$(echo "$deps_time / $plain_time" | bc -l)" "$deps_status" "$reports" "$patched")
    echo "$line"
    grep -E '^(potential )?deadlock' "$dir.deps.log" | sort | uniq -c
    summary+=("$line")
done
echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
