#!/usr/bin/env bash
# `import exchange`: every documented receive connector set-up in
# tests/data/import/exchange imports to its pinned policy, with its exit
# status, and the policy compiles and decides as the connectors did.
. "$2/lib.sh"

DATA="$ROOT/tests/data/import/exchange"
n=0
for dir in "$DATA"/*/; do
    case=$(basename "$dir")
    set -- "$dir/connectors.json" "$dir/domains.json"
    [ -f "$dir/permissions.json" ] && set -- "$@" "$dir/permissions.json"
    "$CLI" import exchange "$@" -o "$TMP/$case.conf" 2>"$TMP/$case.err"
    rc=$?
    want=$(cat "$dir/expected.rc")
    [ "$rc" -eq "$want" ] || fail "$case: exit $rc, expected $want"
    if ! diff -u "$dir/expected.conf" "$TMP/$case.conf"; then
        fail "$case: the imported policy differs from expected.conf"
    fi
    expect_rc 0 "$CLI" dump "$TMP/$case.conf"
    grep -q '^lint:' "$TMP/$case.err" || fail "$case: no lint report"
    grep -q "^exposure" "$TMP/$case.err" || fail "$case: no exposure report"
    while read -r client local user to want; do
        [ -n "$client" ] || continue
        args=(check --policy "$TMP/$case.conf" --client "$client"
              --local "$local" --to "$to" --from someone@example.org)
        [ "$user" != - ] && args+=(--user "$user")
        got=$("$CLI" "${args[@]}" --explain 2>&1 | awk '/^verdict:/ {print $2}')
        reply=$("$CLI" "${args[@]}" 2>&1)
        if [ "$want" = TEMPFAIL_OR_530 ]; then
            case "$reply" in 530*) ;; *) fail "$case: $client $to: $reply";; esac
        elif [ "$got" != "$want" ]; then
            fail "$case: $client ${user} -> $to on $local: $got, expected $want ($reply)"
        fi
        n=$((n + 1))
    done < "$dir/checks"
done
# Argument errors.
expect_rc 64 "$CLI" import exchange "$DATA/default-frontend/connectors.json"
expect_rc 64 "$CLI" import exchange a b c d
expect_rc 64 "$CLI" import nosuch
echo '{"Name": "x", "Bindings": ' > "$TMP/bad.json"
expect_rc 2 "$CLI" import exchange "$TMP/bad.json" "$DATA/default-frontend/domains.json"
# An open anonymous relay is refused: the policy does not compile.
cat > "$TMP/open.json" <<'JSON'
{"Name": "Open", "Bindings": ["0.0.0.0:25"], "RemoteIPRanges": ["0.0.0.0-255.255.255.255"],
 "AuthMechanism": "ExternalAuthoritative", "PermissionGroups": "ExchangeServers"}
JSON
expect_rc 2 "$CLI" import exchange "$TMP/open.json" "$DATA/default-frontend/domains.json" -o "$TMP/open.conf"
expect_out "does not compile"
[ "$n" -ge 20 ] || fail "only $n decision checks ran"
finish
