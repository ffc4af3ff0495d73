"""Seed 5: many writers on one stream all finish; every byte arrives exactly once, each write
whole, in order per writer, even when the receive window keeps the writers waiting."""

from __future__ import annotations

import asyncio
import json
import random
import struct
import time

import weft
from helpers import LOOPBACK

RECORDS = "/records/1.0.0"
HEADER = struct.Struct(">BII")  # writer, sequence number, payload length


def payload(writer: int, sequence: int, length: int) -> bytes:
    return bytes([(writer * 7 + sequence) & 0xFF]) * length


async def check_records(stream: weft.Stream) -> None:
    """Reads records until EOF, checks them, and answers with a JSON summary."""
    next_sequence: dict[int, int] = {}
    errors: list[str] = []
    total = 0
    while True:
        try:
            header = await stream.readexactly(HEADER.size)
        except weft.IncompleteReadError as end:
            if end.partial:
                errors.append(f"{len(end.partial)} stray bytes at the end")
            break
        writer, sequence, length = HEADER.unpack(header)
        body = await stream.readexactly(length)
        expected = next_sequence.get(writer, 0)
        if sequence != expected:
            errors.append(f"writer {writer}: record {sequence} where {expected} was due")
        if body != payload(writer, sequence, length):
            errors.append(f"writer {writer}: record {sequence} is corrupt")
        next_sequence[writer] = sequence + 1
        total += HEADER.size + length
    await stream.write(json.dumps({"records": next_sequence, "bytes": total,
                                   "errors": errors[:10]}).encode())


async def run_writers(client: weft.Node, addr: weft.Multiaddr, writers: int, per_writer: int,
                      seed: int) -> tuple[dict, int, float]:
    rng = random.Random(seed)
    plans = [[rng.randint(1, 8192) for _ in range(per_writer)] for _ in range(writers)]
    sent = sum(HEADER.size + n for plan in plans for n in plan)
    async with await client.open_stream(addr, RECORDS) as stream:
        async def writer(index: int) -> None:
            for sequence, length in enumerate(plans[index]):
                record = HEADER.pack(index, sequence, length) + payload(index, sequence, length)
                await stream.write(record)  # one write per record: it arrives whole

        started = time.monotonic()
        await asyncio.gather(*(writer(i) for i in range(writers)))
        seconds = time.monotonic() - started
        await stream.close()
        summary = json.loads(await stream.read())
    return summary, sent, seconds


async def test_64_concurrent_writers_on_one_stream():
    # The server's receive window stays at yamux's initial 256 KiB: writers wait for credit.
    limits = {weft.Limit.STREAM_RECEIVE_WINDOW_MAX: 256 * 1024}
    async with weft.Node(listen=LOOPBACK, limits=limits) as server, weft.Node() as client:
        server.set_stream_handler(RECORDS, check_records)
        addr = server.listen_addrs[0]
        summary, sent, contended = await run_writers(client, addr, 64, 40, seed=5)
        assert summary["errors"] == []
        assert summary["records"] == {str(i): 40 for i in range(64)}
        assert summary["bytes"] == sent

        # The same bytes from one writer, for the record: contention costs little.
        single, sent_single, alone = await run_writers(client, addr, 1, 64 * 40, seed=5)
        assert single["errors"] == [] and single["bytes"] == sent_single
        print(f"\n64 writers: {sent / contended / 1e6:.0f} MB/s; "
              f"1 writer: {sent_single / alone / 1e6:.0f} MB/s")
        assert client.stats().streams == 0 and client.stats().pending_ops == 0


async def test_writes_submitted_without_waiting_keep_their_order():
    async with weft.Node(listen=LOOPBACK) as server, weft.Node() as client:
        server.set_stream_handler(RECORDS, check_records)
        async with await client.open_stream(server.listen_addrs[0], RECORDS) as stream:
            async def burst(index: int) -> None:
                for sequence in range(100):
                    stream.write(HEADER.pack(index, sequence, 100) + payload(index, sequence, 100))
                    await asyncio.sleep(0)
                await stream.drain()

            await asyncio.gather(*(burst(i) for i in range(16)))
            await stream.close()
            summary = json.loads(await stream.read())
        assert summary["errors"] == [] and summary["records"] == {str(i): 100 for i in range(16)}
