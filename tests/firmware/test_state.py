"""firmware/badge/state.py + store.py (the badge's durable state) and hardware/sim/flash.py.

The state logic runs under CPython on a plain directory (same code, a POSIX filesystem); the
flash model runs under CPython; then under MicroPython with the real VfsLfs2: a full flash
(littlefs ENOSPC) and the flash wear per tap. Power cuts are in test_powercut.py.
"""
import hashlib
import os
import pathlib
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from hardware.sim.flash import FlashDevice, PowerCut
from hardware.sim import runner as mpy
from testkit import device as firmware
from xinka import drbg, ecdsa

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIM = str(ROOT / "hardware" / "sim")

store, state = firmware.load("store", "state")

KEY = ecdsa.Key(0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721)


def _rng(tag=b""):
    return drbg.HmacDrbg(hashlib.sha256(b"test_state" + tag).digest()).generate


def _verify(key, digest, sig):
    pub = ec.EllipticCurvePublicNumbers(key.x, key.y, ec.SECP256R1()).public_key()
    der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                      int.from_bytes(sig[32:], "big"))
    pub.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / "state")


def _tap(st, key=KEY):
    c = st.next_counter()
    digest = hashlib.sha256(struct.pack(">Q", c)).digest()
    sig = st.sign(key, digest)
    _verify(key, digest, sig)
    return c, sig


# --- counter and nonce pool (CPython, directory) ----------------------------------------------

def test_a_new_badge_starts_at_zero_and_counts_durably(root):
    st = state.BadgeState(root).load()
    assert (st.counter, st.used, st.pool_available()) == (0, 0, 0)
    assert [st.next_counter() for _ in range(3)] == [1, 2, 3]
    again = state.BadgeState(root).load()
    assert again.counter == 3
    assert again.next_counter() == 4


def test_taps_sign_with_distinct_nonces_and_one_record_each(root):
    st = state.BadgeState(root, capacity=8).load()
    assert st.refill(KEY, _rng(), 100) == 8  # capped at capacity
    rs = set()
    for i in range(8):
        c, sig = _tap(st)
        assert c == i + 1 and st.used == i + 1
        assert st._rec.seq == i + 1  # next_counter wrote the record; sign wrote nothing
        rs.add(sig[:32])
    assert len(rs) == 8
    with pytest.raises(state.StateError) as e:
        _tap(st)
    assert e.value.reason == "pool_empty"
    assert st.counter == 9  # the counter moved on, no signature left the device
    st.refill(KEY, _rng(b"2"), 4)
    c, sig = _tap(st)
    assert c == 10 and sig[:32] not in rs


def test_a_reservation_lost_in_a_reboot_is_skipped_not_reused(root):
    st = state.BadgeState(root, capacity=8).load()
    st.refill(KEY, _rng(), 4)
    st.next_counter()  # reserves index 0, then the badge reboots
    st = state.BadgeState(root, capacity=8).load()
    assert st.used == 1 and st.pool_available() == 3
    digest = bytes(32)
    sig = st.sign(KEY, digest)  # no reservation: marks index 1 used first
    assert st.used == 2 and st.counter == 1
    _verify(KEY, digest, sig)


def test_refill_keeps_unspent_entries_and_never_reassigns_an_index(root):
    st = state.BadgeState(root, capacity=6).load()
    st.refill(KEY, _rng(), 4)
    _tap(st)
    _tap(st)
    pool = pathlib.Path(root, "pool").read_bytes()
    assert st.refill(KEY, _rng(), 10) == 4  # 2 kept + 4 new = capacity
    new = pathlib.Path(root, "pool").read_bytes()
    base, count = struct.unpack(">II", new[4:12])
    assert (base, count) == (2, 6)
    assert new[24:224] == pool[24 + 200:24 + 400]  # indices 2 and 3 kept byte for byte
    assert st.pool_available() == 6


