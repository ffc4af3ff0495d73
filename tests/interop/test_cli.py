"""Tests of the `weft` command-line tool against go-libp2p, js-libp2p and itself.

The tool comes from WEFT_TOOL (a path or a command line). When it is unset these tests are
skipped, unless WEFT_INTEROP_REQUIRE_ALL=1, which makes a missing tool or reference peer a
failure. The reference peers are found as in test_interop.py (GO_PEER, JS_PEER, setup.sh).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

import peers
from peers import (
    AGENT_PREFIXES,
    LISTENER_EXIT_TIMEOUT_S,
    REQUIRED_PROTOCOLS,
    Listener,
    PeerProgram,
    find_program,
    pick_dial_address,
    run_dialer,
)

# Longer than the tool's own default --timeout (30 s), so the tool's limit is what shows.
TOOL_TIMEOUT_S = 60.0
ECHO_BYTES = 1 << 20
PERF_BYTES = 16 << 20
PEER_ID_PATTERN = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{40,60}$")  # base58btc multihash
REFERENCE_IMPLS = ["go", "js"]


def tool_command() -> list[str]:
    value = os.environ.get("WEFT_TOOL")
    if not value:
        if peers.require_all():
            pytest.fail("WEFT_TOOL is not set (WEFT_INTEROP_REQUIRE_ALL=1)")
        pytest.skip("WEFT_TOOL is not set (path of the weft command-line tool)")
    command = shlex.split(value)
    program = command[0]
    if not (os.path.isfile(program) and os.access(program, os.X_OK)):
        pytest.fail(f"WEFT_TOOL={value!r} is not an executable file")
    return command


def reference_program(impl: str) -> PeerProgram:
    program = find_program(impl)
    if program.unavailable is not None:
        message = f"{impl} peer unavailable: {program.unavailable}"
        if peers.require_all():
            pytest.fail(f"{message} (WEFT_INTEROP_REQUIRE_ALL=1)")
        pytest.skip(message)
    return program


def run_tool(tool: list[str], *args: str, timeout: float = TOOL_TIMEOUT_S):
    return subprocess.run(
        tool + list(args),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=peers.REPO_ROOT,
    )


def describe(result) -> str:
    return f"\nexit code {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def json_result(result) -> dict:
    assert result.returncode == 0, f"weft failed{describe(result)}"
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line{describe(result)}"
    value = json.loads(lines[0])
    assert isinstance(value, dict), f"not a JSON object{describe(result)}"
    return value


def single_error_line(result, exit_code: int) -> str:
    """The one stderr line of a failed run, after checking the exit code."""
    assert result.returncode == exit_code, f"expected exit code {exit_code}{describe(result)}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line{describe(result)}"
    assert lines[0].startswith("weft: "), f"error line lacks the 'weft: ' prefix{describe(result)}"
    return lines[0]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tool() -> list[str]:
    return tool_command()


@pytest.fixture(scope="module", params=REFERENCE_IMPLS)
def reference_listener(request, tmp_path_factory):
    """(impl, ready line, dial address) of a go or js listener shared by a module's tests."""
    impl = request.param
    program = reference_program(impl)
    listener = Listener(program, tmp_path_factory.mktemp(f"{impl}-listener") / "listener.log")
    try:
        ready = listener.start()
        yield impl, ready, pick_dial_address(ready)
    finally:
        listener.kill()


@pytest.fixture
def weft_listener(tool, tmp_path):
    """A `weft listen` process; yields the Listener (ready line in .ready)."""
    listener = Listener(PeerProgram("weft", tool), tmp_path / "weft-listen.log")
    try:
        listener.ready = listener.start()
        yield listener
    finally:
        listener.kill()


def stop_with_signal(listener: Listener, signum: int) -> None:
    assert listener.process is not None
    listener.process.send_signal(signum)
    try:
        code = listener.process.wait(timeout=LISTENER_EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"weft listen did not exit within {LISTENER_EXIT_TIMEOUT_S:.0f} s of "
                    f"signal {signum}; stderr:\n{listener.stderr_tail()}")
    assert code == 0, f"weft listen exited {code} after signal {signum}:\n{listener.stderr_tail()}"
    assert not listener.bad_lines, f"weft listen printed non-JSON lines: {listener.bad_lines}"


# ---- the tool as a client of go, js and weft listeners ----------------------------------------


def check_ping(tool, addr: str, peer_id: str) -> None:
    result = json_result(run_tool(tool, "--json", "ping", addr, "-n", "3", "--interval", "10"))
    assert result["peer_id"] == peer_id
    assert result["connect_ms"] > 0
    assert len(result["rtts_ms"]) == 3 and all(r > 0 for r in result["rtts_ms"]), result
    assert result["min_ms"] <= result["median_ms"] <= result["max_ms"]


def check_identify(tool, addr: str, peer_id: str, impl: str) -> None:
    result = json_result(run_tool(tool, "--json", "identify", addr))
    assert result["peer_id"] == peer_id
    assert result["agent_version"].startswith(AGENT_PREFIXES[impl]), result
    missing = [p for p in REQUIRED_PROTOCOLS if p not in result["protocols"]]
    assert not missing, f"{impl} does not advertise {missing}: {result['protocols']}"
    assert result["listen_addrs"], result


