"""The exception hierarchy: one class per meaningful weft_status, all rooted at WeftError.

Every exception carries the C status (``.status``) and weft's detail message (``.message``)::

    try:
        await node.connect("/ip4/127.0.0.1/tcp/1")
    except weft.ConnectionRefused as error:
        print(error.status, error.message)   # 8 "connect to 127.0.0.1:1: connection refused"
    except weft.WeftError as error:          # anything else weft reports
        ...

Where a built-in exception means the same thing, the class derives from it too, so code that
catches ``TimeoutError``, ``ConnectionRefusedError``, ``ValueError`` or ``EOFError`` keeps working.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """weft_status: the stable numeric codes of weft.h."""

    OK = 0
    EINVAL = 1
    ENOMEM = 2
    ECANCELED = 3
    ETIMEDOUT = 4
    ESTOPPED = 5
    ECLOSED = 6
    ERESET = 7
    ECONNREFUSED = 8
    EUNREACHABLE = 9
    EPROTO = 10
    ENOPROTO = 11
    EPEERID = 12
    EUNSUPPORTED = 13
    ELIMIT = 14
    EPARSE = 15
    ECRYPTO = 16
    EOF = 17
    EIO = 18
    ENOTFOUND = 19
    EBUSY = 20
    ESTATE = 21


class WeftError(Exception):
    """Any failure weft reports: ``status`` is the weft_status, ``message`` the detail."""

    status: int = -1

    def __init__(self, message: str = "", status: int | None = None) -> None:
        if status is not None:
            self.status = status
        self.message = message or _describe(self.status)
        # Exception's args, not OSError's (errno, strerror) pair: str() is the message alone.
        Exception.__init__(self, self.message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable whatever the mixin base
        return (_rebuild, (type(self), self.message, self.status))


def _rebuild(cls: type[WeftError], message: str, status: int) -> WeftError:
    return cls(message, status)


def _describe(status: int) -> str:
    try:
        return f"weft error {Status(status).name}"
    except ValueError:
        return f"weft error {status}"


class InvalidArgument(WeftError, ValueError):
    """An invalid argument (WEFT_EINVAL)."""

    status = Status.EINVAL


class OutOfMemory(WeftError, MemoryError):
    """weft ran out of memory (WEFT_ENOMEM)."""

    status = Status.ENOMEM


class Cancelled(WeftError):
    """The operation was cancelled (WEFT_ECANCELED). Awaiting code sees
    ``asyncio.CancelledError`` instead: this class exists for the status mapping."""

    status = Status.ECANCELED


class Timeout(WeftError, TimeoutError):
    """A deadline of weft's passed (WEFT_ETIMEDOUT): dial, handshake, ping, identify..."""

    status = Status.ETIMEDOUT


class Stopped(WeftError):
    """The node is stopping or stopped (WEFT_ESTOPPED)."""

    status = Status.ESTOPPED


class Closed(WeftError):
    """The stream or connection is closed, for this direction (WEFT_ECLOSED)."""

    status = Status.ECLOSED


class Reset(WeftError):
    """The stream or connection was reset (WEFT_ERESET)."""

    status = Status.ERESET


class ConnectionRefused(WeftError, ConnectionRefusedError):
    """The remote refused the TCP connection (WEFT_ECONNREFUSED)."""

    status = Status.ECONNREFUSED


class Unreachable(WeftError, ConnectionError):
    """The address could not be resolved or reached (WEFT_EUNREACHABLE)."""

    status = Status.EUNREACHABLE


class ProtocolViolation(WeftError):
    """The remote violated a wire protocol (WEFT_EPROTO)."""

    status = Status.EPROTO


class ProtocolNotSupported(WeftError):
    """The remote supports none of the protocols proposed (WEFT_ENOPROTO)."""

    status = Status.ENOPROTO


class PeerIdMismatch(WeftError):
    """The remote is not the peer named in the address's /p2p/ part (WEFT_EPEERID)."""

    status = Status.EPEERID


class Unsupported(WeftError):
    """Something weft does not implement: a key type, a transport... (WEFT_EUNSUPPORTED)."""

    status = Status.EUNSUPPORTED


class LimitReached(WeftError):
    """A configured limit was reached (WEFT_ELIMIT)."""

    status = Status.ELIMIT


class ParseError(WeftError, ValueError):
    """Malformed input: a multiaddr, a peer id, a key file... (WEFT_EPARSE)."""

    status = Status.EPARSE


class CryptoError(WeftError):
    """Authentication or decryption failed (WEFT_ECRYPTO)."""

    status = Status.ECRYPTO


class EndOfStream(WeftError, EOFError):
    """The remote closed its write side: no more data (WEFT_EOF)."""

    status = Status.EOF


class IncompleteReadError(EndOfStream):
    """``Stream.readexactly`` reached the end of the stream first; ``partial`` holds what came."""

    def __init__(self, partial: bytes, expected: int) -> None:
        self.partial = partial
        self.expected = expected
        super().__init__(f"{len(partial)} bytes read before the end of the stream, "
                         f"{expected} expected")

    def __reduce__(self):
        return (IncompleteReadError, (self.partial, self.expected))


class TransportError(WeftError):
    """Any other transport or file error (WEFT_EIO)."""

    status = Status.EIO


class NotFound(WeftError, LookupError):
    """An unknown, stale or closed handle, or an unknown protocol (WEFT_ENOTFOUND)."""

    status = Status.ENOTFOUND


class Busy(WeftError):
    """In use: an address in use, a call not allowed from here (WEFT_EBUSY)."""

    status = Status.EBUSY


class InvalidState(WeftError):
    """Not allowed in the object's current state, e.g. before start (WEFT_ESTATE)."""

    status = Status.ESTATE


_CLASS_OF_STATUS: dict[int, type[WeftError]] = {
    cls.status: cls
    for cls in (
        InvalidArgument, OutOfMemory, Cancelled, Timeout, Stopped, Closed, Reset,
        ConnectionRefused, Unreachable, ProtocolViolation, ProtocolNotSupported, PeerIdMismatch,
        Unsupported, LimitReached, ParseError, CryptoError, EndOfStream, TransportError, NotFound,
        Busy, InvalidState,
    )
}


def error_class(status: int) -> type[WeftError]:
    """The exception class of a weft_status (``WeftError`` itself for unknown ones)::

        >>> weft.error_class(4)
        <class 'weft._errors.Timeout'>
    """
    return _CLASS_OF_STATUS.get(int(status), WeftError)


def error_from_status(status: int, message: str = "") -> WeftError:
    """The exception for `status` with weft's detail `message`."""
    cls = error_class(status)
    if cls is WeftError:
        return WeftError(message, int(status))
    return cls(message)
