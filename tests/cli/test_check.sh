#!/usr/bin/env bash
# `check`: one decision, its exit code and --explain.
. "$2/lib.sh"
P="$EXAMPLES/default.conf"

# An outside client may not relay: the reply, exit 1.
expect_rc 1 "$CLI" check --policy "$P" --client 203.0.113.9 \
    --to friend@remote.example
expect_out '^550 5\.7\.1 <friend@remote\.example>: Relaying prohibited'

# Mail to a known local recipient is accepted: exit 0.
expect_rc 0 "$CLI" check --policy "$P" --client 203.0.113.9 \
    --from someone@remote.example --to alice@example.com
expect_out '^250 2\.1\.5 OK$'

# An unknown local recipient is refused at RCPT time.
expect_rc 1 "$CLI" check --policy "$P" --client 203.0.113.9 \
    --to nobody@example.com
expect_out '^550 5\.1\.1 '

# A routing trick is judged by where the mail would really go.
expect_rc 1 "$CLI" check "$P" --client 203.0.113.9 \
    --to 'friend%remote.example@example.com' --explain
expect_out '^verdict: +REJECT \(relay-denied\)'
expect_out '^destination: friend@remote\.example$'
expect_out 'routing attempt'

# A trusted device relays; --explain names the listener, the rule's
# file:line and the destination.
expect_rc 0 "$CLI" check --policy "$P" --client 10.1.2.3 \
    --to support@vendor.example --explain
expect_out '^verdict: +RELAY \(relayed\)'
expect_out '^listener: +internet$'
expect_out "^rule: +$P:[0-9]+$"
expect_out '^destination: +support@vendor\.example$'
expect_out 'step 1 \(listener\)'
expect_out 'step 7 \(class\)'

# Submission with authentication relays; without it, 530.
expect_rc 0 "$CLI" check --policy "$P" --client 198.51.100.20 \
    --local 192.0.2.25:587 --user alice --from alice@example.com \
    --to friend@remote.example
expect_out '^250 '
expect_rc 1 "$CLI" check --policy "$P" --client 198.51.100.20 \
    --local 192.0.2.25:587 --to friend@remote.example
expect_out '^530 5\.7\.0 '
expect_rc 1 "$CLI" check --policy "$P" --client 198.51.100.20 \
    --local 192.0.2.25:587 --user alice --from bob@example.com \
    --to friend@remote.example
expect_out '^553 5\.7\.1 '

# --listener picks the default local address of that listener.
expect_rc 1 "$CLI" check --policy "$P" --listener submission \
    --client 198.51.100.20 --to friend@remote.example
expect_out '^530 '
expect_rc 64 "$CLI" check --policy "$P" --listener nope \
    --client 198.51.100.20 --to friend@remote.example
expect_out "no listener 'nope'"

# A reroute shows the rewritten recipient.
expect_rc 0 "$CLI" check --policy "$P" --client 203.0.113.9 \
    --to bob@example-old.com --explain
expect_out '^rewritten: +bob@example\.com$'

# IPv6 clients, bracketed local addresses.
expect_rc 0 "$CLI" check --policy "$P" --client 2001:db8:1::5 \
    --local '[2001:db8::25]:25' --to carol@example.com
expect_out '^250 '

# Groups given by the caller.
expect_rc 0 "$CLI" check --policy "$P" --client 198.51.100.20 \
    --local 192.0.2.25:587 --user dave --group staff --group admins \
    --from dave@example.com --to x@remote.example

# Bad facts are usage errors, never a guessed verdict.
expect_rc 64 "$CLI" check --policy "$P" --client 10.1 --to a@example.com
expect_out 'not a strict IP'
expect_rc 64 "$CLI" check --policy "$P" --client 192.0.2.9 \
    --local 192.0.2.25:99999 --to a@example.com
expect_out "is not IP:PORT"
expect_rc 64 "$CLI" check --policy "$P" --client 192.0.2.9 \
    --group g --to a@example.com
expect_out '--group needs --user'

# The narrower grants: a claim from a peer that is not a trusted proxy is
# decided as the peer; a certificate passes 'require auth or certificate'.
G="$ROOT/tests/data/decide/grants.conf"
expect_rc 1 "$CLI" check --policy "$G" --client 10.2.3.4 \
    --peer 203.0.113.5 --local 192.0.2.6:25 --to b@remote.example --explain
expect_out 'claim of client 10\.2\.3\.4 by peer 203\.0\.113\.5 ignored'
expect_rc 0 "$CLI" check --policy "$G" --client 10.2.3.4 \
    --peer 10.0.0.7 --local 192.0.2.6:25 --to b@remote.example
expect_rc 0 "$CLI" check --policy "$G" --peer 10.2.3.4 \
    --local 192.0.2.6:25 --to b@remote.example
expect_rc 0 "$CLI" check --policy "$G" --client 203.0.113.5 \
    --local 192.0.2.4:465 --to b@remote.example \
    --cert 04:EE:E2:6D:FC:45:3B:87:D5:12:7D:23:D9:53:CF:0A:E8:BC:1E:C1:D7:98:58:AD:68:26:4B:B1:3C:1D:20:E8
expect_rc 1 "$CLI" check --policy "$G" --client 10.1.2.5 \
    --local 192.0.2.1:25 --to b@remote.example --explain
expect_out 'relay to vendor\.net \.vendor\.net only .*: remote\.example is outside it'
expect_rc 64 "$CLI" check --policy "$G" --client 203.0.113.5 \
    --local 192.0.2.4:465 --to b@remote.example --cert 04:EE:E2
expect_out 'certificate fingerprint is not 64 hex digits'
expect_rc 64 "$CLI" check --policy "$G" --client 203.0.113.5 \
    --peer 10.0.0.07 --local 192.0.2.4:465 --to b@remote.example
expect_out 'peer IP'

# A bad recipient still gets an SMTP verdict.
expect_rc 1 "$CLI" check --policy "$P" --client 203.0.113.9 \
    --to 'user@remote.example@'
expect_out '^501 5\.1\.3 '

finish
