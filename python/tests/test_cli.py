"""python -m weft: the subcommands of the `weft` tool, their output and exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

TIMEOUT_S = 60


def weft_cli(*args: str, timeout: float = TIMEOUT_S, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "weft", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **options)


class Listening:
    """`python -m weft listen` in the background; its ready line parsed."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "weft", "listen", *args],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line, f"no ready line; stderr: {self.process.stderr.read()}"
        self.ready = json.loads(line)
        self.addr = self.ready["addrs"][0]

    def stop(self, how: str = "TERM") -> int:
        if how == "EOF":
            self.process.stdin.close()
        else:
            self.process.send_signal(getattr(signal, f"SIG{how}"))
        try:
            return self.process.wait(timeout=15)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe and not pipe.closed:
                pipe.close()


@pytest.fixture
def listener():
    server = Listening("--stdin-eof")
    try:
        yield server
    finally:
        server.kill()


def test_id(tmp_path):
    result = weft_cli("id")
    assert result.returncode == 0 and result.stdout.strip().startswith("12D3KooW")
    key = tmp_path / "node.key"
    first = weft_cli("--json", "id", "--key", str(key))
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["created"] is True and created["key_file"] == str(key)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    again = json.loads(weft_cli("id", "--key", str(key), "--json").stdout)
    assert again["peer_id"] == created["peer_id"] and again["created"] is False


def test_ping_echo_perf_identify_against_a_listener(listener):
    addr = listener.addr
    ping = weft_cli("ping", addr, "-n", "3", "--interval", "10")
    assert ping.returncode == 0, ping.stderr
    assert "3 pings: min/median/max" in ping.stdout
    ping_json = json.loads(weft_cli("--json", "ping", addr, "-n2", "--interval=1").stdout)
    assert ping_json["peer_id"] == listener.ready["peer_id"] and len(ping_json["rtts_ms"]) == 2

    echo = json.loads(weft_cli("echo", addr, "--bytes", "1M", "--json").stdout)
    assert echo["match"] is True and echo["received"] == 1 << 20
    perf = weft_cli("perf", addr, "--upload", "2M", "--download", "3M", "--json")
    assert perf.returncode == 0, perf.stderr
    figures = json.loads(perf.stdout)
    assert figures["upload_bytes"] == 2 << 20 and figures["download_bytes"] == 3 << 20

    identify = json.loads(weft_cli("identify", addr, "--json").stdout)
    assert identify["agent_version"].startswith("weft/")
    assert "/echo/1.0.0" in identify["protocols"]
    text = weft_cli("identify", addr).stdout
    assert f"peer id: {listener.ready['peer_id']}" in text and "protocols (" in text
    assert listener.stop("EOF") == 0


@pytest.mark.parametrize("how", ["TERM", "INT"])
def test_listen_stops_on_signals(how):
    server = Listening()
    try:
        assert server.ready["peer_id"].startswith("12D3KooW")
        assert server.stop(how) == 0
    finally:
        server.kill()


def test_runtime_failures_exit_1(listener):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = weft_cli("ping", f"/ip4/127.0.0.1/tcp/{port}")
    assert refused.returncode == 1
    assert refused.stderr.startswith("weft: ping: ") and "refused" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    wrong = listener.addr.rsplit("/p2p/", 1)[0] + "/p2p/" + "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
    mismatch = weft_cli("identify", wrong)
    assert mismatch.returncode == 1 and "weft: identify:" in mismatch.stderr

    with socket.socket() as silent:  # accepts TCP, never speaks: only --timeout ends it
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        late = weft_cli("--timeout", "500", "ping", f"/ip4/127.0.0.1/tcp/{silent.getsockname()[1]}")
        assert late.returncode == 1 and "timeout" in late.stderr, late.stderr
        assert time.monotonic() - started < 20


@pytest.mark.parametrize("args", [
    [], ["bogus"], ["ping"], ["ping", "/ip4/127.0.0.1/tcpx/1"], ["ping", "/ip4/1.2.3.4/tcp/1", "-n", "x"],
    ["echo", "/ip4/1.2.3.4/tcp/1", "--bytes", "5Q"], ["id", "--nope"], ["--timeout", "-5", "id"],
    ["ping", "/ip4/127.0.0.1/tcp/1", "-n", "0"],
])
def test_usage_errors_exit_2(args):
    result = weft_cli(*args)
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert result.stderr


def test_help_and_version():
    help_text = weft_cli("--help")
    assert help_text.returncode == 0
    for command in ("id", "listen", "ping", "echo", "perf", "identify"):
        assert command in help_text.stdout
    version = weft_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("weft 0.1.0")


def test_verbose_logs_to_stderr(listener):
    result = weft_cli("-v", "ping", listener.addr, "-n", "1")
    assert result.returncode == 0, result.stderr
    assert "weft [" in result.stderr
