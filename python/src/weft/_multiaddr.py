"""PeerId and Multiaddr: parsing, validation and libp2p's canonical text forms, in pure Python.

    >>> pid = weft.PeerId("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
    >>> pid.to_cid()
    'bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l'
    >>> weft.PeerId(pid.to_cid()) == pid
    True
    >>> addr = weft.Multiaddr("/ip6/2001:DB8:0:0:0:0:0:1/tcp/4001")
    >>> str(addr)
    '/ip6/2001:db8::1/tcp/4001'
    >>> addr.value_for("tcp")
    '4001'

The protocol table is the one weft's C++ core implements (ip4, ip6, tcp, udp, dns, dns4, dns6,
dnsaddr, p2p, p2p-circuit, tls, sni, quic, quic-v1, webtransport, certhash, ws, wss); text and
binary forms match go-multiaddr and js-multiaddr byte for byte.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterator, Union

from ._errors import ParseError, Unsupported, WeftError
from ._multibase import (base32_multibase, base58btc_decode, base58btc_encode,
                         base64url_multibase, multibase_decode, multihash_check_peer,
                         multihash_split, varint_decode, varint_encode)

# ---- peer ids -----------------------------------------------------------------------------------

_CID_V1 = 0x01
_LIBP2P_KEY = 0x72
_MAX_PEER_ID_TEXT = 512


class PeerId:
    """A libp2p peer id: the multihash of a public key.

    Parses both text forms (a base58btc multihash, ``12D3KooW...`` / ``Qm...``, and a CIDv1 with
    the libp2p-key codec in any multibase, ``bafz...``); ``str()`` gives base58btc, the form every
    libp2p implementation prints and weft reports; ``to_cid()`` gives the base32 CIDv1.
    """

    __slots__ = ("_multihash",)

    def __init__(self, text: Union[str, "PeerId"]) -> None:
        if isinstance(text, PeerId):
            self._multihash: bytes = text._multihash
            return
        if not isinstance(text, str):
            raise TypeError(f"PeerId() takes a str, not {type(text).__name__}")
        self._multihash = _parse_peer_id(text)

    @classmethod
    def from_bytes(cls, multihash: bytes) -> "PeerId":
        """The peer id whose binary form (a multihash) is `multihash`."""
        multihash = bytes(multihash)
        try:
            multihash_check_peer(multihash)
        except WeftError as error:
            raise type(error)(f"peer id: {error.message}") from None
        peer = cls.__new__(cls)
        peer._multihash = multihash
        return peer

    def to_bytes(self) -> bytes:
        """The binary form: the multihash."""
        return self._multihash

    def to_base58(self) -> str:
        return base58btc_encode(self._multihash)

    def to_cid(self) -> str:
        """The CIDv1 form (libp2p-key codec, base32): ``bafz...``."""
        return base32_multibase(varint_encode(_CID_V1) + varint_encode(_LIBP2P_KEY) +
                                self._multihash)

    def __str__(self) -> str:
        return self.to_base58()

    def __repr__(self) -> str:
        return f"PeerId('{self.to_base58()}')"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PeerId):
            return self._multihash == other._multihash
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._multihash)


def _parse_peer_id(text: str) -> bytes:
    if not text:
        raise ParseError("peer id: empty string")
    if len(text) > _MAX_PEER_ID_TEXT:
        raise ParseError(f"peer id: text too long ({len(text)} characters)")
    try:
        # The legacy form, a bare base58btc multihash: identity ones start with '1', sha2-256 'Qm'.
        if text[0] in "1Q":
            multihash = base58btc_decode(text)
        else:
            cid = multibase_decode(text)
            version, used = varint_decode(cid)
            if version != _CID_V1:
                raise ParseError(f"CID version {version} is not 1 (a bare multihash must be "
                                 "base58btc)")
            codec, used2 = varint_decode(cid, used)
            if codec != _LIBP2P_KEY:
                raise ParseError(f"CID codec 0x{codec:02x} is not libp2p-key (0x72)")
            multihash = cid[used + used2:]
        multihash_check_peer(multihash)
    except WeftError as error:
        raise type(error)(f"peer id: {error.message}") from None
    return multihash


# ---- multiaddrs ---------------------------------------------------------------------------------

# How a protocol's value is written.
_NONE, _IP4, _IP6, _PORT, _NAME, _P2P, _CERTHASH = range(7)


@dataclass(frozen=True)
class _Protocol:
    name: str
    code: int
    kind: int


_PROTOCOLS = [
    _Protocol("ip4", 0x04, _IP4),
    _Protocol("tcp", 0x06, _PORT),
    _Protocol("dns", 0x35, _NAME),
    _Protocol("dns4", 0x36, _NAME),
    _Protocol("dns6", 0x37, _NAME),
    _Protocol("dnsaddr", 0x38, _NAME),
    _Protocol("ip6", 0x29, _IP6),
    _Protocol("udp", 0x0111, _PORT),
    _Protocol("p2p-circuit", 0x0122, _NONE),
    _Protocol("p2p", 0x01A5, _P2P),
    _Protocol("tls", 0x01C0, _NONE),
    _Protocol("sni", 0x01C1, _NAME),
    _Protocol("quic", 0x01CC, _NONE),
    _Protocol("quic-v1", 0x01CD, _NONE),
    _Protocol("webtransport", 0x01D1, _NONE),
    _Protocol("certhash", 0x01D2, _CERTHASH),
    _Protocol("ws", 0x01DD, _NONE),
    _Protocol("wss", 0x01DE, _NONE),
]
_BY_NAME = {p.name: p for p in _PROTOCOLS}
_BY_CODE = {p.code: p for p in _PROTOCOLS}
# In the multiaddr table but not implemented by weft: reported as unsupported, not unknown.
_UNSUPPORTED_NAMES = frozenset((
    "dccp", "ip6zone", "ipcidr", "sctp", "udt", "utp", "unix", "onion", "onion3", "garlic64",
    "garlic32", "noise", "http", "https", "http-path", "webrtc", "webrtc-direct",
    "p2p-websocket-star", "p2p-stardust", "p2p-webrtc-star", "p2p-webrtc-direct", "memory",
    "ipfs-http", "plaintextv2",
))
MAX_NAME_LENGTH = 255
_MAX_TEXT_LENGTH = 4096


def _quoted(value: str) -> str:
    shown = "".join(c if 0x20 <= ord(c) < 0x7F else f"\\x{ord(c) & 0xFF:02x}"
                    for c in value[:64])
    return f"'{shown}{'...' if len(value) > 64 else ''}'"


def _check_name(value: str) -> str | None:
    if not value:
        return "empty"
    if len(value.encode()) > MAX_NAME_LENGTH:
        return f"longer than {MAX_NAME_LENGTH} bytes"
    for c in value:
        if c == "/":
            return "contains '/'"
        if ord(c) <= 0x20 or ord(c) == 0x7F:
            return "contains a space or control character"
    return None


def _parse_ip4(text: str) -> bytes:
    parts = text.split(".")
    if len(parts) != 4 or not all(
            p.isascii() and p.isdigit() and len(p) <= 3 and (p == "0" or p[0] != "0") and
            int(p) <= 255 for p in parts):
        raise ParseError(f"multiaddr: invalid ip4 address {_quoted(text)}")
    return bytes(int(p) for p in parts)


def _parse_ip6(text: str) -> bytes:
    if "%" in text:
        raise ParseError(f"multiaddr: invalid ip6 address {_quoted(text)} (zones are not "
                         "supported)")
    # ipaddress accepts exactly RFC 4291's text forms, leading zeros in the ip4 tail excepted.
    tail = text.rsplit(":", 1)[-1]
    bad_tail = "." in tail and any(len(p) > 1 and p[0] == "0" for p in tail.split("."))
    if not text.isascii() or bad_tail or len(text) > 45:
        raise ParseError(f"multiaddr: invalid ip6 address {_quoted(text)}")
    try:
        return ipaddress.IPv6Address(text).packed
    except ValueError:
        raise ParseError(f"multiaddr: invalid ip6 address {_quoted(text)}") from None


def _format_ip6(packed: bytes) -> str:
    # RFC 5952 (ipaddress's compressed form), with IPv4-mapped addresses as ::ffff:a.b.c.d.
    address = ipaddress.IPv6Address(packed)
    if address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


def _parse_port(name: str, text: str) -> bytes:
    if (not text.isascii() or not text.isdigit() or len(text) > 5 or
            (len(text) > 1 and text[0] == "0") or int(text) > 65535):
        raise ParseError(f"multiaddr: invalid {name} port {_quoted(text)} (expected 0..65535 "
                         "without leading zeros)")
    return int(text).to_bytes(2, "big")


def _value_from_text(proto: _Protocol, text: str) -> bytes:
    kind = proto.kind
    if kind == _IP4:
        return _parse_ip4(text)
    if kind == _IP6:
        return _parse_ip6(text)
    if kind == _PORT:
        return _parse_port(proto.name, text)
    if kind == _NAME:
        why = _check_name(text)
        if why:
            raise ParseError(f"multiaddr: invalid {proto.name} value {_quoted(text)} ({why})")
        raw = text.encode()
        return varint_encode(len(raw)) + raw
    if kind == _P2P:
        try:
            raw = PeerId(text).to_bytes()
        except WeftError as error:
            raise ParseError(f"multiaddr: invalid p2p value {_quoted(text)} ({error.message})"
                             ) from None
        return varint_encode(len(raw)) + raw
    if kind == _CERTHASH:
        try:
            raw = multibase_decode(text)
            multihash_split(raw)
        except WeftError as error:
            raise ParseError(f"multiaddr: invalid certhash value {_quoted(text)} "
                             f"({error.message})") from None
        return varint_encode(len(raw)) + raw
    return b""


def _value_to_text(proto: _Protocol, value: bytes) -> str:
    kind = proto.kind
    if kind == _IP4:
        return ".".join(str(b) for b in value)
    if kind == _IP6:
        return _format_ip6(value)
    if kind == _PORT:
        return str(int.from_bytes(value, "big"))
    if kind == _NAME:
        return value.decode()
    if kind == _P2P:
        return base58btc_encode(value)
    if kind == _CERTHASH:
        return base64url_multibase(value)
    return ""


def _decode_component(data: bytes, offset: int) -> tuple[_Protocol, bytes, int]:
    """The component at data[offset:]: (protocol, value, bytes used), fully validated."""
    try:
        code, pos = varint_decode(data, offset)
    except ParseError as error:
        raise ParseError(f"multiaddr: bad protocol code at byte {offset}: {error.message}"
                         ) from None
    proto = _BY_CODE.get(code)
    if proto is None:
        raise Unsupported(f"multiaddr: unknown protocol code 0x{code:x} ({code}) at byte {offset}")
    pos += offset
    fixed = {_NONE: 0, _IP4: 4, _IP6: 16, _PORT: 2}
    if proto.kind in fixed:
        length = fixed[proto.kind]
        if len(data) - pos < length:
            raise ParseError(f"multiaddr: truncated {proto.name} value at byte {pos} (need "
                             f"{length} bytes, have {len(data) - pos})")
    else:
        try:
            length, used = varint_decode(data, pos)
        except ParseError as error:
            raise ParseError(f"multiaddr: bad {proto.name} value length at byte {pos}: "
                             f"{error.message}") from None
        pos += used
        if length > len(data) - pos:
            raise ParseError(f"multiaddr: truncated {proto.name} value at byte {pos} (length "
                             f"{length}, have {len(data) - pos})")
    value = data[pos:pos + length]
    if proto.kind == _NAME:
        try:
            text = value.decode()
        except UnicodeDecodeError:
            raise ParseError(f"multiaddr: invalid {proto.name} value (not UTF-8)") from None
        why = _check_name(text)
        if why:
            raise ParseError(f"multiaddr: invalid {proto.name} value {_quoted(text)} ({why})")
    elif proto.kind == _P2P:
        try:
            PeerId.from_bytes(value)
        except WeftError as error:
            raise ParseError(f"multiaddr: invalid p2p value at byte {pos}: {error.message}"
                             ) from None
    elif proto.kind == _CERTHASH:
        try:
            multihash_split(value)
        except WeftError as error:
            raise ParseError(f"multiaddr: invalid certhash value at byte {pos}: "
                             f"{error.message}") from None
    return proto, value, pos + length - offset


class Multiaddr:
    """A multiaddr such as ``/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...``.

    Parsed and validated on construction (``ParseError`` / ``Unsupported`` otherwise); ``str()``
    is the canonical text form: lowercase RFC 5952 IPv6, ``/p2p/`` (not ``/ipfs/``) with a base58
    peer id, base64url certhashes::

        >>> m = weft.Multiaddr("/ip4/1.2.3.4/tcp/1/ipfs/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC")
        >>> str(m)
        '/ip4/1.2.3.4/tcp/1/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC'
        >>> m.peer_id
        PeerId('QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC')
        >>> str(m.without_peer_id())
        '/ip4/1.2.3.4/tcp/1'
        >>> Multiaddr.from_bytes(m.to_bytes()) == m
        True
    """

    __slots__ = ("_components",)

    def __init__(self, text: Union[str, "Multiaddr"]) -> None:
        if isinstance(text, Multiaddr):
            self._components: tuple[tuple[_Protocol, bytes], ...] = text._components
            return
        if not isinstance(text, str):
            raise TypeError(f"Multiaddr() takes a str, not {type(text).__name__}")
        self._components = _parse_text(text)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Multiaddr":
        """Parses the binary form."""
        data = bytes(data)
        if not data:
            raise ParseError("multiaddr: empty input")
        components = []
        offset = 0
        while offset < len(data):
            proto, value, used = _decode_component(data, offset)
            components.append((proto, value))
            offset += used
        return cls._from_components(components)

    @classmethod
    def _from_components(cls, components) -> "Multiaddr":
        addr = cls.__new__(cls)
        addr._components = tuple(components)
        return addr

    def to_bytes(self) -> bytes:
        """The binary form (what travels in identify and other protocols)."""
        out = bytearray()
        for proto, value in self._components:
            out += varint_encode(proto.code)
            if proto.kind in (_NAME, _P2P, _CERTHASH):
                out += varint_encode(len(value))
            out += value
        return bytes(out)

    def items(self) -> Iterator[tuple[str, str | None]]:
        """(protocol name, value as text, or None for protocols without one) per component."""
        for proto, value in self._components:
            yield proto.name, (_value_to_text(proto, value) if proto.kind != _NONE else None)

    @property
    def protocols(self) -> list[str]:
        """The protocol names, in order: ``['ip4', 'tcp', 'p2p']``."""
        return [proto.name for proto, _ in self._components]

    def value_for(self, protocol: str) -> str | None:
        """The text value of the first `protocol` component, or None if there is none."""
        for name, value in self.items():
            if name == protocol:
                return value
        return None

    @property
    def peer_id(self) -> PeerId | None:
        """The peer id of the last /p2p/ component, or None."""
        for proto, value in reversed(self._components):
            if proto.kind == _P2P:
                return PeerId.from_bytes(value)
        return None

    def without_peer_id(self) -> "Multiaddr":
        """The address without a trailing /p2p/ component."""
        if self._components and self._components[-1][0].kind == _P2P:
            return Multiaddr._from_components(self._components[:-1])
        return self

    def with_peer_id(self, peer: PeerId | str) -> "Multiaddr":
        """The address ending in /p2p/<peer> (replacing a trailing one)."""
        peer = PeerId(peer)
        base = self.without_peer_id()._components
        return Multiaddr._from_components(base + ((_BY_NAME["p2p"], peer.to_bytes()),))

    def encapsulate(self, other: Union[str, "Multiaddr"]) -> "Multiaddr":
        """This address followed by `other`: ``/ip4/1.2.3.4`` + ``/tcp/1``."""
        return Multiaddr._from_components(self._components + Multiaddr(other)._components)

    def __truediv__(self, other: Union[str, "Multiaddr"]) -> "Multiaddr":
        return self.encapsulate(other)

    def __str__(self) -> str:
        parts = []
        for name, value in self.items():
            parts.append(f"/{name}" if value is None else f"/{name}/{value}")
        return "".join(parts)

    def __repr__(self) -> str:
        return f"Multiaddr('{self}')"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Multiaddr):
            return self.to_bytes() == other.to_bytes()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.to_bytes())


def _parse_text(text: str) -> tuple[tuple[_Protocol, bytes], ...]:
    if not text:
        raise ParseError("multiaddr: empty string")
    if len(text) > _MAX_TEXT_LENGTH:
        raise ParseError(f"multiaddr: longer than {_MAX_TEXT_LENGTH} characters")
    if text[0] != "/":
        raise ParseError(f"multiaddr: must start with '/': {_quoted(text)}")
    # One trailing '/' is tolerated, as go-multiaddr and js-multiaddr do.
    if len(text) > 1 and text.endswith("/"):
        text = text[:-1]
    if text == "/":
        raise ParseError("multiaddr: no components")
    parts = text[1:].split("/")
    components = []
    i = 0
    while i < len(parts):
        name = parts[i]
        i += 1
        lookup = "p2p" if name == "ipfs" else name  # the legacy alias
        proto = _BY_NAME.get(lookup)
        if proto is None:
            if not name:
                raise ParseError("multiaddr: empty protocol name (a '//' in the address)")
            if name in _UNSUPPORTED_NAMES:
                raise Unsupported(f"multiaddr: protocol '{name}' is not supported by weft")
            raise ParseError(f"multiaddr: unknown protocol {_quoted(name)}")
        if proto.kind == _NONE:
            components.append((proto, b""))
            continue
        if i >= len(parts):
            raise ParseError(f"multiaddr: missing value for '{name}'")
        value = parts[i]
        i += 1
        if not value:
            raise ParseError(f"multiaddr: empty value for '{name}'")
        encoded = _value_from_text(proto, value)
        if proto.kind in (_NAME, _P2P, _CERTHASH):
            _, used = varint_decode(encoded)
            encoded = encoded[used:]
        components.append((proto, encoded))
    return tuple(components)


AddrLike = Union[str, Multiaddr]
PeerLike = Union[str, Multiaddr, PeerId]
