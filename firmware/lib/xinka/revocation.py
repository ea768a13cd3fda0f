"""Compact status list: Rice-coded index gaps in chunks, a signed manifest, signed deltas.

docs/protocol.md "Compact status list". The revoked and the suspended indices of a status list
are two sorted sets; each is coded as gaps (g = index - previous - 1, the first relative to the
chunk's first index) with a Golomb-Rice code of parameter b: q = g >> b one-bits, a zero-bit,
then the b low bits of g, MSB first. The index space [0, n) is cut into chunks by index range
(the manifest's `starts`); a chunk is at most about `target` bytes, so a lookup reads exactly
one chunk. Chunk layout:

    0  FORMAT (1)          1  b_r (0..16)          2  b_s (0..16)
    uvarint count_r, uvarint count_s, uvarint bits_r (length of the revoked stream in bits)
    revoked stream, then suspended stream, zero-padded to a byte

The manifest (a COSE_Sign1, typ application/xk-compact+cwt) carries the list uri, seq, iat,
exp, ttl, n, the chunk starts, sizes and SHA-256 hashes. A delta (typ
application/xk-compact-delta+cwt) carries the changes from one seq to another as
`index << 2 | status`. Signatures are checked through a caller's `verify(kid, digest, sig)`
(digest = SHA-256 of the Sig_structure), so the terminal plugs in its own ECDSA code and key
cache; a chunk is used only after its hash matched the manifest.

Runs under MicroPython and CPython. The decoder keeps every integer below 2^24 (small ints on
a 32-bit port); the encoder (host side) is plain Python.
"""
import hashlib

from xinka import cbor
from xinka import cose

from xinka.compat import const

FORMAT = const(1)
TYP = "application/xk-compact+cwt"
TYP_DELTA = "application/xk-compact-delta+cwt"
VALID = const(0)
REVOKED = const(1)
SUSPENDED = const(2)
NAMES = ("valid", "revoked", "suspended")
MAX_B = const(16)
MAX_CHUNK = const(8192)      # no chunk is larger (the decoder's buffer bound)
TARGET = const(2048)         # the encoder's chunk size goal
HASH = const(32)

_SUB = const(2)
_EXP = const(4)
_IAT = const(6)
_HDR_TYP = const(16)
_TTL = const(65534)
_SEQ = const(-65546)
_COMPACT = const(-65560)
_DELTA = const(-65561)
# compact map keys
_C_FMT = const(1)
_C_N = const(2)
_C_STARTS = const(3)
_C_SIZES = const(4)
_C_HASHES = const(5)
# delta map keys
_D_FROM = const(1)
_D_CHANGES = const(2)


class CompactError(Exception):
    """A compact list, chunk or delta was refused; `reason` is the stable code:
    malformed, bad_signature, bad_chunk (hash or size mismatch), wrong_list, out_of_range."""

    def __init__(self, reason, message=""):
        self.reason = reason
        self.message = message or reason
        super().__init__("%s: %s" % (reason, self.message))


# --- bits --------------------------------------------------------------------------------------

def _uvarint(out, v):
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def _read_uvarint(buf, i, end):
    v = 0
    s = 0
    while True:
        if i >= end or s > 28:
            raise CompactError("malformed", "chunk header truncated")
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << s
        if not b & 0x80:
            return v, i
        s += 7


def _log2floor(x):
    n = 0
    while x > 1:
        x >>= 1
        n += 1
    return n


def _rice_cost(gaps, b):
    s = 0
    for g in gaps:
        s += g >> b
    return s + len(gaps) * (b + 1)


def _best_b(gaps):
    """The Rice parameter (0..MAX_B) with the fewest bits for these gaps."""
    if not gaps:
        return 0
    mean = sum(gaps) // len(gaps) + 1
    b0 = _log2floor(mean)
    best, best_cost = 0, None
    for b in range(max(0, b0 - 2), min(MAX_B, b0 + 1) + 1):
        c = _rice_cost(gaps, b)
        if best_cost is None or c < best_cost:
            best, best_cost = b, c
    return best


def _pack(gaps, b):
    """(int holding the bits, number of bits) of the Rice codes of gaps."""
    acc = 0
    nbits = 0
    mask = (1 << b) - 1
    for g in gaps:
        q = g >> b
        acc = (((acc << q) | ((1 << q) - 1)) << (1 + b)) | (g & mask)
        nbits += q + 1 + b
    return acc, nbits


def _gaps(indices, start):
    prev = start - 1
    out = []
    for i in indices:
        out.append(i - prev - 1)
        prev = i
    return out


