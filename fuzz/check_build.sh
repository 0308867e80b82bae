#!/bin/bash
# The OSS-Fuzz / ClusterFuzzLite build, checked: run fuzz/build.sh with the
# variables those services set, for clang's libFuzzer with AddressSanitizer
# and UndefinedBehaviorSanitizer, into a scratch $OUT; then run each target
# it built over its seed zip (every seed, then a few seconds of fuzzing
# with its dictionary), as the services' runners would.
#
#   check_build.sh [SECONDS]      (default 3 per target)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-3}
for need in clang clang++ zip unzip; do
    if ! command -v "$need" >/dev/null; then
        echo "skip: $need is not installed (bash scripts/install-deps.sh)"
        exit 77
    fi
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
flags="-O1 -fno-omit-frame-pointer -gline-tables-only"
flags+=" -fsanitize=address,undefined -fsanitize-address-use-after-scope"
flags+=" -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
export CC=clang CXX=clang++ CFLAGS="$flags" CXXFLAGS="$flags"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT="$scratch/out" WORK="$scratch/work" JOBS="${JOBS:-2}"
mkdir -p "$OUT" "$WORK"
bash "$root/fuzz/build.sh"

n=0
for src in "$root"/fuzz/fuzz_*.c; do
    t=$(basename "${src%.c}")
    bin="$OUT/$t"
    [ -x "$bin" ] || { echo "check_build: $t was not built" >&2; exit 1; }
    [ -f "$OUT/${t}_seed_corpus.zip" ] ||
        { echo "check_build: no ${t}_seed_corpus.zip" >&2; exit 1; }
    corpus="$scratch/corpus/$t"
    mkdir -p "$corpus"
    unzip -q "$OUT/${t}_seed_corpus.zip" -d "$corpus"
    args=(-max_total_time="$secs" -artifact_prefix="$scratch/$t-"
          -print_final_stats=1)
    if [ -f "$OUT/$t.dict" ]; then
        args+=(-dict="$OUT/$t.dict")
    fi
    log="$scratch/$t.log"
    if ! (cd "$OUT" && "$bin" "${args[@]}" "$corpus") >"$log" 2>&1; then
        tail -30 "$log" >&2
        echo "check_build: $t failed on its seeds or while fuzzing" >&2
        exit 1
    fi
    seeds=$(find "$corpus" -type f | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "check_build: $t ok ($seeds seeds from the zip, ${execs:-?} executions)"
    n=$((n + 1))
done
echo "check_build: $n targets built by fuzz/build.sh and run"
