"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

import weft

LOOPBACK = "/ip4/127.0.0.1/tcp/0"


@contextlib.asynccontextmanager
async def two_nodes(**server_options) -> AsyncIterator[tuple[weft.Node, weft.Node, weft.Multiaddr]]:
    """A listening server, a client, and the server's address (with /p2p/)."""
    async with weft.Node(listen=[LOOPBACK], **server_options) as server, weft.Node() as client:
        yield server, client, server.listen_addrs[0]


async def echo_through(stream: weft.Stream, data: bytes, chunk: int = 64 * 1024) -> bytes:
    """Writes `data` (then half-closes) while reading everything back, as echo needs."""

    async def send() -> None:
        for offset in range(0, len(data), chunk):
            stream.write(data[offset:offset + chunk])
            if stream.pending_writes >= 8:
                await stream.drain()
        await stream.drain()
        await stream.close()

    sender = asyncio.create_task(send())
    try:
        received = await stream.read()
    finally:
        await sender
    return received
