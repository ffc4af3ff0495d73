#!/usr/bin/env bash
# Runs every weft test: unit tests and interop tests against go-libp2p and
# js-libp2p, with both crypto backends (OpenSSL 3, then BoringSSL), then all
# of them again under AddressSanitizer + UndefinedBehaviorSanitizer and under
# ThreadSanitizer; then the Python package (wheel built once, installed into a fresh
# virtualenv, its pytest suite run there); then the packaging checks.
# Installs what it needs first. Usage: tools/test.sh [openssl|boringssl|asan|tsan|python]...
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# ccache hits across checkouts in other directories (CI tests a fresh clone): paths are hashed
# relative to the checkout, and so is the working directory of builds with debug info.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

tools/install-deps.sh
tests/interop/setup.sh

backends=("$@")
[ "${#backends[@]}" -gt 0 ] || backends=(openssl boringssl asan tsan python)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

for backend in "${backends[@]}"; do
  if [ "$backend" = python ]; then
    WEFT_PYTHON_OUT="$root/build/test-python" tools/test-python.sh
    continue
  fi
  build="$root/build/test-$backend"
  case "$backend" in
    openssl|boringssl) options=(-DWEFT_CRYPTO="$backend") ;;
    asan) options=(-DWEFT_CRYPTO=openssl -DWEFT_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    tsan) options=(-DWEFT_CRYPTO=openssl -DWEFT_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    *) echo "tools/test.sh: unknown configuration '$backend'" >&2; exit 2 ;;
  esac
  echo "=== weft: build ($backend)"
  cmake -S "$root" -B "$build" -G Ninja "${options[@]}" >/dev/null
  cmake --build "$build"
  echo "=== weft: unit tests ($backend)"
  ctest --test-dir "$build" --output-on-failure -j2
  echo "=== weft: interop tests ($backend)"
  tool=""
  for candidate in "$build/tools/weft" "$build/tools/weft/weft"; do
    if [ -f "$candidate" ] && [ -x "$candidate" ]; then tool="$candidate"; fi
  done
  WEFT_PEER="$build/tests/interop/weft-peer" WEFT_TOOL="$tool" WEFT_INTEROP_REQUIRE_ALL=1 \
    WEFT_INTEROP_OUT="$build/interop" python3 -m pytest "$root/tests/interop" -v -s -p no:cacheprovider
  echo "=== weft: lifecycle tests against go-libp2p and js-libp2p ($backend)"
  WEFT_PEER="$build/tests/interop/weft-peer" WEFT_INTEROP_REQUIRE_ALL=1 \
    python3 -m pytest "$root/tests/lifecycle" -v -p no:cacheprovider
done

# Packaging: shared/static library, exports, ABI baseline, install + pkg-config
# + CMake package + the C examples, from a clean prefix.
if [ -x "$root/tools/test-packaging.sh" ]; then
  echo "=== weft: packaging checks"
  packaging_build=""
  [ -d "$root/build/test-openssl" ] && packaging_build="$root/build/test-openssl"
  WEFT_PACKAGING_BUILD="$packaging_build" "$root/tools/test-packaging.sh"
fi
echo "=== weft: all tests passed (${backends[*]})"
