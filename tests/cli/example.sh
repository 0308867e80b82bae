#!/usr/bin/env bash
# example.sh CLI POLICY - an example policy must lint without a critical
# finding and pass relaytest as "not an open relay" on every listener.
set -u
cli=$1
policy=$2

"$cli" lint "$policy"
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: lint exited $rc for $policy" >&2
    exit 1
fi
out=$("$cli" relaytest "$policy")
rc=$?
echo "$out" | grep -E '^(verdict|result):'
if [ "$rc" -ne 0 ]; then
    echo "FAIL: relaytest exited $rc for $policy" >&2
    exit 1
fi
if echo "$out" | grep -q 'OPEN RELAY'; then
    echo "FAIL: relaytest reports an open relay in $policy" >&2
    exit 1
fi
if ! echo "$out" | grep -q '^result: not an open relay'; then
    echo "FAIL: no 'not an open relay' result for $policy" >&2
    exit 1
fi
echo "ok: $policy"
