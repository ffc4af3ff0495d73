"""Interop from Python with the reference peers of tests/interop (go-libp2p and js-libp2p),
in both directions. The peers are found as tests/interop/peers.py finds them (GO_PEER, JS_PEER,
or what tests/interop/setup.sh built); a missing peer skips its tests, unless
WEFT_INTEROP_REQUIRE_ALL=1 (as in CI), which makes it a failure."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

import weft
from helpers import LOOPBACK, echo_through

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "interop"))
import peers  # noqa: E402  (tests/interop/peers.py)

IMPLS = ["go", "js"]
ECHO_BYTES = 1 << 20
PERF_BYTES = 4 << 20


def reference_program(impl: str) -> peers.PeerProgram:
    program = peers.find_program(impl)
    if program.unavailable is not None:
        message = f"{impl} peer unavailable: {program.unavailable}"
        if peers.require_all():
            pytest.fail(f"{message} (WEFT_INTEROP_REQUIRE_ALL=1)")
        pytest.skip(message)
    return program


async def perf_client(conn: weft.Connection, upload: int, download: int) -> int:
    """libp2p/specs perf: send the download size, upload, half-close, read to EOF."""
    async with await conn.open_stream("/perf/1.0.0") as stream:
        stream.write(download.to_bytes(8, "big"))
        block = bytes(256 * 1024)
        for offset in range(0, upload, len(block)):
            stream.write(block[:min(len(block), upload - offset)])
            if stream.pending_writes >= 8:
                await stream.drain()
        await stream.close()
        received = 0
        async for chunk in stream:
            received += len(chunk)
        return received


@pytest.mark.parametrize("impl", IMPLS)
async def test_python_dials_reference_peer(impl, tmp_path):
    program = reference_program(impl)
    listener = peers.Listener(program, tmp_path / f"{impl}-listener.log")
    try:
        ready = await asyncio.to_thread(listener.start)
        target = peers.pick_dial_address(ready)
        async with weft.Node() as node:
            conn = await node.connect(target)
            assert str(conn.peer_id) == ready["peer_id"]

            info = await conn.identify()
            assert info.agent_version.startswith(peers.AGENT_PREFIXES[impl]), info
            for protocol in peers.REQUIRED_PROTOCOLS:
                assert protocol in info.protocols, info.protocols

            rtts = [await node.ping(conn.peer_id) for _ in range(5)]
            assert all(0 < rtt < 5 for rtt in rtts), rtts

            data = os.urandom(ECHO_BYTES)
            async with await conn.open_stream("/echo/1.0.0") as stream:
                # A read cancelled by a timeout while nothing was sent loses nothing after.
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(stream.read(), 0.05)
                assert await echo_through(stream, data) == data

            # Lazily opened, the request and its end submitted at once, as go-libp2p opens
            # single-protocol streams. js-libp2p resets a stream whose end arrives before it
            # has finished negotiating; weft's FIN waits for the answer.
            request = os.urandom(1024)
            for _ in range(20):
                async with await conn.open_stream_lazy("/echo/1.0.0") as stream:
                    assert await echo_through(stream, request) == request

            assert await perf_client(conn, PERF_BYTES, PERF_BYTES) == PERF_BYTES

            with pytest.raises(weft.ProtocolNotSupported):
                await conn.open_stream("/weft-test/unknown/1.0.0")
            for _ in range(10):  # cancelled pings leave the connection usable
                try:
                    rtt = await asyncio.wait_for(conn.ping(), 0.00001)
                except TimeoutError:
                    continue
                assert rtt > 0  # the ping won the race with the timeout: its result is kept
            assert await conn.ping() > 0

            events = await asyncio.to_thread(listener.wait_for_identified,
                                             peers.IDENTIFIED_EVENT_TIMEOUT_S)
            assert any(e.get("peer_id") == str(node.peer_id) and
                       str(e.get("agent_version", "")).startswith("weft/") for e in events), events
            assert node.stats().pending_ops == 0
        code = await asyncio.to_thread(listener.close_stdin_and_wait,
                                       peers.LISTENER_EXIT_TIMEOUT_S)
        assert code == 0, listener.stderr_tail()
    finally:
        listener.kill()


@pytest.mark.parametrize("impl", IMPLS)
async def test_reference_peer_dials_python(impl, tmp_path):
    program = reference_program(impl)
    async with weft.Node(listen=LOOPBACK) as node:
        target = str(node.listen_addrs[0])
        started = time.monotonic()
        # The dialer is a subprocess; waiting for it in a thread keeps this loop serving it.
        outcome = await asyncio.to_thread(
            peers.run_dialer, program, target, tmp_path / f"{impl}-dialer.log",
            ["--pings", "5", "--echo-bytes", str(ECHO_BYTES), "--perf-up", str(PERF_BYTES),
             "--perf-down", str(PERF_BYTES)])
        result = outcome.result or {}
        assert outcome.exit_code == 0 and result.get("ok") is True, (
            f"{impl} dialer failed after {time.monotonic() - started:.1f} s: {result}\n"
            f"{outcome.stderr_tail}")
        assert result["remote_peer_id"] == str(node.peer_id)
        assert result["agent_version"].startswith("weft/")
        for protocol in peers.REQUIRED_PROTOCOLS:
            assert protocol in result["protocols"]
        assert result["echo_match"] is True and result["echo_bytes"] == ECHO_BYTES
        assert all(rtt > 0 for rtt in result["ping_rtts_ms"])
        assert result["perf"]["download_bytes"] == PERF_BYTES
        stats = node.stats()
        assert stats.connections_opened >= 1 and stats.pending_ops == 0
