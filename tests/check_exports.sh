#!/bin/sh
# Fail when the shared library exports any symbol outside the rp_ prefix
# (besides the version nodes RP_1, RP_1.1, ...).
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^$')
bad=$(printf '%s\n' "$syms" | grep -v '^rp_' | grep -v '^RP_1\(\.[0-9][0-9]*\)\{0,1\}$' || true)
count=$(printf '%s\n' "$syms" | grep -c '^rp_' || true)
if [ -n "$bad" ]; then
    echo "symbols outside the rp_ prefix:"
    printf '%s\n' "$bad"
    exit 1
fi
internal=$(printf '%s\n' "$syms" | grep '^rp__' || true)
if [ -n "$internal" ]; then
    echo "internal rp__ symbols exported:"
    printf '%s\n' "$internal"
    exit 1
fi
if [ "$count" -lt 30 ]; then
    echo "only $count rp_ symbols exported: the API is missing"
    exit 1
fi
echo "exports: $count symbols, all rp_"
