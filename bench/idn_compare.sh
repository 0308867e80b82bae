#!/bin/bash
# idn_compare.sh - the cost of IDN addresses, and ASCII before and after:
# builds rp_bench_idn against this tree and against REF (default main) in
# scratch directories, then runs both, alternating, in one run.
#
#   bash bench/idn_compare.sh [REF] [ROUNDS]
#   bash bench/idn_compare.sh --instructions [REF]
#
# --instructions counts instructions per decision instead (valgrind's
# callgrind, 20,000 decisions a row): slow, but the same on a busy machine
# as on an idle one, so small differences show.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
instructions=false
if [ "${1:-}" = --instructions ]; then
    instructions=true
    shift
fi
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

# Instructions per decision, row by row: time_row() runs five times a
# row, each call a callgrind dump; the least of the five is printed.
count() { # BUILD NAME
    local out="$scratch/$2.cg" names
    valgrind --tool=callgrind --dump-after=time_row \
        --callgrind-out-file="$out" "$1/rp_bench_idn" 20000 \
        > "$scratch/$2.rows" 2> "$scratch/$2.log" ||
        { cat "$scratch/$2.log"; exit 1; }
    names=$(awk '{print $1}' "$scratch/$2.rows" | tr '\n' ' ')
    for i in $(seq 1 $(($(wc -l < "$scratch/$2.rows") * 5))); do
        echo "$(( (i - 1) / 5 )) $(awk '/^totals:/ {print $2}' "$out.$i")"
    done | awk -v names="$names" '
        BEGIN { n = split(names, name, " ") }
        { if (!($1 in best) || $2 < best[$1]) best[$1] = $2 }
        END { for (r = 0; r < n; r++)
                  printf "%-12s %8.0f instructions/decision\n", name[r + 1],
                         best[r] / 4000 }'
}

git -C "$root" archive "$ref" | tar -x -C "$scratch" --one-top-level=before
build "$scratch/before" "$scratch/before-build"
build "$root" "$scratch/after-build"
if $instructions; then
    echo "-- $ref"
    count "$scratch/before-build" before
    echo "-- this tree"
    count "$scratch/after-build" after
    exit 0
fi
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2 3; do
    echo "-- round $i: $ref"
    "$scratch/before-build/rp_bench_idn" "$rounds"
    echo "-- round $i: this tree"
    "$scratch/after-build/rp_bench_idn" "$rounds"
done
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
