#!/usr/bin/env bash
# Runs a subset of the test binaries under valgrind's memcheck: any invalid
# read/write, use of uninitialised memory, or definitely-lost block fails.
# The subset covers the unsafe code (the thread-local buffers, the raw
# locks, the guards) in a few minutes on 2 cores.
#
#   bash scripts/valgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind not found: install it (Debian: apt-get install valgrind)" >&2
    exit 1
fi

# Build the test binaries and collect their paths.
binaries=$(cargo test --no-run --message-format=json --lib \
        --test cycles --test mutex --test rwlock --test reentrant --test parking_lot \
        --test robustness --test property 2>/dev/null |
    grep -o '"executable":"[^"]*"' | cut -d'"' -f4)

status=0
for binary in $binaries; do
    name=$(basename "$binary")
    start=$(date +%s)
    if PROPTEST_CASES=100 LOCKGRAPH_TEST_TIMEOUT=300 valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        "$binary" --test-threads=2 >"/tmp/valgrind-$name.log" 2>&1; then
        echo "valgrind clean: $name ($(( $(date +%s) - start ))s)"
    else
        echo "valgrind FAILED: $name"
        tail -40 "/tmp/valgrind-$name.log"
        status=1
    fi
done
exit $status
