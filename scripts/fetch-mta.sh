#!/usr/bin/env bash
# Unpack a Debian MTA package set into a scratch directory, without
# installing it: Debian's MTAs conflict with each other (they all provide
# mail-transport-agent) and Postfix stays the system's.  Only their library
# dependencies, which conflict with nothing, are installed with apt.
#
#   bash scripts/fetch-mta.sh sendmail|opensmtpd [CACHE_DIR]
#
# Prints the root of the unpacked tree (CACHE_DIR/<mta>/root) on standard
# output.  The .deb files and the tree are cached: a second run does no
# network work.  Exits 77 (ctest's skip code) with a reason on standard
# error when the packages cannot be had (no root, no network, no apt).
set -euo pipefail

mta=${1:-}
cache=${2:-${RP_MTA_CACHE:-${TMPDIR:-/tmp}/relaypolicy-mta}}
skip() { echo "fetch-mta: $*" >&2; exit 77; }

case "$mta" in
sendmail)
    debs=(sendmail-bin sendmail-base sendmail-cf)
    libs=(liblockfile1 libwrap0 libsasl2-modules-db sasl2-bin m4)
    check=usr/libexec/sendmail/sendmail
    ;;
opensmtpd)
    debs=(opensmtpd)
    libs=(libevent-2.1-7 libssl3 libdb5.3 libpam0g)
    check=usr/sbin/smtpd
    ;;
*)
    echo "usage: fetch-mta.sh sendmail|opensmtpd [CACHE_DIR]" >&2
    exit 2
    ;;
esac

dir="$cache/$mta"
root="$dir/root"
if [ -x "$root/$check" ] && [ -f "$dir/.libs-ok" ]; then
    echo "$root"
    exit 0
fi
[ "$(id -u)" = 0 ] || skip "needs root to install ${libs[*]}"
command -v apt-get >/dev/null || skip "no apt-get: not a Debian system"
mkdir -p "$dir/debs"
lock=(-o DPkg::Lock::Timeout=900)

missing=()
for p in "${libs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get "${lock[@]}" install -y -qq --no-install-recommends \
        "${missing[@]}" >&2 ||
        { apt-get "${lock[@]}" update -qq >&2 &&
          apt-get "${lock[@]}" install -y -qq --no-install-recommends \
              "${missing[@]}" >&2; } ||
        skip "cannot install ${missing[*]}"
fi

for p in "${debs[@]}"; do
    if ! ls "$dir/debs/${p}_"*.deb >/dev/null 2>&1; then
        (cd "$dir/debs" && apt-get "${lock[@]}" download "$p" >&2) ||
            { apt-get "${lock[@]}" update -qq >&2 &&
              (cd "$dir/debs" && apt-get "${lock[@]}" download "$p" >&2); } ||
            skip "cannot download $p"
    fi
done

rm -rf "$root.new"
mkdir -p "$root.new"
for deb in "$dir/debs/"*.deb; do
    dpkg-deb -x "$deb" "$root.new"
done
[ -x "$root.new/$check" ] || skip "$check missing after unpacking"
rm -rf "$root"
mv "$root.new" "$root"
touch "$dir/.libs-ok"
echo "$root"
