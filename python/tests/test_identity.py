"""weft.Identity: generate, save, load; nodes take it as their identity."""

from __future__ import annotations

import os
import stat

import pytest

import weft


def test_generate_gives_distinct_ed25519_identities():
    a, b = weft.Identity.generate(), weft.Identity.generate()
    assert a.peer_id != b.peer_id
    assert str(a.peer_id).startswith("12D3KooW")  # an inlined Ed25519 key
    assert a != b and a == weft.Identity(a.to_bytes())
    assert "12D3KooW" in repr(a) and a.to_bytes().hex() not in repr(a)


def test_save_and_load(tmp_path):
    identity = weft.Identity.generate()
    path = tmp_path / "node.key"
    identity.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = weft.Identity.load(path)
    assert loaded == identity and loaded.peer_id == identity.peer_id
    with pytest.raises(weft.Busy):
        weft.Identity.generate().save(path)  # never overwrites a key
    assert weft.Identity.load(path) == identity


def test_load_or_generate(tmp_path):
    path = tmp_path / "k"
    first = weft.Identity.load_or_generate(path)
    assert path.exists()
    assert weft.Identity.load_or_generate(str(path)) == first


def test_bad_keys_are_rejected(tmp_path):
    with pytest.raises(weft.InvalidArgument):
        weft.Identity(b"")
    with pytest.raises(weft.WeftError) as caught:
        weft.Identity(b"\x08\x01\x12\x03abc")  # an Ed25519 key of 3 bytes
    assert caught.value.message
    with pytest.raises(weft.InvalidArgument):
        weft.Identity(bytes(100_000))
    with pytest.raises(FileNotFoundError):
        weft.Identity.load(tmp_path / "missing")


async def test_node_uses_the_identity(tmp_path):
    identity = weft.Identity.generate()
    async with weft.Node(identity=identity) as node:
        assert node.peer_id == identity.peer_id
    path = tmp_path / "key"
    identity.save(path)
    async with weft.Node(identity=path) as node:
        assert node.peer_id == identity.peer_id
    with pytest.raises(weft.WeftError):
        weft.Node(identity=tmp_path / "nothing-here")
