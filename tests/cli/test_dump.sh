#!/usr/bin/env bash
# `dump`: the normalised policy, itself a valid policy that dumps the same.
. "$2/lib.sh"

for p in "$EXAMPLES"/*.conf; do
    expect_rc 0 "$CLI" dump "$p"
    expect_out '^# relaypolicy normalised policy$'
    expect_out '^listener [a-z-]+ \{$'
    printf '%s\n' "$OUT" > "$TMP/once.conf"
    # The dump compiles, and dumping it again changes nothing.
    expect_rc 0 "$CLI" dump "$TMP/once.conf"
    printf '%s\n' "$OUT" > "$TMP/twice.conf"
    if ! cmp -s "$TMP/once.conf" "$TMP/twice.conf"; then
        fail "dump of the dump differs for $p"
        diff "$TMP/once.conf" "$TMP/twice.conf" | head >&2
    fi
done

# Role presets are expanded; lists are one entry per line.
expect_rc 0 "$CLI" dump "$EXAMPLES/default.conf"
expect_out '^    allow anonymous submit$'
expect_out '^    allow authenticated submit relay$'
expect_out '^recipients example\.com alice$'

finish