def test_a_repeating_rng_still_gives_every_index_its_own_nonce(root):
    # an RNG that restarts identically (a reboot with a weak os.urandom) must not repeat k
    st = state.BadgeState(root, capacity=4).load()
    rs = set()
    for _ in range(5):
        st.refill(KEY, _rng(b"same"), 4)
        for _ in range(4):
            rs.add(_tap(st)[1][:32])
    assert len(rs) == 20


def test_a_pool_for_another_key_is_replaced_and_refused(root):
    st = state.BadgeState(root, capacity=4).load()
    st.refill(KEY, _rng(), 4)
    other = ecdsa.Key(12345)
    with pytest.raises(state.StateError) as e:
        st.sign(other, bytes(32))
    assert e.value.reason == "bad_entry"
    assert st.used == 1  # the entry stays spent
    assert st.refill(other, _rng(), 4) == 4
    assert st.used == 1 and st._base == 4  # new indices above everything written before
    _tap(st, other)


def test_a_damaged_entry_is_skipped(root):
    st = state.BadgeState(root, capacity=4).load()
    st.refill(KEY, _rng(), 3)
    p = pathlib.Path(root, "pool")
    b = bytearray(p.read_bytes())
    b[24 + 10] ^= 1  # entry 0
    p.write_bytes(bytes(b))
    st = state.BadgeState(root, capacity=4).load()
    _tap(st)
    assert st.used == 2  # index 0 never signed with


def test_a_damaged_pool_header_means_an_empty_pool(root):
    st = state.BadgeState(root, capacity=4).load()
    st.refill(KEY, _rng(), 3)
    _tap(st)
    p = pathlib.Path(root, "pool")
    p.write_bytes(b"junk" + p.read_bytes()[4:])
    st = state.BadgeState(root, capacity=4).load()
    assert st.pool_available() == 0
    st.refill(KEY, _rng(), 2)
    _tap(st)
    assert st.used == 2


def test_sign_checks_the_digest_before_spending_anything(root):
    st = state.BadgeState(root).load()
    st.refill(KEY, _rng(), 2)
    with pytest.raises(ValueError):
        st.sign(KEY, bytes(31))
    assert st.used == 0


# --- the A/B record ---------------------------------------------------------------------------

def test_a_damaged_newer_record_falls_back_to_the_older(root):
    st = state.BadgeState(root).load()
    for _ in range(5):
        st.next_counter()
    newest = pathlib.Path(root, "ctr.%d" % (st._rec.seq & 1))
    newest.write_bytes(newest.read_bytes()[:-1] + b"\x00")
    assert state.BadgeState(root).load().counter == 4


def test_records_that_all_fail_their_check_are_refused_not_reset(root):
    st = state.BadgeState(root).load()
    st.next_counter()
    st.next_counter()
    for i in (0, 1):
        pathlib.Path(root, "ctr.%d" % i).write_bytes(b"\x00" * 24)
    with pytest.raises(state.StateError) as e:
        state.BadgeState(root).load()
    assert e.value.reason == "corrupt"


def test_an_empty_first_record_is_a_first_write_cut_short(root):
    os.makedirs(root)
    pathlib.Path(root, "ctr.1").write_bytes(b"")
    assert state.BadgeState(root).load().counter == 0


# --- blobs and leftovers ----------------------------------------------------------------------

def test_blobs_round_trip_and_refuse_damage(root):
    st = state.BadgeState(root).load()
    assert st.get("cred") is None
    st.put("cred", b"credential bytes")
    st.put("key", bytes(range(32)))
    again = state.BadgeState(root).load()
    assert again.get("cred") == b"credential bytes" and again.get("key") == bytes(range(32))
    p = pathlib.Path(root, "cred")
    p.write_bytes(p.read_bytes()[:-1] + b"X")
    with pytest.raises(state.StateError) as e:
        again.get("cred")
    assert e.value.reason == "corrupt"
    again.delete("cred")
    assert again.get("cred") is None


def test_load_removes_what_a_cut_left_behind(root):
    st = state.BadgeState(root).load()
    st.put("cred", b"old")
    pathlib.Path(root, "cred.tmp").write_bytes(b"half")
    pathlib.Path(root, "pool.new").write_bytes(b"half")
    st = state.BadgeState(root).load()
    assert sorted(os.listdir(root)) == ["cred"]
    assert st.get("cred") == b"old"


