"""Everything around the measurements: building the peers, installing iperf3 and matplotlib,
the machine's facts and the versions in play, and the physical limits (iperf3, AEAD rate)."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "bench" / "peers"
BUILD_TIMEOUT_S = 3600
# The guest kernel's halt polling (the haltpoll cpuidle driver of a KVM guest): how long an idle
# CPU polls for work before it halts, which on a virtual machine is an exit to the hypervisor.
HALT_POLL_NS = Path("/sys/module/haltpoll/parameters/guest_halt_poll_ns")
CPUIDLE_DRIVER = Path("/sys/devices/system/cpu/cpuidle/current_driver")


@dataclass
class Build:
    name: str
    ok: bool
    reason: str = ""
    seconds: float = 0.0


def _run_build(name: str, script: Path, env: dict | None = None) -> Build:
    start = time.monotonic()
    if not script.exists():
        return Build(name, False, f"{script.relative_to(ROOT)} does not exist")
    try:
        proc = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Build(name, False, f"build.sh did not finish within {BUILD_TIMEOUT_S} s")
    took = time.monotonic() - start
    if proc.returncode != 0:
        detail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])[-800:]
        return Build(name, False, f"build.sh exited with {proc.returncode}: {detail}", took)
    return Build(name, True, "", took)


def build_peer(name: str) -> Build:
    """Runs bench/peers/<name>/build.sh; the peer must then be bench/peers/<name>/peer."""
    outcome = _run_build(name, PEERS / name / "build.sh")
    peer = PEERS / name / "peer"
    if outcome.ok and not (peer.exists() and os.access(peer, os.X_OK)):
        return Build(name, False, f"build.sh succeeded but {peer.relative_to(ROOT)} is not an executable",
                     outcome.seconds)
    return outcome


def weft_build_dir() -> Path:
    return Path(os.environ.get("WEFT_BENCH_BUILD", ROOT / "build" / "bench"))


def boringssl_build_dir() -> Path:
    return ROOT / "build" / "bench-boringssl"


def build_weft_boringssl() -> Build:
    """weft's peer and AEAD benchmark again, with -DWEFT_CRYPTO=boringssl, in their own tree."""
    return _run_build("weft-boringssl", PEERS / "weft" / "build.sh", {
        "WEFT_BENCH_BUILD": str(boringssl_build_dir()), "WEFT_CRYPTO": "boringssl",
        "WEFT_BENCH_WITH_TOOL": "0", "WEFT_BENCH_LINK": "0", "WEFT_BENCH_PEER": ""})


