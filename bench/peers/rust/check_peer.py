#!/usr/bin/env python3
"""Checks a benchmark peer against the peer contract, on loopback.

    python3 bench/peers/rust/check_peer.py [--peer PATH] [--weft-tool PATH] [--go-peer PATH]
                                           [--contract-peer NAME=PATH]... [--hold N]

--peer defaults to the rust peer beside this file (built first with its build.sh). With
--weft-tool (the `weft` command-line tool) the peer's client runs against `weft listen` and the
tool's ping/perf/echo run against `peer listen`; with --go-peer the peer's client runs against
tests/interop/go/peer-go's listener; each --contract-peer (another bench/peers/<impl>/peer) runs
every metric against `peer listen`, and `peer run` runs every metric against its listener. Each check prints a line; the last line counts them, and
the exit status is 0 only if every check passed.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LISTEN_LINE = re.compile(r"^LISTEN (/ip4/127\.0\.0\.1/tcp/(\d+)/p2p/(12D3Koo\w+))$")
RUN_TIMEOUT = 120


class Listener:
    """A listening peer process whose stdin stays open until stop()."""

    def __init__(self, argv, parse_addr):
        # stderr to a file and stdout drained by a thread: a full pipe would stall the listener.
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.stderr, text=True)
        self.first_line = self.process.stdout.readline().strip()
        self.addr = parse_addr(self.first_line)
        self.later_lines = []
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self):
        for line in self.process.stdout:
            self.later_lines.append(line)

    def stop(self, how="eof", within=10):
        if how == "eof":
            self.process.stdin.close()
        else:
            self.process.send_signal(how)
        try:
            self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
        return self.process.returncode

    def rest_of_stdout(self):
        self.drain.join(timeout=5)
        return "".join(self.later_lines)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def rust_listen_addr(line):
    match = LISTEN_LINE.match(line)
    return match.group(1) if match else None


def json_listen_addr(line):
    try:
        return json.loads(line)["addrs"][0]
    except (ValueError, KeyError, IndexError):
        return None


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok    {name}")
        else:
            self.failed += 1
            print(f"FAIL  {name} {detail}".rstrip())
        return condition


def run(argv, stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT):
    try:
        return subprocess.run(argv, stdin=stdin, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        return subprocess.CompletedProcess(argv, None, expired.stdout or "",
                                           f"(killed: no exit within {timeout} s)")


def run_metric(peer, addr, metric, *options):
    """Runs one metric; returns (parsed JSON or None, completed process)."""
    result = run([peer, "run", "--remote", addr, "--metric", metric, *options])
    lines = result.stdout.splitlines()
    try:
        parsed = json.loads(lines[0]) if result.returncode == 0 and len(lines) == 1 else None
    except ValueError:
        parsed = None
    return parsed, result


def count_sockets(port, state):
    out = run(["ss", "-tanH", "state", state, f"( sport = :{port} or dport = :{port} )"]).stdout
    return len(out.splitlines())


class CountingProxy:
    """A TCP relay in front of a listener that counts the connections it accepts: the one
    reliable way to see, from outside both processes, how many TCP connections a client made."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            pair = [client, upstream, 2]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    @staticmethod
    def _pump(source, sink, pair):
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
            pair[2] -= 1
            if pair[2] > 0:
                return
        except OSError:
            pass
        pair[0].close()
        pair[1].close()

    def close(self):
        self.server.close()


def positive_ints(values, count):
    return (isinstance(values, list) and len(values) == count
            and all(isinstance(v, int) and v > 0 for v in values))


