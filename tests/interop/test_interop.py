"""Interop tests: one implementation listens, another dials, both must agree on everything.

Peers come from WEFT_PEER (weft-peer binary), GO_PEER (default tests/interop/go/peer-go) and
JS_PEER (default `node tests/interop/js/peer.mjs`). Pairs with a missing peer are skipped, unless
WEFT_INTEROP_REQUIRE_ALL=1, which turns every missing peer into a failure. A WEFT_PEER that is set
but cannot run is always a failure. See README.md in this directory for the peer contract.
"""

from __future__ import annotations

import os
import re
import statistics
from pathlib import Path

import pytest

import peers
from peers import (
    AGENT_PREFIXES,
    IDENTIFIED_EVENT_TIMEOUT_S,
    LISTENER_EXIT_TIMEOUT_S,
    REQUIRED_PROTOCOLS,
    Listener,
    find_program,
    pick_dial_address,
    run_dialer,
)

PINGS = 10
ECHO_BYTES = 1 << 20
PERF_BYTES = 64 << 20

# (listener, dialer). The go/js pairs check the reference peers themselves.
PAIRS = [
    ("weft", "go"),
    ("go", "weft"),
    ("weft", "js"),
    ("js", "weft"),
    ("weft", "weft"),
    ("go", "js"),
    ("js", "go"),
    ("go", "go"),
    ("js", "js"),
]

PEER_ID_PATTERN = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{40,60}$")  # base58btc multihash


def pair_id(pair: tuple[str, str]) -> str:
    return f"{pair[0]}-listens-{pair[1]}-dials"


def require_programs(*impls: str) -> dict:
    programs = {impl: find_program(impl) for impl in impls}
    for program in programs.values():
        if program.unavailable is None:
            continue
        message = f"{program.impl} peer unavailable: {program.unavailable}"
        if peers.require_all():
            pytest.fail(f"{message} (WEFT_INTEROP_REQUIRE_ALL=1)")
        if program.impl == "weft" and os.environ.get("WEFT_PEER"):
            pytest.fail(f"{message} (WEFT_PEER is set, so weft must run)")
        pytest.skip(message)
    return programs


def log_dir(tmp_path: Path) -> Path:
    out = os.environ.get("WEFT_INTEROP_OUT")
    if not out:
        return tmp_path
    path = Path(out) / "tests" / "interop" / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def megabytes_per_second(n_bytes: int, seconds: float) -> float:
    return n_bytes / seconds / 1e6 if seconds > 0 else 0.0


def record(pair: tuple[str, str], result: dict | None, error: str | None) -> None:
    perf = (result or {}).get("perf") or {}
    rtts = (result or {}).get("ping_rtts_ms") or []
    peers.RECORDED_RESULTS.append(
        {
            "listener": pair[0],
            "dialer": pair[1],
            "passed": error is None,
            "error": error,
            "connect_ms": (result or {}).get("connect_ms"),
            "ping_median_ms": statistics.median(rtts) if rtts else None,
            "upload_mb_s": megabytes_per_second(
                perf.get("upload_bytes", 0), perf.get("upload_seconds", 0)
            ),
            "download_mb_s": megabytes_per_second(
                perf.get("download_bytes", 0), perf.get("download_seconds", 0)
            ),
            "dialer_result": result,
        }
    )


def check_dial_result(outcome, listener_impl: str, listener_id: str, context: str) -> dict:
    result = outcome.result
    assert result is not None, (
        f"dialer printed no JSON result line (exit code {outcome.exit_code}); "
        f"stdout: {outcome.stdout!r}{context}"
    )
    assert result.get("ok") is True, f"dialer reported failure: {result.get('error')!r}{context}"
    assert outcome.exit_code == 0, f"dialer said ok but exited {outcome.exit_code}{context}"

    assert result.get("remote_peer_id") == listener_id, (
        f"remote_peer_id {result.get('remote_peer_id')!r} != listener {listener_id!r}"
    )
    agent = result.get("agent_version") or ""
    assert agent.startswith(AGENT_PREFIXES[listener_impl]), (
        f"listener agent version {agent!r} does not start with "
        f"{AGENT_PREFIXES[listener_impl]!r}"
    )
    protocols = result.get("protocols") or []
    missing = [p for p in REQUIRED_PROTOCOLS if p not in protocols]
    assert not missing, f"listener does not advertise {missing}; it lists {protocols}"

    assert isinstance(result.get("connect_ms"), (int, float)) and result["connect_ms"] > 0, (
        f"bad connect_ms {result.get('connect_ms')!r}"
    )
    rtts = result.get("ping_rtts_ms") or []
    assert len(rtts) == PINGS, f"expected {PINGS} ping RTTs, got {rtts}"
    assert all(isinstance(r, (int, float)) and r > 0 for r in rtts), f"bad ping RTTs {rtts}"

    assert result.get("echo_bytes") == ECHO_BYTES, (
        f"echoed {result.get('echo_bytes')} bytes, expected {ECHO_BYTES}"
    )
    assert result.get("echo_match") is True, "echoed bytes differ from the bytes sent"

    perf = result.get("perf") or {}
    assert perf.get("upload_bytes") == PERF_BYTES, f"perf upload bytes: {perf}"
    assert perf.get("download_bytes") == PERF_BYTES, f"perf download bytes: {perf}"
    assert perf.get("upload_seconds", 0) > 0 and perf.get("download_seconds", 0) > 0, (
        f"perf timings must be positive: {perf}"
    )
    return result


