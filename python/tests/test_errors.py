"""The exception hierarchy: one class per weft_status, stable, with the C detail message."""

from __future__ import annotations

import pickle

import pytest

import weft

EXPECTED = {
    1: (weft.InvalidArgument, ValueError),
    2: (weft.OutOfMemory, MemoryError),
    3: (weft.Cancelled, None),
    4: (weft.Timeout, TimeoutError),
    5: (weft.Stopped, None),
    6: (weft.Closed, None),
    7: (weft.Reset, None),
    8: (weft.ConnectionRefused, ConnectionRefusedError),
    9: (weft.Unreachable, ConnectionError),
    10: (weft.ProtocolViolation, None),
    11: (weft.ProtocolNotSupported, None),
    12: (weft.PeerIdMismatch, None),
    13: (weft.Unsupported, None),
    14: (weft.LimitReached, None),
    15: (weft.ParseError, ValueError),
    16: (weft.CryptoError, None),
    17: (weft.EndOfStream, EOFError),
    18: (weft.TransportError, None),
    19: (weft.NotFound, LookupError),
    20: (weft.Busy, None),
    21: (weft.InvalidState, None),
}


def test_every_status_has_its_class():
    assert set(EXPECTED) == {s.value for s in weft.Status if s != weft.Status.OK}
    for status, (cls, builtin) in EXPECTED.items():
        assert weft.error_class(status) is cls
        assert cls.status == status
        assert issubclass(cls, weft.WeftError)
        if builtin is not None:
            assert issubclass(cls, builtin)


@pytest.mark.parametrize("status", sorted(EXPECTED))
def test_error_from_status_keeps_status_and_message(status):
    error = weft.error_from_status(status, f"detail {status}")
    cls = EXPECTED[status][0]
    assert type(error) is cls
    assert error.status == status
    assert error.message == f"detail {status}"
    assert str(error) == f"detail {status}"
    with pytest.raises(weft.WeftError):
        raise error
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and copy.message == error.message and copy.status == status


def test_status_names_are_weft_h():
    assert weft.Status.ETIMEDOUT == 4
    assert weft.Status.ESTATE == 21
    assert weft.Status(17).name == "EOF"


def test_unknown_status_gives_the_base_class():
    error = weft.error_from_status(999, "from the future")
    assert type(error) is weft.WeftError
    assert error.status == 999 and str(error) == "from the future"
    assert weft.error_class(0) is weft.WeftError


def test_default_message_names_the_status():
    assert str(weft.Timeout()) == "weft error ETIMEDOUT"
    assert weft.Timeout().status == 4


def test_incomplete_read_error():
    error = weft.IncompleteReadError(b"abc", 10)
    assert error.partial == b"abc" and error.expected == 10
    assert isinstance(error, weft.EndOfStream) and isinstance(error, EOFError)
    assert "3 bytes" in str(error) and "10" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.partial == b"abc" and copy.expected == 10


def test_c_errors_arrive_as_classes_with_the_c_detail():
    # A parse failure inside the C library (the listen address is parsed by weft itself).
    with pytest.raises(weft.ParseError) as caught:
        weft.Node(listen=["/ip4/1.2.3.4.5/tcp/1"])
    assert caught.value.status == weft.Status.EPARSE
    assert "1.2.3.4.5" in caught.value.message
    with pytest.raises(weft.InvalidArgument) as invalid:
        weft.Node(limits={weft.Limit.MAX_READ_SIZE: 0})
    assert invalid.value.message
    with pytest.raises(weft.InvalidArgument):
        weft.Node(limits={999: 1})
    with pytest.raises(weft.InvalidArgument, match="io_threads"):
        weft.Node(io_threads=0)  # driven by weft_node_poll: no event fd for asyncio


def test_builtin_catch_clauses_work():
    with pytest.raises(TimeoutError):
        raise weft.Timeout("late")
    with pytest.raises(ConnectionRefusedError):
        raise weft.ConnectionRefused("no")
    with pytest.raises(ValueError):
        weft.Multiaddr("not a multiaddr")
    with pytest.raises(EOFError):
        raise weft.EndOfStream("end")
