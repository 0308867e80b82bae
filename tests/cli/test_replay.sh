#!/usr/bin/env bash
# `replay OLD NEW`: the decisions that change between two policies, from
# JSON facts and from Postfix log lines.
. "$2/lib.sh"
P="$EXAMPLES/default.conf"

# NEW drops the relay domain and the devices' relay grant.
sed 's/^domain partner.example .*relay$/# partner gone/
     s/^    allow network devices relay$/    # devices no longer relay/' \
    "$P" > "$TMP/new.conf"
grep -q "partner gone" "$TMP/new.conf" && grep -q "no longer" "$TMP/new.conf" ||
    fail "the edit of the policy did not apply"

cat > "$TMP/facts.txt" <<'IN'
Dec  6 03:00:01 mx1 postfix/smtpd[1234]: connect from unknown[203.0.113.9]
Dec  6 03:00:02 mx1 postfix/smtpd[1234]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <friend@remote.example>: Relay access denied; from=<x@remote.example> to=<friend@remote.example> proto=ESMTP helo=<spam.example>
Dec  6 03:00:03 mx1 postfix/smtpd[1235]: 4AB12C3D4E: client=dev1.example.com[10.1.2.3]
Dec  6 03:00:03 mx1 postfix/qmgr[900]: 4AB12C3D4E: from=<scanner@example.com>, size=1234, nrcpt=2 (queue active)
Dec  6 03:00:04 mx1 postfix/smtp[1250]: 4AB12C3D4E: to=<support@vendor.example>, relay=mx.vendor.example[198.51.100.1]:25, delay=1, status=sent (250 ok)
Dec  6 03:00:04 mx1 postfix/smtp[1250]: 4AB12C3D4E: to=<x@partner.example>, relay=none, delay=1, status=deferred (timeout)
Dec  6 03:05:04 mx1 postfix/smtp[1250]: 4AB12C3D4E: to=<x@partner.example>, relay=mx.partner.example[198.51.100.2]:25, delay=300, status=sent (250 ok)
Dec  6 03:05:05 mx1 postfix/qmgr[900]: 4AB12C3D4E: removed
Dec  6 03:06:00 mx1 postfix/submission/smtpd[1300]: 5BC: client=laptop.example[198.51.100.20], sasl_method=PLAIN, sasl_username=alice
Dec  6 03:06:00 mx1 postfix/qmgr[900]: 5BC: from=<alice@example.com>, size=1, nrcpt=1 (queue active)
Dec  6 03:06:01 mx1 postfix/smtp[1251]: 5BC: to=<friend@remote.example>, relay=x[1.2.3.4]:25, status=sent (250 ok)
Dec  6 03:06:02 mx1 postfix/local[1252]: 6CD: to=<bob@example.com>, relay=local, status=sent (delivered to mailbox)
{"client":"10.1.2.3","to":"a@partner.example"}
{"client":"203.0.113.9","from":"x@remote.example","to":"bob@example.com"}
IN

# The same policy twice: no change, exit 0.
expect_rc 0 "$CLI" replay "$P" "$P" < "$TMP/facts.txt"
expect_out "^replay: 6 facts \(2 JSON, 4 from the log\): 0 changed"
expect_out "1 logged deliveries without their connection"

# Three decisions change: the scanner's two relayed recipients (one of
# them retried: reported once) and the JSON fact for the relay domain.
expect_rc 1 "$CLI" replay "$P" "$TMP/new.conf" < "$TMP/facts.txt"
expect_out '^line 5: client 10.1.2.3 port 25 from <scanner@example.com> to <support@vendor.example>: RELAY relayed "250 2.1.5 OK" -> REJECT relay-denied "550 5.7.1 <support@vendor.example>: '
expect_out '^line 6: .* to <x@partner.example>: RELAY relayed'
expect_out '^line 13: client 10.1.2.3 port 25 from <> to <a@partner.example>: RELAY'
expect_out "3 changed \(3 newly refused, 0 newly accepted or relayed, 0 other\)"
[ "$(printf '%s\n' "$OUT" | grep -c '^line ')" -eq 3 ] ||
    fail "expected three changes: $OUT"

# And back: the same three, now allowed.
expect_rc 1 "$CLI" replay "$TMP/new.conf" "$P" < "$TMP/facts.txt"
expect_out "3 changed \(0 newly refused, 3 newly accepted or relayed"

# The submission line (port 587, logged in as alice) is decided on the
# submission listener: relayed by both above.  With alice denied relay
# there in NEW, it changes.
sed 's/^    role submission$/    role submission\n    deny user alice relay/' \
    "$P" > "$TMP/nosub.conf"
grep -q "^    deny user alice relay$" "$TMP/nosub.conf" ||
    fail "the edit of the submission listener did not apply"
expect_rc 1 "$CLI" replay "$P" "$TMP/nosub.conf" < "$TMP/facts.txt"
expect_out '^line 11: client 198.51.100.20 port 587 user alice from <alice@example.com> to <friend@remote.example>: RELAY relayed "250 2.1.5 OK" -> REJECT'

