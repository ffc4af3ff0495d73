#!/usr/bin/env bash
# Builds the rust-libp2p benchmark peer (release, locked dependencies) and points
# bench/peers/rust/peer at it. Idempotent; prints nothing but errors.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="$here/target"
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { echo "bench/peers/rust/build.sh: cargo not found" >&2; exit 1; }
cargo build --quiet --release --locked --manifest-path "$here/Cargo.toml"
ln -sfn target/release/bench-peer "$here/peer"
