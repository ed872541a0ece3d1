#!/usr/bin/env bash
# Instructions per operation on the hot paths, under callgrind: each cell
# runs examples/instructions.rs with N and with 0 iterations and divides the
# difference by N, so setup, warm-up and exit cancel out. Instruction counts
# do not drift with the machine's load as times do.
#
#   bash scripts/callgrind.sh            # release + `always` (detection on)
#   N=20000 bash scripts/callgrind.sh    # more iterations
#   DEBUG=1 bash scripts/callgrind.sh    # dev profile (opt-level 0, lockgraph too)
#
# Needs valgrind. Not run in CI (a few minutes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${N:-5000}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 2; }
if [ -n "${DEBUG:-}" ]; then
    cargo build -q --example instructions
    bin=$root/target/debug/examples/instructions
    build="dev profile, opt-level 0"
else
    cargo build -q --release --features always --example instructions
    bin=$root/target/release/examples/instructions
    build="release + always"
fi

count() { # workload family iterations -> instructions
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

per_op() { # workload family
    local full empty
    full=$(count "$1" "$2" "$n")
    empty=$(count "$1" "$2" 0)
    echo $(( (full - empty) / n ))
}

families=(std parking_lot tracing-mutex lockgraph lockgraph-pl)
echo "instructions per operation (callgrind, $build, N=$n)"
echo
header="| workload |"
rule="|---|"
for family in "${families[@]}"; do
    header="$header $family |"
    rule="$rule---:|"
done
echo "$header"
echo "$rule"
for workload in single nested2 chain8 create_drop; do
    row="| $workload |"
    for family in "${families[@]}"; do
        row="$row $(per_op "$workload" "$family") |"
    done
    echo "$row"
done
echo "| mpsc_pair | $(per_op mpsc_pair std) | - | - | $(per_op mpsc_pair lockgraph) | - |"
