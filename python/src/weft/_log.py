"""weft's log, through ``logging.getLogger("weft")``.

The C library logs from its own threads; the native module queues the records (it never takes
the GIL there, see _native.cpp) and this module hands them to the logger from the event loop,
whenever the queue's file descriptor becomes readable and whenever a node drains its events.

    logging.basicConfig()
    logging.getLogger("weft").setLevel(logging.DEBUG)   # before creating nodes

The level of the "weft" logger when a node is created decides what the C library produces
(nothing at all by default, since the logger then inherits WARNING and weft rarely warns).
"""

from __future__ import annotations

import asyncio
import logging

from . import _native

logger = logging.getLogger("weft")

TRACE = 5  # below logging.DEBUG, for weft's per-frame messages

# weft_log_level -> logging level.
_PY_LEVEL = {0: TRACE, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_WEFT_OFF = 5
_BATCH = 256

_attached: dict[asyncio.AbstractEventLoop, int] = {}


def weft_level_for(python_level: int) -> int:
    """The lowest weft_log_level a logger at `python_level` would emit."""
    for weft_level in range(5):
        if _PY_LEVEL[weft_level] >= python_level:
            return weft_level
    return _WEFT_OFF


def sync_level() -> None:
    """Makes the C library produce exactly what the "weft" logger would emit now."""
    if logger.disabled:
        _native.set_log_level(_WEFT_OFF)
        return
    _native.set_log_level(weft_level_for(logger.getEffectiveLevel()))


def drain() -> None:
    """Moves every queued record into the logger."""
    while True:
        records, dropped = _native.log_drain(_BATCH)
        if dropped:
            logger.warning("%d log messages of weft were dropped (the queue was full)", dropped)
        for level, message in records:
            logger.log(_PY_LEVEL.get(level, logging.ERROR), "%s", message)
        if len(records) < _BATCH:
            return


def attach(loop: asyncio.AbstractEventLoop) -> None:
    """Drains the queue from `loop` while at least one node there is running."""
    count = _attached.get(loop, 0)
    if count == 0:
        loop.add_reader(_native.log_fd(), drain)
    _attached[loop] = count + 1


def detach(loop: asyncio.AbstractEventLoop) -> None:
    count = _attached.get(loop, 0)
    if count <= 1:
        _attached.pop(loop, None)
        if count == 1 and not loop.is_closed():
            loop.remove_reader(_native.log_fd())
    else:
        _attached[loop] = count - 1
    drain()
