"""The encodings under multiaddrs and peer ids: unsigned varints, multibase, multihash.

Strict where the specs are strict (minimal varints, exact digest sizes, canonical base58), so
that every value that parses prints back the way other libp2p implementations print it.
"""

from __future__ import annotations

import base64
import binascii

from ._errors import ParseError, Unsupported

# ---- unsigned varint (multiformats/unsigned-varint) ------------------------------------------

MAX_VARINT_BYTES = 9  # the spec's limit: 63 bits of value


def varint_encode(value: int) -> bytes:
    if value < 0:
        raise ValueError("varint: negative value")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Returns (value, bytes used) of the varint at data[offset:]; ParseError if malformed."""
    value = 0
    for i in range(MAX_VARINT_BYTES):
        if offset + i >= len(data):
            raise ParseError("truncated varint")
        byte = data[offset + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise ParseError("varint not minimally encoded")
            return value, i + 1
    raise ParseError(f"varint longer than {MAX_VARINT_BYTES} bytes")


# ---- base58btc ----------------------------------------------------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
MAX_BASE58_CHARS = 4096


def _printable(c: str) -> str:
    return f"'{c}'" if c.isprintable() and not c.isspace() else repr(c)


def base58btc_encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_B58_ALPHABET[rest])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    if len(text) > MAX_BASE58_CHARS:
        raise ParseError(f"base58btc: longer than {MAX_BASE58_CHARS} characters")
    number = 0
    for c in text:
        digit = _B58_INDEX.get(c)
        if digit is None:
            raise ParseError(f"base58btc: invalid character {_printable(c)}")
        number = number * 58 + digit
    ones = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * ones + body


# ---- multibase ----------------------------------------------------------------------------------


def _base32_decode(body: str) -> bytes:
    text = body.upper().rstrip("=")
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for c in text):
        bad = next(c for c in text if c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        raise ParseError(f"base32: invalid character {_printable(bad)}")
    if len(text) % 8 in (1, 3, 6):
        raise ParseError("base32: impossible length")
    padded = text + "=" * (-len(text) % 8)
    try:
        return base64.b32decode(padded)
    except binascii.Error as error:
        raise ParseError(f"base32: {error}") from None


def _base64_decode(body: str, url: bool) -> bytes:
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" +
                ("-_" if url else "+/"))
    text = body.rstrip("=")
    if len(body) - len(text) > 2:
        raise ParseError("base64: too much padding")
    for c in text:
        if c not in alphabet:
            raise ParseError(f"base64: invalid character {_printable(c)}")
    if len(text) % 4 == 1:
        raise ParseError("base64: impossible length")
    padded = text + "=" * (-len(text) % 4)
    try:
        if url:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except binascii.Error as error:
        raise ParseError(f"base64: {error}") from None


def _base16_decode(body: str) -> bytes:
    if len(body) % 2:
        raise ParseError("base16: odd number of digits")
    for c in body:
        if c not in "0123456789abcdefABCDEF":
            raise ParseError(f"base16: invalid character {_printable(c)}")
    return bytes.fromhex(body)


def multibase_decode(text: str) -> bytes:
    """Decodes multibase text: base58btc (z), base32 (b/B), base16 (f/F), base64 (m/M/u/U)."""
    if not text:
        raise ParseError("multibase: empty string")
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return base58btc_decode(body)
    if prefix in "bB":
        return _base32_decode(body)
    if prefix in "fF":
        return _base16_decode(body)
    if prefix in "mM":
        return _base64_decode(body, url=False)
    if prefix in "uU":
        return _base64_decode(body, url=True)
    if prefix.isalnum():
        raise ParseError(f"multibase: unsupported base {_printable(prefix)}")
    raise ParseError(f"multibase: unknown prefix {_printable(prefix)}")


def base32_multibase(data: bytes) -> str:
    return "b" + base64.b32encode(data).decode().lower().rstrip("=")


def base64url_multibase(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode().rstrip("=")


# ---- multihash ----------------------------------------------------------------------------------

IDENTITY = 0x00
SHA2_256 = 0x12
MAX_DIGEST_SIZE = 128


def multihash_split(data: bytes) -> tuple[int, bytes]:
    """(code, digest) of a whole multihash of any hash function; ParseError if malformed."""
    if not data:
        raise ParseError("multihash: empty input")
    try:
        code, used = varint_decode(data)
    except ParseError as error:
        raise ParseError(f"multihash: bad hash function code: {error}") from None
    if used == len(data):
        raise ParseError("multihash: missing digest length")
    try:
        length, used2 = varint_decode(data, used)
    except ParseError as error:
        raise ParseError(f"multihash: bad digest length: {error}") from None
    if length > MAX_DIGEST_SIZE:
        raise ParseError(f"multihash: digest length {length} exceeds the maximum of "
                         f"{MAX_DIGEST_SIZE}")
    header = used + used2
    if len(data) - header < length:
        raise ParseError(f"multihash: truncated digest ({len(data) - header} of {length} bytes)")
    if len(data) - header > length:
        raise ParseError(f"multihash: {len(data) - header - length} trailing byte(s) after the "
                         "digest")
    return code, data[header:]


def multihash_check_peer(data: bytes) -> None:
    """Accepts the multihashes a peer id may be: identity (inlined key) or sha2-256."""
    code, digest = multihash_split(data)
    if code == IDENTITY:
        if not digest:
            raise ParseError("empty identity multihash")
        return
    if code == SHA2_256:
        if len(digest) != 32:
            raise ParseError(f"multihash: sha2-256 digest must be 32 bytes, not {len(digest)}")
        return
    raise Unsupported(f"multihash: unsupported hash function 0x{code:02x}")
