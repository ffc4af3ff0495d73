#!/usr/bin/env bash
# Installs what building and testing weft needs on a fresh Debian 12 machine
# (root or passwordless sudo). Idempotent: installs only what is missing.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

debs=(cmake ninja-build g++ pkg-config ccache libasio-dev libssl-dev libgtest-dev
      android-libboringssl-dev python3-pytest)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# pytest may come from pip instead of Debian; either is fine.
if python3 -m pytest --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pytest}")
fi
read -r -a missing <<< "${missing[*]:-}"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ "${WEFT_SKIP_INTEROP_DEPS:-0}" = 1 ] && exit 0
for tool in go node npm; do
  command -v "$tool" >/dev/null || { echo "install-deps: '$tool' is required for the interop tests" >&2; exit 1; }
done
