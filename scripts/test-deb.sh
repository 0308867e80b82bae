#!/usr/bin/env bash
# Build the Debian packages (debian/) the way a buildd does, from a copy of
# the tree in a temporary directory so the work tree stays clean; check
# them with lintian; install them with apt on this machine; run the
# installed programs on the installed example policies; then remove them.
#
#   bash scripts/test-deb.sh
#
# Needs the packaging tools of scripts/deps.txt.  Installing needs root;
# without it the script stops after lintian and says so.  RP_DEB_KEEP=1
# keeps the temporary directory (packages, build log, lintian output) and
# leaves the packages installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
packages=(librelaypolicy1 librelaypolicy-dev relaypolicy relaypolicyd
          python3-relaypolicy)

for tool in dpkg-buildpackage dh lintian dh_python3 fakeroot; do
    command -v "$tool" >/dev/null ||
        { echo "test-deb: $tool is missing (scripts/install-deps.sh)" >&2
          exit 2; }
done

work=$(mktemp -d /tmp/relaypolicy-deb.XXXXXX)
installed=0
cleanup() {
    if [ "${RP_DEB_KEEP:-0}" = 1 ]; then
        echo "test-deb: kept $work"
        return
    fi
    if [ "$installed" = 1 ]; then
        apt-get -o DPkg::Lock::Timeout=900 purge -y -q "${packages[@]}" \
            >"$work/purge.log" 2>&1 || cat "$work/purge.log" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The version is written once, in the header; a changelog that is behind
# gets an entry in the copy (the work tree is not touched).
ver() { sed -n "s/^#define RP_VERSION_$1 \([0-9]*\)$/\1/p" \
            "$root/include/relaypolicy.h"; }
version="$(ver MAJOR).$(ver MINOR).$(ver PATCH)"
src="$work/relaypolicy-$version"
mkdir -p "$src"
# The tree as git sees it (tracked and new files, not ignored ones such as
# build directories); files deleted but still in the index are left out.
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do
         [ -e "$f" ] && printf '%s\0' "$f"
     done | xargs -0 cp --parents -t "$src")
[ -f "$src/debian/control" ] || { echo "test-deb: copy failed" >&2; exit 1; }
changelog_version=$(cd "$src" && dpkg-parsechangelog -S Version)
if [ "$changelog_version" != "$version" ]; then
    echo "test-deb: debian/changelog says $changelog_version, the header" \
         "$version: adding an entry in the copy (update debian/changelog)"
    (cd "$src" && DEBFULLNAME="relaypolicy developers" \
         DEBEMAIL="dev@relaypolicy.invalid" \
         dch -b -v "$version" -D unstable "Version $version." >/dev/null)
fi

echo "test-deb: dpkg-buildpackage -us -uc -b in $src"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs" \
          dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
    tail -60 "$work/build.log" >&2
    echo "test-deb: the package build failed (log above)" >&2
    exit 1
fi
changes=$(ls "$work"/relaypolicy_*.changes)
ls "$work"/*.deb | sed 's|.*/|test-deb: built |'

# The library package is named after the SONAME the build produced.
soname=$(objdump -p "$src"/debian/build/librelaypolicy.so |
         sed -n 's/^ *SONAME *//p')
want="librelaypolicy${soname#librelaypolicy.so.}"
if [ "$want" != "${packages[0]}" ]; then
    echo "test-deb: the library's SONAME is $soname, so its package is" \
         "$want, not ${packages[0]} (debian/control, debian/*.install," \
         "the symbols file and this script)" >&2
    exit 1
fi

# lintian: no errors; warnings and below are listed (each is fixed or
# justified in debian/*.lintian-overrides).
lintian --fail-on error --display-info "$changes" >"$work/lintian.log" 2>&1 ||
    lint_rc=$?
echo "test-deb: lintian: $(grep -c '^E:' "$work/lintian.log" || true) errors," \
     "$(grep -c '^W:' "$work/lintian.log" || true) warnings," \
     "$(grep -c '^I:' "$work/lintian.log" || true) info"
sed 's/^/  /' "$work/lintian.log"
if [ "${lint_rc:-0}" != 0 ]; then
    echo "test-deb: lintian found errors" >&2
    exit 1
fi

if [ "$(id -u)" != 0 ]; then
    echo "test-deb: not root: the packages are built and linted, not installed"
    exit 0
fi
echo "test-deb: apt-get install ./*.deb"
installed=1
(cd "$work" && apt-get -o DPkg::Lock::Timeout=900 install -y -q \
     --allow-downgrades --reinstall ./*.deb) >"$work/install.log" 2>&1 || {
    tail -40 "$work/install.log" >&2
    echo "test-deb: apt-get install failed" >&2; exit 1; }

# The installed programs, in a clean environment, on the installed policies.
examples=/usr/share/doc/relaypolicy/examples
for conf in "$examples/default.conf" /etc/relaypolicy/relaypolicy.conf; do
    [ -f "$conf" ] || { echo "test-deb: $conf is not installed" >&2; exit 1; }
    env -i /usr/bin/relaypolicy relaytest "$conf" >"$work/relaytest.log" 2>&1 || {
        cat "$work/relaytest.log" >&2
        echo "test-deb: relaytest failed on $conf" >&2; exit 1; }
    echo "test-deb: relaytest $conf: $(grep -c '^verdict:.*not an open relay' \
         "$work/relaytest.log") listener(s) not an open relay"
done
env -i /usr/sbin/relaypolicyd -n -p /etc/relaypolicy/relaypolicy.conf \
    >"$work/relaypolicyd.log" 2>&1 || {
    cat "$work/relaypolicyd.log" >&2
    echo "test-deb: relaypolicyd -n rejects the installed policy" >&2; exit 1; }
echo "test-deb: relaypolicyd -n: the installed policy compiles"
answer=$(cd / && env -i /usr/bin/python3 -c '
import relaypolicy
p = relaypolicy.Policy.from_file("'"$examples"'/default.conf")
print(p.decide(client="203.0.113.5", local="192.0.2.25:25",
               sender="a@example.org", recipient="bob@example.com").reply)')
[ "$answer" = "250 2.1.5 OK" ] || {
    echo "test-deb: python3-relaypolicy answered '$answer'" >&2; exit 1; }
echo "test-deb: python3-relaypolicy: $answer"
# The README's quick start, built against the installed development package.
awk '/^## The C library/{s=1} s==1&&/^```c$/{s=2; next}
     s==2&&/^```$/{exit} s==2{print}' "$root/README.md" >"$work/app.c"
# shellcheck disable=SC2046
cc -o "$work/app" "$work/app.c" $(pkg-config --cflags --libs relaypolicy)
mkdir -p "$work/run/examples"
cp -r "$examples" "$work/run/examples/policies"
first=$(cd "$work/run" && env -i "$work/app" | head -1)
case "$first" in
"250 "*) echo "test-deb: the quick start against librelaypolicy-dev: $first" ;;
*) echo "test-deb: the quick start printed '$first'" >&2; exit 1 ;;
esac
echo "test-deb: all good"
