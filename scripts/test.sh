#!/usr/bin/env bash
# The whole test run: install the dependencies, build, run every test, then
# build and run the unit and fuzz-seed tests again under AddressSanitizer
# and UndefinedBehaviorSanitizer, run the decision vectors and fuzz seeds
# under valgrind and the prefix table on big-endian s390x under qemu-user,
# build the whole tree with clang, give each fuzz target a short run, and
# build, lint and install the Debian packages.
# Warnings are errors here (RP_WERROR=ON), not in a plain build.
#
#   bash scripts/test.sh            everything
#   RP_TEST_QUICK=1 bash scripts/test.sh   only the first build and its tests
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh

step() { printf '\n==> %s\n' "$*"; }

# The tests a build skipped (ctest SKIP_RETURN_CODE 77), each with the
# "skip: ..." line it printed.
show_skips() {
    local log="$1/Testing/Temporary/LastTest.log"
    [ -f "$log" ] || return 0
    awk '/^[0-9]+\/[0-9]+ Test: /{name=$3}
         /^skip: /{print "  skipped " name ": " substr($0, 7)}' "$log"
}

step "build (RelWithDebInfo) and run every test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
      -DRP_WERROR=ON
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" -LE valgrind
show_skips build

if [ "${RP_TEST_QUICK:-0}" = 1 ]; then
    exit 0
fi

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON \
      -DRP_SANITIZE=address,undefined -DRP_BUILD_BINDINGS=OFF \
      -DRP_BUILD_BENCH=OFF -DRP_WERROR=ON
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L sanitize

step "valgrind memcheck: decision vectors and fuzz seed replays"
ctest --test-dir build --output-on-failure -j "$jobs" -L valgrind
show_skips build

step "big-endian: the prefix table on s390x under qemu-user"
s390x_rc=0
bash scripts/test-s390x.sh || s390x_rc=$?
if [ "$s390x_rc" -eq 77 ]; then
    echo "skipped: no s390x cross compiler or qemu-s390x"
elif [ "$s390x_rc" -ne 0 ]; then
    exit "$s390x_rc"
fi

step "clang build of the whole tree (warnings are errors), unit tests"
if command -v clang >/dev/null; then
    cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang \
          -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON -DRP_WERROR=ON \
          -DRP_TSAN_TEST=OFF
    timeout "${RP_CLANG_TIMEOUT:-1200}" cmake --build build-clang -j "$jobs"
    ctest --test-dir build-clang --output-on-failure -j "$jobs" -L unit
else
    echo "skipped: clang is not installed"
fi

if [ -x scripts/fuzz.sh ] || [ -f scripts/fuzz.sh ]; then
    step "short libFuzzer runs"
    bash scripts/fuzz.sh "${RP_FUZZ_SECONDS:-15}"
fi
step "Debian packages: build, lintian, install, run the installed programs"
bash scripts/test-deb.sh

echo
echo "all tests passed"