def encode_chunk(revoked, suspended, start):
    """One chunk's bytes: the sorted index lists (all >= start) Rice-coded."""
    gr, gs = _gaps(revoked, start), _gaps(suspended, start)
    br, bs = _best_b(gr), _best_b(gs)
    ar, nr = _pack(gr, br)
    as_, ns = _pack(gs, bs)
    out = bytearray((FORMAT, br, bs))
    _uvarint(out, len(gr))
    _uvarint(out, len(gs))
    _uvarint(out, nr)
    total = nr + ns
    pad = (-total) % 8
    bits = (((ar << ns) | as_) << pad)
    out.extend(bits.to_bytes((total + pad) // 8, "big"))
    return bytes(out)


def encode_chunks(revoked, suspended, n, target=TARGET):
    """(starts, chunks): the index space [0, n) cut so that each chunk stays near `target`
    bytes. `revoked` and `suspended` are sorted, disjoint lists of indices < n."""
    events = [(i, 0) for i in revoked] + [(i, 1) for i in suspended]
    events.sort()
    if events and events[-1][0] >= n:
        raise ValueError("index outside the list")
    budget = (target - 12) * 8
    # the cut is decided with one b per set for the whole list; each chunk then takes its own
    b = [_best_b(_gaps(revoked, 0)), _best_b(_gaps(suspended, 0))]
    starts, chunks = [0], []
    cur = ([], [])
    prev = [-1, -1]
    cost = 0
    for idx, s in events:
        c = ((idx - prev[s] - 1) >> b[s]) + 1 + b[s]
        if cost + c > budget and (cur[0] or cur[1]):
            chunks.append(encode_chunk(cur[0], cur[1], starts[-1]))
            starts.append(idx)
            cur = ([], [])
            prev = [idx - 1, idx - 1]
            cost = 0
            c = 1 + b[s]
        cur[s].append(idx)
        prev[s] = idx
        cost += c
    chunks.append(encode_chunk(cur[0], cur[1], starts[-1]))
    return starts, chunks


def _gap(buf, pos, b):
    """(gap, next bit position) of the Rice code at bit `pos` of buf."""
    i = pos >> 3
    n = 8 - (pos & 7)                    # bits left in byte i
    v = buf[i] & ((1 << n) - 1)
    q = 0
    while v == (1 << n) - 1:             # all the rest of this byte is ones
        q += n
        i += 1
        n = 8
        v = buf[i]
    while v & (1 << (n - 1)):
        q += 1
        n -= 1
    pos = (i << 3) + 8 - n + 1           # past the zero
    if not b:
        return q, pos
    i = pos >> 3
    need = (pos & 7) + b
    w = 0
    k = 0
    while k < need:
        w = (w << 8) | buf[i]
        i += 1
        k += 8
    return (q << b) | ((w >> (k - need)) & ((1 << b) - 1)), pos + b


def _member(buf, pos, count, b, start, index, end):
    """True if `index` is among the `count` coded indices; stops at the first >= index."""
    v = start - 1
    while count:
        g, pos = _gap(buf, pos, b)
        v += g + 1
        if v >= index:
            if v >= end:
                raise CompactError("malformed", "index beyond the chunk")
            return v == index
        count -= 1
    return False


def chunk_status(buf, size, start, end, index):
    """VALID / REVOKED / SUSPENDED of `index` (start <= index < end) from a verified chunk
    held in buf[:size]."""
    if size < 6 or buf[0] != FORMAT or buf[1] > MAX_B or buf[2] > MAX_B:
        raise CompactError("malformed", "not a format-%d chunk" % FORMAT)
    cr, i = _read_uvarint(buf, 3, size)
    cs, i = _read_uvarint(buf, i, size)
    nr, i = _read_uvarint(buf, i, size)
    if (i << 3) + nr > (size << 3):
        raise CompactError("malformed", "revoked stream longer than the chunk")
    try:
        if _member(buf, i << 3, cr, buf[1], start, index, end):
            return REVOKED
        if _member(buf, (i << 3) + nr, cs, buf[2], start, index, end):
            return SUSPENDED
    except IndexError:
        raise CompactError("malformed", "chunk bit stream truncated")
    return VALID


def decode_chunk(data, start, end):
    """(revoked, suspended): every index of a chunk, as two lists (tests, deltas, host)."""
    cr, i = _read_uvarint(data, 3, len(data))
    cs, i = _read_uvarint(data, i, len(data))
    nr, i = _read_uvarint(data, i, len(data))
    out = ([], [])
    pos = i << 3
    for s, count in ((0, cr), (1, cs)):
        if s == 1:
            pos = (i << 3) + nr
        v = start - 1
        for _ in range(count):
            g, pos = _gap(data, pos, data[1 + s])
            v += g + 1
            if v >= end:
                raise CompactError("malformed", "index beyond the chunk")
            out[s].append(v)
    return out


# --- manifest and delta ------------------------------------------------------------------------

def manifest_claims(uri, seq, iat, exp, ttl, n, starts, chunks):
    """The manifest's claims bytes (deterministic CBOR) for the issuer to sign."""
    h = bytearray()
    for c in chunks:
        h.extend(hashlib.sha256(c).digest())
    return cbor.dumps({_SUB: uri, _EXP: exp, _IAT: iat, _TTL: ttl, _SEQ: seq,
                       _COMPACT: {_C_FMT: FORMAT, _C_N: n, _C_STARTS: list(starts),
                                  _C_SIZES: [len(c) for c in chunks], _C_HASHES: bytes(h)}})


def delta_claims(uri, from_seq, seq, iat, changes):
    """A delta's claims bytes: `changes` is a sorted list of (index, new status)."""
    return cbor.dumps({_SUB: uri, _IAT: iat, _SEQ: seq,
                       _DELTA: {_D_FROM: from_seq, _D_CHANGES: [i << 2 | s for i, s in changes]}})


def protected(typ):
    """The protected header bytes {1: -7, 16: typ}."""
    return cbor.dumps({1: -7, _HDR_TYP: typ})


def _uint(m, k, what):
    v = m.get(k)
    if type(v) is not int or v < 0:
        raise CompactError("malformed", "%s missing or not an unsigned integer" % what)
    return v


def _open(data, typ, verify):
    """(kid, claims map) of a COSE_Sign1 of this typ whose signature verify() accepts."""
    try:
        prot, kid, payload, sig = cose.parse_sign1(data)
        hdr = cbor.loads(prot)
        if hdr.get(_HDR_TYP) != typ or len(hdr) != 2:
            raise CompactError("malformed", "typ is not %s" % typ)
        digest = hashlib.sha256(cose.sig_structure(prot, payload)).digest()
        if not verify(kid, digest, sig):
            raise CompactError("bad_signature", "signature does not verify (kid %s)"
                               % "".join("%02x" % x for x in kid))
        claims = cbor.loads(payload)
    except cbor.CBORError as err:
        raise CompactError("malformed", str(err))
    if type(claims) is not dict:
        raise CompactError("malformed", "claims are not a map")
    return kid, claims


class Manifest:
    """A verified manifest: uri, seq, iat, exp, ttl, n, starts, sizes, offsets, hashes, kid."""

    def __init__(self, data, verify):
        kid, c = _open(data, TYP, verify)
        m = c.get(_COMPACT)
        if type(m) is not dict or type(c.get(_SUB)) is not str or len(c) != 6:
            raise CompactError("malformed", "manifest claims")
        self.kid = kid
        self.uri = c[_SUB]
        self.seq = _uint(c, _SEQ, "seq")
        self.iat = _uint(c, _IAT, "iat")
        self.exp = _uint(c, _EXP, "exp")
        self.ttl = _uint(c, _TTL, "ttl")
        if m.get(_C_FMT) != FORMAT or len(m) != 5:
            raise CompactError("malformed", "compact format is not %d" % FORMAT)
        self.n = _uint(m, _C_N, "n")
        starts, sizes, hashes = m.get(_C_STARTS), m.get(_C_SIZES), m.get(_C_HASHES)
        if type(starts) is not list or type(sizes) is not list or type(hashes) is not bytes \
                or not starts or len(sizes) != len(starts) \
                or len(hashes) != HASH * len(starts) or starts[0] != 0:
            raise CompactError("malformed", "chunk table")
        off = 0
        offsets = []
        for k in range(len(starts)):
            s, z = starts[k], sizes[k]
            if type(s) is not int or type(z) is not int or not 6 <= z <= MAX_CHUNK \
                    or s >= self.n or (k and s <= starts[k - 1]):
                raise CompactError("malformed", "chunk %d: start or size" % k)
            offsets.append(off)
            off += z
        self.starts, self.sizes, self.offsets, self.hashes = starts, sizes, offsets, hashes
        self.total = off
        self.max_chunk = max(sizes)

    def __len__(self):
        return len(self.starts)

    def chunk_of(self, index):
        """The number of the chunk holding index (binary search over starts)."""
        if type(index) is not int or not 0 <= index < self.n:
            raise CompactError("out_of_range", "index %r outside the list (n=%d)"
                               % (index, self.n))
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if self.starts[mid] <= index:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def bounds(self, k):
        """(first index, end) of chunk k."""
        return self.starts[k], self.starts[k + 1] if k + 1 < len(self.starts) else self.n

    def check(self, k, buf, size):
        """CompactError bad_chunk unless buf[:size] is chunk k as the manifest hashed it."""
        if size != self.sizes[k]:
            raise CompactError("bad_chunk", "chunk %d is %d bytes, the manifest says %d"
                               % (k, size, self.sizes[k]))
        h = hashlib.sha256(memoryview(buf)[:size] if size != len(buf) else buf).digest()
        if h != self.hashes[HASH * k:HASH * (k + 1)]:
            raise CompactError("bad_chunk", "chunk %d hash does not match the manifest" % k)


class Delta:
    """A verified delta: uri, from_seq, seq, iat, changes (sorted [(index, status)]), kid."""

    def __init__(self, data, verify):
        kid, c = _open(data, TYP_DELTA, verify)
        d = c.get(_DELTA)
        if type(d) is not dict or type(c.get(_SUB)) is not str or len(c) != 4 or len(d) != 2:
            raise CompactError("malformed", "delta claims")
        self.kid = kid
        self.uri = c[_SUB]
        self.seq = _uint(c, _SEQ, "seq")
        self.iat = _uint(c, _IAT, "iat")
        self.from_seq = _uint(d, _D_FROM, "from seq")
        ch = d.get(_D_CHANGES)
        if type(ch) is not list or self.from_seq >= self.seq:
            raise CompactError("malformed", "delta changes or seq order")
        self.keys = []
        self.values = []
        last = -1
        for v in ch:
            if type(v) is not int or v < 0 or (v >> 2) <= last or v & 3 == 3:
                raise CompactError("malformed", "changes must be increasing index<<2|status")
            last = v >> 2
            self.keys.append(last)
            self.values.append(v & 3)

    def get(self, index):
        """The status this delta sets for index, or None when it leaves it alone."""
        lo, hi = 0, len(self.keys)
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.keys[mid] < index:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self.keys) and self.keys[lo] == index:
            return self.values[lo]
        return None


# --- lookup -------------------------------------------------------------------------------------

class FileChunks:
    """Chunks stored one after another in one file (the manifest's offsets)."""

    def __init__(self, path):
        self.path = path

    def read_into(self, manifest, k, buf):
        with open(self.path, "rb") as f:
            f.seek(manifest.offsets[k])
            n = f.readinto(memoryview(buf)[:manifest.sizes[k]])
        return n or 0


class BytesChunks:
    """Chunks from a list of bytes (host side, tests)."""

    def __init__(self, chunks):
        self.chunks = chunks

    def read_into(self, manifest, k, buf):
        c = self.chunks[k] if k < len(self.chunks) else b""
        n = min(len(c), len(buf))
        buf[:n] = c[:n]
        return len(c)


class CompactList:
    """lookup(index): VALID / REVOKED / SUSPENDED from one chunk read into a buffer allocated
    once (manifest.max_chunk bytes), hash-checked before use; a verified delta (the changes
    since the manifest's seq) overrides the chunks."""

    def __init__(self, manifest, source, delta=None):
        self.manifest = manifest
        self.source = source
        self.buf = bytearray(manifest.max_chunk)
        self.delta = None
        self.reads = 0
        if delta is not None:
            self.apply(delta)

    def apply(self, delta):
        """Use a verified delta; it must start at the manifest's seq and name the same list."""
        m = self.manifest
        if delta.uri != m.uri or delta.from_seq != m.seq:
            raise CompactError("wrong_list", "delta %s %d->%d does not apply to %s seq %d"
                               % (delta.uri, delta.from_seq, delta.seq, m.uri, m.seq))
        self.delta = delta

    @property
    def seq(self):
        return self.delta.seq if self.delta is not None else self.manifest.seq

    def lookup(self, index):
        m = self.manifest
        k = m.chunk_of(index)
        if self.delta is not None:
            s = self.delta.get(index)
            if s is not None:
                return s
        size = self.source.read_into(m, k, self.buf)
        self.reads += 1
        if size > len(self.buf):
            raise CompactError("bad_chunk", "chunk %d is larger than the manifest says" % k)
        m.check(k, self.buf, size)
        start, end = m.bounds(k)
        return chunk_status(self.buf, size, start, end, index)
