"""Strict decoding (RFC 8949 §4.2.1 core deterministic encoding) and the encoding helpers."""
import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.wire import cbor
from host.wire.errors import Malformed, Oversized

OK = [
    ("00", 0), ("17", 23), ("1818", 24), ("190100", 256), ("20", -1), ("3818", -25),
    ("1bffffffffffffffff", 2**64 - 1), ("3bffffffffffffffff", -2**64),
    ("40", b""), ("4161", b"a"), ("60", ""), ("6161", "a"), ("80", []), ("a0", {}),
    ("f4", False), ("f5", True), ("f6", None),
    ("a201020304", {1: 2, 3: 4}), ("a20102200a", {1: 2, -1: 10}),
    ("a2616101616202", {"a": 1, "b": 2}), ("a2616101626161f6", {"a": 1, "aa": None}),
    ("a2390100033a00010000f6", {-257: 3, -65537: None}),
]

BAD = {
    "empty": "",
    "truncated int": "19 01",
    "truncated bstr": "44 0102",
    "truncated array": "82 01",
    "truncated map": "a2 0102 03",
    "trailing bytes": "01 00",
    "two items": "a0 a0",
    "indefinite array": "9f 01 ff",
    "indefinite map": "bf 01 02 ff",
    "indefinite bstr": "5f 41 00 ff",
    "indefinite tstr": "7f 61 61 ff",
    "long-form small int": "18 17",
    "long-form int 16 bits": "19 00ff",
    "long-form negative": "38 00",
    "long-form length": "58 01 00",
    "long-form array length": "98 01 01",
    "duplicate key": "a2 01 02 01 03",
    "unsorted keys": "a2 03 04 01 02",
    "unsorted text keys": "a2 6162 01 6161 02",
    "length-first order broken": "a2 6261 61 01 6162 02",
    "half float": "f9 3c00",
    "single float": "fa 3f800000",
    "double float": "fb 3ff0000000000000",
    "float in map": "a1 01 f9 3c00",
    "undefined": "f7",
    "simple value": "f0",
    "simple value 32": "f8 20",
    "break alone": "ff",
    "tag 18 not allowed": "d2 80",
    "tag 2 bignum": "c2 49 010000000000000000",
    "tag 2 small bignum": "c2 43 010000",
    "tag 0 datetime": "c0 74 323031332d30332d32315432303a30343a30305a",
    "tag 1 epoch": "c1 1a 514b67b0",
    "tag 37 uuid": "d8 25 50 00112233445566778899aabbccddeeff",
    "tag 258 set": "d9 0102 82 01 02",
    "tag 55799 self-describe": "d9 d9f7 01",
    "tag 28 shareable": "d8 1c 80",
    "tag 24 embedded": "d8 18 41 00",
    "invalid utf-8": "62 c328",
    "utf-8 surrogate": "63 eda080",
    "array map key": "a1 80 01",
    "map map key": "a1 a0 01",
    "bool map key": "a1 f5 01",
    "huge length": "5b ffffffffffffffff",
    "reserved additional info": "1c",
}


@pytest.mark.parametrize("hexdata, value", OK)
def test_decode_accepts_deterministic_items(hexdata, value):
    data = bytes.fromhex(hexdata)
    assert cbor.decode(data, 100) == value
    assert cbor.encode(value) == data


@pytest.mark.parametrize("name", sorted(BAD))
def test_decode_refuses(name):
    with pytest.raises(Malformed):
        cbor.decode(bytes.fromhex(BAD[name]), 100)


def test_tag18_only_outermost_and_only_when_allowed():
    assert cbor.decode(bytes.fromhex("d280"), 10, tag18=True) == cbor2.CBORTag(18, [])
    with pytest.raises(Malformed):
        cbor.decode(bytes.fromhex("d2 81 d2 80"), 10, tag18=True)
    with pytest.raises(Malformed):
        cbor.decode(bytes.fromhex("d1 80"), 10, tag18=True)
    with pytest.raises(Malformed):      # tag 18 in long form
        cbor.decode(bytes.fromhex("d8 12 80"), 10, tag18=True)


def test_oversized_before_anything_else():
    with pytest.raises(Oversized):
        cbor.decode(b"\x41\x00", 1)
    assert cbor.decode(b"\x41\x00", 2) == b"\x00"


def test_non_bytes_input_is_malformed():
    for junk in (None, "a0", 5, [0xa0]):
        with pytest.raises(Malformed):
            cbor.decode(junk, 10)
    assert cbor.decode(bytearray(b"\xa0"), 10) == {}
    assert cbor.decode(memoryview(b"\xa0"), 10) == {}


