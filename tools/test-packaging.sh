#!/usr/bin/env bash
# Packaging checks of weft for C users, on a fresh Debian 12 machine: builds libweft.so and
# libweft.a (RelWithDebInfo: the ABI check reads debug info) in build/packaging, then runs
# tools/check-abi.sh (exports, constants, abidiff against abi/) and tools/check-install.sh
# (install, pkg-config, find_package, examples). Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# WEFT_PACKAGING_BUILD: reuse an existing plain (no sanitizer) build directory.
build=${WEFT_PACKAGING_BUILD:-$root/build/packaging}

fail() { echo "=== packaging: FAIL: $*" >&2; exit 1; }

debs=(cmake ninja-build g++ pkg-config libasio-dev libssl-dev abigail-tools binutils perl)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "=== packaging: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null ||
    fail "could not install ${missing[*]}"
fi

echo "=== packaging: build ($build)"
if [ -z "${WEFT_PACKAGING_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_CRYPTO=openssl \
    -DWEFT_BUILD_TESTS=OFF >/dev/null || fail "configure failed"
fi
cmake --build "$build" --target weft_shared weft_static || fail "build failed"
[ -f "$build/libweft.so" ] || fail "no $build/libweft.so (is src/capi empty?)"

echo "=== packaging: ABI"
tools/check-abi.sh "$build/libweft.so" || fail "tools/check-abi.sh"
echo "=== packaging: install"
tools/check-install.sh "$build" || fail "tools/check-install.sh"

exports=$(nm -D --defined-only "$build/libweft.so" | grep -c ' weft_' || true)
so_bytes=$(stat -L -c %s "$build/libweft.so")
loaded_bytes=$(size "$build/libweft.so" | awk 'NR == 2 { print $4 }')
echo "=== packaging: ok: libweft.so exports $exports functions; $so_bytes bytes with debug" \
  "info ($loaded_bytes of code and data); libweft.a $(stat -c %s "$build/libweft.a") bytes"