def test_seed_never_repeats_and_survives_a_reboot(root):
    st = state.BadgeState(root).load()
    a = st.seed(b"entropy")
    b = st.seed(b"entropy")
    c = state.BadgeState(root).load().seed(b"entropy")
    assert len({a, b, c}) == 3 and len(a) == 32


@pytest.mark.parametrize("errno,reason", [(28, "flash_full"), (36, "flash_full"),
                                          (5, "flash_error")])
def test_os_errors_map_to_stable_reasons(errno, reason):
    err = store.oserror(OSError(errno, "x"))
    assert isinstance(err, state.StateError) and err.reason == reason


# --- the flash model (CPython) ----------------------------------------------------------------

def test_flash_is_a_file_backed_nor_device(tmp_path):
    path = str(tmp_path / "f.img")
    dev = FlashDevice(path, 4096, 4)
    assert dev.ioctl(4, 0) == 4 and dev.ioctl(5, 0) == 4096 and dev.ioctl(1, 0) == 0
    buf = bytearray(8)
    dev.readblocks(1, buf, 100)
    assert buf == b"\xff" * 8  # a new chip comes erased
    dev.writeblocks(1, b"\x0f\xf0", 100)
    dev.writeblocks(1, b"\xff\x3c", 100)  # programming only clears bits
    dev.readblocks(1, buf, 100)
    assert buf[:2] == b"\x0f\x30"
    assert dev.ioctl(6, 1) == 0
    dev.readblocks(1, buf, 100)
    assert buf == b"\xff" * 8 and dev.erases[1] == 1
    dev.writeblocks(2, bytes(4096))  # simple protocol: erase, then program
    dev.close()
    again = FlashDevice(path)  # the image survives: a reboot reads the file
    assert again.block_count == 4
    again.readblocks(2, buf, 0)
    assert buf == bytes(8)
    assert os.path.getsize(path) == 4 * 4096


@pytest.mark.parametrize("mode", ["byte", "page"])
def test_a_cut_tears_one_unit_and_kills_the_device(tmp_path, mode):
    path = str(tmp_path / "f.img")
    dev = FlashDevice(path, 4096, 2)
    dev.cut_after(300, mode, seed=7)
    with pytest.raises(PowerCut):
        dev.writeblocks(0, bytes(600), 250)  # the unit at address 550 is torn
    assert dev.dead and dev.torn == "program" and dev.units == 300
    with pytest.raises(PowerCut):  # nothing more reaches the flash, nor is read
        dev.writeblocks(1, b"\x00", 0)
    with pytest.raises(PowerCut):
        dev.ioctl(6, 1)
    with pytest.raises(PowerCut):
        dev.readblocks(0, bytearray(4), 0)
    img = open(path, "rb").read()
    if mode == "byte":
        assert img[250:550] == bytes(300) and img[551:4096] == b"\xff" * (4096 - 551)
    else:  # pages before the torn one (512..767) whole; the torn page a random mix
        assert img[250:512] == bytes(262) and img[768:4096] == b"\xff" * (4096 - 768)
        assert img[512:768] not in (bytes(256), b"\xff" * 256)
    assert img[:250] == b"\xff" * 250 and img[4096:] == b"\xff" * 4096


def test_a_cut_erase_leaves_part_of_the_sector(tmp_path):
    path = str(tmp_path / "f.img")
    dev = FlashDevice(path, 4096, 2, erase_units=64)
    dev.writeblocks(1, bytes(4096), 0)
    dev.cut_after(16)
    with pytest.raises(PowerCut):
        dev.ioctl(6, 1)
    assert dev.torn == "erase"
    img = open(path, "rb").read()[4096:]
    assert img == b"\xff" * 1024 + bytes(3072)


