#!/usr/bin/env bash
# weft's main job, shown with two real nodes on loopback and the `weft` tool
# (which uses only the C ABI): one node listens; the other dials it over
# TCP + Noise + Yamux, identifies it, pings it, echoes 1 MiB through it and
# measures throughput both ways; then both stop cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="$root/build/demo"

WEFT_SKIP_INTEROP_DEPS=1 tools/install-deps.sh
cmake -S "$root" -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target weft >/dev/null
weft="$build/tools/weft"

coproc LISTENER { exec "$weft" listen --addr /ip4/127.0.0.1/tcp/0 --stdin-eof; }
read -r ready <&"${LISTENER[0]}"
addr=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["addrs"][0])' "$ready")
echo "== listener up at $addr"
echo
status=0
for step in "identify $addr" "ping $addr -n 5 --interval 100" "echo $addr --bytes 1048576" \
            "perf $addr --upload 268435456 --download 268435456"; do
  echo "== weft $step"
  # shellcheck disable=SC2086
  "$weft" $step || status=1
  echo
done
exec {LISTENER[1]}>&-   # end of stdin asks the listener to stop
wait "$LISTENER_PID" || status=1
[ "$status" -eq 0 ] && echo "== both nodes stopped cleanly" || echo "== demo FAILED" >&2
exit "$status"