# Errors: a broken JSON fact, a fact that cannot be decided, no facts,
# a policy that does not compile, usage.
printf '%s\n' '{"client":"10.1"' > "$TMP/bad.jsonl"
expect_rc 2 "$CLI" replay "$P" "$P" < "$TMP/bad.jsonl"
expect_out "line 1: invalid JSON"
printf '%s\n' '{"client":"10.1","to":"a@example.com"}' > "$TMP/bad.jsonl"
expect_rc 2 "$CLI" replay "$P" "$P" < "$TMP/bad.jsonl"
expect_out "line 1: .*strict IP"
expect_rc 2 "$CLI" replay "$P" "$P" < /dev/null
expect_out "no facts"
echo "listener {" > "$TMP/broken.conf"
expect_rc 2 "$CLI" replay "$P" "$TMP/broken.conf" < "$TMP/facts.txt"
expect_rc 64 "$CLI" replay "$P" < "$TMP/facts.txt"
expect_rc 64 "$CLI" replay "$P" "$P" "$P" < "$TMP/facts.txt"
expect_rc 64 "$CLI" replay --listener nosuch "$P" "$P" < "$TMP/facts.txt"
expect_rc 0 "$CLI" replay --help

# What a log line tells: an IPv6 client with its port logged, the smtps
# service (465), orig_to (the address as received) over to, orig_client
# after a content filter (the listener's default port), and a rejection
# with a queue id instead of NOQUEUE.
cat > "$TMP/edge.log" <<'IN'
2026-12-06T03:00:00.000000+00:00 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[2001:db8:1::9]:41000: 554 5.7.1 <a@remote.example>: Relay access denied; from=<> to=<a@remote.example> proto=ESMTP helo=<h>
2026-12-06T03:00:01.000000+00:00 mx1 postfix/smtps/smtpd[8]: 7EF: client=c.example[198.51.100.30]:5555, sasl_method=PLAIN, sasl_username=bob
2026-12-06T03:00:01.000000+00:00 mx1 postfix/qmgr[9]: 7EF: from=<bob@example.com>, size=1, nrcpt=1 (queue active)
2026-12-06T03:00:02.000000+00:00 mx1 postfix/virtual[10]: 7EF: to=<bob@mailbox.internal>, orig_to=<bob@example.com>, relay=virtual, status=sent (delivered)
2026-12-06T03:00:03.000000+00:00 mx1 postfix/smtpd[11]: 8AB: client=localhost[127.0.0.1], orig_queue_id=7AA, orig_client=dev2[10.1.2.4]
2026-12-06T03:00:03.000000+00:00 mx1 postfix/qmgr[9]: 8AB: from=<scan@example.com>, size=1, nrcpt=1 (queue active)
2026-12-06T03:00:04.000000+00:00 mx1 postfix/smtp[12]: 8AB: to=<x@vendor.example>, relay=r[192.0.2.9]:25, status=sent (250 ok)
2026-12-06T03:00:05.000000+00:00 mx1 postfix/smtpd[7]: 8AB: reject: RCPT from unknown[203.0.113.7]: 550 5.1.1 <zed@example.com>: Recipient address rejected: ...; from=<s@remote.example> to=<zed@example.com> proto=ESMTP helo=<h>
IN
sed 's/^domain example.com .*$/domain example.com        local recipients alice bob carol dave helpdesk zed/' \
    "$P" > "$TMP/zed.conf"
grep -q "helpdesk zed$" "$TMP/zed.conf" || fail "the zed edit did not apply"
expect_rc 1 "$CLI" replay "$P" "$TMP/new.conf" < "$TMP/edge.log"
expect_out '^replay: 4 facts \(0 JSON, 4 from the log\): 1 changed'
expect_out '^line 7: client 10.1.2.4 port 25 from <scan@example.com> to <x@vendor.example>: RELAY'
expect_rc 1 "$CLI" replay "$P" "$TMP/zed.conf" < "$TMP/edge.log"
expect_out '^line 8: client 203.0.113.7 port 25 from <s@remote.example> to <zed@example.com>: REJECT unknown-user .* -> ACCEPT accepted'
expect_out '1 changed'
# bob on smtps is decided on port 465, logged in, to the address as
# received: no listener serves 465 in the example policy; with one in NEW
# his recipient is accepted.
cp "$P" "$TMP/smtps.conf"
printf 'listener smtps {\n    bind 192.0.2.25:465\n    role submission\n}\n' \
    >> "$TMP/smtps.conf"
expect_rc 1 "$CLI" replay "$P" "$TMP/smtps.conf" < "$TMP/edge.log"
expect_out '^line 4: client 198.51.100.30 port 465 user bob from <bob@example.com> to <bob@example.com>: REJECT no-listener .* -> ACCEPT accepted'
expect_out '1 changed'

# Many facts: more than one batch, every change found.
python3 - > "$TMP/many.jsonl" <<'PY'
for i in range(1000):
    dom = "partner.example" if i % 7 == 0 else "example.com"
    client = "10.1.2.3" if i % 2 else "203.0.113.%d" % (i % 250 + 1)
    print('{"client":"%s","to":"bob@%s"}' % (client, dom))
PY
expect_rc 1 "$CLI" replay "$P" "$TMP/new.conf" < "$TMP/many.jsonl"
want=$(python3 -c 'print(sum(1 for i in range(1000) if i % 7 == 0))')
expect_out "^replay: 1000 facts \(1000 JSON, 0 from the log\): $want changed"

finish
