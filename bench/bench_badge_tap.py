"""Badge work per tap under MicroPython, and RF frames per phone read and per check-in.

    .venv/bin/python bench/bench_badge_tap.py

- Work: the badge firmware's tap paths on the unix port (firmware as .mpy; the process has the
  simulator's heap since the tag model lives in it too, the badge itself runs in 128 KiB in
  tests/badge), littlefs on a FlashDevice in RAM-backed /tmp, the NT3H2111 model on SimI2C with its
  EEPROM write time set to 0 so the figure is the MCU's own work). Big-integer products and
  reductions per signature are read off the code path (BadgeState.sign: ecdsa.load_entry checks
  c = k^-1 * r * d, then s = k^-1 * e + c: 3 products, 3 reductions mod n); SHA-256 blocks are
  counted from the Sig_structure length of the tokens actually signed.
- Frames: a simulated badge (hardware/sim/fleet.py), read by nfcpy's own Type 2 tag code over
  udp:, and a check-in done as tests/badge/terminal.py does it; frames counted at the model.
"""
import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hardware.sim import fleet as simfleet, runner  # noqa: E402
from hardware.sim.provision_sim import BUILD_PATH  # noqa: E402
from host.wire import encode_challenge  # noqa: E402
from host.wire.sample import NOW  # noqa: E402
from testkit import tags as terminal  # noqa: E402
from testkit.tags import read_tap  # noqa: E402

ROUNDS = 30

SCRIPT = r"""
import sys, time, gc, os
import badge_board, state, nt3h2111
from xinka import ecdsa, drbg, tokens, cose, ndef
from i2c import SimI2C
from model import NT3H2111
badge_board.mount_flash(sys.argv[1])
st = state.BadgeState("/flash/badge", capacity=64).load()
key = ecdsa.Key(0x1234567890ABCDEF)
kid = key.kid()
rng = drbg.HmacDrbg(os.urandom(48))
cred = bytes(300)
host = b"v.example.cn"
bus = SimI2C()
chip = NT3H2111(write_ms=0)
bus.attach(chip)
tag = nt3h2111.NT3H2111(bus)
image = bytearray(888)
empty = bytearray(16)
empty[0] = 3
empty[2] = 0xFE
R = int(sys.argv[2])
st.refill(key, rng.generate, 2 * R + 2)
sign = lambda d: st.sign(key, d)

def blocks(claims):
    n = len(cose.sig_structure(cose.PROTECTED_ES256, claims))
    return (n + 9 + 63) // 64

def put(n):
    tag.write_user_memory(0, image, n, empty)
    tag.write_block(1, image)
    tag.set_last_ndef_block(1 + (n - 2) // 16)
    tag.release()

best = {}
def rec(name, us):
    if name not in best or us < best[name]:
        best[name] = us

for i in range(R):
    t0 = time.ticks_us()
    c = st.next_counter()
    t1 = time.ticks_us()
    cl = tokens.status_claims(c)
    tok = tokens.tap_token(cl, kid, sign)
    t2 = time.ticks_us()
    n = ndef.tap_tlv_into(image, host, tok, cred)
    t3 = time.ticks_us()
    put(n)
    t4 = time.ticks_us()
    rec("status: next_counter (flash commit)", time.ticks_diff(t1, t0))
    rec("status: claims + COSE_Sign1 (online sign)", time.ticks_diff(t2, t1))
    rec("status: tap_tlv_into", time.ticks_diff(t3, t2))
    rec("status: tag write over I2C (%d blocks)" % (n // 16 + 2), time.ticks_diff(t4, t3))
    rec("status: whole rewrite", time.ticks_diff(t4, t0))
    sb = blocks(cl)
    ch = tokens.challenge("T-A330100-01", 1798800000, bytes(16))
    t0 = time.ticks_us()
    tid, tt, nonce = tokens.parse_challenge(ch)
    c = st.next_counter()
    cl = tokens.checkin_claims(c, tid, tt, nonce)
    tok = tokens.tap_token(cl, kid, sign)
    t1 = time.ticks_us()
    rec("checkin: parse + next_counter + sign", time.ticks_diff(t1, t0))
    cb = blocks(cl)
t0 = time.ticks_us()
st.refill(key, rng.generate, 1)
rec("offline: refill 1 pool entry (k*G, k^-1, c, flash)", time.ticks_diff(time.ticks_us(), t0))
for k in best:
    print("T", best[k], k)
print("SHA", sb, cb, len(tok))
"""


def main():
    with tempfile.TemporaryDirectory() as tmp:
        build = simfleet.build(pathlib.Path(tmp) / "build")
        out = runner.run(SCRIPT, build, path=BUILD_PATH, args=[tmp + "/f.bin", str(ROUNDS)],
                         heap=simfleet.SIM_HEAP, timeout=600).stdout
        print("Badge tap work on MicroPython (unix port), .mpy, best of %d" % ROUNDS)
        print("%-55s %9s" % ("step", "us"))
        sha = None
        for line in out.splitlines():
            w = line.split(" ", 2)
            if w[0] == "T":
                print("%-55s %9s" % (w[2], w[1]))
            elif w[0] == "SHA":
                sha = tuple(int(v) for v in line.split()[1:3])
        print("per signature: 3 big*big products, 3 reductions mod n (BadgeState.sign)")
        print("SHA-256 blocks per token (Sig_structure): status %d, checkin %d" % sha)
        with simfleet.Fleet(1, pathlib.Path(tmp) / "w", build) as f:
            b = f.badges[0]
            s0 = b.stats()["rf_frames"]
            read_tap(b.path)
            s1 = b.stats()["rf_frames"]
            b.wait_state(lambda s: s["reads"] == 1 and s["tag"].endswith(":%d" % s["ctr"]))
            s1 = b.stats()["rf_frames"]
            kind, payload = terminal.checkin(
                b.path, encode_challenge("T-A330100-01", NOW, os.urandom(16)))
            s2 = b.stats()["rf_frames"]
            assert kind == terminal.K_RESPONSE
            print("RF frames, nfcpy phone-style NDEF read (activation + CC + NDEF): %d"
                  % (s1 - s0))
            print("RF frames, check-in (activation, PT poll, 16 WRITE, RF_READY polls, "
                  "FAST_READs; %d-byte answer, %d windows): %d"
                  % (len(payload), -(-len(payload) // 60), s2 - s1))


if __name__ == "__main__":
    main()
