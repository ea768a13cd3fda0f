"""Power cuts against the badge state (firmware/badge/state.py) on the real littlefs.

Everything here runs under MicroPython (compiled firmware, badge heap) with `vfs.VfsLfs2` on
hardware/sim/flash.py, whose image is a file and whose writes stop at a chosen unit (programmed
byte or erase) with the torn byte, page or erase left half done.

A reboot is faithful in-process: after a cut the dead device raises on every call, the mount is
dropped, and a new FlashDevice plus a new VfsLfs2 mount (which re-reads everything from the file)
plus a new BadgeState.load() carry on; no RAM state survives but the test's own record of what
left the device. Each random run also restarts once as a new process from the image left by the
previous one. The filesystem is formatted once per image and never again: a mount that fails
fails the test. The DRBG is re-seeded identically at every boot (the worst RNG an ESP32 can
have with its radio off), so unique nonces must come from the state, not from luck.
"""
import binascii
import concurrent.futures
import hashlib
import pathlib
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from hardware.sim import runner as mpy

SIM = str(pathlib.Path(__file__).resolve().parents[2] / "hardware" / "sim")
PATH = ("lib", "badge", SIM)
WORKERS = 2  # parallel images (the machine has two cores)
CUTS_PER_PROCESS = 550  # x 2 processes x WORKERS images = 2,200 cuts

# One badge, booted again and again: refill when low (sometimes not, so sign() finds the pool
# dry and refills itself), now and then a credential blob rewrite or a reservation thrown away.
# Prints B counter used available (boot), T counter index sig (a token that left), C phase (cut).
SCENARIO = r"""
import sys, vfs, hashlib, struct, binascii
from flash import FlashDevice, PowerCut
import state
from xinka import ecdsa, drbg

img = sys.argv[1]
key = ecdsa.Key(int(sys.argv[2]))
rnd = int(sys.argv[3]) or 1
cuts = int(sys.argv[4])
last = int(sys.argv[5])
SPAN, CAP, LOW, FILL, BLOCKS = 1500, 8, 2, 5, 16
SEED = hashlib.sha256(b"powercut rng " + sys.argv[2]).digest()


def rand(n):
    global rnd
    x = rnd
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    rnd = x
    return x % n


def fail(msg):
    print("X", msg)
    sys.exit(3)


if last < 0:
    dev = FlashDevice(img, 4096, BLOCKS)
    vfs.VfsLfs2.mkfs(dev)
    dev.close()
    last = 0
blob_ok = blob_try = None
done = 0
old = None
while done < cuts:
    dev = FlashDevice(img)
    vfs.mount(vfs.VfsLfs2(dev), "/flash")  # a mount that fails ends the process: test fails
    if old:
        old.close()
    old = dev
    dev.cut_after(rand(SPAN), "page" if rand(4) == 0 else "byte", rand(1 << 30) + 1)
    phase = "load"
    try:
        st = state.BadgeState("/flash/badge", capacity=CAP).load()
        print("B", st.counter, st.used, st.pool_available())
        if st.counter < last:
            fail("counter %d below the last emitted %d" % (st.counter, last))
        v = st.get("cred")
        if blob_try is not None and v not in (blob_ok, blob_try):
            fail("blob %r is neither %r nor %r" % (v, blob_ok, blob_try))
        blob_ok = blob_try = v
        rng = drbg.HmacDrbg(SEED)
        while True:
            if st.pool_available() < LOW and rand(2):
                phase = "refill"
                st.refill(key, rng.generate, FILL)
            if rand(16) == 0:
                phase = "put"
                blob_try = b"credential %d" % rand(1 << 30)
                st.put("cred", blob_try)
                blob_ok = blob_try
            if rand(8) == 0:
                phase = "next_counter"
                st.next_counter()  # its reservation is thrown away
            phase = "next_counter"
            c = st.next_counter()
            dg = hashlib.sha256(b"xinka/test" + struct.pack(">Q", c)).digest()
            phase = "sign"
            try:
                sig = st.sign(key, dg)
            except state.StateError as e:
                if e.reason != "pool_empty":
                    raise
                phase = "refill"
                st.refill(key, rng.generate, FILL)
                phase = "sign_unreserved"
                sig = st.sign(key, dg)
            print("T", c, st.used - 1, binascii.hexlify(sig).decode())
            last = c
    except PowerCut:
        done += 1
        print("C", phase, dev.torn)
    vfs.umount("/flash")
print("L", last, done)
"""

