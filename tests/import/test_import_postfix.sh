#!/usr/bin/env bash
# `import postfix` without running Postfix: every configuration in
# tests/data/import/postfix imports, through postconf and postmap, to its
# pinned policy (expected.conf, the scratch directory written as @DIR@)
# with its exit status (expected.rc).  Needs Postfix's postconf and
# postmap; exits 77 (skip) without them.
set -u
CLI=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA="$ROOT/tests/data/import/postfix"
for tool in postconf postmap postalias; do
    if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
        echo "SKIP: Postfix's $tool is not installed (scripts/install-deps.sh)"
        exit 77
    fi
done
PATH=$PATH:/usr/sbin
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
n=0
for dir in "$DATA"/*/; do
    case=$(basename "$dir")
    work="$TMP/$case"
    mkdir -p "$work/etc"
    for f in "$dir"*; do
        name=$(basename "$f")
        case $name in case.json | expected.*) continue ;; esac
        sed "s|{dir}|$work|g; s|{smtp}|2525|g; s|{submission}|2587|g" "$f" \
            > "$work/etc/$name"
    done
    for t in $(grep -o 'hash:{dir}/etc/[A-Za-z_]*' "$dir/main.cf" | sort -u); do
        file="$work/etc/${t##*/}"
        if [ "${t##*/}" = aliases ]; then
            postalias -c "$work/etc" "hash:$file"
        else
            postmap -c "$work/etc" "hash:$file"
        fi
    done
    "$CLI" import postfix --config-dir "$work/etc" -o "$work/policy.conf" \
        2> "$work/report"
    rc=$?
    sed -i "s|$work|@DIR@|g" "$work/policy.conf"
    if [ "$rc" -ne "$(cat "$dir/expected.rc")" ]; then
        echo "FAIL: $case: exit $rc, expected $(cat "$dir/expected.rc")"
        cat "$work/report"
        FAILS=$((FAILS + 1))
    fi
    if ! diff -u "$dir/expected.conf" "$work/policy.conf"; then
        echo "FAIL: $case: the imported policy differs from expected.conf"
        FAILS=$((FAILS + 1))
    fi
    if ! grep -q '^exposure' "$work/report"; then
        echo "FAIL: $case: no exposure report"
        FAILS=$((FAILS + 1))
    fi
    if ! grep -q '^lint:' "$work/report"; then
        echo "FAIL: $case: no lint report"
        FAILS=$((FAILS + 1))
    fi
    if [ "${UPDATE_EXPECTED:-0}" = 1 ]; then
        cp "$work/policy.conf" "$dir/expected.conf"
        echo "$rc" > "$dir/expected.rc"
    fi
    n=$((n + 1))
done
# A directory without a Postfix configuration is an error, not a policy.
"$CLI" import postfix --config-dir "$TMP/nowhere" -o "$TMP/x.conf" 2>/dev/null
[ $? -eq 2 ] || { echo "FAIL: a missing configuration must exit 2"; FAILS=$((FAILS + 1)); }
[ "$n" -ge 6 ] || { echo "FAIL: only $n configurations"; FAILS=$((FAILS + 1)); }
if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS check(s) failed"
    exit 1
fi
echo "all $n configurations import as pinned"
