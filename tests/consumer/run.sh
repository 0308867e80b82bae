#!/bin/sh
# Install the build into a scratch prefix, then build the consumer against
# it twice: with find_package(relaypolicy CONFIG) and with pkg-config.
set -eu
build=$1
src=$2
cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name 'librelaypolicy.so' | head -n1)")
cmake -S "$src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cmake/consumer"
PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --exists relaypolicy
# shellcheck disable=SC2046
"$cc" -o "$work/pc-consumer" "$src/main.c" \
    $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs relaypolicy)
LD_LIBRARY_PATH="$libdir" "$work/pc-consumer"
echo "consumer: find_package and pkg-config both work"
