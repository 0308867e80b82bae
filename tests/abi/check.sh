#!/bin/sh
# The ABI check: compare what the library exports (symbols with their
# version node) and what the public header lays out (struct sizes, field
# offsets, constant values, printed by the layout program) with the lists
# checked in under tests/abi/.
#
#   check.sh LIB LAYOUT_PROGRAM ABI_DIR            compare (a ctest)
#   check.sh LIB LAYOUT_PROGRAM ABI_DIR --update   rewrite the lists
#
# A line of a list that is gone or different is an ABI break: a removed or
# renamed function, a moved field, a resized struct, a renumbered value.
# That fails, and 1.x must not do it.  A line that is new is an addition
# (a new function, a field carved from a reserved array, a new value); it
# fails too until the list is updated, so that every addition is a
# deliberate, reviewed change of the checked-in lists.
set -eu
lib=$1
layout=$2
dir=$3
mode=${4:-check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "D" || $2 == "B" {
    print $3 }' | LC_ALL=C sort >"$tmp/symbols.txt"
"$layout" | LC_ALL=C sort >"$tmp/layout.txt"

if [ "$mode" = --update ]; then
    cp "$tmp/symbols.txt" "$dir/symbols.txt"
    cp "$tmp/layout.txt" "$dir/layout.txt"
    echo "abi: updated $dir/symbols.txt and $dir/layout.txt"
    exit 0
fi

status=0
# layout.c must list every struct and field the header has now.
if command -v python3 >/dev/null 2>&1; then
    python3 "$dir/gen_layout.py" "$tmp/layout.c"
    if ! cmp -s "$tmp/layout.c" "$dir/layout.c"; then
        echo "tests/abi/layout.c is older than include/relaypolicy.h:"
        echo "    python3 tests/abi/gen_layout.py"
        echo "    cmake --build build --target abi_update"
        status=1
    fi
fi
for list in symbols layout; do
    want="$dir/$list.txt"
    got="$tmp/$list.txt"
    gone=$(LC_ALL=C comm -23 "$want" "$got")
    new=$(LC_ALL=C comm -13 "$want" "$got")
    if [ -n "$gone" ]; then
        echo "ABI BREAK in $list: these lines of tests/abi/$list.txt are"
        echo "gone or changed (a removed symbol, a moved field, a resized"
        echo "struct or a renumbered value):"
        printf '%s\n' "$gone" | sed 's/^/    /'
        [ -n "$new" ] && { echo "now:"; printf '%s\n' "$new" | sed 's/^/    /'; }
        echo "Restore the old layout.  Fields are only added from a reserved"
        echo "array, values only appended, functions only added."
        status=1
    elif [ -n "$new" ]; then
        echo "ABI addition in $list (not yet in tests/abi/$list.txt):"
        printf '%s\n' "$new" | sed 's/^/    /'
        echo "If you added this on purpose, record it:"
        echo "    python3 tests/abi/gen_layout.py   # after a new struct or field"
        echo "    cmake --build build --target abi_update"
        echo "and commit tests/abi/*.txt with your change."
        status=1
    fi
done
[ "$status" = 0 ] && echo "abi: $(wc -l <"$tmp/symbols.txt") symbols and $(wc -l <"$tmp/layout.txt") layout facts as recorded"
exit "$status"
