#!/usr/bin/env bash
# Builds the go-libp2p benchmark peer as ./peer (go build is incremental; go.sum pins every
# module, fetched through the Go module proxy). Prints nothing but errors.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v go >/dev/null 2>&1 || { echo "go not found in PATH" >&2; exit 1; }
go build -trimpath -o peer .