N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551


def _digest(c):
    return hashlib.sha256(b"xinka/test" + struct.pack(">Q", c)).digest()


def _verify(pub, digest, sig):
    der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                      int.from_bytes(sig[32:], "big"))
    pub.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def _worker(build, tmp, w):
    """Two processes on one image; returns (key d, tokens, boots, (phase, torn) per cut)."""
    img = str(tmp / ("badge%d.img" % w))
    d = 0x1234567 + 7919 * w
    tokens, boots, phases = [], [], []
    last = -1
    for p in range(2):
        out = mpy.run(SCENARIO, build, path=PATH,
                      args=[img, str(d), str(1 + 1000 * w + p), str(CUTS_PER_PROCESS), str(last)],
                      timeout=300).stdout
        assert "\nX " not in "\n" + out, out[out.find("X "):][:300]
        lines = out.split("\n")
        for ln in lines:
            f = ln.split()
            if not f:
                continue
            if f[0] == "T":
                tokens.append((int(f[1]), int(f[2]), binascii.unhexlify(f[3])))
            elif f[0] == "B":
                boots.append((len(tokens), int(f[1]), int(f[2])))
            elif f[0] == "C":
                phases.append((f[1], f[2]))
        tail = [ln for ln in lines if ln.startswith("L ")]
        assert tail and int(tail[0].split()[2]) == CUTS_PER_PROCESS, out[-500:]
        last = int(tail[0].split()[1])
    return d, tokens, boots, phases


def test_two_thousand_random_power_cuts(firmware_build, tmp_path):
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        runs = list(ex.map(lambda w: _worker(firmware_build, tmp_path, w), range(WORKERS)))
    all_r = set()
    total_cuts = 0
    phase_count = {}
    for d, tokens, boots, phases in runs:
        total_cuts += len(phases)
        for cut in phases:
            for ph in cut:
                phase_count[ph] = phase_count.get(ph, 0) + 1
        pub = ec.derive_private_key(d, ec.SECP256R1()).public_key()
        assert len(tokens) > CUTS_PER_PROCESS
        counters = [t[0] for t in tokens]
        assert counters[0] >= 1
        assert all(a < b for a, b in zip(counters, counters[1:], strict=False)), \
            "a counter went back"
        indices = [t[1] for t in tokens]
        assert all(a < b for a, b in zip(indices, indices[1:], strict=False)), \
            "a pool index was reused"
        for n_before, counter, used in boots:
            # after every restart: the durable counter and cursor cover all that left
            if n_before:
                assert counter >= tokens[n_before - 1][0]
                assert used > tokens[n_before - 1][1]
        for c, _, sig in tokens:
            _verify(pub, _digest(c), sig)
            all_r.add(sig[:32])
        assert len(boots) > 0.9 * len(phases)
    print("cuts", total_cuts, "tokens", len(all_r), phase_count)
    assert total_cuts >= 2000
    assert len(all_r) == sum(len(r[1]) for r in runs), "a nonce r value repeated"
    # the cuts landed in every kind of write the badge makes
    for ph in ("load", "refill", "put", "next_counter", "sign_unreserved", "program", "erase"):
        assert phase_count.get(ph, 0) >= 5, phase_count


# --- one transaction, cut at each of its units --------------------------------------------------

