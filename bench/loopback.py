#!/usr/bin/env python3
"""Loopback figures for weft and the reference peers, measured in one run.

Runs listener/dialer pairs of the interop peer programs (weft-peer, peer-go,
peer-js; see tests/interop/README.md) several times and prints a Markdown
table of medians with min-max: perf throughput each way, dial time, dial to
first ping reply (weft dialers report it), and ping round trip.

  WEFT_PEER=build/test-openssl/tests/interop/weft-peer \\
    python3 bench/loopback.py --runs 5 --bytes 268435456

Build the peers first (tools/test.sh or tests/interop/setup.sh).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "interop"))
import peers  # noqa: E402

DEFAULT_PAIRS = ["weft:weft", "weft:go", "go:weft", "go:go", "weft:js", "js:weft"]


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}"


def one_run(listener_impl: str, dialer_impl: str, nbytes: int, workdir: Path) -> dict:
    listener = peers.Listener(peers.find_program(listener_impl), workdir / "listener.log")
    ready = listener.start()
    try:
        outcome = peers.run_dialer(
            peers.find_program(dialer_impl), peers.pick_dial_address(ready), workdir / "dialer.log",
            ["--perf-up", str(nbytes), "--perf-down", str(nbytes), "--pings", "20"])
    finally:
        listener.close_stdin_and_wait(peers.LISTENER_EXIT_TIMEOUT_S)
        listener.kill()
    r = outcome.result or {}
    if not r.get("ok"):
        raise RuntimeError(f"{listener_impl} <- {dialer_impl}: {r.get('error') or outcome.stderr_tail}")
    p = r["perf"]
    return {
        "up": p["upload_bytes"] / p["upload_seconds"] / 1e6,
        "down": p["download_bytes"] / p["download_seconds"] / 1e6,
        "connect": r["connect_ms"],
        "setup": r.get("setup_ms"),
        "ping": statistics.median(r["ping_rtts_ms"]),
    }


def cell(values: list, fmt: str) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bytes", type=int, default=256 << 20, help="perf bytes each way")
    ap.add_argument("--pairs", nargs="*", default=DEFAULT_PAIRS, help="listener:dialer ...")
    args = ap.parse_args()

    print(f"machine: {machine()}; perf {args.bytes >> 20} MiB each way; medians (min-max) of {args.runs} runs\n")
    print("| listener ← dialer | upload MB/s | download MB/s | dial ms | dial → first ping ms | ping RTT ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for pair in args.pairs:
            listener_impl, dialer_impl = pair.split(":")
            runs = [one_run(listener_impl, dialer_impl, args.bytes, Path(tmp)) for _ in range(args.runs)]
            col = lambda k: [r[k] for r in runs]  # noqa: E731
            print(f"| {listener_impl} ← {dialer_impl} | {cell(col('up'), '.0f')} | {cell(col('down'), '.0f')} "
                  f"| {cell(col('connect'), '.2f')} | {cell(col('setup'), '.2f')} | {cell(col('ping'), '.3f')} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
