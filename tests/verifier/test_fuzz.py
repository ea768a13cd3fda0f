"""Hypothesis throws EXAMPLES mutated tokens and bodies at /api/v1/verify (XINKA_FUZZ_EXAMPLES:
4,000 in the suite, `XINKA_FUZZ_EXAMPLES=10000` for the full run): none accepted, none answered
with a 5xx."""
import base64
import json
import os

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from tests.verifier.conftest import b64

EXAMPLES = int(os.environ.get("XINKA_FUZZ_EXAMPLES", "4000"))

SEEN = {"n": 0, "accepted": 0, "5xx": 0}


def _mutate(base, edits, cut, insert_at, ins):
    data = bytearray(base)
    for pos, val in edits:
        data[pos % len(data)] ^= val
    if insert_at is not None:
        data[insert_at % (len(data) + 1):insert_at % (len(data) + 1)] = ins
    if cut:
        data = data[:max(0, len(data) - cut)]
    return bytes(data)


def test_fuzz_verify_api(sqlite_env):
    env = sqlite_env
    b = env.world.badges[0]
    bases = [b.tap("status") + b.credential, b.tap("consent", scope=5) + b.credential,
             b.tap("checkin", terminal_id="T-1", terminal_time=env.world.now,
                   nonce=bytes(16)) + b.credential]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(which=st.integers(0, 2),
           edits=st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 255)), max_size=3),
           cut=st.integers(0, 20) | st.just(0), insert_at=st.none() | st.integers(0, 1000),
           ins=st.binary(min_size=1, max_size=6),
           form=st.sampled_from(["cbor", "json", "tap", "json-raw"]),
           junk=st.text(max_size=40))
    def run(which, edits, cut, insert_at, ins, form, junk):
        body = _mutate(bases[which], edits, cut, insert_at, ins)
        assume(body != bases[which])
        if form == "cbor":
            r = env.client.post("/api/v1/verify", data=body, content_type="application/cbor")
        elif form == "tap":
            r = env.client.post("/api/v1/verify", json={"tap": b64(body)})
        elif form == "json":
            n = len(body) // 2
            r = env.client.post("/api/v1/verify", json={"token": b64(body[:n]),
                                                         "credential": b64(body[n:])})
        else:
            raw = json.dumps({"token": junk, "credential": base64.b64encode(body).decode()})
            r = env.client.post("/api/v1/verify", data=raw[:len(raw) - (cut % 5)],
                                content_type="application/json")
        SEEN["n"] += 1
        if r.status_code >= 500:
            SEEN["5xx"] += 1
        if r.status_code == 200 or (r.is_json and r.json.get("valid")):
            SEEN["accepted"] += 1
        assert r.status_code < 500 and 400 <= r.status_code
        assert r.json["valid"] is False and r.json["reason"]

    run()
    assert SEEN["n"] >= EXAMPLES
    assert SEEN["accepted"] == 0 and SEEN["5xx"] == 0