def check_echo(tool, addr: str, peer_id: str) -> None:
    result = json_result(run_tool(tool, "--json", "echo", addr, "--bytes", str(ECHO_BYTES)))
    assert result["peer_id"] == peer_id
    assert result["bytes"] == ECHO_BYTES and result["received"] == ECHO_BYTES, result
    assert result["match"] is True


def check_perf(tool, addr: str, peer_id: str) -> None:
    result = json_result(
        run_tool(tool, "--json", "perf", addr, "--upload", str(PERF_BYTES),
                 "--download", str(PERF_BYTES))
    )
    assert result["peer_id"] == peer_id
    assert result["upload_bytes"] == PERF_BYTES and result["download_bytes"] == PERF_BYTES
    assert result["upload_seconds"] > 0 and result["download_seconds"] > 0, result


def test_ping_reference(tool, reference_listener):
    _, ready, addr = reference_listener
    check_ping(tool, addr, ready["peer_id"])


def test_ping_text_output(tool, reference_listener):
    _, ready, addr = reference_listener
    result = run_tool(tool, "ping", addr, "-n", "2", "--interval", "10")
    assert result.returncode == 0, describe(result)
    assert ready["peer_id"] in result.stdout
    assert "min/median/max" in result.stdout, describe(result)


def test_identify_reference(tool, reference_listener):
    impl, ready, addr = reference_listener
    check_identify(tool, addr, ready["peer_id"], impl)


def test_echo_reference(tool, reference_listener):
    _, ready, addr = reference_listener
    check_echo(tool, addr, ready["peer_id"])


def test_perf_reference(tool, reference_listener):
    _, ready, addr = reference_listener
    check_perf(tool, addr, ready["peer_id"])


def test_tool_to_tool(tool, weft_listener):
    ready = weft_listener.ready
    addr = pick_dial_address(ready)
    check_ping(tool, addr, ready["peer_id"])
    check_identify(tool, addr, ready["peer_id"], "weft")
    check_echo(tool, addr, ready["peer_id"])
    check_perf(tool, addr, ready["peer_id"])
    stop_with_signal(weft_listener, signal.SIGINT)


def test_verbose_logs_go_to_stderr(tool, weft_listener):
    addr = pick_dial_address(weft_listener.ready)
    result = run_tool(tool, "--verbose", "--json", "ping", addr, "-n", "1")
    json_result(result)  # stdout still holds the one JSON line
    assert "weft [" in result.stderr, describe(result)


# ---- `weft listen` serving go and js dialers --------------------------------------------------


@pytest.mark.parametrize("impl", REFERENCE_IMPLS)
def test_listen_with_reference_dialer(tool, weft_listener, impl, tmp_path):
    program = reference_program(impl)
    ready = weft_listener.ready
    assert PEER_ID_PATTERN.match(ready["peer_id"]), ready
    assert ready["addrs"] and all(a.endswith("/p2p/" + ready["peer_id"]) for a in ready["addrs"])
    outcome = run_dialer(
        program, pick_dial_address(ready), tmp_path / f"{impl}-dialer.log",
        ["--pings", "3", "--echo-bytes", str(ECHO_BYTES),
         "--perf-up", str(PERF_BYTES), "--perf-down", str(PERF_BYTES)],
    )
    context = f"\n{impl} dialer stderr:\n{outcome.stderr_tail}\nweft stderr:\n" + \
        weft_listener.stderr_tail()
    result = outcome.result
    assert result is not None, f"{impl} dialer printed no result: {outcome.stdout!r}{context}"
    assert result.get("ok") is True, f"{impl} dialer failed: {result.get('error')!r}{context}"
    assert outcome.exit_code == 0, context
    assert result["remote_peer_id"] == ready["peer_id"]
    assert result["agent_version"].startswith(AGENT_PREFIXES["weft"]), result["agent_version"]
    assert all(p in result["protocols"] for p in REQUIRED_PROTOCOLS), result["protocols"]
    assert result["echo_match"] is True
    stop_with_signal(weft_listener, signal.SIGTERM)


