#!/usr/bin/env bash
# Build the libFuzzer targets with clang into build-fuzzer/ and run each
# for a while, printing executions and coverage per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 20); TARGET names from fuzz/ (default: all).
# FUZZ_JOBS=2 runs two targets at once (default 1).  Working corpora live in
# build-fuzzer/corpus/<target>/ (seeded from fuzz/seeds/<target>/ and kept
# between runs); crashes go to build-fuzzer/artifacts/.  A crash makes the
# script exit non-zero: add the reproducer to fuzz/seeds/<target>/ once it
# is fixed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzzer"
secs=${1:-20}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for src in "$root"/fuzz/fuzz_*.c; do
        targets+=("$(basename "${src%.c}")")
    done
fi
jobs=${FUZZ_JOBS:-1}

if ! command -v clang >/dev/null; then
    echo "fuzz.sh: clang is not installed (scripts/install-deps.sh)" >&2
    exit 2
fi

mkdir -p "$build"
log="$build/build.log"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRP_BUILD_FUZZ=ON \
      -DBUILD_TESTING=OFF -DRP_BUILD_TOOLS=OFF -DRP_BUILD_EXAMPLES=OFF \
      -DRP_BUILD_BINDINGS=OFF -DRP_BUILD_BENCH=OFF >"$log" 2>&1 \
    || { cat "$log" >&2; exit 2; }
cmake --build "$build" -j2 --target "${targets[@]}" >>"$log" 2>&1 \
    || { tail -40 "$log" >&2; exit 2; }

# The value of KEY in a target's .options file, or empty.
option() {
    sed -n "s/^$2 *= *//p" "$root/fuzz/$1.options" 2>/dev/null | head -1
}

# Run one target; its libFuzzer output goes to build-fuzzer/logs/<t>.log.
run_one() {
    local t=$1 corpus="$build/corpus/$1" log="$build/logs/$1.log"
    local args=(-max_total_time="$secs" -print_final_stats=1
                -artifact_prefix="$build/artifacts/$t-")
    local v
    mkdir -p "$corpus" "$build/artifacts" "$build/logs"
    for k in dict max_len timeout rss_limit_mb; do
        v=$(option "$t" "$k")
        [ -z "$v" ] && continue
        [ "$k" = dict ] && v="$root/fuzz/$v"
        args+=(-"$k"="$v")
    done
    nice -n 10 "$build/fuzz/$t" "${args[@]}" "$corpus" \
        "$root/fuzz/seeds/$t" >"$log" 2>&1
}

# One summary line from a finished target's log.
summary() {
    local t=$1 log="$build/logs/$1.log" rc=$2
    local execs cov ft corp
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 |
           cut -d' ' -f2)
    printf '%-18s %s  execs %-10s cov %-6s ft %-7s corpus %s\n' "$t" \
        "$([ "$rc" -eq 0 ] && echo ok || echo CRASH)" "${execs:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

status=0
pids=()
names=()
finish() {
    local rc=0
    wait "${pids[0]}" || rc=$?
    summary "${names[0]}" "$rc"
    if [ "$rc" -ne 0 ]; then
        status=1
        grep -E 'ERROR|invariant|SUMMARY|Test unit written' \
            "$build/logs/${names[0]}.log" | head -5
    fi
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
}
echo "fuzz.sh: ${#targets[@]} targets, ${secs}s each, $jobs at a time"
for t in "${targets[@]}"; do
    run_one "$t" &
    pids+=($!)
    names+=("$t")
    if [ ${#pids[@]} -ge "$jobs" ]; then
        finish
    fi
done
while [ ${#pids[@]} -gt 0 ]; do
    finish
done
exit $status
