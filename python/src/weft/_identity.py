"""Identities: a node's private key, in libp2p's protobuf key format.

    ident = weft.Identity.generate()         # a new Ed25519 key, in memory
    ident.save("node.key")                    # mode 0600; refuses to overwrite
    same = weft.Identity.load("node.key")
    assert same.peer_id == ident.peer_id
    async with weft.Node(identity=same) as node: ...

Key files written by other libp2p tools (the same protobuf format) load too; weft decides
whether it supports the key type (``Unsupported`` otherwise).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

from . import _native
from ._errors import Busy, InvalidArgument
from ._multiaddr import PeerId

# Generous: an RSA-4096 key in protobuf form is about 2.4 KiB.
_MAX_KEY_FILE_SIZE = 64 * 1024


@contextmanager
def _private_directory() -> Iterator[Path]:
    """A temporary directory only this user can read (mkdtemp makes it 0700), removed after."""
    directory = Path(tempfile.mkdtemp(prefix="weft-key-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def key_file(key: bytes) -> Iterator[str]:
    """`key` in a private temporary file for the length of the block (the C ABI reads paths)."""
    with _private_directory() as directory:
        path = directory / "key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(key)
        yield str(path)


class Identity:
    """A private key and the peer id it gives."""

    __slots__ = ("_key", "_peer_id")

    def __init__(self, key: bytes) -> None:
        """Wraps a private key in libp2p's protobuf format (checked: ParseError if malformed)."""
        key = bytes(key)
        if not key:
            raise InvalidArgument("identity: the key is empty")
        if len(key) > _MAX_KEY_FILE_SIZE:
            raise InvalidArgument(f"identity: the key is larger than {_MAX_KEY_FILE_SIZE} bytes")
        with key_file(key) as path:
            self._peer_id = PeerId(_native.identity_peer_id(path))
        self._key = key

    @classmethod
    def generate(cls) -> "Identity":
        """A new Ed25519 identity."""
        with _private_directory() as directory:
            path = str(directory / "key")
            _native.identity_generate_file(path)
            return cls(Path(path).read_bytes())

    @classmethod
    def load(cls, path: Union[str, os.PathLike[str]]) -> "Identity":
        """Reads a key file (weft's, or another libp2p tool's)."""
        with open(path, "rb") as file:
            key = file.read(_MAX_KEY_FILE_SIZE + 1)
        return cls(key)

    @classmethod
    def load_or_generate(cls, path: Union[str, os.PathLike[str]]) -> "Identity":
        """The identity in `path`, created there first if the file does not exist."""
        try:
            return cls.load(path)
        except FileNotFoundError:
            identity = cls.generate()
            try:
                identity.save(path)
            except Busy:  # created meanwhile by someone else: theirs wins
                return cls.load(path)
            return identity

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Writes the key to `path` with mode 0600. Raises Busy if the file exists."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise Busy(f"identity: {os.fspath(path)} exists; not overwritten") from None
        with os.fdopen(fd, "wb") as file:
            file.write(self._key)

    @property
    def peer_id(self) -> PeerId:
        return self._peer_id

    def to_bytes(self) -> bytes:
        """The private key in libp2p's protobuf format. Keep it secret."""
        return self._key

    def __repr__(self) -> str:  # never shows the key
        return f"Identity(peer_id='{self._peer_id}')"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Identity):
            return self._key == other._key
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._peer_id)
