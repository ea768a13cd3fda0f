"""The compact status list codec (firmware/lib/revocation.py, used by the verifier through
host.wire.compact): exact answers, size against the entropy bound, signatures, corrupt chunks,
deltas; and the decoder under MicroPython with a small heap reading one chunk per lookup."""
import math
import random

import pytest

from host.wire import StatusList, TrustList, compact, sample
from hardware.sim import runner as mpy

codec = compact.codec
URI = "https://v.example.cn/sl/A330100"


@pytest.fixture(scope="module")
def world():
    return sample.World(n_agencies=2, n_badges=2)


@pytest.fixture(scope="module")
def trust(world):
    return TrustList.load(world.trust_list, world.authority.public_key(), sample.NOW)


def status_array(n, p_revoked, n_suspended=0, seed=1, cluster=None):
    rnd = random.Random(seed)
    lst = StatusList(n)
    for i in rnd.sample(range(n), int(n * p_revoked)):
        lst.set(i, 1)
    for i in rnd.sample(range(n), n_suspended):
        lst.set(i, 2)
    if cluster:
        for i in range(*cluster):
            lst.set(i, 1)
    return lst


def build(world, lst, seq=7, target=codec.TARGET):
    return compact.build(world.agency_keys["A330100"], URI, seq, sample.NOW - 60,
                         sample.NOW + 86400, 3600, lst.to_bytes(), target)


def entropy_bytes(n, k):
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2) / 8


def test_every_index_reads_as_the_status_list(world, trust):
    lst = status_array(40000, 0.02, 300, cluster=(12000, 15000))
    lst.set(99, 3)                                           # reserved reads as revoked
    manifest, chunks = build(world, lst, target=512)
    m = codec.Manifest(manifest, compact.trust_verifier(trust, URI))
    assert (m.uri, m.seq, m.n, len(m)) == (URI, 7, 40000, len(chunks)) and len(m) > 4
    cl = codec.CompactList(m, codec.BytesChunks(chunks))
    for i in range(40000):
        assert cl.lookup(i) == lst.get(i), i
    assert cl.reads == 40000                                 # one chunk per lookup
    assert max(len(c) for c in chunks) <= 512 + 64


@pytest.mark.parametrize("p", [0.01, 0.02, 0.05])
def test_size_within_1_10_of_the_entropy_bound(world, p):
    n = 1 << 21
    manifest, chunks = build(world, status_array(n, p, seed=int(p * 100)))
    total = len(manifest) + sum(map(len, chunks))
    ratio = total / entropy_bytes(n, int(n * p))
    print(f"n={n} p={p}: {total} bytes, {ratio:.4f} x entropy bound")
    assert ratio <= 1.10
    assert max(map(len, chunks)) <= codec.TARGET + 64


def test_signature_and_issuer_are_checked(world, trust):
    manifest, chunks = build(world, status_array(5000, 0.05))
    ok = compact.trust_verifier(trust, URI)
    codec.Manifest(manifest, ok)
    bad = bytearray(manifest)
    bad[-1] ^= 1                                            # signature bit
    with pytest.raises(codec.CompactError) as e:
        codec.Manifest(bytes(bad), ok)
    assert e.value.reason == "bad_signature"
    bad = bytearray(manifest)
    bad[40] ^= 1                                            # inside the claims
    with pytest.raises(codec.CompactError) as e:
        codec.Manifest(bytes(bad), ok)
    assert e.value.reason in ("bad_signature", "malformed")
    # another agency's key may not sign A330100's list
    other = compact.build(world.agency_keys["A330101"], URI, 1, 0, 1, 1, b"\0" * 16)[0]
    with pytest.raises(codec.CompactError) as e:
        codec.Manifest(other, ok)
    assert e.value.reason == "bad_signature"
    with pytest.raises(codec.CompactError) as e:
        codec.Manifest(b"\xd2\x84" + manifest[2:20], ok)
    assert e.value.reason == "malformed"


