#!/usr/bin/env bash
# Policy errors are reported as file:line:col: message, exit 2.
. "$2/lib.sh"

printf 'domain example.com local\nlistener x {\n    bind 0.0.0.0:25\n    alow anonymous submit\n}\n' \
    > "$TMP/typo.conf"
for cmd in dump lint relaytest; do
    expect_rc 2 "$CLI" "$cmd" "$TMP/typo.conf"
    expect_out "^$TMP/typo.conf:4:5: unknown statement 'alow'"
done
expect_rc 2 "$CLI" check --policy "$TMP/typo.conf" --client 192.0.2.9 \
    --to a@example.com
expect_out "^$TMP/typo.conf:4:5: "

# An unsafe policy does not compile unless it says so.
printf 'listener x {\n    bind 0.0.0.0:25\n    allow anonymous relay\n}\n' \
    > "$TMP/unsafe.conf"
expect_rc 2 "$CLI" lint "$TMP/unsafe.conf"
expect_out "^$TMP/unsafe.conf:3:[0-9]+: .*open relay"

# Host bits set in a network: an error with its column.
printf 'network lan 127.0.0.1/8\n' > "$TMP/cidr.conf"
expect_rc 2 "$CLI" dump "$TMP/cidr.conf"
expect_out "^$TMP/cidr.conf:1:[0-9]+: "

# An error in an included file names that file.
printf 'domain example.com local\ninclude "inc.conf"\n' > "$TMP/main.conf"
printf '\n\nlistener {\n' > "$TMP/inc.conf"
expect_rc 2 "$CLI" dump "$TMP/main.conf"
expect_out "inc.conf:3:1: "

finish
