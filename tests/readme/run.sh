#!/bin/sh
# The README's C quick start compiles against the built library and prints
# exactly what the README says it prints.
#
#   run.sh SOURCE_DIR LIBRARY_DIR CC
set -eu
src=$1
libdir=$2
cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The first C block after "## The C library", and the first plain block
# after the line "It prints:".
awk '/^## The C library/{s=1} s==1&&/^```c$/{s=2; next}
     s==2&&/^```$/{exit} s==2{print}' "$src/README.md" >"$work/app.c"
awk '/^It prints:$/{s=1; next} s==1&&/^```$/{s=2; next}
     s==2&&/^```$/{exit} s==2{print}' "$src/README.md" >"$work/expected"
[ -s "$work/app.c" ] || { echo "readme: no C quick start found" >&2; exit 1; }
[ -s "$work/expected" ] || { echo "readme: no 'It prints:' block" >&2; exit 1; }

"$cc" -std=c11 -Wall -Wextra -Werror -I"$src/include" -o "$work/app" \
    "$work/app.c" -L"$libdir" -lrelaypolicy -Wl,-rpath,"$libdir"
(cd "$src" && "$work/app") >"$work/actual"
if ! diff -u "$work/expected" "$work/actual"; then
    echo "readme: the quick start prints something else (diff above)" >&2
    exit 1
fi
echo "readme: the quick start compiles and prints what the README says"
