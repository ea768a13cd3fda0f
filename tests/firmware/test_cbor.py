"""firmware/lib/cbor.py: RFC 8949 vectors, deterministic order, strict decoding, fuzz.

Runs the module both imported by CPython and compiled to .mpy under MicroPython.
"""

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st


from xinka import cbor  # noqa: E402
Tag = cbor.Tag

# RFC 8949 Appendix A, the types the subset has, plus boundaries.
VECTORS = [
    (0, "00"), (1, "01"), (10, "0a"), (23, "17"), (24, "1818"), (25, "1819"),
    (100, "1864"), (255, "18ff"), (256, "190100"), (1000, "1903e8"), (65535, "19ffff"),
    (65536, "1a00010000"), (1000000, "1a000f4240"), (2**32 - 1, "1affffffff"),
    (2**32, "1b0000000100000000"), (1000000000000, "1b000000e8d4a51000"),
    (2**64 - 1, "1bffffffffffffffff"), (-(2**64), "3bffffffffffffffff"),
    (-(2**63), "3b7fffffffffffffff"), (-1, "20"), (-10, "29"), (-24, "37"), (-25, "3818"),
    (-100, "3863"), (-1000, "3903e7"), (-65537, "3a00010000"), (-65538, "3a00010001"),
    (False, "f4"), (True, "f5"), (None, "f6"),
    (b"", "40"), (b"\x01\x02\x03\x04", "4401020304"), (bytes(24), "5818" + "00" * 24),
    ("", "60"), ("a", "6161"), ("IETF", "6449455446"), ("\"\\", "62225c"),
    ("\u00fc", "62c3bc"), ("\u6c34", "63e6b0b4"), ("\U00010151", "64f0908591"),
    ([], "80"), ([1, 2, 3], "83010203"), ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"), ({1: 2, 3: 4}, "a201020304"), ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    ({"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"},
     "a56161614161626142616361436164614461656145"),
    (Tag(1, 1363896240), "c11a514b67b0"), (Tag(23, b"\x01\x02\x03\x04"), "d74401020304"),
    (Tag(24, b"dIETF"), "d818456449455446"),
    (Tag(32, "http://www.example.com"), "d82076687474703a2f2f7777772e6578616d706c652e636f6d"),
]

# Keys whose bytewise order (RFC 8949 §4.2.1) differs from cbor2's length-first canonical order.
MIXED = {-1: 1, 24: 2, "a": 3, 10: 4, 256: 5, "aa": 6, -65537: 7, b"b": 8}
MIXED_HEX = ("a8" "0a04" "181802" "19010005" "2001" "3a0001000007" "4162" "08"
             "616103" "62616106")

REJECT = {
    "indefinite bstr": "5f4100ff", "indefinite tstr": "7f6161ff", "indefinite array": "9f01ff",
    "indefinite map": "bf0101ff", "break": "ff", "uint ai 31": "1f",
    "non-shortest 0x1800": "1800", "non-shortest 0x1817": "1817", "non-shortest 19": "1900ff",
    "non-shortest 1a": "1a0000ffff", "non-shortest 1b": "1b00000000ffffffff",
    "non-shortest nint": "3817", "non-shortest bstr len": "5800", "non-shortest tstr len": "7801",
    "non-shortest array len": "9800", "non-shortest map len": "b800", "non-shortest tag": "d80100",
    "duplicate int key": "a201010102", "duplicate text key": "a2616101616102",
    "keys out of order": "a202010102", "nint before uint": "a220010101",
    "length-first order": "a2200a182001",
    "half float": "f90000", "single float": "fa00000000", "double float": "fb0000000000000000",
    "undefined": "f7", "simple 16": "f0", "simple 32": "f820", "simple 0 two-byte": "f800",
    "utf8 continuation": "6180", "utf8 overlong 2": "62c080", "utf8 overlong 3": "63e08080",
    "utf8 overlong 4": "64f0808080", "utf8 surrogate": "63eda080", "utf8 > 10ffff": "64f4908080",
    "utf8 ff": "61ff", "utf8 bad continuation": "62c328", "utf8 cut sequence": "62e6b0",
    "utf8 f5": "64f5808080",
    "trailing byte": "0000", "trailing after map": "a0a0", "empty": "",
    "array key": "a18001", "null key": "a1f601", "tag key": "a1c10101", "bool key": "a1f501",
    "map key float": "a1f9000001", "huge bstr": "5bffffffffffffffff",
    "huge array": "9bffffffffffffffff", "huge map": "bb000000010000000001",
    "map count > data": "a30101",
}
for _ai in (28, 29, 30):
    for _major in range(8):
        REJECT["reserved %d/%d" % (_major, _ai)] = "%02x" % (_major << 5 | _ai)

DEEP_OK = "81" * 16 + "00"
DEEP_BAD = "81" * 17 + "00"