def test_units_count_write_time(tmp_path):
    dev = FlashDevice(str(tmp_path / "f.img"), 4096, 2, erase_units=10)
    dev.writeblocks(0, bytes(5), 0)
    dev.ioctl(6, 1)
    assert dev.units == 15 and dev.prog_bytes == 5
    dev.cut_after(15)
    dev.writeblocks(0, bytes(5), 8)
    dev.ioctl(6, 1)  # exactly used up: nothing torn yet
    with pytest.raises(PowerCut):
        dev.writeblocks(0, b"\x00", 20)


# --- under MicroPython on VfsLfs2 -------------------------------------------------------------

# A badge on a full flash. 1: a new badge whose state records cannot even be created; 2: the
# records exist and the flash fills up. Prints B (boot), T/S (a token / a bare signature that
# left), E what reason (an operation refused). X is a failed check inside MicroPython.
FULL = r"""
import sys, vfs, os, hashlib, struct, binascii
from flash import FlashDevice
import state
from xinka import ecdsa, drbg

img = sys.argv[1]
key = ecdsa.Key(0xF0F0F0)
rng = drbg.HmacDrbg(hashlib.sha256(b"full flash").digest())
ROOT = "/flash/badge"
ZERO = bytes(4096)
st = None


def tok(tag, c):
    return hashlib.sha256(tag + struct.pack(">Q", c)).digest()


def check(cond, msg):
    if not cond:
        print("X", msg)
        sys.exit(3)


def boot():
    global st
    vfs.mount(vfs.VfsLfs2(FlashDevice(img)), "/flash")
    st = state.BadgeState(ROOT, capacity=120).load()
    print("B", st.counter, st.used)


def reboot():
    vfs.umount("/flash")
    boot()


def fill():
    # files in / until none fits, then blobs in the state's own directory until none fits
    names = []
    for size in (4096, 512, 64):
        while True:
            name = "/flash/fill%d" % len(names)
            try:
                with open(name, "wb") as f:
                    f.write(memoryview(ZERO)[:size])
            except OSError:
                os.remove(name)
                break
            names.append(name)
    for size in (100, 30, 0):
        while True:
            name = "pad%d" % len(names)
            try:
                st.put(name, ZERO[:size])
            except state.StateError as e:
                check(e.reason == "flash_full", "put failed with " + e.reason)
                break
            names.append(ROOT + "/" + name)
    return names


def unfill(names):
    for n in names:
        os.remove(n)


def refused():
    # what needs fresh blocks or a new directory entry is refused, and changes nothing
    avail = st.pool_available()
    cred = st.get("cred")
    for what in ("refill", "put"):
        try:
            if what == "refill":
                st.refill(key, rng.generate, 20)
            else:
                st.put("cred", ZERO[:300])
            check(False, what + " on a full flash")
        except state.StateError as e:
            print("E", what, e.reason)
    check(st.pool_available() == avail and st.get("cred") == cred, "state moved")
    check("pool.new" not in os.listdir(ROOT), "refill left pool.new")


def loop(kind, n):
    # n taps ("T": next_counter + sign) or bare signatures ("S": sign without a reservation)
    for i in range(n):
        before = (st.counter, st.used, st.pool_available())
        try:
            if kind == "T":
                c = st.next_counter()
                sig = st.sign(key, tok(b"T", c))
            else:
                c = st.counter
                sig = st.sign(key, tok(b"S", st.used))
        except state.StateError as e:
            check((st.counter, st.used, st.pool_available()) == before, "state moved on error")
            print("E", kind, e.reason)
            continue
        print(kind, c, st.used - 1, binascii.hexlify(sig).decode())


dev = FlashDevice(img, 4096, 24)
vfs.VfsLfs2.mkfs(dev)
boot()
st.put("cred", b"old credential")
st.refill(key, rng.generate, 100)
# 1. a new badge on a full flash: its state records cannot even be created
names = fill()
refused()
loop("T", 3)
loop("S", 3)
reboot()
unfill(names)
loop("T", 5)
# 2. the records exist, the flash fills up: taps go on as long as littlefs finds room
names = fill()
refused()
loop("T", 60)
loop("S", 20)
reboot()
loop("T", 10)
unfill(names)
st.refill(key, rng.generate, 50)
loop("T", 5)
reboot()
loop("T", 5)
"""


