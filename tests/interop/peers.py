"""Launching and talking to interop peer programs (weft-peer, peer-go, peer-js).

Every peer follows the command-line contract in tests/interop/README.md; this module knows how to
find each implementation, start a listener, run a dialer and read their JSON lines.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parent.parent

# What each implementation puts at the start of its identify agent version.
AGENT_PREFIXES = {
    "weft": "weft/",
    "go": "github.com/libp2p/go-libp2p",
    "js": "js-libp2p/",
}

REQUIRED_PROTOCOLS = ("/ipfs/ping/1.0.0", "/ipfs/id/1.0.0", "/echo/1.0.0", "/perf/1.0.0")

LISTENER_READY_TIMEOUT_S = 30.0
# Longer than the peers' own 120 s hard limit, so a peer that keeps its promise never hits it.
DIALER_TIMEOUT_S = 150.0
IDENTIFIED_EVENT_TIMEOUT_S = 10.0
LISTENER_EXIT_TIMEOUT_S = 10.0

# One entry per pair that ran, filled by the tests and reported by conftest.py.
RECORDED_RESULTS: list[dict] = []


def require_all() -> bool:
    return os.environ.get("WEFT_INTEROP_REQUIRE_ALL") == "1"


@dataclass
class PeerProgram:
    impl: str
    command: list[str] | None
    # Why the program cannot run; None when it can.
    unavailable: str | None = None


def _command_available(command: list[str]) -> str | None:
    """Returns why the command cannot run, or None. For `node script`, both must exist."""
    program = command[0]
    if os.sep in program:
        if not (os.path.isfile(program) and os.access(program, os.X_OK)):
            return f"{program} is not an executable file"
    elif not any(
        os.access(os.path.join(d, program), os.X_OK)
        for d in os.environ.get("PATH", "").split(os.pathsep)
    ):
        return f"{program} is not in PATH"
    for arg in command[1:]:
        if arg.endswith((".mjs", ".js")) and not os.path.isfile(arg):
            return f"{arg} does not exist"
    return None


def find_program(impl: str) -> PeerProgram:
    if impl == "weft":
        value = os.environ.get("WEFT_PEER")
        if not value:
            return PeerProgram(impl, None, "WEFT_PEER is not set (path of the weft-peer binary)")
        command = shlex.split(value)
        return PeerProgram(impl, command, _command_available(command))
    if impl == "go":
        value = os.environ.get("GO_PEER") or str(INTEROP_DIR / "go" / "peer-go")
        command = shlex.split(value)
        reason = _command_available(command)
        if reason and not os.environ.get("GO_PEER"):
            reason += " (run tests/interop/setup.sh)"
        return PeerProgram(impl, command, reason)
    if impl == "js":
        value = os.environ.get("JS_PEER") or f"node {INTEROP_DIR / 'js' / 'peer.mjs'}"
        command = shlex.split(value)
        reason = _command_available(command)
        if reason is None and not os.environ.get("JS_PEER"):
            if not (INTEROP_DIR / "js" / "node_modules" / "libp2p").is_dir():
                reason = "tests/interop/js/node_modules is missing (run tests/interop/setup.sh)"
        return PeerProgram(impl, command, reason)
    raise ValueError(f"unknown implementation {impl!r}")


def _tail(path: Path, max_chars: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-max_chars:]


@dataclass
class Listener:
    """A running `PEER listen`; stdout lines are parsed by a background thread."""

    program: PeerProgram
    log_path: Path
    process: subprocess.Popen | None = None
    lines: "queue.Queue[dict]" = field(default_factory=queue.Queue)
    bad_lines: list[str] = field(default_factory=list)
    _log_file: object = None
    _reader: threading.Thread | None = None

    def start(self) -> dict:
        """Starts the listener and returns its ready line."""
        self._log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.program.command + ["listen"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            cwd=REPO_ROOT,
        )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        try:
            ready = self.lines.get(timeout=LISTENER_READY_TIMEOUT_S)
        except queue.Empty:
            raise AssertionError(
                f"{self.program.impl} listener printed no ready line within "
                f"{LISTENER_READY_TIMEOUT_S:.0f} s (exit code {self.process.poll()}); "
                f"bad stdout lines: {self.bad_lines}; stderr:\n{self.stderr_tail()}"
            ) from None
        return ready

    def _read_stdout(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            text = raw.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                self.bad_lines.append(text)
                continue
            if isinstance(value, dict):
                self.lines.put(value)
            else:
                self.bad_lines.append(text)

    def wait_for_identified(self, timeout: float) -> list[dict]:
        """Collects "identified" events until one arrives or the timeout passes."""
        events: list[dict] = []
        deadline = time.monotonic() + timeout
        while not events:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line.get("event") == "identified":
                events.append(line)
        # Anything already queued is included, so duplicates are visible to the caller.
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line.get("event") == "identified":
                events.append(line)
        return events

    def close_stdin_and_wait(self, timeout: float) -> int | None:
        """Closes stdin (the contract's stop signal); returns the exit code or None on timeout."""
        assert self.process is not None
        try:
            if self.process.stdin:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stderr_tail(self) -> str:
        if self._log_file:
            self._log_file.flush()
        return _tail(self.log_path)

    def kill(self) -> None:
        """Never leaves the process behind, whatever state the test ended in."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self.process is not None:
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    if stream:
                        stream.close()
                except OSError:
                    pass
        if self._log_file:
            self._log_file.close()
            self._log_file = None


@dataclass
class DialOutcome:
    exit_code: int | None
    result: dict | None
    stdout: str
    stderr_tail: str
    seconds: float


def run_dialer(
    program: PeerProgram, target: str, log_path: Path, extra_args: list[str] | None = None
) -> DialOutcome:
    start = time.monotonic()
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            program.command + ["dial", target] + (extra_args or []),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_file,
            cwd=REPO_ROOT,
        )
        try:
            stdout, _ = process.communicate(timeout=DIALER_TIMEOUT_S)
            exit_code = process.returncode
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, _ = process.communicate()
            exit_code = None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    text = stdout.decode("utf-8", errors="replace")
    result = None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines:
        try:
            parsed = json.loads(lines[-1])
            result = parsed if isinstance(parsed, dict) else None
        except json.JSONDecodeError:
            result = None
    return DialOutcome(exit_code, result, text, _tail(log_path), time.monotonic() - start)


def pick_dial_address(ready: dict) -> str:
    """Prefers an IPv4 loopback TCP address; every address must carry /p2p/<listener id>."""
    addrs = ready.get("addrs") or []
    for addr in addrs:
        if addr.startswith("/ip4/127.0.0.1/tcp/"):
            return addr
    if addrs:
        return addrs[0]
    raise AssertionError(f"listener ready line has no addrs: {ready}")
