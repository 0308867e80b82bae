#!/bin/sh
# Install the build into a scratch prefix, move the prefix somewhere else,
# and run the installed command there with an empty environment (no
# LD_LIBRARY_PATH, no PATH): it must find its library through its
# $ORIGIN-relative RUNPATH.
#
#   run.sh BUILD_DIR EXAMPLE_POLICY
set -eu
build=$1
policy=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
mv "$work/prefix" "$work/moved"
cli="$work/moved/bin/relaypolicy"
[ -x "$cli" ] || { echo "install: no bin/relaypolicy in the prefix" >&2; exit 1; }

# Every installed program, not only the command: every ELF file that is
# not a shared library.
find "$work/moved" -type f ! -name '*.so*' >"$work/files"
while IFS= read -r prog; do
    readelf -h "$prog" 2>/dev/null | grep -q 'Type: *\(EXEC\|DYN\)' ||
        continue
    runpath=$(readelf -d "$prog" |
              sed -n 's/.*(\(RUN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p')
    needed=$(readelf -d "$prog" |
             sed -n 's/.*(NEEDED).*\[\(librelaypolicy\.so[^]]*\)\]/\1/p')
    [ -n "$needed" ] || continue
    case "$runpath" in
    '$ORIGIN/'*) ;;
    *) echo "install: ${prog#"$work"/moved/} RUNPATH is '$runpath'," \
            "not \$ORIGIN-relative" >&2
       exit 1 ;;
    esac
    dir="$(dirname "$prog")/${runpath#'$ORIGIN/'}"
    if [ ! -e "$dir/$needed" ]; then
        echo "install: ${prog#"$work"/moved/}: RUNPATH $runpath does not" \
             "lead to $needed" >&2
        exit 1
    fi
done <"$work/files"

cp "$policy" "$work/policy.conf"
out=$(cd "$work" && env -i "$cli" check --policy policy.conf \
      --client 203.0.113.5 --local 192.0.2.25:25 --from a@example.org \
      --to bob@example.com) || {
    echo "install: the installed command failed: $out" >&2; exit 1; }
case "$out" in
"250 "*) ;;
*) echo "install: unexpected answer: $out" >&2; exit 1 ;;
esac
env -i "$cli" relaytest "$work/policy.conf" >"$work/relaytest.log" || {
    cat "$work/relaytest.log" >&2
    echo "install: the installed relaytest failed" >&2; exit 1; }
grep -q 'not an open relay' "$work/relaytest.log"
if [ -x "$work/moved/sbin/relaypolicyd" ]; then
    env -i "$work/moved/sbin/relaypolicyd" -n -p "$work/policy.conf" \
        >"$work/daemon.log" 2>&1 || {
        cat "$work/daemon.log" >&2
        echo "install: the installed relaypolicyd cannot start" >&2; exit 1; }
fi
for page in relaypolicy.1 relaypolicy.conf.5 relaypolicy.3 relaypolicy.7; do
    sec=${page##*.}
    if [ -n "${RP_EXPECT_MAN:-}" ] &&
       [ ! -f "$work/moved/share/man/man$sec/$page" ]; then
        echo "install: man page $page is missing" >&2; exit 1
    fi
done
echo "install: RUNPATH $runpath; the moved prefix runs with env -i: $out"
