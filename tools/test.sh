#!/usr/bin/env bash
# Runs every weft test: unit tests and interop tests against go-libp2p and
# js-libp2p, with both crypto backends (OpenSSL 3, then BoringSSL).
# Installs what it needs first. Usage: tools/test.sh [openssl|boringssl]...
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tools/install-deps.sh
tests/interop/setup.sh

backends=("$@")
[ "${#backends[@]}" -gt 0 ] || backends=(openssl boringssl)

for backend in "${backends[@]}"; do
  build="$root/build/test-$backend"
  echo "=== weft: build ($backend)"
  cmake -S "$root" -B "$build" -G Ninja -DWEFT_CRYPTO="$backend" >/dev/null
  cmake --build "$build"
  echo "=== weft: unit tests ($backend)"
  ctest --test-dir "$build" --output-on-failure -j2
  echo "=== weft: interop tests ($backend)"
  WEFT_PEER="$build/tests/interop/weft-peer" WEFT_INTEROP_REQUIRE_ALL=1 \
    WEFT_INTEROP_OUT="$build/interop" python3 -m pytest "$root/tests/interop" -v -s
done
echo "=== weft: all tests passed (${backends[*]})"
