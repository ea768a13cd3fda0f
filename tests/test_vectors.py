"""The golden vectors: produced by the firmware under MicroPython, checked here by the host
library and by independent COSE/CWT implementations (pycose, python-cwt)."""
import json
import pathlib

import cbor2
import cwt
import pytest

from tests import independent

VECTORS = sorted((pathlib.Path(__file__).parent / "vectors").glob("*.json"))


def _load(path):
    return json.loads(path.read_text())


def test_there_are_enough_vectors_of_each_kind():
    vs = [_load(p) for p in VECTORS]
    assert len(vs) >= 20
    valid = {v["expected"]["purpose"] for v in vs if v["expected"]["valid"]}
    assert valid == {"status", "consent", "checkin"}
    reasons = {v["expected"]["reason"] for v in vs if not v["expected"]["valid"]}
    assert {"bad_signature", "wrong_alg", "unknown_key", "untrusted_issuer", "expired",
            "malformed", "oversized"} <= reasons


def _host_verdict(v):
    from host import wire
    authority, _ = wire.decode_cose_key(cbor2.loads(bytes.fromhex(v["authority_key"])))
    trust = wire.TrustList.load(bytes.fromhex(v["trust_list"]), authority, v["now"])
    tap = wire.verify_tap(bytes.fromhex(v["token"]), bytes.fromhex(v["credential"]), trust,
                          v["now"])
    return tap


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_host_library_agrees(path):
    from host import wire
    v = _load(path)
    exp = v["expected"]
    if exp["valid"]:
        tap = _host_verdict(v)
        assert (tap.purpose, tap.counter) == (exp["purpose"], exp["counter"])
        if exp["purpose"] == "checkin":
            assert tap.nonce.hex() == v["nonce"]
    else:
        with pytest.raises(wire.WireError) as err:
            _host_verdict(v)
        assert err.value.reason == exp["reason"], str(err.value)


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_independent_implementation_agrees(path):
    v = _load(path)
    exp = v["expected"]
    if exp["valid"]:
        assert independent.verdict(v) == ("valid", exp["purpose"], exp["counter"])
    else:
        with pytest.raises(independent.Refused) as err:
            independent.verdict(v)
        assert err.value.reason == exp["reason"], str(err.value)


def test_peer_leniency_is_real():
    """Why independent.py checks well-formedness itself: python-cwt alone accepts a credential
    followed by garbage, and one re-encoded with an indefinite-length array."""
    v = _load(next(p for p in VECTORS if p.stem.endswith("valid-status")))
    authority = cbor2.loads(bytes.fromhex(v["agency_key"]))
    key = cwt.COSEKey.new({1: 2, 2: authority[2], 3: -7, -1: 1, -2: authority[-2],
                           -3: authority[-3]})
    cred = bytes.fromhex(v["credential"])
    ctx = cwt.CWT.new(leeway=300)
    assert ctx.decode(cred + b"\x00\x00", key)[1] == "A330100"
    assert cred[:2] == b"\xd2\x84"
    assert ctx.decode(b"\xd2\x9f" + cred[2:] + b"\xff", key)[1] == "A330100"


def test_vectors_are_what_the_firmware_produces_under_micropython():
    from tools import gen_vectors
    on_disk = [_load(p) for p in VECTORS]
    assert gen_vectors.generate() == on_disk


def test_cpython_runs_the_same_firmware_code_to_the_same_bytes(firmware_build, upy):
    import os
    import subprocess
    import sys
    script = (pathlib.Path(__file__).parents[1] / "tools" / "vectors_upy.py").read_text()
    from_upy = upy(script).stdout
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).parents[1] / "firmware" / "lib"))
    from_cpython = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                  capture_output=True, text=True).stdout
    parse = lambda text: [json.loads(line) for line in text.splitlines()]  # noqa: E731
    assert len(parse(from_upy)) >= 20
    assert parse(from_upy) == parse(from_cpython)
