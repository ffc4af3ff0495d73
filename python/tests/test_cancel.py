"""Cancellation (seed 4): cancelling a task that awaits a weft operation cancels it inside weft,
waits for its completion, keeps the effects of an operation that finished first (no byte read
is lost), and leaves the node fully usable: no leaked stream, no pending operation."""

from __future__ import annotations

import asyncio
import os
import random
import time

import pytest

import weft
from helpers import echo_through, two_nodes

QUIET = "/quiet/1.0.0"  # the server never writes: reads on it wait until cancelled
SINK = "/sink/1.0.0"    # the server reads and discards everything


async def quiet_handler(stream: weft.Stream) -> None:
    try:
        await stream.read()
    except weft.WeftError:
        pass


async def sink_handler(stream: weft.Stream) -> None:
    try:
        while await stream.read(1 << 20):
            pass
    except weft.WeftError:
        pass


class Statuses:
    """Counts the completion statuses a node dispatches (to prove cancels reached weft)."""

    def __init__(self, node: weft.Node) -> None:
        self.counts: dict[int, int] = {}
        table = node._ops
        original = table.dispatch

        def counting(completion):
            self.counts[completion.status] = self.counts.get(completion.status, 0) + 1
            return original(completion)

        table.dispatch = counting  # type: ignore[method-assign]

    def __getitem__(self, status: int) -> int:
        return self.counts.get(status, 0)


async def test_timed_out_read_loses_nothing():
    async with two_nodes() as (server, client, addr):
        async with await client.open_stream(addr, "/echo/1.0.0") as stream:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(stream.read(), 0.05)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.02):
                    await stream.readexactly(10)
            await stream.write(b"0123456789")
            assert await stream.readexactly(10) == b"0123456789"
            assert client.stats().pending_ops == 0


async def test_cancelled_read_that_won_keeps_its_bytes():
    async with two_nodes() as (server, client, addr):
        async with await client.open_stream(addr, "/echo/1.0.0") as stream:
            await stream.write(b"abc")
            await asyncio.sleep(0.05)  # the echo is on its way back, or here
            read = asyncio.create_task(stream.read(3))
            await asyncio.sleep(0)       # submitted
            read.cancel()                # the completion races the cancel
            try:
                got = await read
            except asyncio.CancelledError:
                got = b""
            assert got + await stream.readexactly(3 - len(got)) == b"abc"


async def test_cancellation_while_waiting_for_the_completion_is_absorbed():
    async with two_nodes() as (server, client, addr):
        server.set_stream_handler(QUIET, quiet_handler)
        async with await client.open_stream(addr, QUIET) as stream:
            read = asyncio.create_task(stream.read())
            await asyncio.sleep(0.01)
            for _ in range(5):  # cancelled again and again while the C cancel completes
                read.cancel()
                await asyncio.sleep(0)
            with pytest.raises(asyncio.CancelledError):
                await read
            assert client.stats().pending_ops == 0
            assert not client._ops.pending


async def test_each_operation_kind_can_be_cancelled():
    async with two_nodes() as (server, client, addr):
        server.set_stream_handler(QUIET, quiet_handler)
        statuses = Statuses(client)
        conn = await client.connect(addr)

        async def cancelled_soon(coroutine) -> None:
            task = asyncio.create_task(coroutine)
            await asyncio.sleep(0)
            task.cancel()
            try:
                result = await task
            except asyncio.CancelledError:
                return
            if isinstance(result, weft.Stream):  # it won the race: ours to release
                result.release()

        for _ in range(20):
            await cancelled_soon(conn.ping())
            await cancelled_soon(conn.identify())
            await cancelled_soon(conn.open_stream(QUIET))
            await cancelled_soon(client.dial(addr))
        async with await client.open_stream(addr, QUIET) as quiet:
            for _ in range(20):
                await cancelled_soon(quiet.read())
                await cancelled_soon(quiet.write(b"x" * 100)._wait())
        assert statuses[weft.Status.ECANCELED] > 0
        assert client.stats().pending_ops == 0 and client.stats().streams == 0
        assert not client._ops.pending
        assert await client.ping(addr) > 0


async def test_a_cancelled_write_says_how_much_of_it_went_out():
    async with two_nodes() as (server, client, addr):
        start_reading = asyncio.Event()
        received = bytearray()
        finished = asyncio.Event()

        async def late_sink(stream: weft.Stream) -> None:
            await start_reading.wait()
            while chunk := await stream.read(1 << 20):
                received.extend(chunk)
            finished.set()

        server.set_stream_handler("/late-sink/1.0.0", late_sink)
        data = random.Random(7).randbytes(1 << 20)  # four times the initial window

        async def wait_for(write: weft.Write) -> None:
            await write

        async with await client.open_stream(addr, "/late-sink/1.0.0") as stream:
            first = stream.write(data)
            waiting = asyncio.create_task(wait_for(first))
            await asyncio.sleep(0.1)
            assert not first.done()  # stuck on the window: the remote does not read yet
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert first.sent is not None and 0 < first.sent < len(data)
            rest = stream.write(data[first.sent:])
            start_reading.set()
            await rest
            assert rest.sent == len(data) - first.sent
        await asyncio.wait_for(finished.wait(), 10)
        assert bytes(received) == data


