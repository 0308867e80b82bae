#!/bin/bash
# idn_compare.sh - the cost of IDN addresses, and ASCII before and after:
# builds rp_bench_idn against this tree and against REF (default main) in
# scratch directories, then runs both, alternating, in one run.
#
#   bash bench/idn_compare.sh [REF] [ROUNDS]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
ref=${1:-main}
rounds=${2:-2000000}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

build() { # SRC BUILD
    cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
        -DRP_BUILD_FUZZ=OFF -DRP_BUILD_EXAMPLES=OFF -DRP_BUILD_BINDINGS=OFF \
        -DRP_BUILD_TOOLS=OFF -DRP_BUILD_BENCH=OFF > "$2.log" 2>&1 ||
        { cat "$2.log"; exit 1; }
    cmake --build "$2" -j2 --target relaypolicy >> "$2.log" 2>&1 ||
        { cat "$2.log"; exit 1; }
    cc -O2 -I"$1/include" "$root/bench/idn.c" -L"$2" -lrelaypolicy \
        -Wl,-rpath,"$2" -o "$2/rp_bench_idn"
}

git -C "$root" archive "$ref" | tar -x -C "$scratch" --one-top-level=before
build "$scratch/before" "$scratch/before-build"
build "$root" "$scratch/after-build"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2 3; do
    echo "-- round $i: $ref"
    "$scratch/before-build/rp_bench_idn" "$rounds"
    echo "-- round $i: this tree"
    "$scratch/after-build/rp_bench_idn" "$rounds"
done
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