def ensure_iperf3() -> str | None:
    """Installs iperf3 with apt if it is missing. Returns None, or why it is not available."""
    if shutil.which("iperf3"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    install = sudo + ["apt-get", "install", "-y", "-qq", "iperf3"]
    if subprocess.run(install, capture_output=True, env=env).returncode != 0:
        subprocess.run(sudo + ["apt-get", "update", "-qq"], capture_output=True, env=env)
        proc = subprocess.run(install, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            return f"apt-get install iperf3 failed: {proc.stderr.strip()[-300:]}"
    return None if shutil.which("iperf3") else "iperf3 is not in PATH after installing it"


def ensure_matplotlib() -> str | None:
    """Installs matplotlib with pip if it is missing. Returns None, or why it is not available."""
    try:
        import matplotlib  # noqa: F401
        return None
    except ImportError:
        pass
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "matplotlib"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return f"pip install matplotlib failed: {proc.stderr.strip()[-300:]}"
    try:
        import importlib
        importlib.invalidate_caches()
        import matplotlib  # noqa: F401,F811
        return None
    except ImportError as error:
        return f"matplotlib does not import after installing it: {error}"


# ---- facts ---------------------------------------------------------------------------------

def _output(command: list[str], cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=cwd)
        return (proc.stdout or proc.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine_facts() -> dict:
    lscpu = {}
    for line in _output(["lscpu"]).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            lscpu[key.strip()] = value.strip()
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    except OSError:
        pass
    return {
        "cpu": lscpu.get("Model name", platform.processor() or "unknown"),
        "cores": os.cpu_count(),
        "threads_per_core": lscpu.get("Thread(s) per core", "?"),
        "kernel": f"{platform.system()} {platform.release()}",
        "memory": memory,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_busy_percent_at_start": cpu_busy_percent(),
        "cpuidle_driver": _read_text(CPUIDLE_DRIVER),
        "guest_halt_poll_ns": _read_int(HALT_POLL_NS),
    }


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _read_int(path: Path) -> int | None:
    text = _read_text(path)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def halt_poll_problem() -> str | None:
    """Why the guest kernel's halt polling cannot be set here, or None when it can."""
    if _read_int(HALT_POLL_NS) is None:
        return f"the guest kernel's halt polling needs the haltpoll cpuidle driver ({HALT_POLL_NS} is absent)"
    if not os.access(HALT_POLL_NS, os.W_OK):
        return f"setting the guest kernel's halt polling needs root ({HALT_POLL_NS} is not writable)"
    return None


class HaltPollError(RuntimeError):
    """The guest kernel's halt polling could not be set, or not be put back."""


@contextlib.contextmanager
def guest_halt_poll(ns: int):
    """Sets the guest kernel's halt polling to `ns` for the block and puts the previous value back
    after it, however it ends (an interrupt included; only a killed run leaves it set)."""
    try:
        previous = HALT_POLL_NS.read_text().strip()
        HALT_POLL_NS.write_text(str(ns))
    except OSError as error:
        raise HaltPollError(f"setting {HALT_POLL_NS} to {ns} failed: {error}") from error
    try:
        yield
    finally:
        try:
            HALT_POLL_NS.write_text(previous)
        except OSError as error:
            raise HaltPollError(f"putting {HALT_POLL_NS} back to {previous} failed: {error}") from error


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs together, from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return values[3] + values[4], sum(values)


def cpu_busy_percent(seconds: float = 1.0) -> float | None:
    """How busy all CPUs were over the next `seconds`: other work running now, which the load
    average (a decaying mean of the past minutes) cannot tell apart from work that just ended."""
    before = _cpu_times()
    time.sleep(seconds)
    after = _cpu_times()
    if before is None or after is None or after[1] <= before[1]:
        return None
    idle, total = after[0] - before[0], after[1] - before[1]
    return round(100.0 * (1 - idle / total), 1)


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def versions(weft_tool: Path | None) -> dict:
    v: dict[str, str] = {}
    commit = _output(["git", "rev-parse", "--short", "HEAD"], ROOT)
    dirty = _output(["git", "status", "--porcelain", "--untracked-files=no"], ROOT)
    v["weft"] = (_first_line(_output([str(weft_tool), "--version"])) if weft_tool else "weft") + \
        (f", commit {commit}{' with local changes' if dirty else ''}" if commit else "")
    v["C/C++ compiler"] = _first_line(_output(["c++", "--version"]))
    go_mod = PEERS / "go" / "go.mod"
    if go_mod.exists():
        found = re.search(r"github.com/libp2p/go-libp2p (v\S+)", go_mod.read_text())
        v["go-libp2p"] = (found.group(1) if found else "?") + f" ({_output(['go', 'version'])})"
    cargo_lock = PEERS / "rust" / "Cargo.lock"
    if cargo_lock.exists():
        found = re.search(r'name = "libp2p"\nversion = "([^"]+)"', cargo_lock.read_text())
        v["rust-libp2p"] = (found.group(1) if found else "?") + f" ({_output(['rustc', '--version'])})"
    js_package = PEERS / "js" / "node_modules" / "libp2p" / "package.json"
    if js_package.exists():
        v["js-libp2p"] = json.loads(js_package.read_text()).get("version", "?") + \
            f" (node {_output(['node', '--version'])})"
    bssl = _output(["dpkg-query", "-W", "-f=${Version}", "android-libboringssl-dev"])
    if bssl:
        v["BoringSSL"] = f"Debian android-libboringssl-dev {bssl}"
    if shutil.which("iperf3"):
        v["iperf3"] = _first_line(_output(["iperf3", "--version"]))
    return v


def default_crypto_backend() -> str:
    found = re.search(r'set\(WEFT_CRYPTO "(\w+)"', (ROOT / "CMakeLists.txt").read_text())
    return found.group(1) if found else "openssl"


# ---- physical limits -----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


IPERF3_BLOCK = 1 << 20


def iperf3_tcp(seconds: float) -> dict:
    """Raw TCP loopback, one stream, as iperf3 measures it: {"Gbps"} (receiver side) and the CPU
    seconds per GiB moved of its sending and its receiving process ("sender_cpu_s_per_GiB",
    "receiver_cpu_s_per_GiB"): the kernel's share of moving bytes through loopback TCP, since
    iperf3 itself barely touches them."""
    port = str(_free_port())
    server = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):  # until the server listens
            # 1 MiB writes and reads, as weft's batches are: with iperf3's default 128 KiB, a
            # receiver that waits for every write costs the sender a wake-up each (here 0.44
            # against 0.26 CPU s per GiB, 18 against 30 Gbit/s), which is not the kernel's floor.
            proc = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", port, "-t", str(seconds),
                                   "-l", str(IPERF3_BLOCK), "-J"],
                                  capture_output=True, text=True, timeout=seconds + 30)
            result = json.loads(proc.stdout or "{}")
            error = result.get("error", "") or ("" if proc.returncode == 0 else proc.stderr.strip())
            if "unable to connect" not in error:
                break
            time.sleep(0.1)
        if error:
            raise RuntimeError(f"iperf3: {error[-200:]}")
        end = result["end"]
        received = end["sum_received"]
        gib = received["bytes"] / (1 << 30)
        cpu = end["cpu_utilization_percent"]  # of one CPU, over the test's wall-clock time
        per_gib = received["seconds"] / gib / 100 if gib > 0 else float("nan")
        return {"Gbps": received["bits_per_second"] / 1e9,
                "sender_cpu_s_per_GiB": cpu["host_total"] * per_gib,
                "receiver_cpu_s_per_GiB": cpu["remote_total"] * per_gib}
    finally:
        server.kill()
        server.wait()