STEPS = r"""
import sys, vfs, hashlib, struct
from flash import FlashDevice, PowerCut
import state
from xinka import ecdsa, drbg

img, snap, tx, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
stride = int(sys.argv[5])
key = ecdsa.Key(0xC0FFEE)
rng = drbg.HmacDrbg(hashlib.sha256(b"steps").digest())


def copy(src, dst):
    buf = bytearray(4096)
    with open(src, "rb") as a:
        with open(dst, "wb") as b:
            while True:
                n = a.readinto(buf)
                if not n:
                    break
                b.write(buf[:n])


def boot(cut=-1, seed=1):
    dev = FlashDevice(img)
    vfs.mount(vfs.VfsLfs2(dev), "/flash")
    if cut >= 0:
        dev.cut_after(cut, mode, seed)
    return dev, state.BadgeState("/flash/badge", capacity=8).load()


def look(st):
    return (st.counter, st.used, st.pool_available(), st.get("cred"))


def run(st):
    if tx == "next_counter":
        st.next_counter()
    elif tx == "sign":  # unreserved: persists its own mark
        st.sign(key, bytes(32))
    elif tx == "tap":  # next_counter + sign, as the badge loop does
        c = st.next_counter()
        st.sign(key, hashlib.sha256(struct.pack(">Q", c)).digest())
    elif tx == "refill":
        st.refill(key, rng.generate, 3)
    elif tx == "put":
        st.put("cred", b"new credential bytes")


dev = FlashDevice(img, 4096, 16)
vfs.VfsLfs2.mkfs(dev)
vfs.mount(vfs.VfsLfs2(dev), "/flash")
st = state.BadgeState("/flash/badge", capacity=8).load()
st.refill(key, rng.generate, 6)
for i in range(3):
    st.sign(key, hashlib.sha256(struct.pack(">Q", st.next_counter())).digest())
st.put("cred", b"old credential")
vfs.umount("/flash")
copy(img, snap)

dev, st = boot()
before = look(st)
u0 = dev.units
run(st)
units = dev.units - u0
after = look(st)
vfs.umount("/flash")
print("U", units, before, after)
for cut in list(range(0, units, stride)) + [units]:
    copy(snap, img)
    dev, st = boot(cut, cut + 1)
    try:
        run(st)
        got = "done"
    except PowerCut:
        got = "cut"
    vfs.umount("/flash")
    dev, st = boot()
    seen = look(st)
    c = st.next_counter()  # the state carries on from what it found
    if c != seen[0] + 1 or st.used < seen[1]:
        print("X", cut, "did not carry on", c, seen)
    vfs.umount("/flash")
    print("P", cut, got, "old" if seen == before else "new" if seen == after else "X %r" % (seen,))
"""


@pytest.mark.parametrize("tx,mode,stride", [
    ("next_counter", "byte", 1), ("next_counter", "page", 1), ("sign", "byte", 1),
    ("tap", "byte", 1), ("refill", "byte", 3), ("refill", "page", 7), ("put", "byte", 1),
])
def test_each_cut_point_of_one_transaction_leaves_old_or_new(firmware_build, tmp_path, tx, mode,
                                                             stride):
    out = mpy.run(STEPS, firmware_build, path=PATH,
                  args=[str(tmp_path / "img"), str(tmp_path / "snap"), tx, mode, str(stride)],
                  timeout=300).stdout
    assert "X" not in out, out
    lines = [ln.split() for ln in out.split("\n") if ln.startswith("P ")]
    units = int(out.split()[1])
    assert units > 20 and len(lines) == len(range(0, units, stride)) + 1
    outcomes = [f[3] for f in lines]
    assert set(outcomes) == {"old", "new"}
    # one commit point: every cut before it leaves the old state, every cut after it the new
    first_new = outcomes.index("new")
    assert all(o == "old" for o in outcomes[:first_new]), outcomes
    assert all(o == "new" for o in outcomes[first_new:]), outcomes
    assert lines[-1][2] == "done"
