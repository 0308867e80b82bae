#!/bin/bash
# run.sh - build an optimised relaypolicy into build-bench/, run the full
# benchmark and the comparison with Postfix's cidr: table and libcidr, and
# print the tables.  From the top of a clone:
#
#   bash bench/run.sh
#
# Results also go to build-bench/bench.json.  Extra CMake arguments may be
# passed in RP_BENCH_CMAKE_ARGS.  The full run takes a few minutes on two
# cores; run it on an otherwise idle machine for stable figures.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-bench

mkdir -p "$build"
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DRP_BUILD_BENCH=ON ${RP_BENCH_CMAKE_ARGS:-} > "$build/cmake.log" 2>&1 ||
    { cat "$build/cmake.log"; exit 1; }
cmake --build "$build" -j2 --target rp_bench rp_libcidr_scan
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/rp_bench" --json "$build/bench.json"
bash "$root/bench/compare.sh" "$build"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "JSON: $build/bench.json"