def check_metrics(c, peer, addr, label, quick=False, own_client=True):
    """Every metric of `peer run` against the listener at `addr`.

    The checks beyond the contract's output (setup and handshake-rate dial a new TCP connection
    each time, churn with payloads larger than the flow-control windows) apply to the peer under
    test as a client only (own_client).
    """
    mib = 1 << 20
    for up, down in ((64 * mib, 0), (0, 64 * mib)):
        out, result = run_metric(peer, addr, "perf", "--upload", str(up), "--download", str(down))
        c.check(f"{label}: perf up={up} down={down}",
                out is not None and out.get("upload_bytes") == up
                and out.get("download_bytes") == down and out.get("ns", 0) > 0,
                result.stdout + result.stderr)
    out, result = run_metric(peer, addr, "ping", "--count", "50")
    c.check(f"{label}: ping 50", out is not None and positive_ints(out.get("rtt_ns"), 50),
            result.stdout + result.stderr)
    port = addr.split("/")[4]
    out, result = run_metric(peer, addr, "setup", "--count", "10")
    c.check(f"{label}: setup 10", out is not None and positive_ints(out.get("setup_ns"), 10),
            result.stdout + result.stderr)
    if own_client:
        proxy = CountingProxy(int(port))
        try:
            relayed = addr.replace(f"/tcp/{port}/", f"/tcp/{proxy.port}/")
            out, result = run_metric(peer, relayed, "setup", "--count", "10")
            c.check(f"{label}: setup through a relay", out is not None, result.stderr)
            c.check(f"{label}: setup 10 made 10 TCP connections", proxy.accepted == 10,
                    f"({proxy.accepted} made)")
            proxy.accepted = 0
            out, result = run_metric(peer, relayed, "handshake-rate", "--concurrency", "2",
                                     "--seconds", "0.5")
            made = out.get("connections", -1) if out else -1
            c.check(f"{label}: handshake-rate counts only new TCP connections",
                    made > 0 and proxy.accepted == made,
                    f"(reported {made}, made {proxy.accepted}) {result.stderr}")
        finally:
            proxy.close()
    out, result = run_metric(peer, addr, "churn", "--seconds", "1", "--size", "1024")
    c.check(f"{label}: churn 1 KiB", out is not None and out.get("streams", 0) > 0
            and out.get("ns", 0) >= 1e9 and out.get("concurrency", 0) >= 1,
            result.stdout + result.stderr)
    if own_client:
        out, result = run_metric(peer, addr, "churn", "--seconds", "1", "--size", str(4 * mib))
        c.check(f"{label}: churn 4 MiB (larger than the flow-control windows)",
                out is not None and out.get("streams", 0) > 0, result.stdout + result.stderr)
    if quick:
        return
    out, result = run_metric(peer, addr, "handshake-rate", "--concurrency", "8", "--seconds", "1")
    c.check(f"{label}: handshake-rate c=8", out is not None and out.get("connections", 0) > 8
            and out.get("ns", 0) >= 1e9, result.stdout + result.stderr)


