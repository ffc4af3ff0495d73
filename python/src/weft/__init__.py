"""weft: libp2p for asyncio (TCP + Noise + Yamux; identify, ping, echo, perf).

Wire-compatible with go-libp2p and js-libp2p; the protocol work runs on weft's own threads
(a C++ library behind a stable C ABI), the API is asyncio::

    import asyncio
    import weft

    async def main() -> None:
        async with weft.Node(listen=["/ip4/127.0.0.1/tcp/0"]) as server, weft.Node() as client:
            async def shout(stream: weft.Stream) -> None:
                data = await stream.read()            # until the client half-closes
                await stream.write(data.upper())

            server.set_stream_handler("/shout/1.0.0", shout)
            addr = server.listen_addrs[0]             # /ip4/127.0.0.1/tcp/N/p2p/12D3KooW...
            print("rtt", await client.ping(addr))
            async with await client.open_stream(addr, "/shout/1.0.0") as stream:
                await stream.write(b"hello")
                await stream.close()
                print(await stream.read())            # b'HELLO'

    asyncio.run(main())

Errors are WeftError subclasses (weft.Timeout, weft.ConnectionRefused, ...); cancelling a task
that awaits any weft operation cancels the operation inside weft and keeps the node usable.
Logging: logging.getLogger("weft").
"""

from __future__ import annotations

from . import _native
from ._errors import (Busy, Cancelled, Closed, ConnectionRefused, CryptoError, EndOfStream,
                      IncompleteReadError, InvalidArgument, InvalidState, LimitReached, NotFound,
                      OutOfMemory, ParseError, PeerIdMismatch, ProtocolNotSupported,
                      ProtocolViolation, Reset, Status, Stopped, Timeout, TransportError,
                      Unreachable, Unsupported, WeftError, error_class, error_from_status)
from ._identity import Identity
from ._multiaddr import Multiaddr, PeerId
from ._connection import Connection, IdentifyInfo
from ._node import Limit, Live, Node, NodeStats, StreamHandler, live_counts
from ._stream import Stream, Write

__version__ = "0.1.0"


def library_version() -> str:
    """The version of the weft C library inside this package ("0.1.0")."""
    return _native.version()


if _native.abi_version() != _native.HEADER_ABI_VERSION:  # pragma: no cover - a broken build
    raise ImportError(f"weft: the library has ABI {_native.abi_version()}, the extension was "
                      f"built for {_native.HEADER_ABI_VERSION}")

_native.set_error_factory(error_from_status)

__all__ = [
    "Busy", "Cancelled", "Closed", "Connection", "ConnectionRefused", "CryptoError",
    "EndOfStream", "IdentifyInfo", "Identity", "IncompleteReadError", "InvalidArgument",
    "InvalidState", "LimitReached", "Limit", "Live", "Multiaddr", "Node", "NodeStats", "NotFound",
    "OutOfMemory", "ParseError", "PeerId", "PeerIdMismatch", "ProtocolNotSupported",
    "ProtocolViolation", "Reset", "Status", "Stopped", "Stream", "StreamHandler", "Timeout",
    "TransportError", "Unreachable", "Unsupported", "WeftError", "Write", "error_class",
    "error_from_status", "library_version", "live_counts",
]
