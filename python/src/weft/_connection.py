"""Connection: one connection of a node to a peer, and what it can do.

    conn = await node.connect("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...")
    print(conn.peer_id, conn.remote_addr, await conn.ping())
    info = await conn.identify()              # agent version, protocols, listen addresses
    stream = await conn.open_stream("/echo/1.0.0")
    conn.close()
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from . import _native
from ._errors import Closed, InvalidArgument, Status, WeftError
from ._multiaddr import Multiaddr, PeerId
from ._ops import Completion
from ._stream import Stream

if TYPE_CHECKING:
    from ._node import Node

logger = logging.getLogger("weft")


@dataclass(frozen=True)
class IdentifyInfo:
    """What a peer said about itself in /ipfs/id/1.0.0."""

    peer_id: PeerId
    agent_version: str
    protocols: list[str]
    listen_addrs: list[Multiaddr]


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


def _parse_addrs(text: str) -> list[Multiaddr]:
    addrs = []
    for line in _lines(text):
        try:
            addrs.append(Multiaddr(line))
        except WeftError as error:
            logger.debug("ignoring an address weft reported but cannot parse: %s", error)
    return addrs


# Statuses after which a connection is known to be unusable.
_DEAD_CONNECTION = (Status.ECLOSED, Status.ERESET, Status.ENOTFOUND, Status.EIO,
                    Status.ESTOPPED)


class Connection:
    """A connection to a peer (dialed, or inbound from a stream a handler accepted)."""

    def __init__(self, node: "Node", handle: int, peer_id: PeerId, outbound: bool) -> None:
        self._node = node
        self._handle = handle
        self.peer_id = peer_id  #: the remote's verified peer id
        self.outbound = outbound  #: True if this node dialed it
        self._remote_addr: Multiaddr | None = None
        self._closed = False

    @property
    def remote_addr(self) -> Multiaddr:
        """The remote's address (IP and port, without /p2p/)."""
        if self._remote_addr is None:
            self._remote_addr = Multiaddr(_native.conn_remote_addr(self._handle))
        return self._remote_addr

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        direction = "outbound" if self.outbound else "inbound"
        return f"<weft.Connection {direction} to {self.peer_id} handle={self._handle}>"

    def _check_open(self) -> None:
        if self._closed:
            raise Closed(f"the connection to {self.peer_id} is closed")

    async def _run(self, submit: Callable[[int], object],
                   salvage: Callable[[Completion], None] | None = None) -> Completion:
        self._check_open()
        ops = self._node._ops
        op = ops.submit(submit, salvage=salvage)
        completion = await ops.wait(op)
        if completion.status in _DEAD_CONNECTION:
            self._node._forget_connection(self)
        completion.raise_for_status()
        return completion

    async def ping(self) -> float:
        """One round trip over /ipfs/ping/1.0.0, in seconds."""
        handle = self._handle
        completion = await self._run(lambda token: _native.ping(handle, token))
        return completion.number / 1e9

    async def identify(self) -> IdentifyInfo:
        """The remote's identify information (exchanged once on every connection)."""
        handle = self._handle
        completion = await self._run(lambda token: _native.identify(handle, token))
        return IdentifyInfo(self.peer_id, completion.text, _lines(completion.protocols),
                            _parse_addrs(completion.listen_addrs))

    async def open_stream(self, *protocols: str) -> Stream:
        """A new stream negotiating the first of `protocols` the remote supports
        (ProtocolNotSupported if none)."""
        if not protocols:
            raise InvalidArgument("open_stream: name at least one protocol")
        handle = self._handle
        proposal = list(protocols)
        completion = await self._run(
            lambda token: _native.open_stream(handle, proposal, token),
            salvage=lambda done: _free_stream(done.stream))
        return Stream(self._node, completion.stream, completion.protocol, self)

    async def open_stream_lazy(self, protocol: str) -> Stream:
        """A new stream proposing `protocol` without waiting for the remote's answer, a round
        trip sooner: writes may follow at once. If the remote refuses, the first read raises
        ProtocolNotSupported (or Reset) and what was written is lost."""
        handle = self._handle
        completion = await self._run(
            lambda token: _native.open_stream_lazy(handle, protocol, token),
            salvage=lambda done: _free_stream(done.stream))
        return Stream(self._node, completion.stream, completion.protocol, self)

    def close(self) -> None:
        """Closes the connection (its streams fail with Closed). Idempotent."""
        if self._closed:
            return
        self._node._forget_connection(self)


def _is_address(target: object) -> bool:
    return isinstance(target, Multiaddr) or (isinstance(target, str) and target.startswith("/"))


def _free_stream(handle: int) -> None:
    try:
        _native.stream_free(handle)
    except WeftError:
        pass
