#!/bin/sh
# The bench_quick test: run the benchmark in quick mode; it must exit 0
# and print the result table.
set -u
out=$("$1" --quick) || { printf '%s\n' "$out"; echo "rp_bench failed"; exit 1; }
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^measure  *value' || { echo "no table"; exit 1; }
printf '%s\n' "$out" | grep -q '^targets met: [0-9]* of [0-9]*$' ||
    { echo "no summary line"; exit 1; }