async def test_cancelled_accept_frees_what_it_took():
    async with two_nodes() as (server, client, addr):
        server.set_stream_handler(QUIET, quiet_handler)
        await client.ping(addr)
        server.remove_stream_handler(QUIET)  # cancels the accept loop's pending accept
        await asyncio.sleep(0.01)
        assert server.stats().pending_ops == 0
        assert not server._ops.pending


async def test_read_bytes_survive_random_cancellation():
    """Every byte echoed arrives exactly once, in order, though reads are cancelled at random
    points by task.cancel, wait_for and asyncio.timeout."""
    rng = random.Random(4)
    async with two_nodes() as (server, client, addr):
        async with await client.open_stream(addr, "/echo/1.0.0") as stream:
            sent = bytearray()
            received = bytearray()
            for i in range(1500):
                chunk = os.urandom(rng.randint(1, 300))
                sent += chunk
                stream.write(chunk)
                how = rng.randrange(3)
                delay = rng.random() * 0.0004
                try:
                    if how == 0:
                        received += await asyncio.wait_for(stream.read(rng.randint(1, 400)),
                                                           delay)
                    elif how == 1:
                        async with asyncio.timeout(delay):
                            received += await stream.read(rng.randint(1, 400))
                    else:
                        task = asyncio.create_task(stream.readexactly(rng.randint(1, 50)))
                        asyncio.get_running_loop().call_later(delay, task.cancel)
                        received += await task
                except (asyncio.CancelledError, TimeoutError):
                    pass
            await stream.close()
            received += await stream.read()
            assert received == sent
        assert client.stats().pending_ops == 0


async def test_cancellation_torture():
    """At least 10,000 operations of mixed kinds, cancelled at random points; the node then
    pings and echoes correctly and leaks no stream and no pending operation."""
    rng = random.Random(2024)
    limits = {weft.Limit.MAX_CONNECTIONS_PER_PEER: 256, weft.Limit.MAX_INBOUND_CONNECTIONS: 1024}
    async with weft.Node(listen="/ip4/127.0.0.1/tcp/0", limits=limits) as server, \
            weft.Node(limits=limits) as client:
        addr = server.listen_addrs[0]
        server.set_stream_handler(QUIET, quiet_handler)
        server.set_stream_handler(SINK, sink_handler)
        statuses = Statuses(client)
        conn = await client.connect(addr)
        quiet = [await conn.open_stream(QUIET) for _ in range(4)]
        sinks = [await conn.open_stream(SINK) for _ in range(4)]
        first_token = client._ops._next_token
        outcomes: dict[str, int] = {}

        async def one_operation(kind: int) -> None:
            if kind == 0:
                await rng.choice(quiet).read(rng.randint(1, 4096))
            elif kind == 1:
                await rng.choice(sinks).write(b"w" * rng.randint(1, 2048))
            elif kind == 2:
                await conn.ping()
            elif kind == 3:
                await conn.identify()
            elif kind == 4:
                stream = await conn.open_stream(QUIET)
                stream.reset()
                stream.release()
            elif kind == 5:
                extra = await client.dial(addr)
                extra.close()
            else:
                await rng.choice(sinks).drain()

        async def cancelled_at_random(kind: int) -> None:
            how = rng.randrange(4)
            delay = rng.random() * 0.002
            try:
                if how == 0:
                    await asyncio.wait_for(one_operation(kind), delay)
                elif how == 1:
                    async with asyncio.timeout(delay):
                        await one_operation(kind)
                elif how == 2:
                    task = asyncio.create_task(one_operation(kind))
                    asyncio.get_running_loop().call_later(delay, task.cancel)
                    await task
                else:
                    task = asyncio.create_task(one_operation(kind))
                    for _ in range(rng.randrange(3)):
                        await asyncio.sleep(0)
                    task.cancel()
                    await task
                outcome = "completed"
            except (asyncio.CancelledError, TimeoutError):
                outcome = "cancelled"
            except weft.WeftError as error:
                outcome = type(error).__name__
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        kinds = [0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6]
        started = time.monotonic()
        while client._ops._next_token - first_token < 10_000:
            batch = [cancelled_at_random(rng.choice(kinds)) for _ in range(64)]
            await asyncio.gather(*batch)
            for extra in client.connections:
                if extra is not conn:
                    extra.close()
        seconds = time.monotonic() - started
        submitted = client._ops._next_token - first_token
        print(f"\ntorture: {submitted} operations in {seconds:.1f} s; outcomes {outcomes}; "
              f"completions by status {statuses.counts}")

        assert submitted >= 10_000
        assert statuses[weft.Status.ECANCELED] >= 1000, statuses.counts
        assert outcomes.get("cancelled", 0) >= 2000
        unexpected = set(outcomes) - {"completed", "cancelled"}
        assert not unexpected, outcomes

        # Fully usable afterwards, with nothing leaked.
        for stream in quiet + sinks:
            stream.reset()
            stream.release()
        assert await client.ping(addr) > 0
        data = os.urandom(256 * 1024)
        async with await client.open_stream(addr, "/echo/1.0.0") as stream:
            assert await echo_through(stream, data) == data
        await asyncio.sleep(0.05)
        stats = client.stats()
        assert stats.pending_ops == 0 and stats.streams == 0, stats
        assert not client._ops.pending
        deadline = time.monotonic() + 5
        while server.stats().streams and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert server.stats().streams == 0 and server.stats().pending_ops <= 2  # 2 accepts
