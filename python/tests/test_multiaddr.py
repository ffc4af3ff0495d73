"""Multiaddr and PeerId against the vectors of the libp2p / multiformats specs and of weft's
C++ core (tests/unit/multiformats), which go-multiaddr and js-multiaddr agree with."""

from __future__ import annotations

import pytest

import weft
from weft import Multiaddr, PeerId

ED = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
ED_CID = "bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l"
RSA = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"
RSA_CID = "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe"
QM = "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC"
ED2 = "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV"
ED2_CID = "bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6sduakhso4lay6abn2d5u"
CERT_U = "uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g"
CERT_Z = "zQmbWTwYGcmdyK9CYfNBcfs9nhZs17a6FQ4Y8oea278xx41"

# ---- peer ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("base58,cid", [(ED, ED_CID), (RSA, RSA_CID), (ED2, ED2_CID)])
def test_peer_id_text_forms(base58, cid):
    from_base58 = PeerId(base58)
    from_cid = PeerId(cid)
    assert from_base58 == from_cid
    assert hash(from_base58) == hash(from_cid)
    assert str(from_cid) == base58 == from_cid.to_base58()
    assert from_base58.to_cid() == cid
    assert PeerId.from_bytes(from_base58.to_bytes()) == from_base58
    assert repr(from_base58) == f"PeerId('{base58}')"
    assert PeerId(from_base58) == from_base58


def test_peer_id_binary_form():
    # An Ed25519 id is an identity multihash of the 36-byte public key protobuf.
    raw = PeerId(ED).to_bytes()
    assert raw[:2] == b"\x00\x24" and len(raw) == 38
    assert PeerId(RSA).to_bytes()[:2] == b"\x12\x20"


@pytest.mark.parametrize("text,needle", [
    ("", "empty"),
    ("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx50", "invalid character '0'"),
    ("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhxIl", "invalid character 'I'"),
    (" " + RSA, "unknown prefix"),
    (RSA + " ", "invalid character"),
    (ED_CID[:-1], ""),
    (ED_CID + "q", ""),
    ("bafyaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l", "not libp2p-key"),
    ("k51qzi5uqu5dhb6l8spkdx7yxafegfkee5by8h7lmjh2ehc2sgg34z7c15vzqs", "unsupported base"),
    ("1", "peer id"),
    ("Q" * 600, "too long"),
])
def test_peer_id_rejects(text, needle):
    with pytest.raises(weft.ParseError) as caught:
        PeerId(text)
    assert needle in str(caught.value)


def test_peer_id_type_checks():
    with pytest.raises(TypeError):
        PeerId(b"12D3")  # type: ignore[arg-type]
    with pytest.raises(weft.ParseError):
        PeerId.from_bytes(b"\x00\x00")  # an empty identity multihash
    with pytest.raises(weft.Unsupported):
        PeerId.from_bytes(b"\x11\x14" + bytes(20))  # sha1


# ---- multiaddrs ---------------------------------------------------------------------------

ROUND_TRIPS = [
    ("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1"),
    ("/ip4/0.0.0.0/tcp/0", "0400000000060000"),
    ("/ip4/255.255.255.255/tcp/65535", "04ffffffff06ffff"),
    ("/ip4/127.0.0.1/udp/1234", "047f000001910204d2"),
    ("/ip4/127.0.0.1/udp/1234/quic", "047f000001910204d2cc03"),
    ("/ip4/127.0.0.1/udp/1234/quic-v1", "047f000001910204d2cd03"),
    ("/ip4/127.0.0.1/udp/1234/quic-v1/webtransport", "047f000001910204d2cd03d103"),
    ("/ip6/::1/tcp/80", "2900000000000000000000000000000001060050"),
    ("/ip6/::", "2900000000000000000000000000000000"),
    ("/ip6/::ffff:1.2.3.4/tcp/443", "2900000000000000000000ffff010203040601bb"),
    ("/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb"),
    ("/dns/x", "350178"),
    ("/dnsaddr/bootstrap.libp2p.io", "3813626f6f7473747261702e6c69627032702e696f"),
    ("/ip4/1.2.3.4/tcp/443/tls/sni/example.com/ws",
     "0401020304" "0601bb" "c003" "c1030b6578616d706c652e636f6d" "dd03"),
    ("/ip4/1.2.3.4/tcp/443/wss", "04010203040601bbde03"),
    (f"/p2p/{QM}", "a503221220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b"),
    ("/p2p-circuit", "a202"),
    (f"/certhash/{CERT_U}",
     "d20322" "1220c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"),
]


@pytest.mark.parametrize("text,hex_bytes", ROUND_TRIPS)
def test_multiaddr_round_trip(text, hex_bytes):
    addr = Multiaddr(text)
    assert str(addr) == text
    assert addr.to_bytes().hex() == hex_bytes
    assert Multiaddr.from_bytes(bytes.fromhex(hex_bytes)) == addr
    assert repr(addr) == f"Multiaddr('{text}')"


