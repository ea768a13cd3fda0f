"""firmware/lib/p256.py, p256_comb.py, ecdsa.py: P-256 arithmetic and the badge's ECDSA signer.

Checked against `cryptography` and RFC 6979 A.2.5; the same code runs under CPython and under
MicroPython (compiled .mpy, 128 KiB heap) and must give the same bytes in both.
"""
import functools
import hashlib
import importlib
import importlib.util
import pathlib
import random

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = pathlib.Path(__file__).resolve().parents[2]

from xinka import drbg, p256, p256_comb  # noqa: E402
from xinka import ecdsa as fwecdsa  # noqa: E402

N = p256.N

# RFC 6979 A.2.5, P-256 with SHA-256
RFC_X = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
RFC_UX = 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
RFC_UY = 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299
RFC_SIGS = [  # message, k, r || s
    (b"sample", 0xA6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60,
     "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"),
    (b"test", 0xD16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0,
     "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
     "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"),
]

EDGE = [1, 2, 3, 15, 16, 255, 256, N - 1, N - 2, (N - 1) // 2, (N + 1) // 2, 1 << 255,
        (1 << 255) - 1, (1 << 256) - 1 - N, 1 << 128, (1 << 32) - 1, 1 << 224,
        int("f" * 8 + "0" * 48 + "f" * 8, 16), int(("ff" + "00" * 3) * 8, 16),
        int("8" + "0" * 62 + "1", 16), sum(1 << (j * 32) for j in range(8)),
        sum(1 << (j * 32 + 31) for j in range(8))]
_rng = random.Random(6979)
RANDOM = [_rng.randrange(1, N) for _ in range(12)]


def reference_point(k):
    nums = ec.derive_private_key(k, ec.SECP256R1()).public_key().public_numbers()
    return nums.x, nums.y


def verify(pub, digest, sig):
    """cryptography's verdict on a raw r || s over a SHA-256 digest (raises if bad)."""
    der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                      int.from_bytes(sig[32:], "big"))
    pub.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def crypto_pub(key):
    return ec.EllipticCurvePublicNumbers(key.x, key.y, ec.SECP256R1()).public_key()


# --- curve arithmetic (CPython) ---------------------------------------------------------------

def test_generator_and_constants():
    assert p256.on_curve(p256.GX, p256.GY)
    assert not p256.on_curve(p256.GX, p256.GY + 1)
    assert not p256.on_curve(p256.P, 0)
    assert p256.A == p256.P - 3
    assert p256.mul_base(1) == (p256.GX, p256.GY)
    with pytest.raises(ValueError):
        p256.mul_base(N)
    with pytest.raises(ValueError):
        p256.mul_point(0, p256.GX, p256.GY)


@pytest.mark.parametrize("k", EDGE + RANDOM)
def test_mul_base_and_mul_point_match_cryptography(k):
    want = reference_point(k % N)
    assert p256.mul_base(k) == want
    assert p256.mul_point(k, p256.GX, p256.GY) == want
    assert p256.base_x(k % N) == want[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, N - 1), st.integers(1, N - 1))
def test_mul_point_on_another_point(a, k):
    q = p256.mul_base(a)
    assert p256.mul_point(k, *q) == p256.mul_base(a * k % N)


def test_mixed_addition_handles_infinity_doubling_and_negation():
    # G in Jacobian coordinates with Z = 5, so the inputs are not trivially equal
    z = 5
    gj = (p256.GX * z * z % p256.P, p256.GY * z ** 3 % p256.P, z)
    two = p256._affine(*p256._madd(*gj, p256.GX, p256.GY))  # G + G takes the doubling path
    assert two == reference_point(2)
    assert p256._madd(*gj, p256.GX, p256.P - p256.GY)[2] == 0  # G + (-G) = infinity
    assert p256._madd(1, 1, 0, p256.GX, p256.GY) == (p256.GX, p256.GY, 1)  # O + G
    assert p256._dbl(1, 1, 0)[2] == 0  # 2*O = O
    with pytest.raises(ValueError):
        p256._affine(1, 1, 0)
    # k*Q where the wNAF digits lead through Q + Q and Q + (-Q) on the way
    for k in (1, 2, 3, 16, 17, 31, 32, 33, N - 16, N - 17):
        assert p256.mul_point(k, *reference_point(7)) == reference_point(7 * k % N)


def test_mul_point_refuses_a_point_off_the_curve():
    with pytest.raises(ValueError):
        p256.mul_point(5, p256.GX, (p256.GY + 1) % p256.P)


def test_inv_matches_python():
    rng = random.Random(1)
    for m in (p256.P, N):
        for a in [1, 2, m - 1, m + 5] + [rng.randrange(1, m) for _ in range(50)]:
            assert p256.inv(a, m) == pow(a, -1, m)
        with pytest.raises(ValueError):
            p256.inv(0, m)
        with pytest.raises(ValueError):
            p256.inv(m, m)


