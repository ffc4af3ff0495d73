#!/usr/bin/env bash
# Installs the js-libp2p benchmark peer's dependencies (npm ci, only when package-lock.json
# changed) and writes ./peer, a wrapper running peer.mjs with node. Prints nothing but errors.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v node >/dev/null 2>&1 || { echo "node not found in PATH" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "npm not found in PATH" >&2; exit 1; }
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.weft-bench-lock-sha256
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_hash" >"$stamp"
fi
node --check peer.mjs
printf '#!/bin/sh\nexec node "$(dirname "$0")/peer.mjs" "$@"\n' >peer
chmod +x peer