def test_a_full_flash_refuses_cleanly_and_loses_nothing(firmware_build, tmp_path):
    out = mpy.run(FULL, firmware_build, path=("lib", "badge", SIM),
                  args=[str(tmp_path / "full.img")]).stdout
    assert "X " not in out, out
    lines = [ln.split() for ln in out.splitlines()]
    errors = [tuple(f[1:]) for f in lines if f[0] == "E"]
    assert errors.count(("refill", "flash_full")) == 2
    assert errors.count(("put", "flash_full")) == 2
    assert errors.count(("T", "flash_full")) >= 3  # next_counter with no room for its record
    assert errors.count(("S", "flash_full")) >= 3  # sign with no room for its mark
    assert {e[1] for e in errors} == {"flash_full"}
    counters = [int(f[1]) for f in lines if f[0] == "T"]
    assert counters == list(range(1, len(counters) + 1))  # none lost while full, none reused
    sigs = [(f[0], int(f[1]), int(f[2]), bytes.fromhex(f[3])) for f in lines if f[0] in "TS"]
    indices = [s[2] for s in sigs]
    assert indices == sorted(set(indices))
    assert len({s[3][:32] for s in sigs}) == len(sigs)
    key = ecdsa.Key(0xF0F0F0)
    for kind, c, n, sig in sigs:
        tag = b"T" if kind == "T" else b"S"
        _verify(key, hashlib.sha256(tag + struct.pack(">Q", c if kind == "T" else n)).digest(),
                sig)
    boots = [(int(f[1]), int(f[2])) for f in lines if f[0] == "B"]
    assert boots[0] == (0, 0) and boots[1] == (0, 0)  # nothing was written while full
    assert len(sigs) > 80


WEAR = r"""
import sys, vfs, hashlib, struct, gc
from flash import FlashDevice
import state
from xinka import ecdsa, drbg

dev = FlashDevice(sys.argv[1], 4096, 64)
vfs.VfsLfs2.mkfs(dev)
vfs.mount(vfs.VfsLfs2(dev), "/flash")
key = ecdsa.Key(0xBEEF)
rng = drbg.HmacDrbg(hashlib.sha256(b"wear").digest())
st = state.BadgeState("/flash/badge", capacity=32).load()
st.put("key", bytes(32))
st.put("cred", bytes(300))
taps = prog = erases = refills = rprog = rerases = 0
for i in range(int(sys.argv[2])):
    if st.pool_available() == 0:
        p, e = dev.prog_bytes, sum(dev.erases)
        st.refill(key, rng.generate, 32)
        rprog += dev.prog_bytes - p
        rerases += sum(dev.erases) - e
        refills += 1
    p, e = dev.prog_bytes, sum(dev.erases)
    c = st.next_counter()
    st.sign(key, hashlib.sha256(struct.pack(">Q", c)).digest())
    prog += dev.prog_bytes - p
    erases += sum(dev.erases) - e
    taps += 1
gc.collect()
print("W", taps, prog, erases, refills, rprog, rerases, max(dev.erases),
      sum(1 for x in dev.erases if x), gc.mem_free())
"""


def test_flash_wear_per_tap(firmware_build, tmp_path):
    """The numbers in state.py's docstring: one ~64-byte commit per tap, an erase per ~60."""
    taps = 640
    out = mpy.run(WEAR, firmware_build, path=("lib", "badge", SIM),
                  args=[str(tmp_path / "wear.img"), str(taps)]).stdout
    f = [int(x) for x in out.split()[1:]]
    n, prog, erases, refills, rprog, rerases, worst, blocks, free = f
    assert n == taps and refills == taps // 32
    assert prog / taps < 80  # bytes programmed per tap
    assert erases / taps < 1 / 40  # sector erases per tap
    assert rprog / refills < 4000 and rerases / refills <= 2  # a refill of 32 entries
    assert blocks > 16  # littlefs spreads the erases over the flash
    assert free > mpy.HEAP_BYTES // 2
