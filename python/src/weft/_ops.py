"""Asynchronous C operations as awaitables: tokens, completions and cancellation.

Every C operation is submitted with a fresh token and completes exactly once with an event
carrying that token (weft.h, rule 3). An Op records one submission; the node's event-fd reader
finds it by token, stores the completion, runs its ``on_done`` hook and wakes whoever waits.

Cancellation (seed 4): when the task awaiting an Op is cancelled, weft_cancel is issued for its
token and the completion is still awaited, however often the task is cancelled meanwhile. Only
then does CancelledError propagate. Effects of an operation that finished before the cancel
took hold are kept: ``on_done`` already ran (a read's bytes are in the stream's buffer, a dial's
connection is in the pool), and ``salvage`` releases what the caller will never receive (a
stream opened or accepted for a cancelled caller is freed).
"""

from __future__ import annotations

import asyncio
from typing import Callable, NamedTuple, Optional

from . import _native
from ._errors import Status, WeftError, error_from_status


class Completion(NamedTuple):
    """One polled weft event (see _native.cpp's event_tuple)."""

    type: int
    token: int
    status: int
    error: str
    conn: int
    stream: int
    protocol: str
    data: Optional[bytes]
    number: int  # weft_event_count: bytes written, or a round trip in nanoseconds
    text: str
    peer_id: str
    protocols: str
    listen_addrs: str

    def raise_for_status(self) -> None:
        if self.status != Status.OK:
            raise error_from_status(self.status, self.error)


# weft_event_type
DIAL, OPEN_STREAM, ACCEPT_STREAM, READ, WRITE, CLOSE_WRITE, PING, IDENTIFY = range(1, 9)


class Op:
    """One submitted operation, pending until its completion arrives."""

    __slots__ = ("token", "completion", "waiter", "observers", "on_done", "salvage", "keep")

    def __init__(self, token: int) -> None:
        self.token = token
        self.completion: Completion | None = None
        self.waiter: asyncio.Future[None] | None = None
        # Passive waiters (Stream.drain): woken, never cancelling the operation.
        self.observers: list[asyncio.Future[None]] | None = None
        # Runs in the event loop when the completion arrives, before anyone is woken.
        self.on_done: Callable[["Op", Completion], None] | None = None
        # Runs when the caller was cancelled but the operation succeeded anyway.
        self.salvage: Callable[[Completion], None] | None = None
        # What weft reads in place until the completion arrives (a written bytes object).
        self.keep: object = None

    def complete(self, completion: Completion) -> None:
        self.completion = completion
        self.keep = None
        if self.on_done is not None:
            self.on_done(self, completion)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        if self.observers:
            for observer in self.observers:
                if not observer.done():
                    observer.set_result(None)
            self.observers = None


class OpTable:
    """The pending operations of one node, by token."""

    def __init__(self, node_handle: int) -> None:
        self._node_handle = node_handle
        self._next_token = 1
        self.pending: dict[int, Op] = {}

    def submit(self, submit: Callable[[int], object],
               on_done: Callable[[Op, Completion], None] | None = None,
               salvage: Callable[[Completion], None] | None = None) -> Op:
        """Calls ``submit(token)`` (a _native call); a failure to submit raises at once."""
        token = self._next_token
        self._next_token += 1
        op = Op(token)
        op.on_done = on_done
        op.salvage = salvage
        self.pending[token] = op
        try:
            submit(token)
        except BaseException:
            del self.pending[token]
            raise
        return op

    def dispatch(self, completion: Completion) -> bool:
        op = self.pending.pop(completion.token, None)
        if op is None:
            return False
        op.complete(completion)
        return True

    async def wait(self, op: Op) -> Completion:
        """The completion of `op`; cancelling the caller cancels the operation (see above)."""
        if op.completion is None:
            loop = asyncio.get_running_loop()
            op.waiter = loop.create_future()
            try:
                await op.waiter
            except asyncio.CancelledError:
                if op.completion is None:
                    try:
                        _native.cancel(self._node_handle, op.token)
                    except WeftError:
                        pass  # the node was closed: closing completes every pending op
                    await _wait_through_cancellation(op, loop)
                completion = op.completion
                assert completion is not None
                if completion.status == Status.OK and op.salvage is not None:
                    op.salvage(completion)
                raise
        assert op.completion is not None
        return op.completion

    def fail_all(self, status: int, message: str) -> None:
        """Completes every pending op locally (the node was closed under them)."""
        pending, self.pending = self.pending, {}
        for token, op in pending.items():
            op.complete(Completion(0, token, status, message, 0, 0, "", None, 0, "", "", "", ""))


async def _wait_through_cancellation(op: Op, loop: asyncio.AbstractEventLoop) -> None:
    # weft completes every operation once, promptly after a cancel: wait for it whatever
    # else happens to the task, so the completion is never lost or left unobserved.
    while op.completion is None:
        op.waiter = loop.create_future()
        try:
            await op.waiter
        except asyncio.CancelledError:
            continue


async def wait_passively(op: Op) -> None:
    """Waits for `op` to complete; cancelling the caller leaves the operation running."""
    if op.completion is not None:
        return
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    if op.observers is None:
        op.observers = []
    op.observers.append(future)
    await future
