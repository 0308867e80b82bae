#!/bin/sh
# Check the built systemd units: they parse (systemd-analyze verify), and
# the service's exposure score stays at 2.0 or below ("OK" in
# systemd-analyze security terms).  Exits 77 when systemd-analyze is
# missing.
#   check_units.sh BUILD_DIR RELAYPOLICYD
set -eu
build=$1
daemon=$2
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze is not installed"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
cp "$build/relaypolicyd.service" "$build/relaypolicyd.socket" "$dir/"
# Point ExecStart at the built binary so verify can find it.
sed -i "s|^\(Exec[A-Za-z]*=\)[^ ]*/relaypolicyd |\1$daemon |" \
    "$dir/relaypolicyd.service"
cd "$dir"
systemd-analyze verify --man=no ./relaypolicyd.service ./relaypolicyd.socket
score=$(systemd-analyze security --offline=yes ./relaypolicyd.service |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "exposure: $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