def placement_cpus() -> tuple[int, int] | None:
    """Two CPUs this process may run on, for the pinned round trips; None with fewer than two."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


def tcp_pingpong_us(program: Path, count: int, cpus: tuple[int, int] | None = None) -> dict:
    """{"median_us", "p99_us"}: 32-byte round trips over loopback TCP between two processes,
    the echo side pinned to cpus[0] and the measuring side to cpus[1] when given."""
    command = [str(program), "--count", str(count)]
    if cpus is not None:
        command += ["--cpus", f"{cpus[0]},{cpus[1]}"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{program.name} exited with {proc.returncode}: {proc.stderr.strip()[-200:]}")
    out = json.loads(proc.stdout)
    return {"median_us": out["median_ns"] / 1e3, "p99_us": out["p99_ns"] / 1e3}


def aead_rates(program: Path, seconds: float) -> dict:
    """{"backend", "seal_GBps", "seal_parts_GBps", "open_GBps"}: one core's ChaCha20-Poly1305 rate
    on 64 KiB frames; seal_parts seals a Yamux header and the payload from two buffers, as weft's
    Noise sender does with bulk data."""
    # Three measurements of `seconds` each: seal, seal_parts, open.
    proc = subprocess.run([str(program), "--seconds", str(seconds)], capture_output=True, text=True,
                          timeout=seconds * 3 + 30)
    if proc.returncode != 0:
        raise RuntimeError(f"{program.name} exited with {proc.returncode}: {proc.stderr.strip()[-200:]}")
    out = json.loads(proc.stdout)
    return {"backend": out["backend"], "seal_GBps": out["seal_bytes_per_s"] / 1e9,
            "seal_parts_GBps": out["seal_parts_bytes_per_s"] / 1e9,
            "open_GBps": out["open_bytes_per_s"] / 1e9}
