#!/usr/bin/env bash
# `lint`: every relaypolicy(7) §7 finding on a deliberately bad policy, the
# JSON format and the exit codes.
. "$2/lib.sh"

# expect_finding FILE SEVERITY CODE LINE: the text output has it.
expect_finding() {
    expect_out "^$1:$4: $2: \[$3\] "
}

# Warnings only: exit 0.
cat > "$TMP/warn.conf" <<'POL'
domain example.com local
domain .example.com relay
network lan 10.0.0.0/16
network host 10.0.0.5
listener internet {
    bind 0.0.0.0:25
    role gateway
    allow network lan relay
    allow authenticated relay
    allow network host submit
    deny anonymous routing
}
listener twin {
    bind 0.0.0.0:25
}
listener nowhere {
    role gateway
}
listener office {
    bind 10.0.0.1:25
    remote lan
    allow network all-except host relay
    allow network lan relay
    deny network lan relay
}
soft-fail
POL
expect_rc 0 "$CLI" lint "$TMP/warn.conf"
W="$TMP/warn.conf"
expect_finding "$W" warning no-recipient-validation 1
expect_finding "$W" warning domain-local-and-relay 1
expect_finding "$W" warning wide-relay-range 8
expect_finding "$W" warning auth-relay-internet 9
expect_finding "$W" info rule-redundant 10
expect_finding "$W" info deny-unused 11
expect_finding "$W" warning listener-shadowed 13
expect_finding "$W" warning listener-unreachable 16
expect_finding "$W" warning all-except-relay 22
expect_finding "$W" warning rule-shadowed 23
expect_out "^$W:26: warning: \[soft-fail\] "
expect_out '^    advice: '
expect_out "^$W: [0-9]+ findings: 0 critical, "

# Critical exposures (only with allow open-relay): exit 1.
cat > "$TMP/crit.conf" <<'POL'
allow open-relay
domain example.com local recipients alice
network world 0.0.0.0/0
listener internet {
    bind 0.0.0.0:25
    role gateway
    allow anonymous relay
    allow network world relay
    allow network all-except world relay
}
POL
expect_rc 1 "$CLI" lint "$TMP/crit.conf"
C="$TMP/crit.conf"
expect_finding "$C" critical open-relay 7
expect_finding "$C" critical open-relay 8
expect_finding "$C" critical all-except-relay 9
expect_out "1 critical|3 critical"

# The JSON format carries the same findings.
expect_rc 1 "$CLI" lint "$C" --format json
printf '%s\n' "$OUT" > "$TMP/crit.json"
python3 - "$TMP/crit.json" "$C" <<'PY' || fail "lint JSON"
import json, sys
f = json.load(open(sys.argv[1]))
assert isinstance(f, list) and f
for x in f:
    assert set(x) == {"severity", "code", "file", "line", "message",
                      "advice"}, x
    assert x["severity"] in ("info", "warning", "critical")
    assert x["file"] == sys.argv[2] and x["advice"]
codes = {(x["code"], x["line"], x["severity"]) for x in f}
assert ("open-relay", 7, "critical") in codes, codes
assert ("all-except-relay", 9, "critical") in codes, codes
PY
expect_rc 0 "$CLI" lint --format=json "$TMP/warn.conf"
printf '%s\n' "$OUT" | python3 -c 'import json,sys; json.load(sys.stdin)' \
    || fail "lint JSON for warn.conf"

# An unneeded open-relay switch is reported.
printf 'allow open-relay\ndomain example.com local recipients a\n' \
    > "$TMP/switch.conf"
expect_rc 0 "$CLI" lint "$TMP/switch.conf"
expect_finding "$TMP/switch.conf" info open-relay-switch 1
expect_out 'no-listener'

# The example policies are clean of critical findings.
for p in "$EXAMPLES"/*.conf; do
    expect_rc 0 "$CLI" lint "$p"
    expect_no_out 'critical: '
done

finish
