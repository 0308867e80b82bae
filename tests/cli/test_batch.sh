#!/usr/bin/env bash
# `check --batch`: JSON lines in and out, malformed lines mixed in.
. "$2/lib.sh"
P="$EXAMPLES/default.conf"

# A few known answers, in order, with an id echoed back.
cat > "$TMP/small.jsonl" <<'IN'
{"id":1,"client":"203.0.113.9","to":"friend@remote.example"}
{"id":2,"client":"203.0.113.9","from":"x@remote.example","to":"alice@example.com"}
{"id":"three","client":"10.1.2.3","to":"support@vendor.example"}
{"id":4,"client":"198.51.100.20","local":"192.0.2.25:587","user":"alice","groups":["staff"],"from":"alice@example.com","to":"friend@remote.example"}
{"id":5,"client":"203.0.113.9","to":"bob@example-old.com"}
not json at all
{"id":7,"client":"10.1"}
{"id":8,"client":"10.1","to":"a@example.com"}
[1,2,3]
{"id":10,"client":"203.0.113.9","to":42}

{"id":12,"client":"203.0.113.9","to":"user\u0000x@example.com"}
IN
run "$CLI" check --policy "$P" --batch < "$TMP/small.jsonl"
if [ "$RC" -ne 0 ]; then fail "batch exited $RC"; fi
printf '%s\n' "$OUT" > "$TMP/small.out"
python3 - "$TMP/small.out" "$P" <<'PY' || fail "small batch answers"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
devices = [n for n, l in enumerate(open(sys.argv[2]), 1)
           if "allow network devices relay" in l][0]
assert len(rows) == 12, len(rows)
r = rows
assert r[0]["id"] == 1 and r[0]["verdict"] == "REJECT" and r[0]["code"] == 550
assert r[0]["enhanced"] == "5.7.1" and r[0]["reason"] == "relay-denied"
assert r[0]["listener"] == "internet" and r[0]["rule"] is None
assert r[0]["destination"] == "friend@remote.example"
assert r[1]["verdict"] == "ACCEPT" and r[1]["code"] == 250
assert r[2]["id"] == "three" and r[2]["verdict"] == "RELAY"
assert r[2]["rule"] == "%s:%d" % (sys.argv[2], devices), r[2]["rule"]
assert r[3]["verdict"] == "RELAY" and r[3]["listener"] == "submission"
assert r[4]["rewritten"] == "bob@example.com" and r[4]["verdict"] == "ACCEPT"
assert r[5] == {"line": 6, "error": r[5]["error"]} and "JSON" in r[5]["error"]
assert r[6]["id"] == 7 and r[6]["line"] == 7 and "to" in r[6]["error"]
assert r[7]["line"] == 8 and "strict IP" in r[7]["error"]
assert r[8]["line"] == 9 and "object" in r[8]["error"]
assert r[9]["line"] == 10 and "string" in r[9]["error"]
assert r[10]["line"] == 11 and "error" in r[10]
assert r[11]["verdict"] == "REJECT" and r[11]["code"] == 501
for row in r[:5]:
    assert set(row) >= {"verdict", "code", "enhanced", "text", "reason",
                        "rule", "listener", "destination", "rewritten"}
PY

# A few thousand generated lines with malformed ones mixed in: one output
# line per input line, in order; every malformed line gets an error
# object and the rest are decided.
python3 - "$TMP/big.jsonl" "$TMP/expect.txt" <<'PY'
import json, random, sys
random.seed(7)
out = open(sys.argv[1], "w")
expect = open(sys.argv[2], "w")
bad = ['{"client":', 'null', '{"to":"a@example.com"}', '"str"',
       '{"client":"1.2.3","to":"x@y.example"}', '{"client":"203.0.113.1",'
       '"to":"a@example.com","groups":"g","user":"u"}', '{}', '[]']
for i in range(5000):
    if i % 17 == 5:
        out.write(random.choice(bad) + "\n")
        expect.write("error\n")
        continue
    kind = i % 4
    if kind == 0:
        q = {"client": "203.0.113.%d" % (i % 250 + 1),
             "to": "u%d@remote.example" % i}
        v = "REJECT"
    elif kind == 1:
        q = {"client": "203.0.113.%d" % (i % 250 + 1),
             "from": "s@remote.example", "to": "alice@example.com"}
        v = "ACCEPT"
    elif kind == 2:
        q = {"client": "10.1.2.4", "to": "v%d@vendor.example" % i}
        v = "RELAY"
    else:
        q = {"client": "2001:db8:%x::1" % i, "local": "[2001:db8::25]:25",
             "to": "u%%remote.example@example.com"}
        v = "REJECT"
    q["id"] = i
    out.write(json.dumps(q) + "\n")
    expect.write(v + "\n")
PY
"$CLI" check --policy "$P" --batch < "$TMP/big.jsonl" > "$TMP/big.out"
rc=$?
[ "$rc" -eq 0 ] || fail "big batch exited $rc"
python3 - "$TMP/big.out" "$TMP/expect.txt" <<'PY' || fail "big batch answers"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
want = [l.strip() for l in open(sys.argv[2])]
assert len(got) == len(want) == 5000, (len(got), len(want))
errors = 0
for n, (g, w) in enumerate(zip(got, want), 1):
    if w == "error":
        assert "error" in g and g["line"] == n, (n, g)
        errors += 1
    else:
        assert g.get("verdict") == w, (n, g, w)
print("decided", len(got) - errors, "errors", errors)
PY

# A bare postmaster after a denied recipient, with a deny recipient list:
# each answer depends on its own line only (it once read the previous
# recipient's leftovers, and could crash).
cat > "$TMP/pm.conf" <<'CONF'
domain local.example local recipients alice
listener internet {
    bind 0.0.0.0:25
    role gateway
}
deny recipient trap@local.example
deny recipient /^spam/
CONF
for i in 1 2 3 4 5 6 7 8; do
    echo '{"client":"203.0.113.9","to":"trap@local.example"}'
    echo '{"client":"203.0.113.9","to":"postmaster"}'
    echo '{"client":"203.0.113.9","to":"spam%local.example@local.example"}'
    echo '{"client":"203.0.113.9","to":"<postmaster>"}'
done > "$TMP/pm.jsonl"
"$CLI" check --policy "$TMP/pm.conf" --batch < "$TMP/pm.jsonl" > "$TMP/pm.out"
rc=$?
[ "$rc" -eq 0 ] || fail "postmaster batch exited $rc"
python3 - "$TMP/pm.out" <<'PY' || fail "postmaster batch answers"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
assert len(got) == 32, len(got)
for n, g in enumerate(got):
    want = "ACCEPT" if n % 2 else "REJECT"
    assert g["verdict"] == want, (n, g)
PY

# An empty input gives an empty output.
run "$CLI" check --policy "$P" --batch < /dev/null
[ "$RC" -eq 0 ] && [ -z "$OUT" ] || fail "empty batch: rc $RC, '$OUT'"

finish