def test_comb_table_is_reproducible_and_correct():
    spec = importlib.util.spec_from_file_location("gen_p256_comb",
                                                  ROOT / "tools" / "gen_p256_comb.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    w, d = p256_comb.W, p256_comb.D
    assert d == -(-256 // w)
    assert (ROOT / "firmware" / "lib" / "xinka" / "p256_comb.py").read_text() == gen.render(w)
    tab = p256_comb.TABLE
    assert len(tab) == 64 * ((1 << w) - 1)
    for i in range(1, 1 << w):
        scalar = sum(1 << (j * d) for j in range(w) if i >> j & 1) % N
        x, y = reference_point(scalar)
        assert tab[64 * (i - 1):64 * i] == x.to_bytes(32, "big") + y.to_bytes(32, "big"), i


# --- keys and signatures (CPython) ------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, N - 1, 1 << 255, RFC_X] + RANDOM[:4])
def test_public_key_and_kid(d):
    key = fwecdsa.Key(d)
    pub = ec.derive_private_key(d, ec.SECP256R1()).public_key()
    want = pub.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)
    assert key.public_bytes() == want
    assert key.kid() == hashlib.sha256(want).digest()[:8]


@pytest.mark.parametrize("d", [0, N, -1])
def test_key_refuses_out_of_range(d):
    with pytest.raises(ValueError):
        fwecdsa.Key(d)


@pytest.mark.parametrize("msg,k,want", RFC_SIGS)
@pytest.mark.parametrize("table", [True, False])
def test_rfc6979_vectors(msg, k, want, table):
    key = fwecdsa.Key(RFC_X)
    assert (key.x, key.y) == (RFC_UX, RFC_UY)
    digest = hashlib.sha256(msg).digest()
    assert fwecdsa.sign(key, digest, k, table=table) == bytes.fromhex(want)
    pool = fwecdsa.NoncePool(key, 1)
    pool.add(k)
    assert pool.sign(digest) == bytes.fromhex(want)


def test_signatures_verify_with_cryptography():
    rng = random.Random(2)
    for _ in range(20):
        key = fwecdsa.Key(rng.randrange(1, N))
        digest = rng.randbytes(32)
        k = rng.randrange(1, N)
        sig = fwecdsa.sign(key, digest, k)
        assert len(sig) == 64
        assert sig == fwecdsa.sign(key, digest, k, table=False)
        verify(crypto_pub(key), digest, sig)


def test_sign_refuses_bad_input():
    key = fwecdsa.Key(7)
    for k in (0, N, N + 1):
        with pytest.raises(ValueError):
            fwecdsa.sign(key, bytes(32), k)
    with pytest.raises(ValueError):
        fwecdsa.sign(key, bytes(31), 5)


# --- the nonce pool (CPython) -----------------------------------------------------------------

def _drbg(tag=b""):
    return drbg.HmacDrbg(hashlib.sha256(b"entropy" + tag).digest(), b"nonce", b"test_ecdsa")


def test_pool_signs_a_thousand_tokens_with_distinct_nonces():
    key = fwecdsa.Key(RFC_X)
    pub = crypto_pub(key)
    rng = _drbg()
    pool = fwecdsa.NoncePool(key, 32)
    rs, sigs = set(), []
    for i in range(1000):
        if not pool.available():
            assert pool.fill(rng.generate, 1000) == 32
        digest = hashlib.sha256(b"token %d" % i).digest()
        sig = pool.sign(digest)
        verify(pub, digest, sig)
        rs.add(sig[:32])
        sigs.append(sig)
    assert len(rs) == 1000
    assert hashlib.sha256(b"".join(sigs)).hexdigest() == _thousand_digest()


@functools.lru_cache(maxsize=None)
def _thousand_digest():
    # recomputed with the one-shot signer and the same DRBG stream: the pool is exact
    key = fwecdsa.Key(RFC_X)
    rng = _drbg()
    out = []
    for i in range(1000):
        k = p256.random_scalar(rng.generate)
        out.append(fwecdsa.sign(key, hashlib.sha256(b"token %d" % i).digest(), k))
    return hashlib.sha256(b"".join(out)).hexdigest()


def test_pool_refuses_a_consumed_entry_and_runs_dry():
    key = fwecdsa.Key(3)
    pool = fwecdsa.NoncePool(key, 4)
    assert pool.available() == 0
    with pytest.raises(fwecdsa.PoolEmpty):
        pool.sign(bytes(32))
    assert pool.fill(_drbg().generate, 3) == 3
    assert pool.available() == 3
    i = pool.peek()
    assert pool.state(i) == fwecdsa.READY
    pool.sign(bytes(32))
    assert pool.state(i) == fwecdsa.USED
    with pytest.raises(fwecdsa.NonceReused):
        pool.sign_with(i, bytes(32))
    with pytest.raises(fwecdsa.NonceReused):
        pool.entry_bytes(i)
    assert isinstance(fwecdsa.NonceReused("x"), fwecdsa.Error)
    pool.sign(bytes(32))
    pool.sign(bytes(32))
    with pytest.raises(fwecdsa.PoolEmpty):
        pool.sign(bytes(32))
    with pytest.raises(fwecdsa.PoolEmpty):
        pool.sign_with(3, bytes(32))  # never filled
    assert issubclass(fwecdsa.PoolEmpty, fwecdsa.Error)


def test_pool_consumes_the_entry_before_computing():
    pool = fwecdsa.NoncePool(fwecdsa.Key(3), 2)
    pool.add(11)
    i = pool.peek()
    with pytest.raises((ValueError, TypeError)):
        pool.sign([256] * 32)  # 32 long, fails inside int.from_bytes
    assert pool.state(i) == fwecdsa.USED
    with pytest.raises(fwecdsa.PoolEmpty):
        pool.sign(bytes(32))


def test_pool_full_and_refill_of_used_slots():
    pool = fwecdsa.NoncePool(fwecdsa.Key(3), 2)
    pool.add(5)
    pool.add(6)
    with pytest.raises(fwecdsa.PoolFull):
        pool.add(7)
    assert pool.fill(_drbg().generate, 5) == 0
    first = pool.peek()
    pool.sign(bytes(32))
    assert pool.add(7) == first  # a used slot takes a new nonce
    assert pool.available() == 2


def test_pool_entries_round_trip_as_96_bytes():
    key = fwecdsa.Key(RFC_X)
    a = fwecdsa.NoncePool(key, 3)
    a.fill(_drbg(b"rt").generate, 3)
    blobs = [a.entry_bytes(i) for i in range(3)]
    assert all(len(b) == fwecdsa.ENTRY_BYTES == 96 for b in blobs)
    b = fwecdsa.NoncePool(key, 3)
    for i, blob in enumerate(blobs):
        b.load_entry(i, blob)
    digest = hashlib.sha256(b"round trip").digest()
    for i in range(3):
        assert a.sign_with(i, digest) == b.sign_with(i, digest)
    b.load_entry(0, blobs[0])
    b.discard(0)
    assert b.state(0) == fwecdsa.USED
    other = fwecdsa.NoncePool(fwecdsa.Key(5), 1)
    with pytest.raises(fwecdsa.BadEntry):
        other.load_entry(0, blobs[0])  # c belongs to another key
    with pytest.raises(fwecdsa.BadEntry):
        other.load_entry(0, blobs[0][:95])
    with pytest.raises(fwecdsa.BadEntry):
        other.load_entry(0, bytes(96))


# --- MicroPython: the same bytes, within the badge heap ---------------------------------------

def _cases():
    rng = random.Random(7)
    out = []
    for d, k in [(RFC_X, RFC_SIGS[0][1]), (1, 1), (N - 1, N - 1), (1 << 255, 2)] + [
            (rng.randrange(1, N), rng.randrange(1, N)) for _ in range(3)]:
        out.append((d, k, rng.randbytes(32)))
    return out


UPY_SIGN = """
import gc, hashlib
from xinka import ecdsa, p256
gc.collect()
for d, k, dg in CASES:
    key = ecdsa.Key(d)
    pool = ecdsa.NoncePool(key, 1)
    pool.add(k)
    print(key.public_bytes().hex(), key.kid().hex(), ecdsa.sign(key, dg, k).hex(),
          ecdsa.sign(key, dg, k, table=False).hex(), pool.sign(dg).hex())
for k in SCALARS:
    a = p256.mul_base(k)
    b = p256.mul_point(k, p256.GX, p256.GY)
    print('%064x%064x' % a, '%064x%064x' % b, '%064x' % p256.inv(k, p256.N))
"""


def test_micropython_gives_the_same_bytes(upy):
    cases = _cases()
    scalars = EDGE + RANDOM[:4]
    script = ("CASES = %r\nSCALARS = %r\n" % (cases, scalars)) + UPY_SIGN
    lines = upy(script).stdout.split("\n")
    for (d, k, dg), line in zip(cases, lines, strict=False):   # then the scalars' lines
        key = fwecdsa.Key(d)
        sig = fwecdsa.sign(key, dg, k)
        verify(crypto_pub(key), dg, sig)
        assert line.split() == [key.public_bytes().hex(), key.kid().hex()] + [sig.hex()] * 3
    for k, line in zip(scalars, lines[len(cases):], strict=False):   # a trailing ""
        x, y = reference_point(k % N)
        want = "%064x%064x" % (x, y)
        assert line.split() == [want, want, "%064x" % pow(k, -1, N)]
    assert len(lines) >= len(cases) + len(scalars)


UPY_POOL = """
import gc, hashlib
from xinka import ecdsa, drbg
gc.collect()
key = ecdsa.Key(RFC_X)
rng = drbg.HmacDrbg(hashlib.sha256(b"entropy").digest(), b"nonce", b"test_ecdsa")
pool = ecdsa.NoncePool(key, 32)
rs = set()
h = hashlib.sha256()
gc.collect()
before = gc.mem_free()
pool.fill(rng.generate, 1000)
gc.collect()
cost = before - gc.mem_free()  # heap taken by 32 READY entries
for i in range(1000):
    if not pool.available():
        pool.fill(rng.generate, 1000)
    sig = pool.sign(hashlib.sha256(b"token %d" % i).digest())
    rs.add(int.from_bytes(sig[:7], "big"))  # a small int: 1000 full r would crowd the heap
    h.update(sig)
print(len(rs), h.digest().hex())
i = pool.peek()
pool.sign(bytes(32))
for f in (lambda: pool.sign_with(i, bytes(32)), lambda: [pool.sign(bytes(32)) for _ in range(99)]):
    try:
        f()
    except ecdsa.Error as e:
        print(type(e).__name__, e.reason)
gc.collect()
print(gc.mem_free(), cost)
"""


def test_micropython_pool_thousand_tokens_and_refusals(upy):
    out = upy("RFC_X = %d\n" % RFC_X + UPY_POOL).stdout.split("\n")
    count, digest = out[0].split()
    assert int(count) == 1000
    assert digest == _thousand_digest()  # same nonces, same bytes as CPython
    assert out[1] == "NonceReused nonce_reused"
    assert out[2] == "PoolEmpty pool_empty"
    free, cost = map(int, out[3].split())
    assert cost < 32 * 330, "a READY entry takes %d bytes of heap" % (cost // 32)


def test_micropython_table_fits_the_heap(upy):
    out = upy("import gc\ngc.collect()\na = gc.mem_free()\nfrom xinka import p256\ngc.collect()\n"
              "print(a - gc.mem_free(), len(p256.p256_comb.TABLE))\n").stdout.split()
    cost, size = int(out[0]), int(out[1])
    assert size == 64 * ((1 << p256_comb.W) - 1)
    assert cost < 24 * 1024, "p256 + comb table take %d bytes of heap" % cost


def test_micropython_online_sign_allocates_little(upy):
    """Tap time: a handful of big-integer temporaries (no heap lock possible: big ints allocate)."""
    out = upy("""
import gc, hashlib
from xinka import ecdsa
key = ecdsa.Key(12345)
pool = ecdsa.NoncePool(key, 8)
full = []
for k in range(5, 13):
    pool.add(k)
dg = hashlib.sha256(b"tap").digest()
for k in (5, 6):
    gc.collect(); gc.disable(); a = gc.mem_alloc()
    ecdsa.sign(key, dg, k)
    full.append(gc.mem_alloc() - a)
    gc.enable()
for _ in range(8):
    gc.collect(); gc.disable(); a = gc.mem_alloc()
    pool.sign(dg)
    print(gc.mem_alloc() - a)
    gc.enable()
print(min(full))
""").stdout.split()
    online, full = [int(x) for x in out[:-1]], int(out[-1])
    assert max(online) < 1024, online
    assert full > 50 * max(online), (full, online)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=2 ** 256 - 1))
def test_wnaf_digits_in_the_shared_buffer_add_up_to_k(k):
    n = p256._wnaf(k)
    digits = [p256._naf_digit(i) for i in range(n)]
    assert sum(d << i for i, d in enumerate(digits)) == k
    assert all(d == 0 or (d % 2 and -16 < d < 16) for d in digits)
    assert n <= len(p256._NAF)


FRAGMENTED = """
from xinka import p256
import gc
gc.collect()
hold, spare = [], []
try:
    while True:
        hold.append(bytearray(1500))
        spare.append(bytearray(1500))
except MemoryError:
    pass
spare = None
gc.collect()
k = p256.N - 12345
q = p256.mul_base(7)
try:
    print("ok", p256.mul_point(k, q[0], q[1]) == p256.mul_base(7 * k % p256.N))
except MemoryError:
    print("MemoryError")
"""


def test_micropython_mul_point_works_on_a_fragmented_heap(upy):
    # the terminal verifies on a heap fragmented by its loop: nothing in k*Q may need a block
    # larger than the free holes (the wNAF digit list used to need 4 KB at the end)
    out = upy(FRAGMENTED).stdout.split()
    assert out == ["ok", "True"], out
