"""Reports the interop figures (connect time, ping, perf) once all pairs have run.

The table goes to the terminal summary, so it shows with or without `-s`; with WEFT_INTEROP_OUT
set, the full results are also written to $WEFT_INTEROP_OUT/tests/interop/results.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import peers


def _format(value, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) else "-"


def pytest_terminal_summary(terminalreporter) -> None:
    results = peers.RECORDED_RESULTS
    if not results:
        return
    write = terminalreporter.write_line
    terminalreporter.section("interop figures (64 MiB perf each way, loopback)")
    write(f"{'listener':>8} {'dialer':>8} {'result':>6} {'connect ms':>10} {'ping ms':>8} "
          f"{'up MB/s':>8} {'down MB/s':>9}")
    for r in results:
        write(
            f"{r['listener']:>8} {r['dialer']:>8} {'pass' if r['passed'] else 'FAIL':>6} "
            f"{_format(r['connect_ms'], '10.1f')} {_format(r['ping_median_ms'], '8.3f')} "
            f"{_format(r['upload_mb_s'], '8.0f')} {_format(r['download_mb_s'], '9.0f')}"
        )
        if r["error"]:
            write(f"{'':>8} error: {r['error'][:200]}")


def pytest_sessionfinish(session, exitstatus) -> None:
    out = os.environ.get("WEFT_INTEROP_OUT")
    if not out or not peers.RECORDED_RESULTS:
        return
    path = Path(out) / "tests" / "interop" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(peers.RECORDED_RESULTS, indent=2) + "\n")
