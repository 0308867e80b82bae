#!/usr/bin/env bash
# demo.sh - the README's main job: install the build dependencies, build
# relaypolicy (Release, into ./build), prove the bundled default policy is
# not an open relay, and ask it a few questions with --explain.
#
# Run from anywhere, as root on a fresh Debian 12 (for the packages):
#     bash scripts/demo.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2

rp=build/bin/relaypolicy
policy=examples/policies/default.conf

say() {
    printf '\n\033[1m==> %s\033[0m\n' "$*"
}

# Run a command, show it, and keep going whatever it returns: a refused
# recipient exits 1 on purpose.
run() {
    printf '$ %s\n' "$*"
    "$@" || true
}

say "Lint the bundled policy ($policy)"
run "$rp" lint "$policy"

say "Open-relay test: the classic tricks, against every listener"
"$rp" relaytest "$policy"

say "1. An outside client tries to relay: refused"
run "$rp" check --policy "$policy" --client 203.0.113.9 \
    --from someone@remote.example --to friend@elsewhere.example --explain

say "2. Mail from the Internet to a local recipient: accepted"
run "$rp" check --policy "$policy" --client 203.0.113.9 \
    --from someone@remote.example --to alice@example.com --explain

say "3. A trusted device (network devices) relays an alert to a vendor"
run "$rp" check --policy "$policy" --client 10.1.2.3 \
    --from printer@example.com --to support@vendor.example --explain

say "4. A routing trick (percent hack) from outside: refused"
run "$rp" check --policy "$policy" --client 203.0.113.9 \
    --to 'friend%elsewhere.example@example.com' --explain

say "5. Alice authenticates on the submission port and relays"
run "$rp" check --policy "$policy" --client 198.51.100.20 \
    --local 192.0.2.25:587 --user alice --from alice@example.com \
    --to friend@elsewhere.example --explain

say "Done.  Next: relaypolicy --help, doc/relaypolicy.1.md, and the"
echo "example policies in examples/policies/."
