#!/bin/sh
# Every public function of the header is named in relaypolicy(3) or
# relaypolicy(7): by its whole name, so that `man` and a search find it.
# Fails, listing them, when one is not.
#
#   check_manpages.sh HEADER DOC_DIR
set -eu
header=$1
doc=$2
pages="$doc/relaypolicy.3.md $doc/relaypolicy.7.md"
for page in $pages; do
    [ -f "$page" ] || { echo "manpages: no $page" >&2; exit 1; }
done

# The header as one line without comments, then every "RP_API ... name(".
names=$(tr '\n' ' ' <"$header" |
    sed 's:/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/: :g' |
    grep -o 'RP_API[^;(]*(' |
    grep -o 'rp_[A-Za-z0-9_]*[[:space:]]*($' |
    sed 's/[[:space:]]*($//' | sort -u)
count=$(printf '%s\n' "$names" | grep -c . || true)
if [ "$count" -lt 30 ]; then
    echo "manpages: only $count public functions found in $header" >&2
    exit 1
fi
missing=""
for name in $names; do
    # shellcheck disable=SC2086  # $pages is a list of files
    grep -qw -- "$name" $pages || missing="$missing $name"
done
if [ -n "$missing" ]; then
    echo "public functions that relaypolicy(3) and relaypolicy(7) never name:"
    # shellcheck disable=SC2086  # one name a line
    printf "  %s\n" $missing
    exit 1
fi
echo "manpages: all $count public functions are named"
