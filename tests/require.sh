#!/bin/sh
# Run a test only when what it needs is there; otherwise say why and exit
# 77, which ctest counts as skipped (set SKIP_RETURN_CODE 77 on the test).
#
#   sh tests/require.sh [NEED...] -- COMMAND [ARG...]
#
# NEED is one of:
#   root          running as uid 0
#   cmd:NAME      NAME is on PATH, or NAME is an absolute path and executable
#   user:NAME     the system user NAME exists
#
# A skip prints one line starting with "skip:", which scripts/test.sh
# collects and shows after the test run.
set -eu
missing=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in
    root)
        [ "$(id -u)" -eq 0 ] || missing="$missing, root (uid is $(id -u))" ;;
    cmd:/*)
        [ -x "${1#cmd:}" ] || missing="$missing, ${1#cmd:}" ;;
    cmd:*)
        command -v "${1#cmd:}" >/dev/null 2>&1 ||
            missing="$missing, ${1#cmd:} on PATH" ;;
    user:*)
        id "${1#user:}" >/dev/null 2>&1 ||
            missing="$missing, the user ${1#user:}" ;;
    *)
        echo "require.sh: unknown need '$1'" >&2
        exit 2 ;;
    esac
    shift
done
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
    echo "require.sh: no command after --" >&2
    exit 2
fi
if [ -n "$missing" ]; then
    echo "skip: needs ${missing#, } (bash scripts/install-deps.sh, run as root)"
    exit 77
fi
exec "$@"
