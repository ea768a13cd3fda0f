"""Regenerate tests/vectors/*.json from the firmware code running under MicroPython.

    .venv/bin/python tools/gen_vectors.py [--check]

The signed structures come from tools/vectors_upy.py (firmware/lib under the micropython
command). Byte-level corruptions (truncation, trailing bytes, re-tagging, DER signatures) are
applied here, after signing, because they are what an attacker or a broken reader does to the
bytes. --check regenerates into memory and fails if the files differ.
"""
import json
import pathlib
import sys
import tempfile

import cbor2
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from hardware.sim import runner as mpy  # noqa: E402

OUT = ROOT / "tests" / "vectors"

# name -> (valid, reason, description)
EXPECTED = {
    "valid-status": (True, None, "a status token as a phone reads it"),
    "valid-status-large-counter": (True, None, "counter above 2^32"),
    "valid-consent": (True, None, "a consent token with every scope bit"),
    "valid-checkin": (True, None, "a check-in answer to a terminal challenge"),
    "valid-credential-rotated-agency-key": (True, None, "credential signed by the agency's second key"),
    "valid-largest-checkin": (True, None, "the largest token and credential the badge writes"),
    "bad-signature-token": (False, "bad_signature", "one bit of the token signature flipped"),
    "bad-signature-credential": (False, "bad_signature", "one bit of the credential signature flipped"),
    "wrong-alg-token-es384": (False, "wrong_alg", "protected alg -35, signed with the ES256 key"),
    "wrong-alg-credential-eddsa": (False, "wrong_alg", "credential protected alg -8"),
    "der-signature-token": (False, "bad_signature", "token signature DER-encoded instead of r||s"),
    "unknown-kid-token": (False, "unknown_key", "token signed by a badge key other than the credential's"),
    "unknown-kid-credential": (False, "unknown_key", "credential signed by a key the trust list lacks"),
    "untrusted-issuer": (False, "untrusted_issuer", "credential from an agency not in the trust list"),
    "expired-credential": (False, "expired", "credential exp one hour before now"),
    "not-yet-valid-credential": (False, "not_yet_valid", "credential nbf one day after now"),
    "truncated-token": (False, "malformed", "token cut 5 bytes short"),
    "truncated-credential": (False, "malformed", "credential cut in the middle"),
    "trailing-bytes-token": (False, "malformed", "two bytes after the token"),
    "indefinite-length-array": (False, "malformed", "outer COSE array re-encoded with indefinite length"),
    "indefinite-length-payload": (False, "malformed", "validly signed payload with an indefinite-length map"),
    "wrong-tag-token": (False, "malformed", "tag 17 (COSE_Mac0) instead of 18"),
    "untagged-token": (False, "malformed", "COSE_Sign1 without its tag"),
    "oversized-token": (False, "oversized", "a signed token above the 256-byte limit"),
    "duplicate-map-keys": (False, "malformed", "validly signed payload with a duplicate key"),
    "non-shortest-integer": (False, "malformed", "validly signed payload with a 4-byte encoding of 13"),
    "checkin-without-nonce": (False, "malformed", "checkin purpose without the nonce claim"),
    "status-with-checkin-claims": (False, "malformed", "status purpose carrying checkin claims"),
    "zero-counter": (False, "malformed", "counter 0 (counters start at 1)"),
    "unknown-purpose": (False, "malformed", "purpose 9"),
    "float-in-claims": (False, "malformed", "a float where the counter should be"),
}

PURPOSES = {1: "status", 2: "consent", 3: "checkin"}


def _flip_last_bit(b):
    return b[:-1] + bytes([b[-1] ^ 1])


def _corrupt(kind, token, credential):
    what, how = kind.split("-", 1)
    data = token if what == "token" else credential
    if how == "signature":
        data = _flip_last_bit(data)
    elif how == "truncate":
        data = data[:-5] if what == "token" else data[: len(data) // 2]
    elif how == "trailing":
        data = data + b"\x00\x00"
    elif how == "der":
        arr = cbor2.loads(data).value
        sig = arr[3]
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        data = cbor2.dumps(cbor2.CBORTag(18, arr[:3] + [der]))
    elif how == "indefinite-array":
        assert data[0] == 0xD2 and data[1] == 0x84
        data = b"\xd2\x9f" + data[2:] + b"\xff"
    elif how == "tag-17":
        assert data[0] == 0xD2
        data = b"\xd1" + data[1:]
    elif how == "untag":
        data = data[1:]
    else:
        raise ValueError(kind)
    return (data, credential) if what == "token" else (token, data)


def _expectation(name, token):
    valid, reason, description = EXPECTED[name]
    exp = {"valid": valid, "reason": reason}
    if valid:
        claims = cbor2.loads(cbor2.loads(token).value[2])
        exp["purpose"] = PURPOSES[claims[-65538]]
        exp["counter"] = claims[-65537]
    return description, exp


def generate():
    with tempfile.TemporaryDirectory() as tmp:
        build = mpy.compile_firmware(tmp)
        script = (ROOT / "tools" / "vectors_upy.py").read_text()
        lines = mpy.run(script, build).stdout.splitlines()
    vectors = []
    for line in lines:
        item = json.loads(line)
        token, cred = bytes.fromhex(item["token"]), bytes.fromhex(item["credential"])
        if "corrupt" in item:
            token, cred = _corrupt(item.pop("corrupt"), token, cred)
        item["token"], item["credential"] = token.hex(), cred.hex()
        item["description"], item["expected"] = _expectation(item["name"], token if EXPECTED[item["name"]][0] else b"")
        vectors.append(item)
    missing = set(EXPECTED) - {v["name"] for v in vectors}
    if missing:
        raise SystemExit("vectors not produced: %s" % sorted(missing))
    return vectors


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    vectors = generate()
    files = {}
    for i, v in enumerate(vectors, 1):
        files["%02d-%s.json" % (i, v["name"])] = json.dumps(v, indent=2, ensure_ascii=False) + "\n"
    if "--check" in argv:
        stale = [n for n, text in files.items()
                 if not (OUT / n).exists() or (OUT / n).read_text() != text]
        if stale:
            raise SystemExit("vectors differ from the firmware's output: %s" % stale)
        print("vectors up to date (%d)" % len(files))
        return
    for old in OUT.glob("*.json"):
        old.unlink()
    for n, text in files.items():
        (OUT / n).write_text(text)
    print("wrote %d vectors to %s" % (len(files), OUT.relative_to(ROOT)))


if __name__ == "__main__":
    main()
