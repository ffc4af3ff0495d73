#!/usr/bin/env bash
# Builds the reference peers of the interop suite: tests/interop/go/peer-go (go-libp2p) and the
# node_modules of tests/interop/js (js-libp2p). Safe to run any number of times: it only rebuilds
# or reinstalls what changed.
#
# A missing toolchain is reported and that peer is skipped (the test runner then skips the pairs
# that need it); with WEFT_INTEROP_REQUIRE_ALL=1 a missing toolchain is an error. A failing build
# or install is always an error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
missing=()

fail() {
  echo "interop setup: $*" >&2
  exit 1
}

if command -v go >/dev/null 2>&1; then
  echo "interop setup: building peer-go with $(go version)"
  # go build is incremental; go.sum pins every module so nothing unverified is fetched.
  (cd "$here/go" && go build -o peer-go .) || fail "go build in $here/go failed"
else
  echo "interop setup: 'go' not found in PATH: peer-go not built" >&2
  missing+=(go)
fi

if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  lock_hash="$(sha256sum "$here/js/package-lock.json" | cut -d' ' -f1)"
  stamp="$here/js/node_modules/.weft-interop-lock-sha256"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
    echo "interop setup: js dependencies already match package-lock.json"
  else
    echo "interop setup: installing js dependencies with node $(node --version), npm $(npm --version)"
    (cd "$here/js" && npm ci --no-audit --no-fund) || fail "npm ci in $here/js failed"
    echo "$lock_hash" >"$stamp"
  fi
  node --check "$here/js/peer.mjs" || fail "$here/js/peer.mjs does not parse"
else
  echo "interop setup: 'node' or 'npm' not found in PATH: js dependencies not installed" >&2
  missing+=(node)
fi

if ((${#missing[@]} > 0)) && [[ "${WEFT_INTEROP_REQUIRE_ALL:-0}" == "1" ]]; then
  fail "WEFT_INTEROP_REQUIRE_ALL=1 but toolchains are missing: ${missing[*]}"
fi
echo "interop setup: done"
