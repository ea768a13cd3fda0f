"""The README's first command: a small world, simulated badges, verified taps.

An authority and an agency are created on the host; each badge is the firmware library running
under MicroPython (a separate process, its own key generated inside it); the agency issues each
badge its credential; each badge signs a status token; the host verifies it offline against the
trust list and prints the employer URL that the badge's tag would hold.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives.asymmetric import ec

from hardware.sim import runner
from host import wire
from host.wire import keys

AUTHORITY_ID = "CN-ZJ-HZ-COMMERCE"
AGENCY_ID, AGENCY_NAME = "A330100", "杭州安心家政服务有限公司"
YEAR = 365 * 86400


def simulated_badge(build, agency_key, serial, verifier_host, now):
    """Run one badge under MicroPython: keygen on the badge, credential in, status token out."""
    env = dict(os.environ, MICROPYPATH=str(build / "lib"))
    script = (runner.ROOT / "hardware" / "sim" / "demo_badge_upy.py").read_text()
    proc = subprocess.Popen([runner.MICROPYTHON, "-X", "heapsize=%d" % runner.HEAP_BYTES,
                             "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    proc.stdin.write(os.urandom(32).hex() + "\n")
    proc.stdin.flush()
    tag, pub = proc.stdout.readline().split()
    assert tag == "PUB", tag
    badge_pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(pub))
    credential = wire.issue(agency_key, AGENCY_ID, "W-%05d" % serial, badge_pub,
                            wire.ueid_from_mac(bytes([0x02, 0xA4, 0xCF, 0, 0, serial])), serial,
                            "https://%s/sl/%s" % (verifier_host, AGENCY_ID), now, now, now + 2 * YEAR)
    out, err = proc.communicate(credential.hex() + " " + verifier_host + "\n", timeout=60)
    if proc.returncode != 0:
        raise SystemExit("simulated badge %d failed:\n%s" % (serial, err))
    tag, token_hex, url = out.split()
    return credential, bytes.fromhex(token_hex), url


def main(argv=None):
    ap = argparse.ArgumentParser(description="Issue simulated badges and verify their taps.")
    ap.add_argument("--badges", type=int, default=3, help="how many badges (default 3)")
    ap.add_argument("--host", default="verify.example.cn", help="verifier host in the URLs")
    args = ap.parse_args(argv)
    now = int(time.time())
    print("== authority %s and agency %s (%s)" % (AUTHORITY_ID, AGENCY_ID, AGENCY_NAME))
    authority, agency = keys.generate(), keys.generate()
    trust_bytes = wire.build_trust_list(
        authority, AUTHORITY_ID, [wire.Agency(AGENCY_ID, AGENCY_NAME, (agency,), now, now + 5 * YEAR)],
        seq=1, iat=now, exp=now + YEAR)
    trust = wire.TrustList.load(trust_bytes, authority.public_key(), now)
    print("   trust list: %d bytes, signed by authority key %s" % (len(trust_bytes), keys.kid(authority).hex()))
    with tempfile.TemporaryDirectory() as tmp:
        build = runner.compile_firmware(tmp)
        for serial in range(1, args.badges + 1):
            credential, token, url = simulated_badge(build, agency, serial, args.host, now)
            tap = wire.verify_tap(token, credential, trust, now)
            cred = tap.credential
            print("== badge %d  kid %s  worker %s  status index %d" % (serial, tap.badge_kid.hex(), cred.sub, cred.status_idx))
            print("   token %d bytes, credential %d bytes: VERIFIED %s token, counter %d, agency %s"
                  % (len(token), len(credential), tap.purpose, tap.counter, cred.iss))
            print("   employer URL (%d chars): %s" % (len(url), url))
    print("== done: %d badges issued, every token verified offline" % args.badges)
    return 0


if __name__ == "__main__":
    sys.exit(main())
