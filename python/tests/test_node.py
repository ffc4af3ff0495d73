"""Two Python nodes on loopback: lifecycle, connect, ping, identify, streams and handlers."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

import pytest

import weft
from helpers import LOOPBACK, echo_through, two_nodes


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- lifecycle ------------------------------------------------------------------------------

async def test_node_facts_and_lifecycle():
    node = weft.Node(listen=LOOPBACK, agent_version="test-agent/1")
    assert node.listen_addrs == []  # not started
    assert not node.running and "created" in repr(node)
    await node.start()
    try:
        assert node.running
        [addr] = node.listen_addrs
        assert addr.peer_id == node.peer_id
        assert addr.value_for("ip4") == "127.0.0.1" and addr.value_for("tcp") != "0"
        stats = node.stats()
        assert stats.connections == 0 and stats.streams == 0 and stats.pending_ops == 0
        with pytest.raises(weft.InvalidState):
            await node.start()
    finally:
        await node.aclose()
    node.close()  # twice is fine
    await node.aclose()
    assert node.listen_addrs == []
    with pytest.raises(weft.NotFound):
        node.stats()


async def test_operations_before_start_and_after_stop():
    node = weft.Node()
    with pytest.raises(weft.InvalidState):
        await node.dial("/ip4/127.0.0.1/tcp/1")
    await node.start()
    await node.stop(0.5)
    await node.stop()  # idempotent
    with pytest.raises(weft.Stopped):
        await node.dial("/ip4/127.0.0.1/tcp/1")
    node.close()


async def test_close_without_start_and_sync_close():
    weft.Node().close()
    node = weft.Node(listen=LOOPBACK)
    await node.start()
    node.close()  # no graceful stop: still frees everything


async def test_several_listen_addresses():
    async with weft.Node(listen=[LOOPBACK, "/ip4/127.0.0.1/tcp/0"]) as node:
        addrs = node.listen_addrs
        assert len(addrs) == 2 and addrs[0] != addrs[1]
    with pytest.raises(weft.Busy):
        async with weft.Node(listen=LOOPBACK) as first:
            port = first.listen_addrs[0].value_for("tcp")
            async with weft.Node(listen=f"/ip4/127.0.0.1/tcp/{port}"):
                pass


# ---- connections, ping, identify ------------------------------------------------------------

async def test_connect_ping_identify():
    async with two_nodes(agent_version="server/2.0") as (server, client, addr):
        conn = await client.connect(addr)
        assert conn.peer_id == server.peer_id and conn.outbound and not conn.closed
        assert conn.remote_addr.value_for("tcp") == addr.value_for("tcp")
        assert await client.connect(str(addr)) is conn  # reused
        assert await client.connect(server.peer_id) is conn
        assert client.connections == [conn]
        assert "outbound" in repr(conn)

        rtt = await client.ping(addr)
        assert 0 < rtt < 1.0
        assert await client.ping(server.peer_id) > 0
        assert await client.ping(str(server.peer_id)) > 0
        assert await conn.ping() > 0

        info = await client.identify(server.peer_id)
        assert info.peer_id == server.peer_id
        assert info.agent_version == "server/2.0"
        for protocol in ("/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/echo/1.0.0", "/perf/1.0.0"):
            assert protocol in info.protocols
        assert addr.without_peer_id() in info.listen_addrs

        stats = client.stats()
        assert stats.connections == 1 and stats.outbound == 1 and stats.connections_opened == 1


async def test_ping_unknown_peer_id_needs_an_address():
    async with weft.Node() as node:
        with pytest.raises(weft.NotFound):
            await node.ping(weft.Identity.generate().peer_id)


async def test_connection_errors():
    async with two_nodes() as (server, client, addr):
        with pytest.raises(weft.ConnectionRefused) as refused:
            await client.dial(f"/ip4/127.0.0.1/tcp/{closed_port()}")
        assert refused.value.message
        wrong = addr.with_peer_id(weft.Identity.generate().peer_id)
        with pytest.raises(weft.PeerIdMismatch):
            await client.dial(wrong)
        with pytest.raises(weft.ParseError):
            await client.dial("/ip4/127.0.0.1/tcpx/1")
        with pytest.raises(weft.Unsupported):
            await client.dial("/ip4/127.0.0.1/udp/1/quic-v1")
        assert client.stats().connections_failed >= 2
        assert await client.ping(addr) > 0  # still fine


async def test_closed_connection_is_redialled_for_an_address():
    async with two_nodes() as (server, client, addr):
        conn = await client.connect(addr)
        conn.close()
        conn.close()
        assert conn.closed and client.connections == []
        with pytest.raises(weft.Closed):
            await conn.ping()
        assert await client.ping(addr) > 0
        assert client.connections[0] is not conn


# ---- streams --------------------------------------------------------------------------------

async def test_echo_one_mebibyte():
    async with two_nodes() as (server, client, addr):
        data = os.urandom(1 << 20)
        async with await client.open_stream(addr, "/echo/1.0.0") as stream:
            assert stream.protocol == "/echo/1.0.0"
            assert stream.remote_peer_id == server.peer_id
            assert await echo_through(stream, data) == data
            assert stream.at_eof()
        stats = client.stats()
        assert stats.bytes_sent == len(data) and stats.bytes_received == len(data)
        assert stats.streams == 0


async def test_written_bytes_objects_live_until_weft_has_read_them():
    # bytes objects are read in place: the write keeps them alive even when the caller drops
    # its last reference at once and the memory would be reused by the next allocations.
    async with two_nodes() as (server, client, addr):
        sizes = [300_000 + 4096 * i for i in range(12)]  # more than a window, all pending
        expected = b"".join(bytes([i + 1]) * n for i, n in enumerate(sizes))
        async with await client.open_stream(addr, "/echo/1.0.0") as stream:
            for i, n in enumerate(sizes):
                stream.write(bytes([i + 1]) * n)  # the only reference is the write's
            scratch = [b"\xee" * n for n in sizes]  # would take the freed blocks
            closing = asyncio.create_task(stream.drain())
            received = bytearray()
            while len(received) < len(expected):
                chunk = await stream.read(1 << 20)
                assert chunk, "the stream ended early"
                received += chunk
            await closing
            del scratch
        assert bytes(received) == expected


async def test_lazy_open_echoes_and_reports_a_refusal_on_read():
    async with two_nodes() as (server, client, addr):
        conn = await client.dial(addr)
        async with await conn.open_stream_lazy("/echo/1.0.0") as stream:
            assert stream.protocol == "/echo/1.0.0"
            assert await echo_through(stream, b"lazy" * 1000) == b"lazy" * 1000
        refused = await conn.open_stream_lazy("/nope/1.0.0")
        async with refused:
            with pytest.raises((weft.ProtocolNotSupported, weft.Reset)):
                await refused.write(b"lost")  # may already see the reset
                await refused.read()
        assert (await conn.ping()) > 0  # the connection is unharmed


async def test_custom_protocol_handler_and_negotiation():
    async with two_nodes() as (server, client, addr):
        seen: list[weft.PeerId] = []

        async def upper(stream: weft.Stream) -> None:
            seen.append(stream.remote_peer_id)
            data = await stream.read()
            await stream.write(data.upper())

        server.set_stream_handler("/upper/1.0.0", upper)
        # The first protocol the server supports is chosen.
        async with await client.open_stream(addr, "/nope/1.0.0", "/upper/1.0.0") as stream:
            assert stream.protocol == "/upper/1.0.0"
            await stream.write(b"hello, weft")
            await stream.close()
            assert await stream.read() == b"HELLO, WEFT"
        assert seen == [client.peer_id]
        assert "/upper/1.0.0" in (await client.identify(server.peer_id)).protocols

        with pytest.raises(weft.ProtocolNotSupported):
            await client.open_stream(addr, "/nope/1.0.0")
        with pytest.raises(weft.InvalidArgument):
            await client.open_stream(addr)

        # A plain function works as a handler too.
        def count(stream: weft.Stream) -> None:
            stream.write(b"sync handler")

        server.set_stream_handler("/count/1.0.0", count)
        async with await client.open_stream(addr, "/count/1.0.0") as stream:
            assert await stream.read() == b"sync handler"

        server.remove_stream_handler("/upper/1.0.0")
        with pytest.raises(weft.ProtocolNotSupported):
            await client.open_stream(addr, "/upper/1.0.0")
        with pytest.raises(weft.NotFound):
            server.remove_stream_handler("/upper/1.0.0")
        with pytest.raises(weft.Busy):
            server.set_stream_handler("/ipfs/ping/1.0.0", count)


async def test_handler_registered_before_start():
    server = weft.Node(listen=LOOPBACK)

    async def hello(stream: weft.Stream) -> None:
        await stream.write(b"early")

    server.set_stream_handler("/early/1.0.0", hello)
    async with server, weft.Node() as client:
        async with await client.open_stream(server.listen_addrs[0], "/early/1.0.0") as stream:
            assert await stream.read() == b"early"


async def test_half_close_semantics():
    async with two_nodes() as (server, client, addr):
        server_saw: asyncio.Queue = asyncio.Queue()

        async def handler(stream: weft.Stream) -> None:
            request = await stream.read()            # until the client half-closes
            server_saw.put_nowait((request, stream.at_eof(), await stream.read(10)))
            await stream.write(b"reply after your FIN")
            await stream.close()
            await stream.close()                     # idempotent

        server.set_stream_handler("/half/1.0.0", handler)
        async with await client.open_stream(addr, "/half/1.0.0") as stream:
            await stream.write(b"request")
            await stream.close()
            with pytest.raises(weft.Closed):
                stream.write(b"too late")            # our write side is closed
            assert await stream.readexactly(5) == b"reply"
            assert await stream.read() == b" after your FIN"
            assert await stream.read() == b""        # EOF, repeatedly
            assert await stream.read(1) == b""
            assert stream.at_eof()
        assert await server_saw.get() == (b"request", True, b"")


async def test_readexactly_iteration_and_writes():
    async with two_nodes() as (server, client, addr):
        async def handler(stream: weft.Stream) -> None:
            for i in range(5):
                stream.write(b"%d" % i * 1000)
            await stream.drain()

        server.set_stream_handler("/five/1.0.0", handler)
        async with await client.open_stream(addr, "/five/1.0.0") as stream:
            assert await stream.readexactly(0) == b""
            assert await stream.readexactly(1500) == b"0" * 1000 + b"1" * 500
            chunks = [chunk async for chunk in stream]
            assert b"".join(chunks) == b"1" * 500 + b"2" * 1000 + b"3" * 1000 + b"4" * 1000
            with pytest.raises(weft.InvalidArgument):
                await stream.readexactly(-1)

        async with await client.open_stream(addr, "/five/1.0.0") as stream:
            with pytest.raises(weft.IncompleteReadError) as short:
                await stream.readexactly(10_000)
            assert short.value.partial == b"".join(b"%d" % i * 1000 for i in range(5))
            assert short.value.expected == 10_000

        async with await client.open_stream(addr, "/echo/1.0.0") as stream:
            write = stream.write(bytearray(b"abc"))
            assert write.size == 3
            await write
            assert write.done()
            stream.write(memoryview(b"defg")[1:])
            await stream.drain()
            assert stream.pending_writes == 0
            with pytest.raises(BufferError):
                stream.write(memoryview(b"abcdef")[::2])
            await stream.close()
            assert await stream.read() == b"abcefg"


async def test_reset_reaches_the_other_side():
    async with two_nodes() as (server, client, addr):
        outcome: asyncio.Future = asyncio.get_running_loop().create_future()

        async def handler(stream: weft.Stream) -> None:
            try:
                await stream.readexactly(1 << 20)
            except weft.WeftError as error:
                outcome.set_result(error)

        server.set_stream_handler("/reset/1.0.0", handler)
        stream = await client.open_stream(addr, "/reset/1.0.0")
        await stream.write(b"partial")
        stream.reset()
        stream.reset()  # idempotent
        assert isinstance(await outcome, weft.Reset)
        with pytest.raises(weft.Reset):
            await stream.write(b"after reset")
        with pytest.raises(weft.Reset):
            await stream.read()
        stream.release()
        with pytest.raises(weft.Closed):
            await stream.read()
        assert client.stats().streams == 0


async def test_handler_exception_resets_its_stream(caplog):
    async with two_nodes() as (server, client, addr):
        async def broken(stream: weft.Stream) -> None:
            await stream.readexactly(4)
            raise RuntimeError("handler bug")

        server.set_stream_handler("/broken/1.0.0", broken)
        with caplog.at_level(logging.ERROR, logger="weft"):
            async with await client.open_stream(addr, "/broken/1.0.0") as stream:
                await stream.write(b"ping")
                with pytest.raises(weft.Reset):
                    await stream.read()
        assert "handler bug" in caplog.text
        assert await client.ping(addr) > 0


async def test_stop_with_streams_open():
    server = weft.Node(listen=LOOPBACK)
    handler_outcome: asyncio.Future = asyncio.get_running_loop().create_future()

    async def hold(stream: weft.Stream) -> None:
        try:
            await stream.read()
        except BaseException as error:  # Stopped, Closed, Reset, or the handler's cancellation
            if not handler_outcome.done():
                handler_outcome.set_result(type(error))
            raise

    server.set_stream_handler("/hold/1.0.0", hold)
    await server.start()
    client = weft.Node()
    await client.start()
    try:
        streams = [await client.open_stream(server.listen_addrs[0], "/hold/1.0.0")
                   for _ in range(3)]
        echo = await client.open_stream(server.listen_addrs[0], "/echo/1.0.0")
        reads = [asyncio.create_task(s.read()) for s in streams]
        await asyncio.sleep(0.05)
        await server.stop(timeout=0.2)
        for read in reads:
            with pytest.raises((weft.Reset, weft.Closed, weft.EndOfStream, weft.Stopped)):
                if await read == b"":
                    raise weft.EndOfStream("clean end")
        assert await handler_outcome in (weft.Stopped, weft.Closed, weft.Reset,
                                         asyncio.CancelledError)
        await client.stop(0.2)
        with pytest.raises((weft.Stopped, weft.Reset, weft.Closed)):
            await echo.write(b"after stop")
    finally:
        await server.aclose()
        await client.aclose()


async def test_stop_completes_pending_operations():
    async with two_nodes() as (server, client, addr):
        async def silent(stream: weft.Stream) -> None:
            await asyncio.sleep(3600)

        server.set_stream_handler("/silent/1.0.0", silent)
        stream = await client.open_stream(addr, "/silent/1.0.0")
        read = asyncio.create_task(stream.read())
        await asyncio.sleep(0.02)
        await client.stop(0)
        with pytest.raises((weft.Stopped, weft.Closed)):  # whichever ends it first
            await read
        assert client.stats().pending_ops == 0
        with pytest.raises(weft.Stopped):
            stream.write(b"submitted after stop")


async def test_limits_apply():
    async with weft.Node(listen=LOOPBACK, limits={weft.Limit.MAX_READ_SIZE: 1000},
                         echo=True, perf=False) as server, \
            weft.Node(limits={weft.Limit.MAX_READ_SIZE: 1000}) as client:
        addr = server.listen_addrs[0]
        assert "/perf/1.0.0" not in (await client.identify(addr)).protocols
        async with await client.open_stream(addr, "/echo/1.0.0") as stream:
            await stream.write(bytes(5000))
            await stream.close()
            sizes = [len(chunk) async for chunk in stream]
            assert sum(sizes) == 5000 and max(sizes) <= 1000


async def test_log_records_reach_the_weft_logger(caplog):
    with caplog.at_level(weft._log.TRACE, logger="weft"):
        async with two_nodes() as (server, client, addr):
            await client.ping(addr)
            await asyncio.sleep(0.05)
    records = [r for r in caplog.records if r.name == "weft"]
    assert records, "no log record from weft at TRACE level"
    assert all(r.levelno in (weft._log.TRACE, logging.DEBUG, logging.INFO, logging.WARNING,
                             logging.ERROR) for r in records)
    assert weft._log.weft_level_for(logging.DEBUG) == 1
    assert weft._log.weft_level_for(logging.CRITICAL) == 5
    assert weft._log.weft_level_for(0) == 0


def test_versions():
    assert weft.library_version() == weft.__version__
    assert weft._native.abi_version() == 0


async def test_aclose_lingers_for_the_remote_then_releases():
    async with two_nodes() as (server, client, addr):
        released: asyncio.Future = asyncio.get_running_loop().create_future()

        async def never_closes(stream: weft.Stream) -> None:
            try:
                await stream.read()          # sees our FIN...
                await asyncio.sleep(3600)    # ...but never closes its own side
            except BaseException as error:
                released.set_result(type(error))
                raise

        server.set_stream_handler("/linger/1.0.0", never_closes)
        stream = await client.open_stream(addr, "/linger/1.0.0")
        assert stream.connection is client.connections[0]
        assert "/linger/1.0.0" in repr(stream)
        started = asyncio.get_running_loop().time()
        await stream.aclose(linger=0.1)
        assert 0.05 < asyncio.get_running_loop().time() - started < 2
        with pytest.raises(weft.Closed):
            stream.write(b"released")
        await stream.aclose()  # idempotent
        assert client.stats().streams == 0
