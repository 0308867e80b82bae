#!/usr/bin/env bash
# The whole test run: install the dependencies, build, run every test, then
# build and run the unit and fuzz-seed tests again under AddressSanitizer
# and UndefinedBehaviorSanitizer, and give each fuzz target a short run.
#
#   bash scripts/test.sh            everything
#   RP_TEST_QUICK=1 bash scripts/test.sh   skip the sanitizer build and fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh

step() { printf '\n==> %s\n' "$*"; }

step "build (RelWithDebInfo) and run every test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${RP_TEST_QUICK:-0}" = 1 ]; then
    exit 0
fi

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON \
      -DRP_SANITIZE=address,undefined -DRP_BUILD_BINDINGS=OFF \
      -DRP_BUILD_BENCH=OFF
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L sanitize

if [ -x scripts/fuzz.sh ] || [ -f scripts/fuzz.sh ]; then
    step "short libFuzzer runs"
    bash scripts/fuzz.sh "${RP_FUZZ_SECONDS:-15}"
fi
echo
echo "all tests passed"
