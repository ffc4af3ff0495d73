"""Listener and client processes of a benchmark pair, and what /proc says about them.

Resident memory and CPU time are read for a process and all its descendants, so a peer that is
a wrapper script around the real program is measured correctly.
"""
from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10


class RunFailed(Exception):
    """One metric of one pair failed; the message says why (it goes into the report)."""


def _parent_of_every_process() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return parents


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for child, parent in _parent_of_every_process().items():
        children.setdefault(parent, []).append(child)
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(children.get(p, []))
    return pids


def rss_bytes(pid: int) -> int:
    """VmRSS of the process and its descendants."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process and its live descendants."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / CLOCK_TICKS


def children_cpu_seconds() -> float:
    """CPU time of every child this process has waited for (a delta gives one client's)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tail(path: Path, lines: int = 4) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])[-600:]


def _read_line(proc: subprocess.Popen, timeout_s: float, what: str, log: Path) -> str:
    """The next stdout line of `proc`, waiting at most timeout_s."""
    deadline = time.monotonic() + timeout_s
    buffer = b""
    fd = proc.stdout.fileno()
    while not buffer.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RunFailed(f"{what}: no output within {timeout_s:.0f} s; stderr: {_tail(log)}")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1)
        if not chunk:
            proc.wait()
            raise RunFailed(f"{what}: exited with {proc.returncode} before printing a line; "
                            f"stderr: {_tail(log)}")
        buffer += chunk
    return buffer.decode(errors="replace").strip()


def _stop(proc: subprocess.Popen) -> int | None:
    """Ends `proc`: end of stdin first, then SIGTERM, then SIGKILL. Returns its exit code."""
    if proc.stdin and not proc.stdin.closed:
        try:
            proc.stdin.close()
        except OSError:
            pass
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            continue
    return None


@dataclass
class Listener:
    """A peer in listen mode, started, with the address clients dial."""
    command: list[str]
    log: Path
    json_ready_line: bool = False  # the weft tool prints JSON, the contract peers "LISTEN <ma>"
    proc: subprocess.Popen | None = None
    addr: str = ""

    def start(self) -> str:
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err)
        line = _read_line(self.proc, READY_TIMEOUT_S, "listener", self.log)
        if self.json_ready_line:
            addrs = json.loads(line).get("addrs", [])
            self.addr = next((a for a in addrs if a.startswith("/ip4/127.0.0.1/")), addrs[0] if addrs else "")
        elif line.startswith("LISTEN "):
            self.addr = line.split(" ", 1)[1].strip()
        if "/p2p/" not in self.addr:
            self.stop()
            raise RunFailed(f"listener: expected a ready line with a /p2p/ address, got {line!r}")
        return self.addr

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        """Ends the listener (end of stdin first) and returns its exit code."""
        code = None
        if self.proc is not None:
            code = _stop(self.proc)
            self.proc = None
        return code


@dataclass
class ClientResult:
    output: dict
    cpu_s: float  # the client's user + system CPU time


def run_client(command: list[str], log: Path, timeout_s: float) -> ClientResult:
    """Runs a client to completion and parses its one JSON line."""
    before = children_cpu_seconds()
    with open(log, "ab") as err:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise RunFailed(f"client: no result within {timeout_s:.0f} s; stderr: {_tail(log)}")
    cpu = children_cpu_seconds() - before
    if proc.returncode != 0:
        raise RunFailed(f"client exited with {proc.returncode}; stderr: {_tail(log)}")
    lines = [line for line in out.decode(errors="replace").splitlines() if line.strip()]
    if len(lines) != 1:
        raise RunFailed(f"client printed {len(lines)} lines instead of one JSON line: {out[:200]!r}")
    try:
        return ClientResult(json.loads(lines[0]), cpu)
    except json.JSONDecodeError as error:
        raise RunFailed(f"client printed something that is not JSON: {lines[0][:200]!r} ({error})")


class HeldClient:
    """A client of the `hold` metric: started, waited for until it holds its connections, then
    measured and ended by closing its stdin."""

    def __init__(self, command: list[str], log: Path, timeout_s: float):
        self.log = log
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err)
        try:
            line = _read_line(self.proc, timeout_s, "hold client", log)
            self.output = json.loads(line)
        except (RunFailed, json.JSONDecodeError) as error:
            _stop(self.proc)
            raise RunFailed(str(error))

    def rss(self) -> int:
        return rss_bytes(self.proc.pid)

    def finish(self) -> None:
        code = _stop(self.proc)
        if code != 0:
            raise RunFailed(f"hold client exited with {code}; stderr: {_tail(self.log)}")