def same(a, b):
    """Equality that also tells bool from int and list from tuple."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Tag):
        return a.tag == b.tag and same(a.value, b.value)
    return a == b


def ref_dumps(x):
    """Independent §4.2.1 encoder: cbor2 for items, keys sorted by their encoded bytes."""
    def head(major, n):
        head = cbor2.dumps([0] * n)
        return bytes([head[0] & 0x1F | major << 5]) + head[1:-n or None]
    if isinstance(x, dict):
        items = sorted((ref_dumps(k), ref_dumps(v)) for k, v in x.items())
        return head(5, len(x)) + b"".join(k + v for k, v in items)
    if isinstance(x, list):
        return head(4, len(x)) + b"".join(ref_dumps(i) for i in x)
    if isinstance(x, Tag):
        return cbor2.dumps(cbor2.CBORTag(x.tag, 0))[:-1] + ref_dumps(x.value)
    return cbor2.dumps(x)


def from_cbor2(x):
    if isinstance(x, cbor2.CBORTag):
        return Tag(x.tag, from_cbor2(x.value))
    if isinstance(x, list):
        return [from_cbor2(i) for i in x]
    if isinstance(x, dict):
        return {k: from_cbor2(v) for k, v in x.items()}
    return x


# ---- CPython ----

@pytest.mark.parametrize("value,hexstr", VECTORS, ids=[h for _, h in VECTORS])
def test_rfc8949_vectors(value, hexstr):
    assert cbor.dumps(value).hex() == hexstr
    assert same(cbor.loads(bytes.fromhex(hexstr)), value)
    if not isinstance(value, Tag):      # cbor2 turns tags 1, 32, ... into Python objects
        assert same(from_cbor2(cbor2.loads(bytes.fromhex(hexstr))), value)


def test_deterministic_key_order():
    assert cbor.dumps(MIXED).hex() == MIXED_HEX
    assert cbor.dumps(MIXED) == ref_dumps(MIXED)
    # cbor2's canonical mode sorts length-first, so it differs here...
    assert cbor2.dumps(MIXED, canonical=True) != cbor.dumps(MIXED)
    assert cbor2.loads(cbor.dumps(MIXED)) == MIXED
    # ...and agrees where all keys encode to the same length
    same_len = {-24: 0, 23: 1, 0: 2, -1: 3, 10: 4}
    assert cbor.dumps(same_len) == cbor2.dumps(same_len, canonical=True)
    same_len = {"b": 1, "a": 2, "c": {"z": 1, "y": 2}}
    assert cbor.dumps(same_len) == cbor2.dumps(same_len, canonical=True)


def test_claims_key_order():
    claims = {-65538: 3, -65537: 43, 10: bytes(16), 6: 1798800000, 3: "T-1"}
    enc = cbor.dumps(claims)
    assert list(cbor2.loads(enc)) == [3, 6, 10, -65537, -65538]
    assert enc == ref_dumps(claims)


def test_bytes_like_and_tuples():
    assert cbor.dumps(bytearray(b"ab")) == cbor.dumps(memoryview(b"ab")) == b"\x42ab"
    assert cbor.dumps((1, 2)) == cbor.dumps([1, 2])
    assert cbor.loads(bytearray(b"\x42ab")) == b"ab"
    assert cbor.loads(memoryview(b"\x42ab")) == b"ab"


@pytest.mark.parametrize("obj", [1.5, 2**64, -(2**64) - 1, {(1,): 2}, {None: 1}, {True: 1},
                                 set(), object(), Tag(-1, 0), Tag(2**64, 0), "\ud800"])
def test_dumps_rejects(obj):
    with pytest.raises(cbor.CBORError):
        cbor.dumps(obj)


def test_dumps_depth_and_cycles():
    v = 0
    for _ in range(16):
        v = [v]
    assert cbor.dumps(v).hex() == DEEP_OK
    with pytest.raises(cbor.CBORError):
        cbor.dumps([v])
    cyc = []
    cyc.append(cyc)
    with pytest.raises(cbor.CBORError):
        cbor.dumps(cyc)


@pytest.mark.parametrize("name", sorted(REJECT))
def test_loads_rejects(name):
    with pytest.raises(cbor.CBORError):
        cbor.loads(bytes.fromhex(REJECT[name]))


def test_loads_depth():
    assert cbor.loads(bytes.fromhex(DEEP_OK)) is not None
    with pytest.raises(cbor.CBORError, match="deep"):
        cbor.loads(bytes.fromhex(DEEP_BAD))
    with pytest.raises(cbor.CBORError, match="deep"):
        cbor.loads(bytes.fromhex("c1" * 17 + "00"))


def test_loads_not_bytes():
    for x in ("a0", None, 5, [0]):
        with pytest.raises(cbor.CBORError):
            cbor.loads(x)


def test_truncated_at_every_cut():
    for _value, hexstr in VECTORS + [(MIXED, MIXED_HEX)]:
        enc = bytes.fromhex(hexstr)
        for cut in range(len(enc)):
            with pytest.raises(cbor.CBORError):
                cbor.loads(enc[:cut])


def test_error_is_value_error():
    assert issubclass(cbor.CBORError, ValueError)


keys = st.one_of(st.integers(-(2**64), 2**64 - 1), st.text(max_size=8), st.binary(max_size=8))
scalars = st.one_of(st.integers(-(2**64), 2**64 - 1), st.binary(max_size=40), st.text(max_size=20),
                    st.booleans(), st.none())
# tag numbers cbor2 leaves as CBORTag (it decodes 0-5, 25, 28-30, 35-37, 100, 256, ... itself)
tag_numbers = st.one_of(st.integers(6, 24), st.integers(60000, 2**64 - 1))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(keys, inner, max_size=5),
        st.builds(Tag, tag_numbers, inner)),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(values)
def test_round_trip(x):
    enc = cbor.dumps(x)
    assert enc == ref_dumps(x)
    assert same(cbor.loads(enc), x)
    assert same(from_cbor2(cbor2.loads(enc)), x)


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=40))
def test_random_bytes_only_raise_cbor_error(data):
    try:
        obj = cbor.loads(data)
    except cbor.CBORError:
        return
    assert cbor.dumps(obj) == data     # whatever is accepted is canonical


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.data())
def test_mutated_encodings(x, data):
    enc = bytearray(cbor.dumps(x))
    for _ in range(data.draw(st.integers(1, 3))):
        if enc:
            i = data.draw(st.integers(0, len(enc) - 1))
            enc[i] = data.draw(st.integers(0, 255))
    try:
        obj = cbor.loads(bytes(enc))
    except cbor.CBORError:
        return
    assert cbor.dumps(obj) == bytes(enc)


utf8ish = st.lists(st.sampled_from([0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                    0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4,
                                    0xF5, 0xF8, 0xFF]), max_size=23).map(bytes)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(utf8ish, st.binary(max_size=23)))
def test_utf8_matches_cpython(raw):
    enc = bytes([0x60 | len(raw)]) + raw
    try:
        expected = raw.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(cbor.CBORError):
            cbor.loads(enc)
    else:
        assert cbor.loads(enc) == expected


# ---- MicroPython ----

def test_vectors_under_micropython(upy):
    rejects = sorted(REJECT.values()) + [DEEP_BAD]
    script = """