def test_corrupt_chunk_is_an_error_not_an_answer(world, trust):
    lst = status_array(20000, 0.05)
    manifest, chunks = build(world, lst, target=256)
    assert len(chunks) > 2
    m = codec.Manifest(manifest, compact.trust_verifier(trust, URI))
    for mutate in (lambda c: c[:-1], lambda c: c[:10] + bytes((c[10] ^ 0x10,)) + c[11:],
                   lambda c: c + b"\0"):
        bad = list(chunks)
        bad[1] = mutate(bad[1])
        cl = codec.CompactList(m, codec.BytesChunks(bad))
        idx = m.starts[1]
        with pytest.raises(codec.CompactError) as e:
            cl.lookup(idx)
        assert e.value.reason == "bad_chunk"
        assert cl.lookup(0) == lst.get(0)                    # other chunks still answer
    with pytest.raises(codec.CompactError) as e:
        codec.CompactList(m, codec.BytesChunks(chunks)).lookup(20000)
    assert e.value.reason == "out_of_range"


def test_delta_overrides_and_chains_to_its_seq(world, trust):
    old = status_array(8000, 0.02)
    new = StatusList(old.to_bytes())
    new.set(5, 1)
    new.set(6, 2)
    revoked = next(i for i in range(8000) if old.get(i) == 1)
    new.set(revoked, 0)                                      # reinstated
    key = world.agency_keys["A330100"]
    diff = compact.changes(old.to_bytes(), new.to_bytes())
    assert diff == sorted([(5, 1), (6, 2), (revoked, 0)])
    manifest, chunks = build(world, old, seq=7)
    verify = compact.trust_verifier(trust, URI)
    m = codec.Manifest(manifest, verify)
    d = codec.Delta(compact.build_delta(key, URI, 7, 8, sample.NOW, diff), verify)
    cl = codec.CompactList(m, codec.BytesChunks(chunks), d)
    assert cl.seq == 8
    for i in range(8000):
        assert cl.lookup(i) == new.get(i), i
    with pytest.raises(codec.CompactError) as e:
        cl.apply(codec.Delta(compact.build_delta(key, URI, 6, 8, sample.NOW, diff), verify))
    assert e.value.reason == "wrong_list"


MPY_SCRIPT = r"""
import gc, sys, hashlib
from xinka import revocation as r
d = sys.argv[1]
digest = bytes.fromhex(sys.argv[2])
def verify(kid, dg, sig):
    return dg == digest          # the host pinned the digest; ECDSA is the terminal's module
m = r.Manifest(open(d + "/manifest.cose", "rb").read(), verify)
class Counting(r.FileChunks):
    def read_into(self, m, k, buf):
        n = r.FileChunks.read_into(self, m, k, buf)
        self.bytes += n
        return n
src = Counting(d + "/chunks.bin")
src.bytes = 0
cl = r.CompactList(m, src)
gc.collect()
free0 = gc.mem_free()
bad = 0
import time
t0 = time.ticks_us()
for line in open(d + "/probe.txt"):
    i, want = line.split()
    if cl.lookup(int(i)) != int(want):
        bad += 1
t1 = time.ticks_us()
gc.collect()
print("RESULT", bad, cl.reads, src.bytes, m.max_chunk, m.total, free0, gc.mem_free(),
      (t1 - t0) // max(1, cl.reads))
"""


def test_decoder_under_micropython_reads_one_chunk_per_lookup(world, tmp_path):
    build_dir = tmp_path / "build"
    mpy.compile_firmware(build_dir)
    n = 1 << 22
    lst = status_array(n, 0.05, 100)
    manifest, chunks = build(world, lst)
    (tmp_path / "manifest.cose").write_bytes(manifest)
    (tmp_path / "chunks.bin").write_bytes(b"".join(chunks))
    rnd = random.Random(3)
    probe = [rnd.randrange(n) for _ in range(150)]
    probe += [i for i in range(0, n, 997) if lst.get(i)][:50]
    (tmp_path / "probe.txt").write_text("".join(f"{i} {lst.get(i)}\n" for i in probe))
    import hashlib
    from host.wire.cose import parse_sign1
    msg = parse_sign1(manifest, 1 << 20)
    digest = hashlib.sha256(msg.sig_structure()).hexdigest()
    heap = 64 * 1024
    out = mpy.run(MPY_SCRIPT, build_dir, heap=heap, args=[str(tmp_path), digest]).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    bad, reads, nbytes, max_chunk, total, free0, free1, us = map(int, line.split()[1:])
    print(line, f"us/lookup={us}")
    assert bad == 0 and reads == len(probe)
    assert total > 2 * heap                      # the list could never be held in this heap
    assert max_chunk <= codec.TARGET + 64
    assert nbytes <= reads * max_chunk           # each lookup read one chunk, no more
    assert free1 >= free0 - 1024                 # nothing kept between lookups
