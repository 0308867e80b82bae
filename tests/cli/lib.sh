# lib.sh - helpers for the command's tests.  Sourced with the CLI path in
# $1 and this directory in $2.
set -u
CLI=$1
HERE=$2
ROOT=$(cd "$HERE/../.." && pwd)
EXAMPLES="$ROOT/examples/policies"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
OUT=""
RC=0

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# run CMD...: capture stdout+stderr in $OUT and the exit code in $RC.
run() {
    OUT=$("$@" 2>&1)
    RC=$?
}

# expect_rc N CMD...: run and check the exit code.
expect_rc() {
    local want=$1
    shift
    run "$@"
    if [ "$RC" -ne "$want" ]; then
        fail "exit $RC, expected $want: $*"
        printf '%s\n' "$OUT" | head -20 >&2
    fi
}

# expect_out REGEX: the last output matches (grep -E).
expect_out() {
    if ! printf '%s\n' "$OUT" | grep -qE -- "$1"; then
        fail "output does not match /$1/"
        printf '%s\n' "$OUT" | head -20 >&2
    fi
}

# expect_no_out REGEX: the last output does not match.
expect_no_out() {
    if printf '%s\n' "$OUT" | grep -qE -- "$1"; then
        fail "output unexpectedly matches /$1/"
    fi
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed" >&2
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