import binascii
from xinka import cbor
from xinka.cbor import Tag
V = %s
R = %r
for v, h in V:
    assert binascii.hexlify(cbor.dumps(v)).decode() == h, h
    d = cbor.loads(binascii.unhexlify(h))
    assert d == v and type(d) is type(v), h
    enc = binascii.unhexlify(h)
    for cut in range(len(enc)):
        try:
            cbor.loads(enc[:cut])
            raise AssertionError("accepted cut " + h)
        except cbor.CBORError:
            pass
for h in R:
    try:
        cbor.loads(binascii.unhexlify(h))
        raise AssertionError("accepted " + h)
    except cbor.CBORError:
        pass
assert binascii.hexlify(cbor.dumps(%r)).decode() == %r
cbor.loads(binascii.unhexlify(%r))
print("ok", len(V), len(R))
""" % (repr(VECTORS), rejects, {k: v for k, v in MIXED.items() if not isinstance(k, bytes)},
       cbor.dumps({k: v for k, v in MIXED.items() if not isinstance(k, bytes)}).hex(), DEEP_OK)
    out = upy(script).stdout.split()
    assert out == ["ok", str(len(VECTORS)), str(len(rejects))]


def test_fuzz_under_micropython(upy):
    corpus = [h for _, h in VECTORS] + [MIXED_HEX, DEEP_OK] + sorted(REJECT.values())
    script = """
import binascii, random
from xinka import cbor
random.seed(20260101)
C = [binascii.unhexlify(h) for h in %r]
n = ok = 0
for i in range(4000):
    k = i %% 3
    if k == 0:
        data = bytes(random.getrandbits(8) for _ in range(random.randrange(0, 24)))
    else:
        data = bytearray(random.choice(C) + random.choice(C))
        for _ in range(random.randrange(1, 4)):
            if data:
                data[random.randrange(len(data))] = random.getrandbits(8)
        if k == 2 and data:
            data = data[:random.randrange(len(data))]
        data = bytes(data)
    try:
        obj = cbor.loads(data)
    except cbor.CBORError:
        n += 1
        continue
    except Exception as e:
        print("FAIL", binascii.hexlify(data), type(e).__name__, e)
        raise
    ok += 1
    assert cbor.dumps(obj) == data, binascii.hexlify(data)
print("done", n, ok)
""" % corpus
    out = upy(script).stdout.split()
    assert out[0] == "done"
    rejected, accepted = int(out[1]), int(out[2])
    assert rejected + accepted == 4000 and rejected > 1000 and accepted > 50
