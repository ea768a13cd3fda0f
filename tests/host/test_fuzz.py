"""Random and mutated inputs to every parse and verify function: only WireError comes out.

Mutations work on valid bytes (flip, insert, delete, truncate, splice, repeat); "resigned"
mutations change the payload inside a valid signature, so the claims checks behind the
signature see hostile input too. The fast Sign1 path is held to the strict general decoder.
"""
import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.wire import cbor, cose, keys, ndef, tap
from host.wire.credential import Credential
from host.wire.errors import WireError
from host.wire.sample import World
from host.wire.status import StatusListToken
from host.wire.tap import split_sequence, verify_tap
from host.wire.trust import TrustList

W = World(n_agencies=2, n_badges=2)
NOW = W.now
TL = TrustList.load(W.trust_list, W.authority, NOW)
BADGE = W.badges[0]
CRED = Credential.verify(BADGE.credential, TL, NOW)
AKEY = W.agency_keys["A330100"]
TOKENS = [
    BADGE.tap("status"), BADGE.tap("consent", scope=5),
    BADGE.tap("checkin", terminal_id="T-A330100-01", terminal_time=NOW, nonce=bytes(16)),
]
STATUS = W.status_list("A330100", revoked=[1])
SIGNERS = {"token": BADGE.key, "credential": AKEY, "trust": W.authority, "status": AKEY}
SEEDS = {"token": TOKENS, "credential": [BADGE.credential, W.badges[1].credential],
         "trust": [W.trust_list], "status": [STATUS]}
FAST = settings(max_examples=2500, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def mutated(draw, seed):
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "splice",
                                   "repeat"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[i] = draw(st.sampled_from([0x00, 0x17, 0x18, 0x1f, 0x3a, 0x40, 0x58, 0x5f,
                                            0x7f, 0x9f, 0xa0, 0xbf, 0xc2, 0xd2, 0xf7, 0xfb,
                                            0xff, draw(st.integers(0, 255))]))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[i:]
        elif op == "splice":
            other = draw(st.sampled_from([t for ts in SEEDS.values() for t in ts]))
            j = draw(st.integers(0, len(other)))
            data[i:] = other[j:]
        else:
            data[i:i] = data[i:i + draw(st.integers(1, 16))]
    return bytes(data)


@st.composite
def hostile(draw, kind):
    """Bytes for `kind`: random, mutated, or a valid signature over a mutated payload."""
    how = draw(st.sampled_from(["random", "mutated", "resigned"]))
    if how == "random":
        return draw(st.binary(max_size=300))
    seed = draw(st.sampled_from(SEEDS[kind]))
    if how == "mutated":
        return draw(mutated(seed))
    msg = cose.parse_sign1(seed, 1 << 24)
    payload = draw(mutated(msg.payload_bytes))
    return cose.sign1(SIGNERS[kind], payload, msg.protected_bytes, kid=msg.kid)


def only_wire_errors(f, *args, **kw):
    try:
        f(*args, **kw)
    except WireError:
        pass


@FAST
@given(st.data())
def test_tokens_and_credentials(data):
    kind = data.draw(st.sampled_from(["token", "credential"]))
    raw = data.draw(hostile(kind))
    if kind == "token":
        only_wire_errors(verify_tap, raw, CRED, TL, NOW)
        only_wire_errors(verify_tap, raw, BADGE.credential, TL, NOW, ("checkin",))
    else:
        only_wire_errors(verify_tap, TOKENS[0], raw, TL, NOW)
        only_wire_errors(Credential.parse, raw)
    only_wire_errors(cose.parse_sign1, raw, 1024)
    only_wire_errors(cbor.decode, raw, 1024, tag18=True)
    only_wire_errors(split_sequence, raw + BADGE.credential)
    only_wire_errors(split_sequence, TOKENS[0] + raw)
    only_wire_errors(ndef.decode_tap_b64, ndef.b64url(raw))
    only_wire_errors(tap.parse_challenge, raw)
    check_fast_path(raw)


def check_fast_path(raw):
    """The fast Sign1 path accepts exactly what the strict decoder accepts in its shape."""
    fast = cose._fast_es256(raw)
    try:
        obj = cbor.decode(raw, 1 << 16, tag18=True)
    except WireError:
        assert fast is None
        return
    v = obj.value if type(obj) is cbor2.CBORTag and obj.tag == 18 else None
    fits = (type(v) is list and len(v) == 4 and v[0] == cose.PROTECTED_ES256
            and type(v[1]) is dict and list(v[1]) == [4] and type(v[1][4]) is bytes
            and len(v[1][4]) == 8 and type(v[2]) is bytes and type(v[3]) is bytes
            and len(v[3]) == 64)
    assert (fast is not None) == fits
    if fits:
        assert (fast.kid, fast.payload_bytes, fast.signature) == (v[1][4], v[2], v[3])


@settings(max_examples=600, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_lists_and_tags(data):
    kind = data.draw(st.sampled_from(["trust", "status"]))
    raw = data.draw(hostile(kind))
    only_wire_errors(TrustList.load, raw, W.authority, NOW)
    only_wire_errors(StatusListToken.load, raw, TL, NOW, 1 << 16)
    only_wire_errors(StatusListToken.load, raw, AKEY, None, 1 << 16)
    only_wire_errors(ndef.parse_tlv, raw)
    only_wire_errors(ndef.parse_uri_record, raw)
    only_wire_errors(ndef.read_tag_url, raw)
    text = data.draw(st.one_of(st.text(max_size=80), st.just("https://h/t/" + data.draw(
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/",
                max_size=200)))))
    only_wire_errors(ndef.parse_tap_url, text)


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.one_of(st.integers(-2**65, 2**65), st.binary(max_size=40),
                              st.text(max_size=5), st.booleans(), st.none(), st.floats()),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(
                        st.integers(-4, 4), c, max_size=6), max_leaves=12))
def test_cose_key_decoding(value):
    only_wire_errors(keys.decode_cose_key, value)
