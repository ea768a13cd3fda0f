"""The badge's durable state: token counter, nonce pool and its cursor, provisioning blobs.

Follows docs/protocol.md ("Tap token"): the counter is persisted +1 before a token is
signed, and a
nonce is durably marked used before its signature is computed (the order ecdsa.NoncePool asks
for: peek, persist, sign_with). Files in `root`, a directory on the mounted littlefs ("/state" on
the badge); record formats and the littlefs behaviour relied on are in store.py.

  ctr.0, ctr.1  A/B state record: seq, counter, used (every pool index below `used` is spent)
  pool          "XNP1" | base u32 | count u32 | kid 8 bytes | crc32 (24 bytes), then `count`
                entries of 100 bytes: k^-1 || r || c (ecdsa entry_bytes) | crc32(index u32 ||
                entry). Entry i has the pool index base + i; an index is never given a second
                nonce once one is durable. Refill writes pool.new and renames it over pool.
  <name>        blobs (key, credential, ...): put()/get(), write-temp + rename.

A tap is one record write: next_counter() persists (counter + 1, used + 1), reserving the next
pool entry, and returns only once that is durable; sign() then signs with the reserved entry and
writes nothing (without a reservation it persists its own mark first). After a power cut at any
byte the record is the old or the new one: the counter never goes lower, and an entry whose
signature may not have left is skipped, never reused.

Nonces: refill() takes k from SHA-256 over rng output, the key id and the entry's pool index, so
an rng that repeats after a reboot (an ESP32's os.urandom with the radio off) still gives every
index its own k.

Wear (tests/firmware/test_state.py, VfsLfs2 defaults: 4 KiB sectors, prog size 32): a tap is one
littlefs commit of ~67 bytes into the state directory's metadata block, which fills and is
compacted (one sector erase) about every 64 taps. A refill of 32 entries programs ~3.4 KB and
erases ~1 sector. Together ~175 bytes and 1/21 erase per tap, which littlefs spreads over the free
sectors (block_cycles): at 100,000 cycles per sector a 1 MiB filesystem lasts ~500 M taps.

Full flash: once the records exist littlefs rewrites them in place without a free block, so taps
go on; refill() and put() need free blocks and raise StateError "flash_full", as does a new
badge that cannot create its records. Nothing changes when an operation is refused.
"""
from xinka.compat import const

import hashlib
import os
import struct

from xinka import ecdsa
from xinka import p256
import store
from store import StateError

_HDR = ">4sII8s"
_HDR_LEN = const(24)
_ENT_LEN = const(100)


def _draw(rng, kid, n):
    # rng(32) through SHA-256 with the key id and pool index: distinct k per index
    tag = b"xinka/nonce" + kid + struct.pack(">I", n)

    def draw(nbytes):
        return hashlib.sha256(tag + rng(32)).digest()[:nbytes]
    return draw


