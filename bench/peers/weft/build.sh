#!/usr/bin/env bash
# Builds weft's benchmark peer (bench/peers/weft/*.c against the C ABI), the AEAD micro-benchmark
# and the weft tool in a Release tree, and links ./peer to the peer. Idempotent and fast when
# nothing changed (ninja, ccache). Prints nothing but errors.
#
#   WEFT_BENCH_PEER=/path/to/weft-bench-peer   use that program instead of building one
#   WEFT_BENCH_BUILD=/path/to/build-dir        the build tree (default: build/bench)
#   WEFT_CRYPTO=openssl|boringssl              the crypto backend (default: the project's)
#   WEFT_BENCH_WITH_TOOL=0                     do not build the weft tool
#   WEFT_BENCH_LINK=0                          build only; leave ./peer as it is
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

if [[ -n "${WEFT_BENCH_PEER:-}" ]]; then
  [[ -x "$WEFT_BENCH_PEER" ]] || { echo "WEFT_BENCH_PEER=$WEFT_BENCH_PEER is not an executable" >&2; exit 1; }
  ln -sfn "$(realpath "$WEFT_BENCH_PEER")" "$here/peer"
  exit 0
fi

build="${WEFT_BENCH_BUILD:-$root/build/bench}"
options=(-DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=ON)
[[ -n "${WEFT_CRYPTO:-}" ]] && options+=(-DWEFT_CRYPTO="$WEFT_CRYPTO")
targets=(weft-bench-peer weft-aead-bench weft-tcp-pingpong)
[[ "${WEFT_BENCH_WITH_TOOL:-1}" == 1 ]] && targets+=(weft)

if [[ ! -f "$build/build.ninja" ]]; then
  log="$(mktemp)"
  if ! cmake -S "$root" -B "$build" -G Ninja "${options[@]}" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
fi
log="$(mktemp)"
if ! cmake --build "$build" --target "${targets[@]}" -j 2 >"$log" 2>&1; then
  grep -E "error|Error|FAILED" "$log" | head -40 >&2 || tail -40 "$log" >&2
  rm -f "$log"; exit 1
fi
rm -f "$log"
[[ "${WEFT_BENCH_LINK:-1}" == 1 ]] && ln -sfn "$build/bench/weft-bench-peer" "$here/peer"
exit 0
