"""python -m weft: the `weft` command-line tool's subcommands, for those with only the package.

    python -m weft id [--key FILE]
    python -m weft listen [--addr MA]... [--key FILE] [--stdin-eof]
    python -m weft ping MA [-n N] [--interval MS]
    python -m weft echo MA [--bytes N]
    python -m weft perf MA [--upload N] [--download N]
    python -m weft identify MA

Global options (before or after the command): --json, --timeout MS (default 30000, 0 = none),
-v/--verbose, --version. Exit status: 0 success, 1 failure at run time, 2 bad command line.
Errors are one line on stderr: "weft: <what>: <reason>".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import statistics
import sys
import time
from typing import Any, Awaitable, Callable, Sequence

import weft

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
DEFAULT_TIMEOUT_MS = 30000
STOP_TIMEOUT_S = 3.0
_SUFFIXES = {"": 0, "B": 0, "K": 10, "KIB": 10, "M": 20, "MIB": 20, "G": 30, "GIB": 30}


class Failure(Exception):
    """A run-time failure: printed as one line, exit status 1."""


def parse_size(text: str) -> int:
    """A byte count with an optional binary suffix: 16M = 16777216."""
    digits = len(text) - len(text.lstrip("0123456789"))
    suffix = text[digits:].upper()
    if digits == 0 or suffix not in _SUFFIXES:
        raise argparse.ArgumentTypeError(f"expected a number (suffixes K, M, G allowed), got "
                                         f"'{text}'")
    return int(text[:digits]) << _SUFFIXES[suffix]


def parse_multiaddr(text: str) -> weft.Multiaddr:
    try:
        return weft.Multiaddr(text)
    except weft.WeftError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--json", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="one JSON object per line on stdout instead of text")
    parser.add_argument("--timeout", type=int, metavar="MS", default=default,
                        help="limit for the whole command (default 30000; 0 = none)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="the library's log on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m weft",
        description="A libp2p node on the command line (TCP + Noise + Yamux; identify, ping, "
                    "echo, perf). MA is a multiaddr such as /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW..."
                    "; with /p2p/ the remote must be that peer.")
    _global_options(parser, suppress=False)
    parser.add_argument("--version", action="store_true", help="the package's and library's "
                        "versions")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, takes_addr: bool) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _global_options(sub, suppress=True)
        if takes_addr:
            sub.add_argument("addr", type=parse_multiaddr, metavar="MA")
        sub.add_argument("--key", metavar="FILE",
                         help="the identity's key file (created if missing)")
        return sub

    command("id", "Print a peer id: of --key FILE (created if missing) or of a throwaway one.",
            False)
    listen = command("listen", "Serve identify, ping, /echo/1.0.0 and /perf/1.0.0 until "
                     "SIGINT/SIGTERM (or end of stdin with --stdin-eof).", False)
    listen.add_argument("--addr", action="append", type=parse_multiaddr, metavar="MA",
                        help="listen address (repeatable; default /ip4/127.0.0.1/tcp/0)")
    listen.add_argument("--stdin-eof", action="store_true", help="stop at the end of stdin")
    ping = command("ping", "Dial MA and ping N times.", True)
    ping.add_argument("-n", "--count", type=parse_size, default=5, metavar="N")
    ping.add_argument("--interval", type=parse_size, default=1000, metavar="MS")
    echo = command("echo", "Send N random bytes on /echo/1.0.0 while reading them back.", True)
    echo.add_argument("--bytes", type=parse_size, default=1 << 20, metavar="N")
    perf = command("perf", "The /perf/1.0.0 client: upload N bytes, then download N bytes.",
                   True)
    perf.add_argument("--upload", type=parse_size, default=16 << 20, metavar="N")
    perf.add_argument("--download", type=parse_size, default=16 << 20, metavar="N")
    command("identify", "Print the remote's peer id, agent version, protocols and addresses.",
            True)
    return parser


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def line(self, text: str) -> None:
        print(text, flush=True)

    def result(self, values: dict[str, Any], text_lines: Sequence[str]) -> None:
        if self.as_json:
            self.line(json.dumps(values))
        else:
            for text in text_lines:
                self.line(text)


def _identity(key: str | None) -> weft.Identity | None:
    return weft.Identity.load_or_generate(key) if key else None


async def _dialed(args: argparse.Namespace) -> tuple[weft.Node, weft.Connection, float]:
    node = weft.Node(identity=_identity(args.key))
    await node.start()
    started = time.perf_counter()
    try:
        conn = await node.dial(args.addr)
    except BaseException:
        await node.aclose(STOP_TIMEOUT_S)
        raise
    return node, conn, (time.perf_counter() - started) * 1000


async def run_id(args: argparse.Namespace, out: Output) -> int:
    created = bool(args.key) and not os.path.exists(args.key)
    identity = weft.Identity.load_or_generate(args.key) if args.key else weft.Identity.generate()
    out.result({"peer_id": str(identity.peer_id), "key_file": args.key, "created": created},
               [str(identity.peer_id)])
    return EXIT_OK


def _stop_at_stdin_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Sets `stop` once stdin reaches end of file (or cannot be read at all)."""
    if sys.stdin is None:
        stop.set()
        return
    fd = sys.stdin.fileno()

    def on_readable() -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            stop.set()

    try:
        loop.add_reader(fd, on_readable)
    except (PermissionError, OSError):
        # A regular file (or /dev/null) cannot be polled: it is read to its end at once.
        while True:
            try:
                if not os.read(fd, 65536):
                    break
            except OSError:
                break
        stop.set()


