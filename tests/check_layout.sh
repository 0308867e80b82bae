#!/bin/sh
# The README's layout tables name every file of lib/ (.c, .h and the
# symbol map), and every lib/ file they name exists.  Fails, listing the
# differences, so that a new or removed module updates the README.
#
#   check_layout.sh SOURCE_DIR
set -eu
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The backquoted file names in the table rows of "## Layout", after the
# paragraph about lib/, in every column but the last (the role, whose
# prose may name other files).
# shellcheck disable=SC2016  # the backquotes are Markdown's
awk -F'|' '/^## Layout/{s=1; next} /^## /{s=0} s&&/^`lib\/` is read/{t=1}
     s&&t&&/^\|/{for (i = 2; i < NF - 1; i++) print $i}' "$src/README.md" |
    grep -o '`[A-Za-z0-9_.]*\.\(c\|h\|map\)`' | tr -d '`' | sort -u \
    >"$work/listed"
find "$src/lib" -maxdepth 1 -type f \
    \( -name '*.c' -o -name '*.h' -o -name '*.map' \) |
    sed 's:.*/::' | sort -u >"$work/files"
[ -s "$work/listed" ] || {
    echo "layout: no lib/ table found in README.md" >&2
    exit 1
}
unlisted=$(comm -13 "$work/listed" "$work/files")
gone=$(comm -23 "$work/listed" "$work/files")
if [ -n "$unlisted" ] || [ -n "$gone" ]; then
    [ -z "$unlisted" ] || printf 'lib/ files the README layout does not list:\n%s\n' "$unlisted"
    [ -z "$gone" ] || printf 'README layout lists files lib/ does not have:\n%s\n' "$gone"
    exit 1
fi
echo "layout: the README lists all $(wc -l <"$work/files") files of lib/"
