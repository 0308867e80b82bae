#!/usr/bin/env bash
# The memory of a big recipient list: a local domain with N known
# recipients (default 500,000) in a recipients file, compiled and asked a
# few questions.
#
#   bash bench/rss_recipients.sh RELAYPOLICY [N]
#   bash bench/rss_recipients.sh path/to/librelaypolicy.so[.X] [N]
#
# RELAYPOLICY is a relaypolicy command (build/bin/relaypolicy); a library
# path stands for the command of the same build tree (DIR/bin/relaypolicy
# beside DIR/librelaypolicy.so), run against that library.  Nothing is
# built here, so any two builds (two commits, two options) compare with the
# same policy and the same questions.
#
# Prints, each on one line:
#   rss_kib       peak resident set size of `relaypolicy check --batch`
#                 deciding 4 recipients (unknown, known, postmaster,
#                 external), from /usr/bin/time -v
#   heap_bytes    heap the compiled policy keeps: malloc's in-use bytes
#                 (mallinfo2 uordblks + hblkhd) after rp_policy_compile_file()
#                 less before, in one python3 process (ctypes, the library
#                 only); the library compiles on the calling thread, so the
#                 main arena sees all of it
#   compile_hwm_kib  that process's VmHWM growth over the compile (peak
#                 during compiling, builder records included)
#   freed_ok      heap after rp_policy_free() is back to the start (yes/no)
# Needs python3, /usr/bin/time and glibc 2.33 or later (mallinfo2).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
    exit 64
fi
target=$(realpath "$1")
n=${2:-500000}
case "$target" in
*.so | *.so.*)
    lib=$target
    dir=$(dirname "$lib")
    cli=$dir/bin/relaypolicy
    export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    ;;
*)
    cli=$target
    # The library the command links: the one ldd resolves.
    lib=$(ldd "$cli" | awk '$1 ~ /^librelaypolicy\.so/ {print $3; exit}')
    ;;
esac
if [ ! -x "$cli" ]; then
    echo "rss_recipients: no relaypolicy command at $cli" >&2
    exit 2
fi
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
    echo "rss_recipients: cannot find the library of $cli" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The policy: the issue's example, one local domain with N recipients.
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "user%07d\n", i }' \
    >"$work/users.txt"
cat >"$work/policy.conf" <<'EOF'
domain example.com local recipients "users.txt"
listener internet {
    bind 0.0.0.0:25
    role gateway
}
EOF
cat >"$work/queries.jsonl" <<'EOF'
{"client":"203.0.113.9","from":"<a@sender.example>","to":"<nobody@example.com>","id":1}
{"client":"203.0.113.9","from":"<a@sender.example>","to":"<user0000042@example.com>","id":2}
{"client":"203.0.113.9","from":"<a@sender.example>","to":"<postmaster@example.com>","id":3}
{"client":"203.0.113.9","from":"<a@sender.example>","to":"<victim@remote.example>","id":4}
EOF

(cd "$work" && /usr/bin/time -v -o "$work/time.txt" "$cli" check \
    --policy policy.conf --batch <queries.jsonl >"$work/answers.jsonl")
# The answers prove the list was compiled and used: unknown refused, known
# accepted, postmaster accepted, external refused.
verdicts=$(grep -o '"verdict":"[A-Z]*"' "$work/answers.jsonl" |
    cut -d'"' -f4 | xargs)
if [ "$verdicts" != "REJECT ACCEPT ACCEPT REJECT" ]; then
    echo "rss_recipients: unexpected answers ($verdicts):" >&2
    cat "$work/answers.jsonl" >&2
    exit 1
fi
echo "recipients $n"
echo "library $lib"
awk -F': ' '/Maximum resident set size/ {print "rss_kib " $2}' \
    "$work/time.txt"

python3 - "$lib" "$work/policy.conf" <<'EOF'
import ctypes, sys

lib = ctypes.CDLL(sys.argv[1])
libc = ctypes.CDLL(None)


class mallinfo2(ctypes.Structure):
    _fields_ = [(f, ctypes.c_size_t) for f in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks "
                "uordblks fordblks keepcost".split()]


libc.mallinfo2.restype = mallinfo2


def heap():
    m = libc.mallinfo2()
    return m.uordblks + m.hblkhd


def hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])


lib.rp_policy_compile_file.argtypes = [ctypes.c_char_p, ctypes.c_void_p,
                                       ctypes.POINTER(ctypes.c_void_p),
                                       ctypes.c_void_p]
lib.rp_policy_free.argtypes = [ctypes.c_void_p]
err = ctypes.create_string_buffer(1 << 16)  # larger than any rp_error
p = ctypes.c_void_p()
path = sys.argv[2].encode()
h0, w0 = heap(), hwm_kib()
st = lib.rp_policy_compile_file(path, None, ctypes.byref(p), err)
h1, w1 = heap(), hwm_kib()
if st != 0:
    sys.exit("rss_recipients: compile failed, status %d" % st)
lib.rp_policy_free(p)
h2 = heap()
print("heap_bytes", h1 - h0)
print("compile_hwm_kib", w1 - w0)
print("freed_ok", "yes" if abs(h2 - h0) < 64 * 1024 else "no (%d)" % (h2 - h0))
EOF
