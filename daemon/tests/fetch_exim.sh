#!/bin/sh
# Unpack Debian's Exim 4 (exim4-daemon-light and the packages it needs
# from the exim4 source) into DIR, without installing it: Debian's MTAs
# exclude each other and Postfix stays the system's MTA.  Its library
# dependencies (libidn12, libgnutls-dane0, ...) are ordinary packages
# listed in scripts/deps.txt.
#   fetch_exim.sh DIR      (DIR/root/usr/sbin/exim4 afterwards)
set -eu
dir=$1
[ -x "$dir/root/usr/sbin/exim4" ] && exit 0
mkdir -p "$dir/debs"
cd "$dir/debs"
apt-get -o DPkg::Lock::Timeout=900 download exim4-daemon-light exim4-base \
    exim4-config >/dev/null 2>&1 || {
    echo "cannot download Debian's exim4 packages"
    exit 1
}
for deb in *.deb; do
    dpkg-deb -x "$deb" "$dir/root"
done
[ -x "$dir/root/usr/sbin/exim4" ]
