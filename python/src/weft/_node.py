"""Node and Connection: a weft node driven by an asyncio event loop.

    async with weft.Node(listen=["/ip4/127.0.0.1/tcp/0"]) as node:
        print(node.peer_id, node.listen_addrs)
        rtt = await node.ping("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...")
        info = await node.identify(rtt_peer)           # a PeerId of a connected peer
        async with await node.open_stream(addr, "/echo/1.0.0") as stream: ...

        async def handle_chat(stream: weft.Stream) -> None:
            async for chunk in stream:
                await stream.write(chunk)
        node.set_stream_handler("/chat/1.0.0", handle_chat)

Event loop integration: the node's event fd is registered with ``loop.add_reader``; when it is
readable the completions are polled in batches and each wakes the task waiting for it. No thread
per operation, no polling timer. Only ``stop`` runs in a worker thread, since weft_node_stop
blocks until its deadline.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import weakref
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any, Awaitable, Callable, Iterable, Mapping, Union

from . import _log, _native
from ._errors import (Closed, InvalidArgument, InvalidState, NotFound, Reset, Status, Stopped,
                      WeftError)
from ._identity import Identity, key_file
from ._multiaddr import AddrLike, Multiaddr, PeerId, PeerLike
from ._connection import (Connection, IdentifyInfo, _free_stream, _is_address,
                          _parse_addrs)
from ._ops import Completion, Op, OpTable
from ._stream import Stream

logger = logging.getLogger("weft")

_POLL_BATCH = 256
# Batches per wake-up of the reader: bounded so that other callbacks of the loop run too; the
# fd is level-triggered, so what is left is polled on the next turn.
_POLL_BATCHES_PER_WAKEUP = 8
DEFAULT_STOP_TIMEOUT = 5.0


class Limit(IntEnum):
    """weft_limit: counts, bytes or milliseconds as named (see weft.h for the defaults)."""

    MAX_INBOUND_CONNECTIONS = 1
    MAX_OUTBOUND_CONNECTIONS = 2
    MAX_CONNECTIONS_PER_PEER = 3
    MAX_PENDING_HANDSHAKES = 4
    HANDSHAKE_TIMEOUT_MS = 5
    NEGOTIATION_TIMEOUT_MS = 6
    DIAL_TIMEOUT_MS = 7
    PING_TIMEOUT_MS = 8
    IDENTIFY_TIMEOUT_MS = 9
    MAX_STREAMS_PER_CONNECTION = 10
    IDENTIFY_MAX_MESSAGE_SIZE = 11
    MULTISTREAM_MAX_MESSAGE_SIZE = 12
    STREAM_RECEIVE_WINDOW_MAX = 13
    INBOUND_STREAM_BACKLOG = 14
    MAX_READ_SIZE = 15
    MAX_PENDING_EVENTS = 16
    IO_SPIN_US = 17
    CONNECTION_RECEIVE_WINDOWS_MAX = 18


class Live(IntEnum):
    """weft_live: what weft_live_count counts, process-wide."""

    NODES = 1
    THREADS = 2
    SOCKETS = 3
    TIMERS = 4
    CONNECTIONS = 5
    STREAMS = 6
    OPERATIONS = 7


_BUILTIN_ECHO = 1
_BUILTIN_PERF = 2


def live_counts() -> dict[str, int]:
    """Process-wide counts of what weft holds (nodes, threads, sockets, timers, connections,
    streams, operations); all zero once every node is closed."""
    return {kind.name.lower(): _native.live_count(int(kind)) for kind in Live}


@dataclass(frozen=True)
class NodeStats:
    """weft_stat: a snapshot of a node's counters."""

    connections: int
    inbound: int
    outbound: int
    handshaking: int
    streams: int
    pending_ops: int
    queued_events: int
    bytes_sent: int
    bytes_received: int
    connections_opened: int
    connections_failed: int


StreamHandler = Callable[[Stream], Union[Awaitable[Any], Any]]


class _Handler:
    def __init__(self, protocol: str, handler: StreamHandler) -> None:
        self.protocol = protocol
        self.handler = handler
        self.accept_task: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()


def _close_handle(handle: int) -> None:
    try:
        _native.node_close(handle)
    except WeftError:
        pass


