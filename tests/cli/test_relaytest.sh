#!/usr/bin/env bash
# `relaytest`: the open-relay suite, its transcript and its verdicts.
. "$2/lib.sh"

# The bundled policy is not an open relay.
expect_rc 0 "$CLI" relaytest "$EXAMPLES/default.conf"
expect_out '^RCPT TO:<user@relaytest\.invalid>$'
expect_out '^550 5\.7\.1 <user@relaytest\.invalid>: '
expect_out '^RCPT TO:<user%relaytest\.invalid@example\.com>$'
expect_out '^RCPT TO:<@example\.com:user@relaytest\.invalid>$'
expect_out '^MAIL FROM:<>$'
expect_out '^verdict: listener internet: not an open relay'
expect_out '^verdict: listener submission: not an open relay'
expect_out '^result: not an open relay \(2 listeners tested\)$'
expect_no_out 'RELAYED'

# Only one listener.
expect_rc 0 "$CLI" relaytest "$EXAMPLES/default.conf" --listener submission
expect_out '^verdict: listener submission: '
expect_no_out 'listener internet'
expect_rc 64 "$CLI" relaytest "$EXAMPLES/default.conf" --listener nope

# A deliberately open policy is caught, and the patterns are named.
cat > "$TMP/open.conf" <<'POL'
allow open-relay
domain example.com local recipients alice
listener internet {
    bind 0.0.0.0:25
    role gateway
}
listener open {
    bind 0.0.0.0:2525
    allow anonymous relay
}
POL
expect_rc 1 "$CLI" relaytest "$TMP/open.conf"
expect_out '^verdict: listener internet: not an open relay'
expect_out '^verdict: listener open: OPEN RELAY: relayed [0-9]+ of [0-9]+ patterns: external recipient, percent hack'
expect_out 'null sender'
expect_out '^250 2\.1\.5 OK +<== RELAYED$'
expect_out '^result: OPEN RELAY on 1 of 2 listeners$'

# Relay for a trusted network only: the test picks an outside client the
# policy does not trust, so it is not an open relay.
cat > "$TMP/trusted.conf" <<'POL'
domain example.com local recipients alice
network office 203.0.113.0/24
listener internet {
    bind 0.0.0.0:25
    role gateway
    allow network office relay
}
POL
expect_rc 0 "$CLI" relaytest "$TMP/trusted.conf"
expect_out 'client 198\.51\.100\.7 '
expect_out '^result: not an open relay'

# "All except" relay is an open relay to everyone not listed.
cat > "$TMP/except.conf" <<'POL'
allow open-relay
domain example.com local recipients alice
network lan 10.0.0.0/8
listener internet {
    bind [::]:25
    role gateway
    allow network all-except lan relay
}
POL
expect_rc 1 "$CLI" relaytest "$TMP/except.conf"
expect_out 'client 2001:db8'
expect_out 'OPEN RELAY'

# Routing taken literally for everyone: the percent hack goes through.
cat > "$TMP/routing.conf" <<'POL'
domain example.com local
listener internet {
    bind 0.0.0.0:25
    role gateway
    allow anonymous routing
}
POL
expect_rc 1 "$CLI" relaytest "$TMP/routing.conf"
expect_out '^verdict: listener internet: OPEN RELAY: .*percent hack'

# A listener only internal clients reach is not exposed.
expect_rc 0 "$CLI" relaytest "$EXAMPLES/mailbox.conf"
expect_out 'no outside client reaches it'

finish