def check_identified(events: list[dict], listener_id: str, dialer_impl: str,
                     dialer_id: str | None) -> None:
    assert events, (
        f"listener printed no 'identified' event within {IDENTIFIED_EVENT_TIMEOUT_S:.0f} s "
        "after the dialer finished"
    )
    if dialer_id:
        matching = [e for e in events if e.get("peer_id") == dialer_id]
        assert matching, f"no 'identified' event names the dialer {dialer_id}: {events}"
    else:
        # Dialers are not required to print their own id; then the single inbound connection
        # must at least name a valid peer that is not the listener itself.
        matching = events
        for event in events:
            peer_id = event.get("peer_id") or ""
            assert PEER_ID_PATTERN.match(peer_id) and peer_id != listener_id, (
                f"'identified' event names an unexpected peer: {event}"
            )
    for event in matching:
        agent = event.get("agent_version") or ""
        assert agent.startswith(AGENT_PREFIXES[dialer_impl]), (
            f"'identified' event agent version {agent!r} does not start with "
            f"{AGENT_PREFIXES[dialer_impl]!r}"
        )
        assert isinstance(event.get("protocols"), list), f"event without protocol list: {event}"


@pytest.mark.parametrize("listener_impl,dialer_impl", PAIRS, ids=[pair_id(p) for p in PAIRS])
def test_pair(listener_impl: str, dialer_impl: str, tmp_path: Path) -> None:
    pair = (listener_impl, dialer_impl)
    programs = require_programs(*set(pair))
    logs = log_dir(tmp_path)
    listener = Listener(programs[listener_impl], logs / f"{pair_id(pair)}.listener.log")
    result = None
    try:
        ready = listener.start()
        listener_id = ready.get("peer_id") or ""
        assert PEER_ID_PATTERN.match(listener_id), f"bad peer_id in ready line: {ready}"
        for addr in ready.get("addrs") or []:
            assert addr.endswith(f"/p2p/{listener_id}"), f"address without /p2p/ id: {addr}"
        target = pick_dial_address(ready)

        outcome = run_dialer(
            programs[dialer_impl], target, logs / f"{pair_id(pair)}.dialer.log"
        )
        result = outcome.result
        context = (
            f"\n--- dialer stderr ---\n{outcome.stderr_tail}"
            f"\n--- listener stderr ---\n{listener.stderr_tail()}"
        )
        check_dial_result(outcome, listener_impl, listener_id, context)

        events = listener.wait_for_identified(IDENTIFIED_EVENT_TIMEOUT_S)
        check_identified(events, listener_id, dialer_impl, result.get("peer_id"))

        exit_code = listener.close_stdin_and_wait(LISTENER_EXIT_TIMEOUT_S)
        assert exit_code is not None, (
            f"listener still running {LISTENER_EXIT_TIMEOUT_S:.0f} s after stdin was closed"
        )
        assert exit_code == 0, (
            f"listener exited {exit_code} after stdin closed; stderr:\n{listener.stderr_tail()}"
        )
        assert not listener.bad_lines, f"listener printed non-JSON stdout: {listener.bad_lines}"
    except BaseException as error:
        record(pair, result, str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise
    finally:
        listener.kill()

    record(pair, result, None)
    perf = result["perf"]
    print(
        f"\n[{pair_id(pair)}] connect {result['connect_ms']:.1f} ms, "
        f"ping median {statistics.median(result['ping_rtts_ms']):.3f} ms, "
        f"perf up {megabytes_per_second(perf['upload_bytes'], perf['upload_seconds']):.0f} MB/s, "
        f"down {megabytes_per_second(perf['download_bytes'], perf['download_seconds']):.0f} MB/s"
    )