class Node:
    """A libp2p node: TCP + Noise + Yamux, serving identify and ping, and by default
    /echo/1.0.0 and /perf/1.0.0.

    ``listen``: addresses to listen on (port 0 picks a free one); ``identity``: an Identity, a
    key file path, or None for a new key; ``limits``: {Limit: value}; ``echo``/``perf``: serve
    the built-in protocols. Use ``async with`` (or ``await start()`` and ``await aclose()``).
    """

    def __init__(self, listen: Union[AddrLike, Iterable[AddrLike]] = (),
                 identity: Union[Identity, str, os.PathLike[str], None] = None, *,
                 agent_version: str | None = None, io_threads: int | None = None,
                 limits: Mapping[Union[Limit, int], int] | None = None,
                 echo: bool = True, perf: bool = True) -> None:
        if isinstance(listen, (str, Multiaddr)):
            listen = [listen]
        if io_threads is not None and io_threads < 1:
            # The event loop waits on the node's event fd; a node without I/O threads is driven
            # by weft_node_poll instead and has none.
            raise InvalidArgument(f"io_threads must be at least 1 for an asyncio node, not {io_threads}")
        _log.sync_level()
        config = _native.config_new()
        try:
            for addr in listen:
                _native.config_add_listen_addr(config, str(addr))
            if isinstance(identity, Identity):
                with key_file(identity.to_bytes()) as path:
                    _native.config_set_identity_file(config, path)
            elif identity is not None:
                _native.config_set_identity_file(config, os.fspath(identity))
            if agent_version is not None:
                _native.config_set_agent_version(config, agent_version)
            if io_threads is not None:
                _native.config_set_io_threads(config, io_threads)
            for limit, value in (limits or {}).items():
                _native.config_set_limit(config, int(limit), int(value))
            _native.config_enable_builtin(config, _BUILTIN_ECHO, echo)
            _native.config_enable_builtin(config, _BUILTIN_PERF, perf)
            self._max_read_size = _native.config_get_limit(config, Limit.MAX_READ_SIZE)
            self._handle = _native.node_new(config)
        finally:
            _native.config_free(config)
        self._finalizer = weakref.finalize(self, _close_handle, self._handle)
        self._ops = OpTable(self._handle)
        self._peer_id = PeerId(_native.node_peer_id(self._handle))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event_fd = -1
        self._state = "created"  # created -> running -> stopping -> stopped -> closed
        self._connections: dict[int, Connection] = {}
        self._handlers: dict[str, _Handler] = {}

    # ---- facts ----

    @property
    def peer_id(self) -> PeerId:
        return self._peer_id

    @property
    def listen_addrs(self) -> list[Multiaddr]:
        """The addresses the node listens on, each ending in /p2p/<peer id> (empty before
        start)."""
        if self._state == "closed":
            return []
        return _parse_addrs(_native.node_listen_addrs(self._handle))

    @property
    def running(self) -> bool:
        return self._state == "running"

    def stats(self) -> NodeStats:
        """The node's counters (weft_stat)."""
        self._check_not_closed()
        values = [_native.node_stat(self._handle, i + 1) for i in range(len(fields(NodeStats)))]
        return NodeStats(*values)

    @property
    def connections(self) -> list[Connection]:
        """The connections this node knows to be open."""
        return list(self._connections.values())

    def __repr__(self) -> str:
        return f"<weft.Node {self._peer_id} {self._state}>"

    # ---- lifecycle ----

    def _check_not_closed(self) -> None:
        if self._state == "closed":
            raise NotFound("the node is closed")

    async def start(self) -> None:
        """Binds the listen addresses and starts the node in the running event loop."""
        self._check_not_closed()
        if self._state != "created":
            raise InvalidState(f"the node is {self._state}; it can be started once")
        loop = asyncio.get_running_loop()
        _log.sync_level()
        _native.node_start(self._handle)
        self._loop = loop
        self._event_fd = _native.node_event_fd(self._handle)
        loop.add_reader(self._event_fd, self._on_events)
        _log.attach(loop)
        self._state = "running"
        for entry in self._handlers.values():
            self._start_accepting(entry)

    async def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        """Stops the node: nothing new starts, connections close gracefully for up to `timeout`
        seconds and are then aborted; every pending operation completes (with Stopped if it
        had not finished). Idempotent."""
        if self._state in ("stopping", "stopped", "closed"):
            while self._state == "stopping":
                await asyncio.sleep(0.01)
            return
        if self._state == "created":
            self._state = "stopped"
            return
        self._state = "stopping"
        timeout_ms = max(0, min(int(timeout * 1000), 2**32 - 1))
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, _native.node_stop, self._handle, timeout_ms)
        finally:
            self._state = "stopped"
            self._drain_all()

    async def aclose(self, timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        """Stops (see stop), cancels and awaits the stream handlers' tasks, then closes."""
        if self._state == "closed":
            return
        try:
            await self.stop(timeout)
            tasks = self._handler_tasks()
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self.close()

    def close(self) -> None:
        """Frees the node at once (stopping it without grace if needed). Every operation still
        pending fails with Stopped. Idempotent; prefer ``aclose()`` in async code."""
        if self._state == "closed":
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._event_fd)
            _log.detach(self._loop)
        try:
            if self._state not in ("stopped",):
                _native.node_stop(self._handle, 0)
            self._drain_all()
        finally:
            self._state = "closed"
            self._finalizer()  # weft_node_close: frees everything the node held
            self._ops.fail_all(Status.ESTOPPED, "the node was closed")
            for task in self._handler_tasks():
                task.cancel()
            for conn in self._connections.values():
                conn._closed = True
            self._connections.clear()

    async def __aenter__(self) -> "Node":
        if self._state == "created":  # a node started already may be managed by `async with`
            await self.start()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await self.aclose()

    # ---- the event loop side ----

    def _on_events(self) -> None:
        for _ in range(_POLL_BATCHES_PER_WAKEUP):
            if self._poll_batch() < _POLL_BATCH:
                return

    def _drain_all(self) -> None:
        while self._poll_batch() == _POLL_BATCH:
            pass

    def _poll_batch(self) -> int:
        if self._state == "closed":
            return 0
        try:
            events = _native.node_poll(self._handle, _POLL_BATCH)
        except NotFound:
            return 0
        for event in events:
            completion = Completion._make(event)
            try:
                if not self._ops.dispatch(completion):
                    logger.debug("a completion with unknown token %d", completion.token)
            except Exception:
                logger.exception("weft: handling a completion failed")
        return len(events)

    # ---- connections ----

    def _adopt_connection(self, handle: int, peer_id: str, outbound: bool) -> Connection:
        conn = self._connections.get(handle)
        if conn is None:
            conn = Connection(self, handle, PeerId(peer_id), outbound)
            self._connections[handle] = conn
        return conn

    def _forget_connection(self, conn: Connection) -> None:
        if conn._closed:
            return
        conn._closed = True
        self._connections.pop(conn._handle, None)
        try:
            _native.conn_close(conn._handle)
        except WeftError:
            pass

    def _connection_to(self, peer: PeerId) -> Connection | None:
        for conn in self._connections.values():
            if conn.peer_id == peer and not conn._closed:
                return conn
        return None

    async def dial(self, addr: AddrLike) -> Connection:
        """A new connection to `addr` (with /p2p/<id>, the remote must be that peer)."""
        self._check_not_closed()
        text = str(Multiaddr(addr))
        ops = self._ops

        def adopt(op: Op, completion: Completion) -> None:
            # Kept in the pool even if the caller was cancelled meanwhile.
            if completion.status == Status.OK:
                self._adopt_connection(completion.conn, completion.peer_id, True)

        op = ops.submit(lambda token: _native.dial(self._handle, text, token), on_done=adopt)
        completion = await ops.wait(op)
        completion.raise_for_status()
        return self._connections[completion.conn]

    async def connect(self, target: PeerLike) -> Connection:
        """A connection to `target`: an existing one to that peer if there is one, else a new
        dial. `target` is a multiaddr (str or Multiaddr) or the PeerId of a connected peer."""
        self._check_not_closed()
        if isinstance(target, PeerId):
            conn = self._connection_to(target)
            if conn is None:
                raise NotFound(f"not connected to {target} (give a multiaddr to dial)")
            return conn
        if isinstance(target, str) and not target.startswith("/"):
            return await self.connect(PeerId(target))
        addr = Multiaddr(target)
        peer = addr.peer_id
        if peer is not None:
            conn = self._connection_to(peer)
            if conn is not None:
                return conn
        return await self.dial(addr)

    async def _with_connection(self, target: PeerLike, action: Callable[[Connection], Awaitable]):
        pooled = self._pooled_connection(target)
        conn = pooled or await self.connect(target)
        try:
            return await action(conn)
        except (Closed, Reset):
            # A pooled connection the remote had closed meanwhile (weft learns of it only when
            # it is used): with an address to dial, try once more on a fresh connection.
            if pooled is None or not conn.closed or not _is_address(target):
                raise
            return await action(await self.dial(target))  # type: ignore[arg-type]

    def _pooled_connection(self, target: PeerLike) -> Connection | None:
        if _is_address(target):
            peer = Multiaddr(target).peer_id  # type: ignore[arg-type]
            return self._connection_to(peer) if peer is not None else None
        return None

    async def ping(self, target: PeerLike) -> float:
        """The round-trip time to `target` in seconds (connecting first if needed)."""
        return await self._with_connection(target, Connection.ping)

    async def identify(self, target: PeerLike) -> IdentifyInfo:
        """What `target` said about itself in identify (connecting first if needed)."""
        return await self._with_connection(target, Connection.identify)

    async def open_stream(self, target: PeerLike, *protocols: str) -> Stream:
        """A stream to `target` (connecting first if needed) negotiating the first of
        `protocols` it supports."""
        if not protocols:
            raise InvalidArgument("open_stream: name at least one protocol")
        return await self._with_connection(target,
                                           lambda conn: conn.open_stream(*protocols))

    # ---- stream handlers ----

    def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None:
        """Serves `protocol`: each inbound stream is given to ``handler(stream)`` (a coroutine
        function, or a function) in a task of its own. The stream is released when the handler
        returns (half-closed first) or raises (reset). Peers learn of it through identify."""
        self._check_not_closed()
        if protocol in self._handlers:
            self._handlers[protocol].handler = handler
            return
        _native.node_handle(self._handle, protocol)
        entry = _Handler(protocol, handler)
        self._handlers[protocol] = entry
        if self._state == "running":
            self._start_accepting(entry)

    def remove_stream_handler(self, protocol: str) -> None:
        """Stops serving `protocol`; streams being handled go on. NotFound if not served."""
        self._check_not_closed()
        entry = self._handlers.pop(protocol, None)
        if entry is None:
            raise NotFound(f"no handler for {protocol!r}")
        if self._state in ("created", "running"):
            _native.node_unhandle(self._handle, protocol)
        if entry.accept_task is not None:
            entry.accept_task.cancel()

    def _handler_tasks(self) -> list[asyncio.Task[None]]:
        tasks = []
        for entry in self._handlers.values():
            if entry.accept_task is not None:
                tasks.append(entry.accept_task)
            tasks.extend(entry.tasks)
        return [task for task in tasks if not task.done()]

    def _start_accepting(self, entry: _Handler) -> None:
        assert self._loop is not None
        entry.accept_task = self._loop.create_task(self._accept_loop(entry),
                                                   name=f"weft accept {entry.protocol}")

    async def _accept_loop(self, entry: _Handler) -> None:
        ops = self._ops
        protocol = entry.protocol
        while self._state == "running":
            try:
                op = ops.submit(lambda token: _native.accept_stream(self._handle, protocol, token),
                                salvage=lambda done: _free_stream(done.stream))
                completion = await ops.wait(op)
            except WeftError as error:
                if not isinstance(error, (Stopped, NotFound)):
                    logger.error("accepting %s streams failed: %s", protocol, error)
                return
            if completion.status != Status.OK:
                if completion.status not in (Status.ESTOPPED, Status.ECLOSED):
                    logger.error("accepting a %s stream failed: %s", protocol, completion.error)
                return
            conn = self._adopt_connection(completion.conn, completion.peer_id, False)
            stream = Stream(self, completion.stream, completion.protocol, conn)
            task = asyncio.get_running_loop().create_task(
                self._serve(entry, stream), name=f"weft handler {protocol}")
            entry.tasks.add(task)
            task.add_done_callback(entry.tasks.discard)

    async def _serve(self, entry: _Handler, stream: Stream) -> None:
        try:
            result = entry.handler(stream)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            stream.reset()
            stream.release()
            raise
        except WeftError as error:
            logger.debug("the %s handler ended with %r", entry.protocol, error)
            stream.reset()
            stream.release()
        except Exception:
            logger.exception("the %s stream handler raised", entry.protocol)
            stream.reset()
            stream.release()
        else:
            await stream.aclose()
