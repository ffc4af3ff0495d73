"""Test harness: async tests without plugins, a deadline per test, and leak accounting.

Every `async def test_*` runs in a fresh event loop under a 120 s deadline (a hang fails the
test instead of the CI run). After each test, weft's process-wide live counts must be back to
zero: every node, thread, socket, timer, connection, stream and operation is gone.
"""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest

import weft

TEST_DEADLINE_S = 120.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}

    async def run() -> None:
        async with asyncio.timeout(TEST_DEADLINE_S):
            await pyfuncitem.obj(**kwargs)

    asyncio.run(run())
    return True


def _live() -> dict[str, int]:
    return weft.live_counts()


@pytest.fixture(autouse=True)
def no_leaks():
    """Fails a test that leaves anything of weft's alive once its nodes are closed."""
    yield
    # Threads are joined by close; give the OS a moment for nothing, then insist.
    deadline = time.monotonic() + 2.0
    counts = _live()
    while any(counts.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
        counts = _live()
    assert not any(counts.values()), f"weft objects alive after the test: {counts}"
