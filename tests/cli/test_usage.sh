#!/usr/bin/env bash
# Usage, --help and exit codes of every subcommand.
. "$2/lib.sh"

expect_rc 64 "$CLI"
expect_out 'usage: relaypolicy COMMAND'
expect_rc 0 "$CLI" --help
expect_out 'relaytest'
expect_rc 0 "$CLI" --version
expect_out '^relaypolicy [0-9]+\.[0-9]+\.[0-9]+$'
expect_rc 64 "$CLI" frobnicate
expect_out "unknown command 'frobnicate'"

for cmd in check lint relaytest dump; do
    expect_rc 0 "$CLI" "$cmd" --help
    expect_out "^usage: relaypolicy $cmd"
    expect_rc 64 "$CLI" "$cmd" --no-such-option
    expect_out "unknown option '--no-such-option'"
done

# Missing arguments are usage errors.
expect_rc 64 "$CLI" check
expect_out 'missing --policy'
expect_rc 64 "$CLI" check --policy "$EXAMPLES/default.conf" --client 192.0.2.1
expect_out '--client IP \(or --peer IP\) and --to ADDR are needed'
expect_rc 64 "$CLI" check --policy "$EXAMPLES/default.conf" --batch \
    --client 192.0.2.1
expect_rc 64 "$CLI" check --policy "$EXAMPLES/default.conf" --client
expect_out 'needs a value'
expect_rc 64 "$CLI" lint
expect_rc 64 "$CLI" lint a.conf b.conf
expect_rc 64 "$CLI" lint "$EXAMPLES/default.conf" --format yaml
expect_rc 64 "$CLI" relaytest
expect_rc 64 "$CLI" dump

# A file that does not exist is a policy error (2), named in the message.
expect_rc 2 "$CLI" dump "$TMP/missing.conf"
expect_out "$TMP/missing.conf: cannot read: No such file"
expect_rc 2 "$CLI" lint "$TMP/missing.conf"
expect_rc 2 "$CLI" relaytest "$TMP/missing.conf"
expect_rc 2 "$CLI" check --policy "$TMP/missing.conf" --client 192.0.2.1 \
    --to a@b.example

finish
