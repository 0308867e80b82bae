#!/usr/bin/env bash
# Big-endian check of the compiled prefix table: cross-build the prefix
# table code (lib/radix*.c, lib/alloc.c) with two drivers that need no
# Criterion, run them on s390x under qemu-user and natively, and compare.
#
#   tests/radix_crosscheck.c  ~100k lookups (IPv4 and IPv6, wide IPv6
#                             entries, hosts, a table large enough for the
#                             first stride and the host table) against a
#                             brute-force reference, and a digest of every
#                             answer, which must equal the native run's;
#   tests/test_radix.c        its fixed cases, built against
#                             tests/standalone.h (its randomized cases take
#                             minutes under emulation; the cross check
#                             covers the same paths).
#
# The table's bytes are little-endian on every host (lib/radix_table.h); before
# that was explicit, 70% of these lookups were wrong on s390x.
#
# The compiled policy file (lib/pfile_*.c) is written
# and read little-endian; its big-endian branches (the tables converted at
# open instead of used in place) are cross-compiled here with -Werror, not
# run: opening a file needs PCRE2 for s390x, as below.
#
# Not run on s390x: the decision vectors.  They need PCRE2, libidn2 and libunistring
# built for s390x, i.e. Debian multiarch (`dpkg --add-architecture s390x`,
# libpcre2-dev:s390x and the rest), a change to the build host's
# package configuration that the test command does not make.  What covers
# the rest: nothing else in lib/ stores a multi-byte value in one byte
# order and reads it in another (the hash tables hash and probe on the
# same host), and the vectors run natively, under the sanitizers and
# under valgrind.  Before a release, run them on a real or emulated s390x
# system (e.g. a Debian s390x chroot under qemu-user-static) with
# `RP_TEST_QUICK=1 bash scripts/test.sh`.
#
# Exit 0 when both drivers pass on s390x and agree with the native run,
# 77 when the cross compiler or qemu-s390x is missing (Debian packages
# gcc-s390x-linux-gnu, libc6-dev-s390x-cross, qemu-user), 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

cross=${RP_S390X_CC:-s390x-linux-gnu-gcc}
qemu=${RP_S390X_QEMU:-qemu-s390x}
native=${CC:-cc}
for tool in "$cross" "$qemu" "$native"; do
    if ! command -v "$tool" > /dev/null; then
        echo "test-s390x: skipped: $tool is not installed" \
             "(gcc-s390x-linux-gnu, libc6-dev-s390x-cross, qemu-user)"
        exit 77
    fi
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=(-O2 -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L
       -Iinclude -Ilib -Itests)
lib=(lib/radix.c lib/radix_compile.c lib/radix_lookup.c lib/radix_check.c
     lib/alloc.c lib/text.c)

echo "test-s390x: cross-building for s390x"
"$cross" -static "${flags[@]}" -o "$out/crosscheck" \
    tests/radix_crosscheck.c "${lib[@]}"
"$cross" -static "${flags[@]}" -DRP_STANDALONE_TEST -o "$out/test_radix" \
    tests/test_radix.c "${lib[@]}"
"$cross" "${flags[@]}" -fsyntax-only lib/pfile_read.c lib/pfile_write.c \
    lib/domains.c
"$native" "${flags[@]}" -o "$out/crosscheck-native" \
    tests/radix_crosscheck.c "${lib[@]}"

fail=0
want=$("$out/crosscheck-native") || { echo "$want"; fail=1; }
echo "native:  $want"
got=$(timeout 900 "$qemu" "$out/crosscheck") || fail=1
echo "s390x:   $got"
case "$got" in
big-endian:*) ;;
*) echo "test-s390x: the s390x run did not report big-endian"; fail=1 ;;
esac
if [ "${got##*digest }" != "${want##*digest }" ]; then
    echo "test-s390x: s390x and native answers differ"
    fail=1
fi
timeout 900 "$qemu" "$out/test_radix" empty_builder zero_lists null_frees \
    longest_prefix mapped_boundary address_families full_range \
    allocation_failure add_failure || fail=1
if [ "$fail" -ne 0 ]; then
    echo "test-s390x: FAILED"
    exit 1
fi
echo "test-s390x: passed"
