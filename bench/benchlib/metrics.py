"""The metrics: how each is run for one pair of peers, and the figures it yields.

Figures per run (key: unit, better):
  perf_up_MBps, perf_down_MBps   MB/s (10^6 bytes/s) through one /perf/1.0.0 stream, higher
  cpu_s_per_GiB                  CPU seconds of both processes per GiB moved, lower
  setup_ms                       median dial -> first ping reply over the run's connections, lower
  handshake_per_s                new connections to first ping reply per second, higher
  ping_median_us, ping_p99_us    round trips on one ping stream, lower
  churn_per_s                    echo streams (open, 1 KiB each way, close) per second, higher
  mem_listener_KiB, mem_dialer_KiB  RSS growth per idle connection, each side, lower
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from .procs import HeldClient, Listener, RunFailed, cpu_seconds, rss_bytes, run_client

GiB = 1 << 30


@dataclass(frozen=True)
class Settings:
    runs: int
    perf_bytes: int
    setup_count: int
    rate_seconds: float
    ping_count: int
    hold_connections: int
    settle_s: float
    iperf_seconds: float
    aead_seconds: float
    handshake_concurrency: int = 4
    churn_size: int = 1024
    # Streams in flight on the connection, the same for every implementation:
    # enough that each one's stream set-up, not the loopback round trip, is
    # what the figure measures.
    churn_concurrency: int = 16


FULL = Settings(runs=5, perf_bytes=GiB, setup_count=200, rate_seconds=10, ping_count=1000,
                hold_connections=5000, settle_s=2, iperf_seconds=3, aead_seconds=1)
QUICK = Settings(runs=2, perf_bytes=256 << 20, setup_count=50, rate_seconds=1, ping_count=1000,
                 hold_connections=1000, settle_s=0.5, iperf_seconds=1, aead_seconds=0.5)


@dataclass
class Peer:
    name: str               # weft, weft-cli, weft-boringssl, go, rust, js, ...
    command: list[str]      # the program (a contract peer, or the weft tool for weft-cli)
    is_cli: bool = False
    # How the listener runs, when not as `command` (the pinned rows put it on another CPU).
    listener_command: list[str] | None = None
    # Only the ping metric (the pinned rows): the rest is measured unpinned.
    ping_only: bool = False


@dataclass
class Pair:
    client: Peer            # dials and measures
    listener: Peer

    @property
    def key(self) -> str:
        if self.client.name == self.listener.name:
            return self.client.name
        return f"{self.client.name}→{self.listener.name}"

    @property
    def is_self(self) -> bool:
        return self.client.name == self.listener.name


@dataclass
class RunRecord:
    """What one run of one pair produced: figures, and a message per failed metric."""
    figures: dict[str, float] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _expect_list(output: dict, key: str, count: int) -> list[float]:
    values = output.get(key)
    if not isinstance(values, list) or len(values) != count or not all(
            isinstance(v, (int, float)) and v > 0 for v in values):
        raise RunFailed(f"expected {count} positive values in '{key}', got {str(output)[:200]}")
    return values


def _expect_positive(output: dict, *keys: str) -> None:
    for key in keys:
        if not isinstance(output.get(key), (int, float)) or output[key] <= 0:
            raise RunFailed(f"expected a positive '{key}', got {str(output)[:200]}")


class PairRun:
    """One run of one pair: a fresh listener, then each metric with a fresh client process."""

    def __init__(self, pair: Pair, settings: Settings, logs: Path, run_index: int):
        self.pair, self.s = pair, settings
        self.tag = f"{pair.key.replace('→', '-to-')}-run{run_index + 1}"
        self.logs = logs
        self.listener_log = logs / f"{self.tag}-listener.log"
        self.listener: Listener | None = None
        self.record = RunRecord()

    # ---- listener ----

    def _listener_command(self) -> list[str]:
        listener = self.pair.listener
        program = listener.listener_command or listener.command
        if listener.is_cli:
            return program + ["listen", "--stdin-eof", "--json"]
        return program + ["listen"]

    def _ensure_listener(self) -> Listener:
        if self.listener is None or not self.listener.alive():
            if self.listener is not None and self.listener.proc is not None:
                self.record.failures["listener_died"] = (
                    f"the listener exited with {self.listener.proc.poll()} during the run and was "
                    f"restarted; its log: {self.listener_log.name}")
            self.listener = Listener(self._listener_command(), self.listener_log,
                                     json_ready_line=self.pair.listener.is_cli)
            self.listener.start()
        return self.listener

    def client_log(self, metric: str) -> Path:
        return self.logs / f"{self.tag}-{metric}.log"

    def close(self) -> None:
        """Stops the listener; the contract says it then exits 0."""
        if self.listener is not None:
            alive = self.listener.alive()
            code = self.listener.stop()
            if alive and code != 0:
                self.record.failures["listener_exit"] = (
                    f"the listener exited with {code} after the end of its stdin (expected 0)")

    def _client(self, metric: str, *options: str, timeout_s: float):
        listener = self._ensure_listener()
        command = self.pair.client.command + ["run", "--remote", listener.addr, "--metric", metric,
                                              *options]
        return run_client(command, self.client_log(metric), timeout_s)

    def measure(self, keys: list[str], step) -> None:
        """Runs one metric; a failure is recorded against each figure it would have given."""
        start = time.monotonic()
        try:
            step()
        except RunFailed as error:
            for key in keys:
                self.record.failures[key] = str(error)
        took = self.record.notes.setdefault("seconds", {})
        took[keys[0]] = round(time.monotonic() - start, 2)

    # ---- contract peers ----

    def run_contract_metrics(self, only_perf: bool = False) -> RunRecord:
        if self.pair.client.ping_only:
            self.measure(["ping_median_us", "ping_p99_us"], self.ping)
            return self.record
        self.measure(["perf_up_MBps", "perf_down_MBps", "cpu_s_per_GiB"], self.perf)
        if only_perf:
            return self.record
        self.measure(["setup_ms"], self.setup)
        self.measure(["handshake_per_s"], self.handshake_rate)
        self.measure(["ping_median_us", "ping_p99_us"], self.ping)
        self.measure(["churn_per_s"], self.churn)
        self.measure(["mem_listener_KiB", "mem_dialer_KiB"], self.hold)
        return self.record

    def _perf_once(self, up: int, down: int) -> tuple[float, float]:
        """(elapsed ns, CPU seconds of both processes) of one perf client run."""
        listener = self._ensure_listener()
        listener_cpu = cpu_seconds(listener.proc.pid)
        result = self._client("perf", "--upload", str(up), "--download", str(down),
                              timeout_s=60 + (up + down) / 20e6)
        listener_cpu = cpu_seconds(listener.proc.pid) - listener_cpu
        out = result.output
        if out.get("upload_bytes") != up or out.get("download_bytes") != down:
            raise RunFailed(f"perf: asked for {up} up / {down} down, the client reports {out}")
        if up + down:
            _expect_positive(out, "ns")
        return out.get("ns", 0), result.cpu_s + listener_cpu

    def perf(self) -> None:
        n = self.s.perf_bytes
        _, cpu_idle = self._perf_once(0, 0)  # start-up, dial and stream: not per-byte work
        up_ns, cpu_up = self._perf_once(n, 0)
        down_ns, cpu_down = self._perf_once(0, n)
        self.record.figures["perf_up_MBps"] = n / up_ns * 1e3
        self.record.figures["perf_down_MBps"] = n / down_ns * 1e3
        self.record.figures["cpu_s_per_GiB"] = max(0.0, cpu_up + cpu_down - 2 * cpu_idle) / (2 * n / GiB)

    def setup(self) -> None:
        count = self.s.setup_count
        out = self._client("setup", "--count", str(count), timeout_s=60 + count * 0.5).output
        self.record.figures["setup_ms"] = statistics.median(_expect_list(out, "setup_ns", count)) / 1e6

    def handshake_rate(self) -> None:
        out = self._client("handshake-rate", "--concurrency", str(self.s.handshake_concurrency),
                           "--seconds", str(self.s.rate_seconds),
                           timeout_s=self.s.rate_seconds + 90).output
        _expect_positive(out, "connections", "ns")
        self.record.figures["handshake_per_s"] = out["connections"] / out["ns"] * 1e9

    def ping(self) -> None:
        count = self.s.ping_count
        out = self._client("ping", "--count", str(count), timeout_s=60 + count * 0.05).output
        rtts = _expect_list(out, "rtt_ns", count)
        self.record.figures["ping_median_us"] = statistics.median(rtts) / 1e3
        self.record.figures["ping_p99_us"] = percentile(rtts, 99) / 1e3

    def churn(self) -> None:
        out = self._client("churn", "--seconds", str(self.s.rate_seconds), "--size",
                           str(self.s.churn_size), "--concurrency", str(self.s.churn_concurrency),
                           timeout_s=self.s.rate_seconds + 90).output
        _expect_positive(out, "streams", "ns")
        self.record.figures["churn_per_s"] = out["streams"] / out["ns"] * 1e9
        self.record.notes["churn_concurrency"] = out.get("concurrency")

    def _held(self, connections: int) -> HeldClient:
        listener = self._ensure_listener()
        command = self.pair.client.command + ["run", "--remote", listener.addr, "--metric", "hold",
                                              "--connections", str(connections)]
        held = HeldClient(command, self.client_log(f"hold{connections}"), timeout_s=120 + connections * 0.1)
        if held.output.get("opened") != connections:
            held.finish()
            raise RunFailed(f"hold: asked for {connections} connections, the client reports {held.output}")
        return held

    def hold(self) -> None:
        """RSS growth per idle connection. The dialer's baseline is the same program holding one
        connection (its runtime and node are then in the baseline); the listener's is its RSS
        just before the connections are opened."""
        n = self.s.hold_connections
        baseline = self._held(1)
        time.sleep(self.s.settle_s)
        dialer_base = baseline.rss()
        baseline.finish()
        time.sleep(self.s.settle_s)
        listener = self._ensure_listener()
        listener_before = rss_bytes(listener.proc.pid)
        held = self._held(n)
        try:
            time.sleep(self.s.settle_s)  # identify and other per-connection start-up work
            listener_after = rss_bytes(listener.proc.pid)
            dialer_after = held.rss()
        finally:
            held.finish()
        self.record.figures["mem_listener_KiB"] = (listener_after - listener_before) / n / 1024
        self.record.figures["mem_dialer_KiB"] = (dialer_after - dialer_base) / (n - 1) / 1024
        self.record.notes["hold_connections"] = n

    # ---- the weft tool (its own flags and output) ----

    def run_cli_metrics(self) -> RunRecord:
        self.measure(["perf_up_MBps"], lambda: self._cli_perf("upload"))
        self.measure(["perf_down_MBps"], lambda: self._cli_perf("download"))
        self.measure(["ping_median_us", "ping_p99_us"], self._cli_ping)
        return self.record

    def _cli(self, *args: str, timeout_s: float) -> dict:
        listener = self._ensure_listener()
        command = self.pair.client.command + [args[0], listener.addr, *args[1:], "--json",
                                              "--timeout", str(int(timeout_s * 1000))]
        return run_client(command, self.client_log(f"cli-{args[0]}"), timeout_s + 30).output

    def _cli_perf(self, direction: str) -> None:
        n = self.s.perf_bytes
        up, down = (n, 0) if direction == "upload" else (0, n)
        out = self._cli("perf", "--upload", str(up), "--download", str(down),
                        timeout_s=60 + n / 20e6)
        _expect_positive(out, f"{direction}_seconds")
        key = "perf_up_MBps" if direction == "upload" else "perf_down_MBps"
        self.record.figures[key] = n / out[f"{direction}_seconds"] / 1e6

    def _cli_ping(self) -> None:
        count = self.s.ping_count
        out = self._cli("ping", "-n", str(count), "--interval", "0", timeout_s=60 + count * 0.05)
        rtts = _expect_list(out, "rtts_ms", count)
        self.record.figures["ping_median_us"] = statistics.median(rtts) * 1e3
        self.record.figures["ping_p99_us"] = percentile(rtts, 99) * 1e3
