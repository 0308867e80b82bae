#!/bin/bash
# compare.sh - relaypolicy's radix against Postfix's cidr: table and a
# libcidr linear scan, on the same prefixes and the same queries, in one run.
#
#   bash bench/compare.sh [BUILD_DIR]      (default: build-bench)
#
# Postfix is not installed: Debian's postfix package is downloaded with
# apt-get and unpacked into BUILD_DIR/postfix (no daemon, nothing
# installed), and only its postmap command is run, with a minimal config
# directory.  Scratch files live in a mktemp directory removed at exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build-bench}
build=$(cd "$build" && pwd)
prefixes=${RP_CMP_PREFIXES:-100000}
first=${RP_CMP_POSTFIX_QUERIES:-2000}   # Postfix: ~4,500 lookups/s at 100k
scan=${RP_CMP_SCAN_QUERIES:-500}        # libcidr scan: a few hundred/s
queries=${RP_CMP_QUERIES:-200000}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/rp_compare.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# ---- Postfix, unpacked -----------------------------------------------------
pf=$build/postfix
if [ ! -x "$pf/root/usr/sbin/postmap" ]; then
    mkdir -p "$pf/root"
    (cd "$pf" && apt-get download postfix >/dev/null 2>&1) ||
        { echo "compare.sh: apt-get download postfix failed" >&2; exit 1; }
    dpkg-deb -x "$pf"/postfix_*.deb "$pf/root"
fi
postmap=$pf/root/usr/sbin/postmap
export LD_LIBRARY_PATH=$pf/root/usr/lib/postfix${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkdir -p "$scratch/pfconf"
# postmap only reads main.cf; the owner and group must be distinct,
# existing, unprivileged accounts.
cat > "$scratch/pfconf/main.cf" <<CF
compatibility_level = 3.6
mail_owner = daemon
setgid_group = mail
default_privs = nobody
CF
pfversion=$("$pf/root/usr/sbin/postconf" -c "$scratch/pfconf" -h \
            mail_version 2>/dev/null || true)

# ---- the data, and relaypolicy's figures ------------------------------------
"$build/bench/rp_bench" --compare "$scratch" --prefixes "$prefixes" \
    --queries "$queries" --first "$first" --scan "$scan" > "$scratch/rp.txt"
val() { sed -n "s/^$1=//p" "$2"; }
head -n "$scan" "$scratch/queries_first.txt" > "$scratch/queries_scan.txt"

# ---- Postfix cidr: ----------------------------------------------------------
# The table is loaded once per postmap run, so time one query (load only)
# and then all of them; the difference is the lookups.
now() { date +%s.%N; }
# postmap exits 1 when some key is not found; only a message is an error.
pf_run() {
    "$postmap" -c "$scratch/pfconf" -q - "cidr:$scratch/postfix.cidr" \
        < "$1" > "$scratch/pf_out.txt" 2> "$scratch/pf_err.txt" || true
    if [ -s "$scratch/pf_err.txt" ]; then
        cat "$scratch/pf_err.txt" >&2
        exit 1
    fi
}
head -n 1 "$scratch/queries_first.txt" > "$scratch/one.txt"
best_load=999999; best_all=999999
for _ in 1 2; do
    t0=$(now); pf_run "$scratch/one.txt"; t1=$(now)
    pf_run "$scratch/queries_first.txt"; t2=$(now)
    best_load=$(awk -v a="$t0" -v b="$t1" -v m="$best_load" \
                'BEGIN { d = b - a; print (d < m) ? d : m }')
    best_all=$(awk -v a="$t1" -v b="$t2" -v m="$best_all" \
               'BEGIN { d = b - a; print (d < m) ? d : m }')
done
pf_matched=$(wc -l < "$scratch/pf_out.txt")
pf_lps=$(awk -v n="$first" -v a="$best_all" -v l="$best_load" \
         'BEGIN { d = a - l; if (d <= 0) d = a; printf "%.0f", (n - 1) / d }')

# ---- libcidr linear scan -----------------------------------------------------
"$build/bench/rp_libcidr_scan" "$scratch/prefixes.txt" \
    "$scratch/queries_scan.txt" > "$scratch/scan.txt"

rp_first=$(val rp_first_lps "$scratch/rp.txt")
rp_all=$(val rp_all_lps "$scratch/rp.txt")
rp_text=$(val rp_text_lps "$scratch/rp.txt")
sc_lps=$(val libcidr_lps "$scratch/scan.txt")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%\047.0f", a }'; }

echo
echo "Comparison: $prefixes IPv4 prefixes (same list), same queries"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs"
printf '%-48s %16s %10s\n' "lookup" "lookups/s" "matched"
printf '%-48s %16s %10s\n' "Postfix ${pfversion:-3.x} cidr: (postmap -q -, $first queries)" \
    "$(fmt "$pf_lps")" "$pf_matched/$first"
printf '%-48s %16s %10s\n' "libcidr linear scan ($scan queries)" \
    "$(fmt "$sc_lps")" "$(val libcidr_matched "$scratch/scan.txt")/$scan"
printf '%-48s %16s %10s\n' "relaypolicy radix (same $first queries)" \
    "$(fmt "$rp_first")" "$(val rp_first_matched "$scratch/rp.txt")/$first"
printf '%-48s %16s %10s\n' "relaypolicy radix ($queries queries)" "$(fmt "$rp_all")" ""
printf '%-48s %16s %10s\n' "relaypolicy text parse + radix ($first queries)" "$(fmt "$rp_text")" ""
echo
echo "ratio relaypolicy / Postfix cidr: (same queries):   $(ratio "$rp_first" "$pf_lps")x"
echo "ratio relaypolicy / Postfix cidr: ($queries queries): $(ratio "$rp_all" "$pf_lps")x"
echo "ratio relaypolicy / libcidr scan (same queries):  $(ratio "$rp_first" "$sc_lps")x"
echo "Postfix table load: ${best_load}s; relaypolicy build: $(val rp_build_s "$scratch/rp.txt")s"
if [ "$pf_matched" != "$(val rp_first_matched "$scratch/rp.txt")" ] ||
   [ "$(val libcidr_matched "$scratch/scan.txt")" != "$(val rp_scan_matched "$scratch/rp.txt")" ]; then
    echo "compare.sh: WARNING: the match counts differ" >&2
    exit 1
fi
awk -v r="$(ratio "$rp_all" "$pf_lps")" 'BEGIN {
    printf "target >= 10000x vs Postfix cidr: %s\n", (r >= 10000) ? "met" : "NOT met" }'
