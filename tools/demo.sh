#!/usr/bin/env bash
# weft's main job, shown with two real nodes on loopback: one listens, the
# other dials it over TCP + Noise + Yamux, identifies it, pings it, echoes
# 1 MiB through it and measures throughput both ways; then both stop cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="$root/build/demo"

WEFT_SKIP_INTEROP_DEPS=1 tools/install-deps.sh
cmake -S "$root" -B "$build" -G Ninja -DWEFT_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --target weft-peer >/dev/null
peer="$build/tests/interop/weft-peer"

coproc LISTENER { exec "$peer" listen --listen-addr /ip4/127.0.0.1/tcp/0; }
read -r ready <&"${LISTENER[0]}"
addr=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["addrs"][0])' "$ready")
echo "listener up:  $addr"

result=$("$peer" dial "$addr" --pings 5 --echo-bytes 1048576 --perf-up 268435456 --perf-down 268435456) || true
read -r -t 5 event <&"${LISTENER[0]}" || event='{}'
exec {LISTENER[1]}>&-   # closing its stdin asks the listener to stop
wait "$LISTENER_PID"

python3 - "$result" "$event" <<'PY'
import json, sys
r, ev = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if not r.get("ok"):
    sys.exit("dial failed: " + r.get("error", "?"))
p = r["perf"]
print(f"dialer saw:   {r['remote_peer_id']} ({r['agent_version']})")
print(f"listener saw: {ev.get('peer_id', '?')} ({ev.get('agent_version', '?')})")
print(f"connect:      {r['connect_ms']:.2f} ms (TCP + Noise + Yamux)")
rtts = sorted(r["ping_rtts_ms"])
print(f"ping:         median {rtts[len(rtts)//2]:.3f} ms over {len(rtts)} pings")
print(f"echo:         {r['echo_bytes']} bytes, {'identical' if r['echo_match'] else 'DIFFERENT'}")
print(f"perf:         upload {p['upload_bytes']/p['upload_seconds']/1e6:.0f} MB/s, "
      f"download {p['download_bytes']/p['download_seconds']/1e6:.0f} MB/s")
print("both nodes stopped cleanly")
PY
