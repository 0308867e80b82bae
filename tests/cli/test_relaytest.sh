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
expect_out '^verdict: listener open: OPEN RELAY'
expect_out '^# public range 0\.0\.0\.0/0 \(3702259456 public\) relays without login, by .*open\.conf:9: allow anonymous relay$'
expect_out '^# OPEN RELAY from outside every grant: relayed [0-9]+ of [0-9]+ patterns: external recipient, percent hack'
expect_out 'null sender'
expect_out '^250 2\.1\.5 OK +<== RELAYED$'
expect_out '^result: FAILED on 1 of 2 listeners$'

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

# The reproductions of issue 9, each written with 'allow open-relay' so
# that it compiles: relaytest fails every one of them.
cat > "$TMP/iface.conf" <<'POL'
allow open-relay
domain example.com local
listener mx {
    bind 0.0.0.0:25
    role gateway
    allow interface 10.9.9.9 relay
}
POL
expect_rc 1 "$CLI" relaytest "$TMP/iface.conf"
expect_out '^# witness [0-9.]+ \(unauthenticated\) in 0\.0\.0\.0/0 connects to 10\.9\.9\.9 port 25$'
expect_out '<== relayed \(granted\)$'
expect_out '^verdict: listener mx: OPEN RELAY'

cat > "$TMP/docs.conf" <<'POL'
allow open-relay
network docs 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24
listener mx {
    bind *:25
    role gateway
    allow network all-except docs relay
}
POL
expect_rc 1 "$CLI" relaytest "$TMP/docs.conf"
expect_out '^# public range 192\.0\.3\.0-198\.51\.99\.255 '
expect_out '^verdict: listener mx: OPEN RELAY'

cat > "$TMP/halves.conf" <<'POL'
allow open-relay
network a 0.0.0.0/1 128.0.0.0/1
listener mx {
    bind *:25
    role gateway
    allow network a relay
}
POL
expect_rc 1 "$CLI" relaytest "$TMP/halves.conf"
expect_out '^# public range 0\.0\.0\.0/0 '
expect_out '^verdict: listener mx: OPEN RELAY'

cat > "$TMP/remote8.conf" <<'POL'
allow open-relay
listener mx {
    bind *:25
    remote 8.0.0.0/8
    allow anonymous relay
}
POL
expect_rc 1 "$CLI" relaytest "$TMP/remote8.conf"
expect_out '^# public range 8\.0\.0\.0/8 \(16777216 public\) '
expect_out '^# witness 8\.0\.0\.0 '
expect_out '^verdict: listener mx: OPEN RELAY'

# A partner's /32 is reported and passes; a /23 is wider than the /24
# threshold, which an option moves.
cat > "$TMP/partner.conf" <<'POL'
listener mx {
    bind *:25
    role gateway
    allow network 198.51.100.7 relay
}
POL
expect_rc 0 "$CLI" relaytest "$TMP/partner.conf"
expect_out '^# public range 198\.51\.100\.7/32 \(1 public\) relays without login, by .*partner\.conf:4: allow network 198\.51\.100\.7/32 relay$'
expect_out '^verdict: listener mx: not an open relay; relays without login for 1 public IPv4 '
cat > "$TMP/wide.conf" <<'POL'
listener mx {
    bind *:25
    role gateway
    allow network 198.51.100.0/23 relay
}
POL
expect_rc 1 "$CLI" relaytest "$TMP/wide.conf"
expect_out '^verdict: listener mx: FAIL: relays without login for more than a /24 '
expect_rc 0 "$CLI" relaytest "$TMP/wide.conf" --wide-ipv4 23
expect_rc 0 "$CLI" relaytest "$TMP/partner.conf" --wide-ipv4 32
expect_rc 64 "$CLI" relaytest "$TMP/partner.conf" --wide-ipv4 33
expect_rc 64 "$CLI" relaytest "$TMP/partner.conf" --wide-ipv6 x

# The tricks again with an IDN external domain, as U-label with SMTPUTF8
# and as A-label (relaypolicy(7) section 2): refused the same.
expect_rc 0 "$CLI" relaytest "$EXAMPLES/default.conf"
expect_out '^MAIL FROM:<relaytest@пример\.invalid> SMTPUTF8$'
expect_out '^RCPT TO:<user@пример\.invalid>$'
expect_out '^550 5\.7\.1 <user@xn--e1afmkfd\.invalid>: Relaying prohibited'
expect_out '^RCPT TO:<user%пример\.invalid@example\.com>$'
expect_out '^RCPT TO:<user%xn--e1afmkfd\.invalid@example\.com>$'
expect_out '^RCPT TO:<пример\.invalid!user@example\.com>$'
expect_out '^RCPT TO:<user@ПРИМЕР\.INVALID\.>$'
expect_out '^MAIL FROM:<> SMTPUTF8$'
expect_no_out 'RELAYED|local U-label'

# An IDN local domain is also written as U-label in the routing tricks;
# a witness inside a grant relays to the IDN external domain in both
# spellings, as the analysis ("every external domain") says.
cat > "$TMP/idn.conf" <<'POL'
domain домен.рф local recipients alice
domain пример.invalid local
listener mx {
    bind 0.0.0.0:25
    role gateway
    allow network 203.0.113.0/28 relay
}
POL
expect_rc 0 "$CLI" relaytest "$TMP/idn.conf"
expect_out '^# local domain xn--d1acufc\.xn--p1ai, external domain relaytest\.invalid$'
expect_out '^RCPT TO:<user%relaytest\.invalid@домен\.рф>$'
expect_out '^550 5\.7\.1 <user%relaytest\.invalid@xn--d1acufc\.xn--p1ai>: Relaying prohibited$'
expect_out '^RCPT TO:<user%relaytest\.испытание@домен\.рф>$'
expect_out '^RCPT TO:<relaytest\.испытание!user@домен\.рф>$'
expect_out '^250 2\.1\.5 OK +<== relayed \(granted\)$'
expect_no_out 'RELAYED|ERROR|пример\.invalid!'
expect_out '^result: not an open relay'

# An open relay relays the IDN tricks too, and they are named.
expect_rc 1 "$CLI" relaytest "$TMP/open.conf"
expect_out '^# OPEN RELAY from outside every grant: .*, IDN external recipient, IDN external recipient, A-label, IDN percent hack'

# A listener only internal clients reach is not exposed.
expect_rc 0 "$CLI" relaytest "$EXAMPLES/mailbox.conf"
expect_out 'no outside client reaches it'

finish