def test_listen_stops_at_stdin_eof(tool, tmp_path):
    with open(tmp_path / "listen.log", "wb") as log:
        process = subprocess.Popen(tool + ["listen", "--stdin-eof"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log)
        try:
            ready = json.loads(process.stdout.readline())
            assert PEER_ID_PATTERN.match(ready["peer_id"]), ready
            process.stdin.close()
            assert process.wait(timeout=LISTENER_EXIT_TIMEOUT_S) == 0
            assert process.stdout.read() == b"", "listen printed more than its ready line"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_listen_serves_for_explicit_timeout(tool):
    start = time.monotonic()
    result = run_tool(tool, "listen", "--timeout", "500", timeout=LISTENER_EXIT_TIMEOUT_S)
    assert result.returncode == 0, describe(result)
    assert 0.4 < time.monotonic() - start < LISTENER_EXIT_TIMEOUT_S
    ready = json.loads(result.stdout)
    assert ready["addrs"][0].startswith("/ip4/127.0.0.1/tcp/"), ready


def test_listen_with_key_has_the_key_id(tool, tmp_path):
    key = tmp_path / "node.key"
    peer_id = run_tool(tool, "id", "--key", str(key)).stdout.strip()
    result = run_tool(tool, "listen", "--key", str(key), "--timeout", "200")
    assert result.returncode == 0, describe(result)
    assert json.loads(result.stdout)["peer_id"] == peer_id


def test_listen_on_address_in_use(tool, weft_listener):
    addr = pick_dial_address(weft_listener.ready).split("/p2p/")[0]
    error = single_error_line(run_tool(tool, "listen", "--addr", addr, "--timeout", "200"), 1)
    assert addr in error


# ---- `weft id` --------------------------------------------------------------------------------


def test_id_with_key_creates_then_reuses(tool, tmp_path):
    key = tmp_path / "identity.key"
    first = json_result(run_tool(tool, "--json", "id", "--key", str(key)))
    assert first["created"] is True and first["key_file"] == str(key)
    assert PEER_ID_PATTERN.match(first["peer_id"]), first
    assert stat.S_IMODE(key.stat().st_mode) == 0o600, oct(key.stat().st_mode)
    second = run_tool(tool, "id", "--key", str(key))
    assert second.returncode == 0, describe(second)
    assert second.stdout.strip() == first["peer_id"]
    third = json_result(run_tool(tool, "--json", "id", "--key", str(key)))
    assert third["created"] is False and third["peer_id"] == first["peer_id"]


def test_id_without_key_is_throwaway(tool):
    first = run_tool(tool, "id")
    second = run_tool(tool, "id")
    assert first.returncode == 0 and second.returncode == 0, describe(first) + describe(second)
    assert PEER_ID_PATTERN.match(first.stdout.strip()), describe(first)
    assert first.stdout.strip() != second.stdout.strip()


def test_id_with_malformed_key_file(tool, tmp_path):
    key = tmp_path / "garbage.key"
    key.write_bytes(b"this is not a protobuf private key")
    error = single_error_line(run_tool(tool, "id", "--key", str(key)), 1)
    assert str(key) in error


# ---- errors -----------------------------------------------------------------------------------


def test_unreachable_address(tool):
    addr = f"/ip4/127.0.0.1/tcp/{closed_port()}"
    error = single_error_line(run_tool(tool, "ping", addr), 1)
    assert error.startswith(f"weft: dial {addr}: "), error
    assert "refused" in error.lower(), error


def test_malformed_multiaddr_is_usage_error(tool):
    error = single_error_line(run_tool(tool, "ping", "/ip4/127.0.0.1/tcpx/1"), 2)
    assert "/ip4/127.0.0.1/tcpx/1" in error


def test_wrong_peer_id(tool, weft_listener):
    other_id = run_tool(tool, "id").stdout.strip()
    addr = pick_dial_address(weft_listener.ready).split("/p2p/")[0] + "/p2p/" + other_id
    error = single_error_line(run_tool(tool, "identify", addr), 1)
    assert "peer id" in error.lower(), error


def test_timeout_cancels_and_fails(tool):
    # A TCP server that accepts (in the kernel backlog) but never speaks: the dial hangs in
    # negotiation until the tool's --timeout cancels it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        addr = f"/ip4/127.0.0.1/tcp/{silent.getsockname()[1]}"
        start = time.monotonic()
        result = run_tool(tool, "--timeout", "500", "ping", addr)
        elapsed = time.monotonic() - start
    error = single_error_line(result, 1)
    assert "timed out" in error and "--timeout" in error, error
    assert elapsed < 10, f"took {elapsed:.1f} s to give up after a 500 ms timeout"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["ping"],
        ["ping", "/ip4/127.0.0.1/tcp/1", "--bogus"],
        ["ping", "/ip4/127.0.0.1/tcp/1", "-n", "many"],
        ["ping", "/ip4/127.0.0.1/tcp/1", "/ip4/127.0.0.1/tcp/2"],
        ["echo", "/ip4/127.0.0.1/tcp/1", "--bytes"],
        ["--timeout", "soon", "id"],
        ["id", "extra"],
        ["listen", "--addr", "/ip4/127.0.0.1/tcpx/0"],
    ],
    ids=lambda args: " ".join(args) or "no-args",
)
def test_usage_errors(tool, args):
    single_error_line(run_tool(tool, *args, timeout=LISTENER_EXIT_TIMEOUT_S), 2)


def test_help_and_version(tool):
    help_result = run_tool(tool, "--help")
    assert help_result.returncode == 0 and "usage: weft" in help_result.stdout
    version = run_tool(tool, "--version")
    assert version.returncode == 0 and re.match(r"^weft \d+\.\d+\.\d+ ", version.stdout), \
        describe(version)