def test_nesting_limit():
    deep = b"\x81" * (cbor.MAX_DEPTH + 1) + b"\x00"
    with pytest.raises(Malformed):
        cbor.decode(deep, 100)
    assert cbor.decode(deep[1:], 100)
    with pytest.raises(Malformed):   # beyond cbor2's own limit
        cbor.decode(b"\x81" * 5000 + b"\x00", 10000)


def test_item_length_of_a_sequence():
    assert cbor.item_length(bytes.fromhex("8201 02 a0")) == 3
    with pytest.raises(Malformed):
        cbor.item_length(b"\x82\x01")


def test_encode_refuses_what_decode_refuses():
    for value in (1.5, cbor2.undefined, cbor2.CBORTag(2, b"\x01"), {(1,): 2}, 2**64):
        with pytest.raises(Malformed):
            cbor.encode(value)


@pytest.mark.parametrize("n", [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1])
def test_helpers_match_cbor2(n):
    assert cbor.uint(n) == cbor2.dumps(n)
    if n < 70000:
        assert cbor.bstr(b"x" * n) == cbor2.dumps(b"x" * n)
        assert cbor.tstr("é" * n) == cbor2.dumps("é" * n)


# Every map key set of docs/protocol.md. cbor2 sorts keys length-first (RFC 7049); RFC 8949
# §4.2.1 sorts bytewise. For these sets the orders agree, so cbor2's canonical form is the
# deterministic encoding the spec asks for.
SPEC_KEY_SETS = {
    "COSE_Sign1 protected": [1, 16],
    "COSE_Key": [1, 2, -1, -2, -3],
    "trust list claims": [1, 4, 6, -65546, -65545],
    "agency": [1, 2, 3, 4, 5],
    "credential claims": [1, 2, 4, 5, 6, 8, 256, 65535],
    "cnf": [1],
    "status": ["status_list"],
    "status_list reference": ["idx", "uri"],
    "tap claims": [3, 6, 10, -65537, -65538, -65539],
    "status list claims": [2, 4, 6, 65533, 65534, -65546],
    "status_list": ["bits", "lst"],
    "challenge": [3, 6, 10],
}


@pytest.mark.parametrize("name", sorted(SPEC_KEY_SETS))
def test_cbor2_key_order_is_rfc8949_order_for_every_spec_map(name):
    keys = SPEC_KEY_SETS[name]
    bytewise = sorted(cbor2.dumps(k) for k in keys)
    encoded = cbor.encode({k: 0 for k in reversed(keys)})
    positions = [encoded.index(k + b"\x00", 1) for k in bytewise]
    assert positions == sorted(positions)


def test_the_orders_differ_in_general():
    # the case the module docstring warns about: -1 (0x20) sorts after 24 (0x1818) bytewise
    assert cbor2.dumps({24: 0, -1: 0}, canonical=True) == bytes.fromhex("a2 2000 181800")


# -- decode against the reference it replaces: cbor2 decode, type walk, cbor2 re-encode ----

def _walk(value, depth=0):
    t = type(value)
    if t is int:
        assert -2**64 <= value < 2**64
    elif t in (list, dict):
        assert depth < cbor.MAX_DEPTH
        for item in (value if t is list else [x for kv in value.items() for x in kv]):
            _walk(item, depth + 1)
        if t is dict:
            assert all(type(k) in (int, str, bytes) for k in value)
    else:
        assert t in (bytes, str, bool) or value is None


def reference_decode(data):
    try:
        value = cbor2.loads(data)
        _walk(value)
        assert cbor2.dumps(value, canonical=True) == data
    except Exception:
        return Malformed
    return value


def outcome(data):
    try:
        return cbor.decode(data, 1 << 20)
    except Malformed:
        return Malformed


LEAVES = st.one_of(st.integers(-2**64 - 2, 2**64 + 2), st.binary(max_size=30),
                   st.text(max_size=30), st.booleans(), st.none(),
                   st.sampled_from([0, 23, 24, 255, 256, 65535, 65536, -24, -25, 2**32]))
VALUES = st.recursive(LEAVES, lambda c: st.lists(c, max_size=5) | st.dictionaries(
    st.one_of(st.integers(-300, 300), st.text(max_size=4), st.binary(max_size=3)), c,
    max_size=6), max_leaves=10)


@st.composite
def cbor_bytes(draw):
    data = bytearray(cbor2.dumps(draw(VALUES), canonical=draw(st.booleans())))
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        if op == "set" and i < len(data):
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = bytes([draw(st.integers(0, 255))])
        elif op == "delete":
            del data[i:i + 1]
        elif op == "truncate":
            del data[i:]
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_canonical_values_round_trip(value):
    data = cbor2.dumps(value, canonical=True)
    assert outcome(data) == reference_decode(data)


@settings(max_examples=700, deadline=None)
@given(cbor_bytes())
def test_decode_matches_the_reference(data):
    assert outcome(data) == reference_decode(data)