async def run_listen(args: argparse.Namespace, out: Output) -> int:
    addrs = [str(a) for a in (args.addr or ["/ip4/127.0.0.1/tcp/0"])]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    if args.stdin_eof:
        _stop_at_stdin_eof(loop, stop)
    async with weft.Node(listen=addrs, identity=_identity(args.key)) as node:
        # The ready line is JSON whatever the output format (scripts read it).
        out.line(json.dumps({"peer_id": str(node.peer_id),
                             "addrs": [str(a) for a in node.listen_addrs]}))
        try:
            if args.timeout:  # only when given explicitly: serve for that long
                await asyncio.wait_for(stop.wait(), args.timeout / 1000)
            else:
                await stop.wait()
        except asyncio.TimeoutError:
            pass
        await node.stop(STOP_TIMEOUT_S)
    return EXIT_OK


async def run_ping(args: argparse.Namespace, out: Output) -> int:
    if not 1 <= args.count <= 1_000_000:
        raise UsageError("-n: expected 1 to 1000000 pings")
    if args.interval > 3_600_000:
        raise UsageError("--interval: at most 3600000 ms")
    node, conn, connect_ms = await _dialed(args)
    async with node:
        if not out.as_json:
            out.line(f"connected to {conn.peer_id} in {connect_ms:.3f} ms")
        rtts = []
        for i in range(args.count):
            if i:
                await asyncio.sleep(args.interval / 1000)
            rtts.append(await conn.ping() * 1000)
            if not out.as_json:
                out.line(f"ping {i + 1}: {rtts[-1]:.3f} ms")
        summary = {"min_ms": min(rtts), "median_ms": statistics.median(rtts),
                   "max_ms": max(rtts)}
        out.result({"peer_id": str(conn.peer_id), "connect_ms": connect_ms, "rtts_ms": rtts,
                    **summary},
                   [f"{len(rtts)} pings: min/median/max = {summary['min_ms']:.3f}/"
                    f"{summary['median_ms']:.3f}/{summary['max_ms']:.3f} ms"])
    return EXIT_OK


def _repeated(payload: bytes, offset: int, length: int) -> bytes:
    """payload repeated endlessly, bytes [offset, offset + length)."""
    start = offset % len(payload)
    out = bytearray()
    while len(out) < length:
        out += payload[start:start + length - len(out)]
        start = 0
    return bytes(out)


async def run_echo(args: argparse.Namespace, out: Output) -> int:
    total = args.bytes
    payload = os.urandom(max(1, min(total, 1 << 20)))
    node, conn, _ = await _dialed(args)
    async with node:
        started = time.perf_counter()
        async with await conn.open_stream("/echo/1.0.0") as stream:
            async def send() -> None:
                sent = 0
                while sent < total:
                    chunk = _repeated(payload, sent, min(64 << 10, total - sent))
                    stream.write(chunk)
                    sent += len(chunk)
                    if stream.pending_writes >= 8:
                        await stream.drain()
                await stream.drain()
                await stream.close()

            sender = asyncio.create_task(send())
            received, match, first_difference = 0, True, 0
            try:
                async for chunk in stream:
                    if match and chunk != _repeated(payload, received, len(chunk)):
                        match = False
                        first_difference = received + next(
                            (i for i, (a, b) in enumerate(
                                zip(chunk, _repeated(payload, received, len(chunk)))) if a != b),
                            0)
                    received += len(chunk)
            finally:
                await sender
        seconds = time.perf_counter() - started
    match = match and received == total
    rate = total / seconds / 1e6 if seconds > 0 else 0.0
    out.result({"peer_id": str(conn.peer_id), "bytes": total, "received": received,
                "match": match, "seconds": seconds, "mb_per_s": rate},
               [f"echo: {total} bytes sent and returned identical in {seconds:.3f} s "
                f"({rate:.1f} MB/s)"] if match else [])
    if not match:
        raise Failure(f"echo {conn.peer_id}: {received} of {total} bytes came back, differing "
                      f"from those sent at offset {first_difference}")
    return EXIT_OK


