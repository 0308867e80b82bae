#!/usr/bin/env bash
# `exposure`: who can relay through the server, exactly.
. "$2/lib.sh"

cat > "$TMP/mixed.conf" <<'POL'
network lan 10.0.0.0/8
network partner 192.0.2.77
listener mx {
    bind 0.0.0.0:25
    role gateway
    allow network lan relay
    allow network partner relay
    allow user bob relay
    deny network 10.66.0.0/16 relay
}
listener submission {
    bind *:587
    role submission
}
POL
expect_rc 0 "$CLI" exposure "$TMP/mixed.conf"
expect_out '^listener mx \(.*mixed\.conf:3\)$'
expect_out '^  without login: 1 public IPv4 and 0 public IPv6 addresses relay$'
expect_out '^    10\.0\.0\.0-10\.65\.255\.255 \(0 public\)$'
expect_out '^    10\.67\.0\.0-10\.255\.255\.255 \(0 public\)$'
expect_out '^    192\.0\.2\.77/32 \(1 public\)$'
expect_out '^      on 0\.0\.0\.0/0 port 25$'
expect_out '^      to every external domain, by .*mixed\.conf:7: allow network partner relay$'
expect_out '^    allow user bob relay$'
expect_out '^    no client relays without logging in \(require auth\)$'
expect_out '^    allow authenticated submit relay$'

# JSON, one listener.
expect_rc 0 "$CLI" exposure "$TMP/mixed.conf" --format json --listener mx
printf '%s\n' "$OUT" > "$TMP/out.json"
if ! python3 - "$TMP/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
(l,) = d["listeners"]
assert l["name"] == "mx", l
u = l["unauthenticated"]
assert u["public_ipv4"] == 1 and not u["unsafe"], u
clients = [r["client"] for r in u["ranges"]]
assert clients == ["10.0.0.0-10.65.255.255", "10.67.0.0-10.255.255.255",
                   "192.0.2.77/32"], clients
r = u["ranges"][2]
assert r["locals"] == [{"range": "0.0.0.0/0", "port": 25}], r
assert r["rule"]["line"] == 7 and r["prefix_len"] == 32, r
assert l["authenticated"] == ["allow user bob relay"], l
PY
then
    fail "JSON output"
fi

# The open relays of issue 9, compiled with the switch, show their ranges.
cat > "$TMP/iface.conf" <<'POL'
allow open-relay
listener mx {
    bind 0.0.0.0:25
    allow interface 10.9.9.9 relay
}
POL
expect_rc 0 "$CLI" exposure "$TMP/iface.conf"
expect_out 'UNSAFE'
expect_out '^    0\.0\.0\.0/0 \(3702259456 public\)$'
expect_out '^      on 10\.9\.9\.9/32 port 25$'

# Without the switch it does not compile.
printf 'listener mx {\n    bind 0.0.0.0:25\n    allow interface 10.9.9.9 relay\n}\n' \
    > "$TMP/refused.conf"
expect_rc 2 "$CLI" exposure "$TMP/refused.conf"
expect_out "refused\.conf:3:[0-9]+: .*listener 'mx' is an open relay: 0\.0\.0\.0/0"

expect_rc 64 "$CLI" exposure
expect_rc 64 "$CLI" exposure "$TMP/mixed.conf" --format xml
expect_rc 64 "$CLI" exposure "$TMP/mixed.conf" --listener nope
expect_rc 0 "$CLI" exposure --help
expect_out '^usage: relaypolicy exposure FILE'

finish