def check_hold(c, peer, addr, connections, label="", own_client=True):
    port = addr.split("/")[4]
    before = count_sockets(port, "established")
    holder_stderr = tempfile.TemporaryFile(mode="w+")
    holder = subprocess.Popen([peer, "run", "--remote", addr, "--metric", "hold",
                               "--connections", str(connections)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=holder_stderr, text=True)
    try:
        line = holder.stdout.readline().strip()
        try:
            opened = json.loads(line).get("opened")
        except (ValueError, AttributeError):
            opened = None
        c.check(f"{label}hold {connections}: announces", opened == connections, repr(line))
        if own_client:
            c.check(f"{label}hold {connections}: announces exactly the contract's line",
                    line == f'{{"opened":{connections}}}', repr(line))
        # Both ends of each loopback connection match the port filter.
        held = (count_sockets(port, "established") - before) // 2
        c.check(f"{label}hold {connections}: connections are established", held == connections,
                f"({held} found)")
        time.sleep(2)
        held = (count_sockets(port, "established") - before) // 2
        c.check(f"{label}hold {connections}: connections stay open", held == connections,
                f"({held} found)")
        holder.stdin.close()
        holder.wait(timeout=10)
        holder_stderr.seek(0)
        c.check(f"{label}hold {connections}: exits 0 at end of stdin", holder.returncode == 0,
                holder_stderr.read())
        deadline = time.time() + 10
        while count_sockets(port, "established") > before and time.time() < deadline:
            time.sleep(0.2)
        c.check(f"{label}hold {connections}: connections gone after exit",
                count_sockets(port, "established") <= before)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def check_errors(c, peer, addr):
    other_id = "12D3KooWGhy3mhxqnbSmyojLqjsywgnA8brFYQndS4mhRU8qGpZU"
    port = addr.split("/")[4]
    wrong = f"/ip4/127.0.0.1/tcp/{port}/p2p/{other_id}"
    _, result = run_metric(peer, wrong, "ping", "--count", "1")
    c.check("wrong peer id: exit 1 with a message", result.returncode == 1
            and not result.stdout and "peer" in result.stderr.lower(), result.stderr)
    _, result = run_metric(peer, f"/ip4/127.0.0.1/tcp/1/p2p/{other_id}", "ping", "--count", "1")
    c.check("refused connection: exit 1", result.returncode == 1 and "refused" in result.stderr,
            result.stderr)
    for argv in (["run", "--remote", addr, "--metric", "nope"],
                 ["run", "--remote", addr.rsplit("/p2p/", 1)[0], "--metric", "ping", "--count", "1"],
                 ["run", "--remote", addr, "--metric", "ping"],
                 ["run", "--remote", addr, "--metric", "ping", "--count", "x"],
                 ["listen", "--addr", "/ip4/127.0.0.1/tcpx/0"],
                 ["frobnicate"]):
        result = run([peer, *argv])
        c.check(f"usage error: {' '.join(argv[:1] + argv[-2:])}",
                result.returncode == 2 and not result.stdout and result.stderr, result.stderr)
    result = run([peer, "listen", "--addr", f"/ip4/127.0.0.1/tcp/{port}"])
    c.check("listen on a port in use: exit 1", result.returncode == 1
            and "in use" in result.stderr, result.stderr)


def check_listener_lifecycle(c, peer):
    for how, name in (("eof", "end of stdin"), (signal.SIGTERM, "SIGTERM"),
                      (signal.SIGINT, "SIGINT")):
        listener = Listener([peer, "listen"], rust_listen_addr)
        try:
            c.check(f"listen prints one LISTEN line ({name} run)", listener.addr is not None,
                    repr(listener.first_line))
            status = listener.stop(how)
            c.check(f"listen exits 0 on {name}", status == 0, f"(status {status})")
            c.check(f"listen prints nothing else ({name} run)", listener.rest_of_stdout() == "")
        finally:
            listener.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", default=os.path.join(HERE, "peer"))
    parser.add_argument("--weft-tool")
    parser.add_argument("--go-peer")
    parser.add_argument("--contract-peer", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--hold", type=int, default=1000)
    options = parser.parse_args()
    c = Checker()
    started = time.time()

    if options.peer == os.path.join(HERE, "peer"):
        build = run([os.path.join(HERE, "build.sh")], timeout=1800)
        c.check("build.sh succeeds silently", build.returncode == 0 and not build.stdout
                and not build.stderr, build.stdout + build.stderr)
    peer = options.peer

    check_listener_lifecycle(c, peer)
    listener = Listener([peer, "listen"], rust_listen_addr)
    try:
        addr = listener.addr
        check_metrics(c, peer, addr, "peer -> peer")
        check_hold(c, peer, addr, options.hold)
        check_errors(c, peer, addr)
        if options.weft_tool:
            tool = options.weft_tool
            for argv in (["ping", addr, "-n", "5", "--interval", "10"],
                         ["perf", addr, "--upload", "64M", "--download", "64M"],
                         ["echo", addr, "--bytes", "4M"]):
                result = run([tool, "--json", *argv])
                c.check(f"weft {argv[0]} -> peer", result.returncode == 0,
                        result.stdout + result.stderr)
        for spec in options.contract_peer:
            name, _, other = spec.partition("=")
            check_metrics(c, other, addr, f"{name} -> peer", own_client=False)
            check_hold(c, other, addr, options.hold, f"{name} -> peer: ", own_client=False)
        c.check("listener survives everything above", listener.process.poll() is None)
        c.check("listener exits 0 at end of stdin", listener.stop() == 0)
    finally:
        listener.kill()

    # (label, listener command, how its ready line is read, every metric or the quick set)
    remotes = []
    if options.weft_tool:
        remotes.append(("peer -> weft tool", [options.weft_tool, "listen", "--stdin-eof"],
                        json_listen_addr, False))
    if options.go_peer:
        remotes.append(("peer -> go interop peer", [options.go_peer, "listen"], json_listen_addr,
                        False))
    for spec in options.contract_peer:
        name, _, other = spec.partition("=")
        remotes.append((f"peer -> {name}", [other, "listen"], rust_listen_addr, True))
    for label, argv, parse_addr, full in remotes:
        remote = Listener(argv, parse_addr)
        try:
            c.check(f"{label}: listener started", remote.addr is not None, remote.first_line)
            if remote.addr:
                check_metrics(c, peer, remote.addr, label, quick=not full)
                if full:
                    check_hold(c, peer, remote.addr, options.hold, f"{label}: ")
        finally:
            remote.stop()
            remote.kill()

    print(f"checks took {time.time() - started:.0f} s")
    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
