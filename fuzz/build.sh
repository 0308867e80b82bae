#!/bin/bash -eu
# Build every fuzz target the way OSS-Fuzz and ClusterFuzzLite build a
# project: compilers and flags come from $CC, $CFLAGS (and $CXX, $CXXFLAGS
# for the link, as libFuzzer is C++), the engine from $LIB_FUZZING_ENGINE,
# and everything lands in $OUT:
#
#   $OUT/fuzz_<name>                    one binary per fuzz/fuzz_<name>.c
#   $OUT/fuzz_<name>_seed_corpus.zip    fuzz/seeds/fuzz_<name>/
#   $OUT/fuzz_<name>.dict, .options     copied beside the binary
#   $OUT/lib/                           shared libraries with no static
#                                       archive (the binaries' RUNPATH is
#                                       $ORIGIN/lib), so the runner needs
#                                       nothing installed
#
# Every fuzz/fuzz_*.c is a target: a new one needs no change here.
# $SRC/relaypolicy is the source tree when $SRC is set (OSS-Fuzz), else the
# directory above this script.  $WORK holds objects (a temporary directory
# if unset).  $JOBS compiles in parallel (default: the number of CPUs).
#
# Locally, with clang's libFuzzer:
#   CC=clang CXX=clang++ CFLAGS="-O1 -g -fsanitize=address,fuzzer-no-link" \
#   CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out \
#   bash fuzz/build.sh
: "${CC:=clang}" "${CFLAGS:=}"
: "${CXX:=${CC/clang/clang++}}" "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE, e.g. -fsanitize=fuzzer}"
: "${OUT:?set OUT to the output directory}"
: "${JOBS:=$(nproc 2>/dev/null || echo 2)}"

if [ -n "${SRC:-}" ] && [ -d "$SRC/relaypolicy/fuzz" ]; then
    root="$SRC/relaypolicy"
else
    root=$(cd "$(dirname "$0")/.." && pwd)
fi
if [ -z "${WORK:-}" ]; then
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
fi
obj="$WORK/relaypolicy-fuzz-obj"
mkdir -p "$obj" "$OUT"

defs=(-std=c11 -D_POSIX_C_SOURCE=200809L -DPCRE2_CODE_UNIT_WIDTH=8
      -DRP_BUILDING -I"$root/include" -I"$root/lib" -I"$root/fuzz")

# Compile in the background, at most $JOBS at a time; fail on any failure.
pids=()
reap() {
    local pid=${pids[0]}
    pids=("${pids[@]:1}")
    wait "$pid"
}
compile() {
    # shellcheck disable=SC2086  # CFLAGS is a list of flags
    $CC $CFLAGS "${defs[@]}" -c "$1" -o "$2" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$JOBS" ]; then
        reap
    fi
}

lib_objs=()
for src in "$root"/lib/*.c; do
    o="$obj/lib_$(basename "${src%.c}").o"
    compile "$src" "$o"
    lib_objs+=("$o")
done
targets=()
for src in "$root"/fuzz/fuzz_*.c; do
    t=$(basename "${src%.c}")
    compile "$src" "$obj/$t.o"
    targets+=("$t")
done
while [ ${#pids[@]} -gt 0 ]; do
    reap
done

# A dependency links statically when its archive exists; otherwise its
# shared library is copied into $OUT/lib, found through $ORIGIN/lib.
deps=()
for name in pcre2-8 cidr idn2 unistring; do
    a=$($CC $CFLAGS -print-file-name="lib$name.a")
    if [ -f "$a" ]; then
        deps+=("$a")
        continue
    fi
    so=$($CC $CFLAGS -print-file-name="lib$name.so")
    if [ ! -e "$so" ]; then
        echo "build.sh: neither lib$name.a nor lib$name.so found" >&2
        exit 1
    fi
    mkdir -p "$OUT/lib"
    real=$(readlink -f "$so")
    soname=$(objdump -p "$real" | sed -n 's/^ *SONAME *//p')
    cp "$real" "$OUT/lib/${soname:-$(basename "$real")}"
    deps+=(-L"$OUT/lib" -l"$name" '-Wl,-rpath,$ORIGIN/lib')
done

for t in "${targets[@]}"; do
    # shellcheck disable=SC2086  # flag lists
    $CXX $CXXFLAGS "$obj/$t.o" "${lib_objs[@]}" $LIB_FUZZING_ENGINE \
        "${deps[@]}" -lpthread -o "$OUT/$t"
    for ext in dict options; do
        if [ -f "$root/fuzz/$t.$ext" ]; then
            cp "$root/fuzz/$t.$ext" "$OUT/$t.$ext"
        fi
    done
    if [ -d "$root/fuzz/seeds/$t" ]; then
        rm -f "$OUT/${t}_seed_corpus.zip"
        (cd "$root/fuzz/seeds/$t" && zip -q -j -r "$OUT/${t}_seed_corpus.zip" .)
    fi
done
echo "build.sh: ${#targets[@]} targets in $OUT: ${targets[*]}"
