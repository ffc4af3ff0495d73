"""Stream: one muxed libp2p stream, with asyncio-style reads and writes.

    stream = await node.open_stream(addr, "/echo/1.0.0")
    async with stream:                       # on leaving: half-close, await the remote's, release
        await stream.write(b"hello")         # or: stream.write(b"hello"); await stream.drain()
        await stream.close()                 # half-close: the remote reads EOF, we still read
        reply = await stream.read()          # everything until the remote closes (b"" at EOF)

Reads go through a local buffer: the bytes of every completed C read land there first, so a
read that is cancelled (``asyncio.timeout``, ``wait_for``, ``task.cancel()``) never loses data;
the next read returns it. Any number of tasks may write at once: each write goes out whole and
writes keep their submission order.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING, AsyncIterator, Generator

from . import _native
from ._errors import (Closed, IncompleteReadError, InvalidArgument, NotFound, Status, WeftError,
                      error_from_status)
from ._ops import Completion, Op, wait_passively

if TYPE_CHECKING:
    from ._multiaddr import PeerId
    from ._node import Connection, Node

# Bytes asked of weft per C read when the caller wants fewer: fewer round trips for small reads.
_MIN_READ_REQUEST = 64 * 1024
_ITER_CHUNK = 64 * 1024
# Seconds aclose() waits for the remote to close its side before releasing (resetting) it.
DEFAULT_LINGER = 5.0


def _free_handle(handle: int) -> None:
    try:
        _native.stream_free(handle)
    except WeftError:
        pass  # the node was closed first: the handle is gone already


class Write:
    """A submitted write. ``await`` it to learn that it was sent (or why it failed); cancelling
    that await cancels the write: weft sends nothing of a write cancelled before it started, and
    of one cancelled while it waited for the remote to read, the part ``sent`` says."""

    __slots__ = ("_stream", "_op", "size")

    def __init__(self, stream: "Stream", op: Op, size: int) -> None:
        self._stream = stream
        self._op = op
        self.size = size  #: bytes submitted

    def done(self) -> bool:
        return self._op.completion is not None

    @property
    def sent(self) -> int | None:
        """Bytes of this write handed to the connection, once it completed (None before): its
        size on success; after a failure or a cancellation part way, the prefix that still goes
        out (the rest never does), so a stream that goes on resumes at ``data[sent:]``."""
        completion = self._op.completion
        return None if completion is None else completion.number

    def __await__(self) -> Generator[object, None, None]:
        return self._wait().__await__()

    async def _wait(self) -> None:
        completion = await self._stream._node._ops.wait(self._op)
        completion.raise_for_status()


class Stream:
    """A libp2p stream. Created by ``Node.open_stream`` / ``Connection.open_stream`` or handed
    to a stream handler; not constructed directly."""

    def __init__(self, node: "Node", handle: int, protocol: str, connection: "Connection") -> None:
        self._node = node
        self._handle = handle
        self._protocol = protocol
        self._connection = connection
        self._buffer = bytearray()
        self._eof = False
        self._read_failure: tuple[int, str] | None = None
        self._read_lock = asyncio.Lock()
        self._writes: set[Op] = set()
        self._write_failure: tuple[int, str] | None = None
        self._write_closed = False
        self._reset = False
        self._released = False
        self._finalizer = weakref.finalize(self, _free_handle, handle)

    # ---- facts ----

    @property
    def protocol(self) -> str:
        """The negotiated protocol id."""
        return self._protocol

    @property
    def connection(self) -> "Connection":
        return self._connection

    @property
    def remote_peer_id(self) -> "PeerId":
        return self._connection.peer_id

    @property
    def pending_writes(self) -> int:
        """Writes submitted and not completed yet (for flow control: drain() past a few)."""
        return len(self._writes)

    def at_eof(self) -> bool:
        """True once the remote closed its side and every byte was read."""
        return self._eof and not self._buffer

    def __repr__(self) -> str:
        return (f"<weft.Stream {self._protocol} with {self._connection.peer_id} "
                f"handle={self._handle}>")

    # ---- reading ----

    def _check_usable(self) -> None:
        if self._released:
            raise Closed("the stream was released")

    def _on_read(self, op: Op, completion: Completion) -> None:
        if completion.status == Status.OK:
            if completion.data:
                self._buffer += completion.data
        elif completion.status == Status.EOF:
            self._eof = True
        elif completion.status != Status.ECANCELED:
            self._read_failure = (completion.status, completion.error)

    async def _fill(self, wanted: int) -> None:
        """One C read into the buffer (bytes, EOF or a failure are recorded by _on_read)."""
        max_read = self._node._max_read_size
        size = max_read if wanted < 0 else min(max(wanted, _MIN_READ_REQUEST), max_read)
        handle = self._handle
        ops = self._node._ops
        op = ops.submit(lambda token: _native.stream_read(handle, size, token),
                        on_done=self._on_read)
        await ops.wait(op)

    def _raise_read_failure(self) -> None:
        assert self._read_failure is not None
        raise error_from_status(*self._read_failure)

    async def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes (at least one), or b"" at the end of the stream. With n < 0: every
        byte until the remote closes its side."""
        if n == 0:
            return b""
        async with self._read_lock:
            if n < 0:
                while not self._eof:
                    self._check_usable()
                    if self._read_failure:
                        self._raise_read_failure()
                    await self._fill(-1)
                data = bytes(self._buffer)
                self._buffer.clear()
                return data
            while not self._buffer:
                if self._eof:
                    return b""
                self._check_usable()
                if self._read_failure:
                    self._raise_read_failure()
                await self._fill(n)
            data = bytes(self._buffer[:n])
            del self._buffer[:n]
            return data

    async def readexactly(self, n: int) -> bytes:
        """Exactly `n` bytes; IncompleteReadError (with ``.partial``) if the stream ends first.
        Bytes stay buffered until all `n` are there, so a cancelled call loses none."""
        if n < 0:
            raise InvalidArgument("readexactly: n must be >= 0")
        async with self._read_lock:
            while len(self._buffer) < n:
                if self._eof:
                    partial = bytes(self._buffer)
                    self._buffer.clear()
                    raise IncompleteReadError(partial, n)
                self._check_usable()
                if self._read_failure:
                    self._raise_read_failure()
                await self._fill(n - len(self._buffer))
            data = bytes(self._buffer[:n])
            del self._buffer[:n]
            return data

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            chunk = await self.read(_ITER_CHUNK)
            if not chunk:
                return
            yield chunk

    # ---- writing ----

    def _on_write_done(self, op: Op, completion: Completion) -> None:
        self._writes.discard(op)
        if completion.status not in (Status.OK, Status.ECANCELED) and self._write_failure is None:
            self._write_failure = (completion.status, completion.error)

    def write(self, data: bytes | bytearray | memoryview) -> Write:
        """Submits `data` and returns a Write to await, or not: ``drain()`` waits for every
        write submitted so far. The caller may reuse its buffer at once (a bytes object is
        read in place, being immutable; anything else is copied). Raises at once if the
        stream cannot write."""
        self._check_usable()
        if self._write_closed:
            raise Closed("write after close(): the write side is closed")
        if self._write_failure is not None:
            raise error_from_status(*self._write_failure)
        handle = self._handle
        size = memoryview(data).nbytes
        if type(data) is bytes:
            # Immutable: weft reads it in place, and the op keeps it alive until then.
            op = self._node._ops.submit(
                lambda token: _native.stream_write_nocopy(handle, data, token),
                on_done=self._on_write_done)
            op.keep = data
        else:
            op = self._node._ops.submit(lambda token: _native.stream_write(handle, data, token),
                                        on_done=self._on_write_done)
        self._writes.add(op)
        return Write(self, op, size)

    async def drain(self) -> None:
        """Waits until every write submitted before this call has completed; raises the first
        write failure. Cancelling drain() only stops the waiting: the writes go on."""
        for op in list(self._writes):
            await wait_passively(op)
        if self._write_failure is not None:
            raise error_from_status(*self._write_failure)

    async def close(self) -> None:
        """Half-close: sends FIN after every write submitted before it. Reading goes on.
        Idempotent."""
        self._check_usable()
        if self._write_closed or self._reset:
            return
        self._write_closed = True
        handle = self._handle
        ops = self._node._ops
        op = ops.submit(lambda token: _native.stream_close_write(handle, token))
        try:
            completion = await ops.wait(op)
        except asyncio.CancelledError:
            if op.completion is not None and op.completion.status == Status.ECANCELED:
                self._write_closed = False  # no FIN went out: closing may be tried again
            raise
        completion.raise_for_status()

    def reset(self) -> None:
        """Aborts the stream in both directions at once; pending reads and writes fail with
        Reset. Idempotent."""
        if self._released or self._reset:
            return
        self._reset = True
        try:
            _native.stream_reset(self._handle)
        except (NotFound, Closed):
            pass  # the node is gone, and the stream with it

    def release(self) -> None:
        """Frees the stream's handle (resetting the stream if either side is still open).
        The stream is unusable afterwards. Idempotent."""
        if self._released:
            return
        self._released = True
        self._finalizer()

    async def aclose(self, linger: float = DEFAULT_LINGER) -> None:
        """Ends the stream gracefully: half-closes, waits up to `linger` seconds for the
        remote to close its side (discarding what it still sends), then releases the stream.

        Waiting matters: releasing a stream whose remote side is open resets it, and a reset
        can overtake the bytes and FIN sent just before it."""
        try:
            if not self._released and not self._reset:
                await self.close()
                if not self._eof:
                    async with asyncio.timeout(linger):
                        await self._discard_until_eof()
        except (WeftError, TimeoutError):
            pass  # the stream broke or the remote lingers: releasing resets it
        finally:
            self.release()

    async def _discard_until_eof(self) -> None:
        async with self._read_lock:
            while not self._eof and self._read_failure is None and not self._released:
                self._buffer.clear()
                await self._fill(-1)
            self._buffer.clear()

    async def __aenter__(self) -> "Stream":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            await self.aclose()
        else:
            self.reset()
            self.release()