async def run_perf(args: argparse.Namespace, out: Output) -> int:
    node, conn, _ = await _dialed(args)
    async with node:
        async with await conn.open_stream("/perf/1.0.0") as stream:
            started = time.perf_counter()
            stream.write(args.download.to_bytes(8, "big"))
            zeros = bytes(256 << 10)
            sent = 0
            while sent < args.upload:
                stream.write(zeros[:min(len(zeros), args.upload - sent)])
                sent += min(len(zeros), args.upload - sent)
                if stream.pending_writes >= 8:
                    await stream.drain()
            await stream.close()
            uploaded = time.perf_counter()
            downloaded = 0
            async for chunk in stream:
                downloaded += len(chunk)
            finished = time.perf_counter()
    if downloaded != args.download:
        raise Failure(f"perf: the server sent {downloaded} of the {args.download} bytes "
                      "requested")
    up_s, down_s = uploaded - started, finished - uploaded
    out.result({"peer_id": str(conn.peer_id), "upload_bytes": args.upload,
                "upload_seconds": up_s, "download_bytes": downloaded,
                "download_seconds": down_s},
               [f"upload:   {args.upload} bytes in {up_s:.3f} s "
                f"({args.upload / max(up_s, 1e-9) / 1e6:.1f} MB/s)",
                f"download: {downloaded} bytes in {down_s:.3f} s "
                f"({downloaded / max(down_s, 1e-9) / 1e6:.1f} MB/s)"])
    return EXIT_OK


async def run_identify(args: argparse.Namespace, out: Output) -> int:
    node, conn, _ = await _dialed(args)
    async with node:
        info = await conn.identify()
    addrs = [str(a) for a in info.listen_addrs]
    out.result({"peer_id": str(info.peer_id), "agent_version": info.agent_version,
                "protocols": info.protocols, "listen_addrs": addrs},
               [f"peer id: {info.peer_id}", f"agent version: {info.agent_version}",
                f"protocols ({len(info.protocols)}):", *[f"  {p}" for p in info.protocols],
                f"listen addresses ({len(addrs)}):", *[f"  {a}" for a in addrs]])
    return EXIT_OK


class UsageError(Exception):
    """A bad command line found after parsing: exit status 2."""


COMMANDS: dict[str, Callable[[argparse.Namespace, Output], Awaitable[int]]] = {
    "id": run_id, "listen": run_listen, "ping": run_ping, "echo": run_echo, "perf": run_perf,
    "identify": run_identify,
}


async def _run(args: argparse.Namespace) -> int:
    run = COMMANDS[args.command](args, Output(args.json))
    timeout_ms = DEFAULT_TIMEOUT_MS if args.timeout is None else args.timeout
    if args.command == "listen" or timeout_ms == 0:
        return await run
    try:
        async with asyncio.timeout(timeout_ms / 1000):
            return await run
    except TimeoutError as error:
        if isinstance(error, weft.WeftError):
            raise
        raise Failure(f"{args.command}: no result within --timeout {timeout_ms} ms") from None


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"weft {weft.__version__} (libweft {weft.library_version()}, Python package)")
        return EXIT_OK
    if not args.command:
        parser.print_usage(sys.stderr)
        print("python -m weft: error: no command given", file=sys.stderr)
        return EXIT_USAGE
    if args.timeout is not None and args.timeout < 0:
        parser.error("--timeout: expected milliseconds (0 for no limit)")
    if args.verbose:
        logging.basicConfig(stream=sys.stderr, format="weft [%(levelname)s] %(message)s")
        logging.getLogger("weft").setLevel(logging.DEBUG)
    try:
        return asyncio.run(_run(args))
    except UsageError as error:
        print(f"weft: {error} (see python -m weft --help)", file=sys.stderr)
        return EXIT_USAGE
    except (Failure, weft.WeftError, OSError) as error:
        print(f"weft: {args.command}: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
