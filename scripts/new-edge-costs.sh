#!/usr/bin/env bash
# What a new lock-order edge costs in a graph of 2,000 locks and 20,000
# edges (release + `always`, lockgraph's std flavour; `bench_report
# --new-edge`, median of 7 rounds of 2,000 edges), with each of the slow
# path's extras on and off: lock classes (LOCKGRAPH_CLASSES), span context
# (the `spans` feature, no subscriber installed) and recording
# (LOCKGRAPH_RECORD). Backtraces are captured for the first edges of a
# site only, and symbols are resolved only when a report is printed, so
# neither is on this path.
#
#   bash scripts/new-edge-costs.sh
#
# Not run in CI (a couple of minutes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
record=$(mktemp -d)
trap 'rm -rf "$record"' EXIT

run() { # label, cargo features args..., then env assignments via `env`
    local label=$1
    shift
    printf '| %s | %s |\n' "$label" "$("$@" | sed -n 's/new non-cycle edge: //p')"
}

cargo build -q --release --example bench_report --features always
cargo build -q --release --example bench_report --no-default-features --features always \
    --target-dir target/no-spans
with=target/release/examples/bench_report
without=target/no-spans/release/examples/bench_report

echo "| configuration | new edge |"
echo "|---|---:|"
run "classes off, spans compiled out, no recording" env LOCKGRAPH_CLASSES=off "$without" --new-edge
run "classes on (default), spans compiled out" env "$without" --new-edge
run "classes off, spans in (default feature, no subscriber)" env LOCKGRAPH_CLASSES=off "$with" --new-edge
run "defaults: classes on, spans in" env "$with" --new-edge
run "defaults + recording (LOCKGRAPH_RECORD)" env LOCKGRAPH_RECORD="$record" "$with" --new-edge