class BadgeState:
    """Durable state in directory `root`; `capacity` = most pool entries kept on flash."""

    def __init__(self, root, capacity=32):
        self.root = root
        self.capacity = capacity
        self._rec = store.Records(root)
        self._base = 0
        self._count = 0
        self._kid = None
        self._held = None  # entry reserved by next_counter()

    def _path(self, name):
        return store.join(self.root, name)

    def load(self):
        """Read the state from flash (after every boot); returns self."""
        store.makedirs(self.root)
        self._rec.load()
        try:
            names = os.listdir(self.root)
        except OSError as err:
            raise store.oserror(err)
        for name in names:  # a write-temp or refill cut short
            if name.endswith(".tmp") or name == "pool.new":
                store.remove(self._path(name))
        self._held = None
        self._base = self._rec.used
        self._count = 0
        self._kid = None
        try:
            with open(self._path("pool"), "rb") as f:
                h = f.read(_HDR_LEN)
        except OSError:
            return self
        if len(h) == _HDR_LEN and store.crc(h[:20]) == struct.unpack(">I", h[20:])[0]:
            magic, base, count, kid = struct.unpack(_HDR, h[:20])
            if magic == b"XNP1":
                self._base, self._count, self._kid = base, count, kid
        return self

    @property
    def counter(self):
        """The last counter value made durable (0 before the first token)."""
        return self._rec.counter

    @property
    def used(self):
        """Pool indices below this are spent."""
        return self._rec.used

    def pool_available(self):
        """Entries on flash not yet spent (an entry reserved by next_counter() is not counted)."""
        return max(0, self._base + self._count - max(self._rec.used, self._base))

    def _take(self):
        # the next entry with a good CRC at index >= used: (index, 96 bytes), or (None, None)
        n = max(self._rec.used, self._base)
        end = self._base + self._count
        if n >= end:
            return None, None
        try:
            with open(self._path("pool"), "rb") as f:
                f.seek(_HDR_LEN + (n - self._base) * _ENT_LEN)
                while n < end:
                    b = f.read(_ENT_LEN)
                    if len(b) < _ENT_LEN:
                        break
                    if store.crc(struct.pack(">I", n) + b[:96]) == struct.unpack(">I", b[96:])[0]:
                        return n, b[:96]
                    n += 1  # damaged entry: skipped, never signed with
        except OSError as err:
            raise store.oserror(err)
        return None, None

    def next_counter(self):
        """Persist counter + 1 (reserving the next nonce) and return it once it is durable.

        StateError "flash_full" / "flash_error" when it cannot be written: nothing changes.
        """
        self._held = None
        n, e = self._take()
        self._rec.write(self._rec.counter + 1, self._rec.used if n is None else n + 1)
        self._held = e
        return self._rec.counter

    def sign(self, key, digest):
        """64-byte r || s over a 32-byte digest with a nonce that is durably spent first.

        Uses the entry reserved by the last next_counter(); otherwise marks the next entry used
        on flash, then signs. StateError "pool_empty" when no entry is left (refill), "bad_entry"
        when the entry is not for `key` (it stays spent).
        """
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        e = self._held
        self._held = None
        if e is None:
            n, e = self._take()
            if n is None or e is None:
                raise StateError("pool_empty", "no precomputed nonce left")
            self._rec.write(self._rec.counter, n + 1)
        pool = ecdsa.NoncePool(key, 1)
        try:
            pool.load_entry(0, e)
        except ecdsa.BadEntry:
            raise StateError("bad_entry", "pool entry is not for this key")
        return pool.sign_with(0, digest)

    def refill(self, key, rng, count):
        """Precompute up to `count` nonces for `key` and add them to the pool on flash.

        rng(nbytes) -> bytes (e.g. drbg.HmacDrbg.generate). Unspent entries for the same key
        are kept; the pool never exceeds `capacity`. Returns how many were added. A refill cut
        short leaves the old pool. StateError "flash_full" when they do not fit.
        """
        kid = key.kid()
        start = max(self._rec.used, self._base)
        end = self._base + self._count
        if self._kid != kid or start >= end:
            start = end = max(self._rec.used, end)  # nothing to keep
        add = min(count, self.capacity - (end - start))
        if add <= 0:
            return 0
        tmp = self._path("pool.new")
        hdr = struct.pack(_HDR, b"XNP1", start, end - start + add, kid)
        one = ecdsa.NoncePool(key, 1)
        try:
            with open(tmp, "wb") as out:
                out.write(hdr + struct.pack(">I", store.crc(hdr)))
                if end > start:
                    with open(self._path("pool"), "rb") as f:
                        f.seek(_HDR_LEN + (start - self._base) * _ENT_LEN)
                        for _ in range(end - start):
                            out.write(f.read(_ENT_LEN))
                for n in range(end, end + add):
                    one.add(p256.random_scalar(_draw(rng, kid, n)))
                    e = one.entry_bytes(0)
                    one.discard(0)
                    out.write(e + struct.pack(">I", store.crc(struct.pack(">I", n) + e)))
            os.rename(tmp, self._path("pool"))
        except OSError as err:
            store.remove(tmp)
            raise store.oserror(err)
        self._base = start
        self._count = end - start + add
        self._kid = kid
        return add

    # --- provisioning blobs -------------------------------------------------------------------

    def put(self, name, data):
        """Store bytes under `name` atomically (write-temp + rename)."""
        store.put_blob(self.root, name, bytes(data))

    def get(self, name):
        """Bytes stored under `name`, or None."""
        return store.get_blob(self.root, name)

    def delete(self, name):
        store.remove(self._path(name))

    def seed(self, entropy=b""):
        """32 bytes never returned before on this badge, for seeding the DRBG at boot.

        Ratchets the blob "seed" (SHA-256 of the old one and `entropy`) and returns a value
        derived from the new one only after it is durable.
        """
        s = hashlib.sha256(b"xinka/seed" + (self.get("seed") or b"") + bytes(entropy)).digest()
        self.put("seed", s)
        return hashlib.sha256(b"xinka/seed-out" + s).digest()