@pytest.mark.parametrize("text", [
    "/ip6/2001:db8::1/udp/4001/quic-v1", "/ip6/fe80::1ff:fe23:4567:890a/tcp/1",
    "/ip6/2001:db8:0:1:1:1:1:1", "/ip6/2001:0:0:1::1", "/ip6/2001:db8::1:0:0:1", "/ip6/1::",
    "/ip6/1:2:3:4:5:6:7:8", "/ip6/::102:304", "/ip6/0:1::", "/ip6/1:0:1::1",
    "/dns6/ipv6.example/tcp/1", "/dns/" + "a" * 255, "/dns/b\u00fccher.example/tcp/1",
    f"/ip4/1.2.3.4/tcp/80/ws/p2p/{QM}", f"/ip4/1.2.3.4/tcp/4001/p2p/{ED2}",
    f"/ip4/1.2.3.4/tcp/4001/p2p/{RSA}/p2p-circuit/p2p/{ED2}", f"/p2p/{QM}/tcp/1234",
    f"/ip4/127.0.0.1/udp/1234/quic-v1/webtransport/certhash/{CERT_U}/certhash/{CERT_U}/p2p/{ED2}",
])
def test_multiaddr_canonical_text_is_stable(text):
    addr = Multiaddr(text)
    assert str(addr) == text
    assert Multiaddr.from_bytes(addr.to_bytes()) == addr


@pytest.mark.parametrize("text,canonical", [
    ("/ip6/2001:DB8:0:0:0:0:0:1", "/ip6/2001:db8::1"),
    ("/ip6/2001:0db8:0000:0000:0000:0000:0000:0001", "/ip6/2001:db8::1"),
    ("/ip6/0:0:0:0:0:0:0:0", "/ip6/::"),
    ("/ip6/2001:db8:0:1:1:1:1:1", "/ip6/2001:db8:0:1:1:1:1:1"),
    ("/ip6/2001:db8::1:1:1:1:1", "/ip6/2001:db8:0:1:1:1:1:1"),
    ("/ip6/2001:0:0:1:0:0:0:1", "/ip6/2001:0:0:1::1"),
    ("/ip6/2001:db8:0:0:1:0:0:1", "/ip6/2001:db8::1:0:0:1"),
    ("/ip6/FE80::ABCD", "/ip6/fe80::abcd"),
    ("/ip6/::FFFF:0102:0304", "/ip6/::ffff:1.2.3.4"),
    ("/ip6/0:0:0:0:0:ffff:1.2.3.4", "/ip6/::ffff:1.2.3.4"),
    ("/ip6/::1.2.3.4", "/ip6/::102:304"),
    ("/ip6/1:2:3:4:5:6:1.2.3.4", "/ip6/1:2:3:4:5:6:102:304"),
    ("/ip6/0:0:1:0:0:0:0:0", "/ip6/0:0:1::"),
    (f"/ipfs/{QM}", f"/p2p/{QM}"),
    (f"/p2p/{ED2_CID}", f"/p2p/{ED2}"),
    (f"/ip4/1.2.3.4/tcp/1/ipfs/{ED2_CID}", f"/ip4/1.2.3.4/tcp/1/p2p/{ED2}"),
    (f"/certhash/{CERT_Z}", f"/certhash/{CERT_U}"),
    ("/certhash/f1220c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2",
     f"/certhash/{CERT_U}"),
    (f"/certhash/{CERT_U}==", f"/certhash/{CERT_U}"),
    ("/ip4/127.0.0.1/udp/1234/quic-v1/webtransport/certhash/b2uaraocy6yrdblb4sfptaddgimjmmpy",
     "/ip4/127.0.0.1/udp/1234/quic-v1/webtransport/certhash/u1QEQOFj2IjCsPJFfMAxmQxLGPw"),
    ("/ip4/127.0.0.1/tcp/1234/", "/ip4/127.0.0.1/tcp/1234"),
])
def test_multiaddr_canonical_forms(text, canonical):
    assert str(Multiaddr(text)) == canonical
    assert Multiaddr(text) == Multiaddr(canonical)


@pytest.mark.parametrize("text,error,needle", [
    ("", weft.ParseError, "empty"),
    ("ip4/1.2.3.4", weft.ParseError, "must start with '/'"),
    ("/", weft.ParseError, "no components"),
    ("/tcpx/1", weft.ParseError, "unknown protocol 'tcpx'"),
    ("/unix/tmp", weft.Unsupported, "not supported"),
    ("/ip4", weft.ParseError, "missing value"),
    ("/ip4/1.2.3", weft.ParseError, "invalid ip4"),
    ("/ip4/01.2.3.4", weft.ParseError, "invalid ip4"),
    ("/ip4/256.1.1.1", weft.ParseError, "invalid ip4"),
    ("/ip6/1:2:3:4:5:6:7", weft.ParseError, "invalid ip6"),
    ("/ip6/1::2::3", weft.ParseError, "invalid ip6"),
    ("/ip6/::ffff:01.2.3.4", weft.ParseError, "invalid ip6"),
    ("/ip6/fe80::1%eth0", weft.ParseError, "zones are not supported"),
    ("/ip6/::0x1", weft.ParseError, "invalid ip6"),
    ("/tcp/65536", weft.ParseError, "invalid tcp port"),
    ("/tcp/01", weft.ParseError, "invalid tcp port"),
    ("/udp/-1", weft.ParseError, "invalid udp port"),
    ("/tcp/\u0661", weft.ParseError, "invalid tcp port"),
    ("/dns//tcp/1", weft.ParseError, "empty value for 'dns'"),
    ("/dns4/" + "a" * 256, weft.ParseError, "longer than 255 bytes"),
    ("/dns6/a b", weft.ParseError, "space or control character"),
    ("/dns/a\x7f", weft.ParseError, "control character"),
    ("/p2p/notapeerid", weft.ParseError, "invalid p2p value 'notapeerid'"),
    (f"/p2p/{QM}0", weft.ParseError, "invalid character '0'"),
    ("/certhash/x", weft.ParseError, "invalid certhash value 'x'"),
    ("/certhash/u", weft.ParseError, "multihash: empty"),
    ("/certhash/f1220ab", weft.ParseError, "truncated digest"),
    ("/certhash/f1220" + "a" * 64 + "00", weft.ParseError, "trailing byte"),
    ("/certhash/f12", weft.ParseError, "missing digest length"),
    (f"/certhash/{CERT_U}!", weft.ParseError, "invalid character '!'"),
])
def test_multiaddr_rejects_text(text, error, needle):
    with pytest.raises(error) as caught:
        Multiaddr(text)
    assert needle in str(caught.value)


@pytest.mark.parametrize("hex_bytes,error,needle", [
    ("", weft.ParseError, "empty"),
    ("80", weft.ParseError, "truncated varint"),
    ("8100", weft.ParseError, "not minimally encoded"),
    ("ffffffffffffffffff01", weft.ParseError, "longer than 9 bytes"),
    ("00", weft.Unsupported, "unknown protocol code 0x0 (0)"),
    ("047f000001e003", weft.Unsupported, "unknown protocol code 0x1e0 (480) at byte 5"),
    ("04", weft.ParseError, "truncated ip4 value at byte 1 (need 4 bytes, have 0)"),
    ("047f00000106", weft.ParseError, "truncated tcp value at byte 6"),
    ("047f000001060fa1ff", weft.ParseError, "bad protocol code at byte 8"),
    ("3505616263", weft.ParseError, "truncated dns value at byte 2 (length 5, have 3)"),
    ("3500", weft.ParseError, "invalid dns value '' (empty)"),
    ("3503612f62", weft.ParseError, "invalid dns value 'a/b' (contains '/')"),
    ("a50300", weft.ParseError, "invalid p2p value at byte 3"),
    ("a503021200", weft.ParseError, "sha2-256 digest must be 32 bytes"),
    ("a503020000", weft.ParseError, "empty identity multihash"),
    ("d20300", weft.ParseError, "invalid certhash value at byte 3: multihash: empty"),
])
def test_multiaddr_rejects_bytes(hex_bytes, error, needle):
    with pytest.raises(error) as caught:
        Multiaddr.from_bytes(bytes.fromhex(hex_bytes))
    assert needle in str(caught.value)


def test_multiaddr_accessors():
    addr = Multiaddr(f"/ip4/1.2.3.4/tcp/4001/tls/sni/a.example/ws/p2p/{ED2}")
    assert addr.protocols == ["ip4", "tcp", "tls", "sni", "ws", "p2p"]
    assert list(addr.items()) == [("ip4", "1.2.3.4"), ("tcp", "4001"), ("tls", None),
                                  ("sni", "a.example"), ("ws", None), ("p2p", ED2)]
    assert addr.value_for("tcp") == "4001"
    assert addr.value_for("udp") is None
    assert addr.peer_id == PeerId(ED2)
    assert str(addr.without_peer_id()) == "/ip4/1.2.3.4/tcp/4001/tls/sni/a.example/ws"
    assert Multiaddr("/ip4/1.2.3.4").peer_id is None
    bare = Multiaddr("/ip4/1.2.3.4/tcp/1")
    assert bare.without_peer_id() is bare
    assert str(bare.with_peer_id(ED)) == f"/ip4/1.2.3.4/tcp/1/p2p/{ED}"
    assert str(addr.with_peer_id(PeerId(ED))).endswith(f"/ws/p2p/{ED}")
    assert str(Multiaddr("/ip4/1.2.3.4") / "/tcp/5") == "/ip4/1.2.3.4/tcp/5"
    assert Multiaddr("/ip4/1.2.3.4").encapsulate(Multiaddr("/udp/5")) == Multiaddr(
        "/ip4/1.2.3.4/udp/5")
    assert Multiaddr(addr) == addr
    assert len({Multiaddr("/ip6/::1"), Multiaddr("/ip6/0:0::1")}) == 1
    assert Multiaddr("/ip6/::1") != "/ip6/::1"
    with pytest.raises(TypeError):
        Multiaddr(b"/ip4/1.2.3.4")  # type: ignore[arg-type]
