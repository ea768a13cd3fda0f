"""The terminal's check-in journal on littlefs: append before the green beep, mark uploaded
after the verifier answered, never lose an appended record.

What this relies on from littlefs v2 (as MicroPython's VfsLfs2 mounts it, the same as
firmware/badge/store.py): data written to a file becomes visible in one metadata commit at
close, so an append cut short by a power cut leaves the file as it was before the append; a
file replaced by open("wb") + close is the old or the new contents. On top, every record and
every watermark carries its own CRC-32, so a damaged record is skipped, never trusted.

Files in `root`:
  s<n>        segments, records appended in order, at most `seg_records` per segment:
              "XJ" | length u16 | seq u32 | CBOR [kid, seen_at, terminal_id, nonce, token,
              credential] | crc32 of everything before (u32), big-endian
  up.0, up.1  A/B watermark: "XJU1" | wseq u32 | upto u32 | crc32 (16 bytes). Every record
              with seq < upto has been answered by the verifier. The valid copy with the higher
              wseq wins; a write goes to the older copy, so a torn write never hits the live one.
A segment whose records all lie below the watermark is deleted (a delete cut short leaves it:
it is deleted at the next load). A segment with a damaged record is sealed: nothing is
appended after damage; the records behind it are found again by scanning for the next valid
record. Records are numbered without gaps (the next seq is the highest good one + 1).

Full: `capacity` records not yet uploaded, or the filesystem has no space: append raises
JournalFull and changes nothing; uploads free space again.
"""
from xinka.compat import const

import binascii
import os
import struct

from xinka import cbor

_MAGIC = b"XJ"
_HDR = const(8)
_UP = b"XJU1"
_MAX_REC = const(1024)       # body + crc: token 256 + credential 512 + receipt, with room
_ENOSPC = const(28)
_ENAMETOOLONG = const(36)
_ENOENT = const(2)


class JournalError(Exception):
    """reason: flash_error, corrupt."""

    def __init__(self, reason, msg=""):
        super().__init__("%s: %s" % (reason, msg) if msg else reason)
        self.reason = reason


class JournalFull(JournalError):
    def __init__(self, msg="journal full"):
        super().__init__("journal_full", msg)


def _crc(b):
    return binascii.crc32(b) & 0xFFFFFFFF


def _full(err):
    return err.args and err.args[0] in (_ENOSPC, _ENAMETOOLONG)


class Record:
    def __init__(self, seq, kid, seen_at, terminal_id, nonce, token, cred):
        self.seq = seq
        self.kid = kid
        self.seen_at = seen_at
        self.terminal_id = terminal_id
        self.nonce = nonce
        self.token = token
        self.cred = cred


class Journal:
    def __init__(self, root, capacity=1000, seg_records=8):
        self.root = root
        self.capacity = capacity
        self.seg_records = seg_records
        self.upto = 0
        self.next_seq = 0
        self._wseq = 0
        self._segs = []          # [num, first seq, last seq, records, sealed]
        self.damaged = 0
        self._rbuf = bytearray(_MAX_REC)

    def _path(self, name):
        return self.root + "/" + name

    # --- load ---------------------------------------------------------------------------------

    def load(self):
        try:
            os.mkdir(self.root)
        except OSError:
            pass
        self._load_up()
        nums = []
        for name in os.listdir(self.root):
            if name[0] == "s" and name[1:].isdigit():
                nums.append(int(name[1:]))
        nums.sort()
        self._segs = []
        last = -1
        for i, n in enumerate(nums):
            first = -1
            cnt = 0
            seg_last = -1
            sealed = False
            for ok, rec, _ in self._scan(n, False, i == len(nums) - 1):
                if not ok:
                    sealed = True
                    continue
                if first < 0:
                    first = rec
                seg_last = rec
                cnt += 1
            if seg_last > last:
                last = seg_last
            self._segs.append([n, first, seg_last, cnt, sealed])
        self.next_seq = max(last + 1, self.upto)
        self._gc()
        return self

    def _load_up(self):
        best = None
        for i in (0, 1):
            try:
                with open(self._path("up.%d" % i), "rb") as f:
                    b = f.read()
            except OSError:
                continue
            if len(b) == 16 and b[:4] == _UP and _crc(b[:12]) == struct.unpack(">I", b[12:])[0]:
                w, up = struct.unpack(">II", b[4:12])
                if best is None or w > best[0]:
                    best = (w, up)
        if best:
            self._wseq, self.upto = best
        else:
            self._wseq, self.upto = 0, 0

    def _scan(self, n, want=False, crc=True):
        """[(ok, seq, Record or None)] for segment n's records; ok False marks damage.

        Reads one record at a time into a buffer allocated once (no segment-sized read).
        crc=False walks the headers only (load() of segments that no append can touch any
        more; their CRCs are checked when they are read for upload)."""
        out = []
        try:
            f = open(self._path("s%d" % n), "rb")
        except OSError:
            return out
        mv = memoryview(self._rbuf)
        try:
            size = f.seek(0, 2)
            pos = 0
            bad = False
            while pos + _HDR + 4 <= size:
                f.seek(pos)
                h = f.read(_HDR)
                if h[:2] == _MAGIC:
                    ln, seq = struct.unpack(">HI", h[2:])
                    if ln + 4 <= len(mv) and pos + _HDR + ln + 4 <= size:
                        if not crc and not want:
                            out.append((True, seq, None))
                            pos += _HDR + ln + 4
                            continue
                        f.readinto(mv[:ln + 4])
                        crc = binascii.crc32(mv[:ln], binascii.crc32(h)) & 0xFFFFFFFF
                        if crc == struct.unpack(">I", mv[ln:ln + 4])[0]:
                            rec = self._decode(seq, bytes(mv[:ln])) if want else None
                            out.append((True, seq, rec))
                            pos += _HDR + ln + 4
                            bad = False
                            continue
                if not bad:
                    bad = True
                    self.damaged += 1
                    out.append((False, -1, None))
                pos += 1                           # resynchronise on the next valid record
            if pos < size and not bad:
                self.damaged += 1
                out.append((False, -1, None))
        finally:
            f.close()
        return out

    @staticmethod
    def _decode(seq, b):
        try:
            v = cbor.loads(b)
            return Record(seq, v[0], v[1], v[2], v[3], v[4], v[5])
        except (cbor.CBORError, IndexError, TypeError):
            return None

    # --- queries ------------------------------------------------------------------------------

    def pending(self):
        """Records not yet answered by the verifier."""
        return self.next_seq - self.upto

    def records(self, since_seq=0, limit=None):
        """Good records with seq >= since_seq, oldest first (up to `limit`)."""
        out = []
        for s in self._segs:
            if s[2] < since_seq:
                continue
            for ok, seq, rec in self._scan(s[0], True):
                if ok and seq >= since_seq and rec is not None:
                    out.append(rec)
                    if limit and len(out) >= limit:
                        return out
        return out

    def recent(self, since_time, last=64):
        """{badge kid: latest seen_at} of the last `last` records seen at or after since_time
        (for the cool-down after a reboot; keeps two fields per record, not the record)."""
        out = {}
        first = max(0, self.next_seq - last)
        for s in self._segs:
            if s[2] < first:
                continue
            for ok, seq, rec in self._scan(s[0], True):
                if ok and seq >= first and rec is not None and rec.seen_at >= since_time:
                    out[rec.kid] = max(rec.seen_at, out.get(rec.kid, 0))
        return out

    def batch(self, n):
        """The oldest n records not yet uploaded."""
        return self.records(self.upto, n)

    # --- writes -------------------------------------------------------------------------------

    def append(self, kid, seen_at, terminal_id, nonce, token, cred):
        """Durably append one check-in; returns its seq once it is on flash. JournalFull."""
        if self.pending() >= self.capacity:
            raise JournalFull("%d check-ins wait for upload" % self.pending())
        seq = self.next_seq
        body = cbor.dumps([kid, seen_at, terminal_id, nonce, token, cred])
        if len(body) + 4 > _MAX_REC:
            raise JournalError("oversized", "record of %d bytes" % len(body))
        rec = bytearray(_MAGIC)
        rec.extend(struct.pack(">HI", len(body), seq))
        rec.extend(body)
        rec.extend(struct.pack(">I", _crc(rec)))
        seg = self._segs[-1] if self._segs else None
        if seg is None or seg[4] or seg[3] >= self.seg_records:
            seg = [(seg[0] + 1) if seg else 0, -1, -1, 0, False]
            new = True
        else:
            new = False
        try:
            with open(self._path("s%d" % seg[0]), "ab") as f:
                f.write(rec)
        except OSError as err:
            if _full(err):
                raise JournalFull("no space left on flash")
            raise JournalError("flash_error", repr(err))
        if new:
            self._segs.append(seg)
        if seg[1] < 0:
            seg[1] = seq
        seg[2] = seq
        seg[3] += 1
        self.next_seq = seq + 1
        return seq

    def mark_uploaded(self, upto):
        """Every record with seq < upto was answered by the verifier (durable on return)."""
        if upto <= self.upto:
            return
        upto = min(upto, self.next_seq)
        w = self._wseq + 1
        b = _UP + struct.pack(">II", w, upto)
        b += struct.pack(">I", _crc(b))
        try:
            with open(self._path("up.%d" % (w & 1)), "wb") as f:
                f.write(b)
        except OSError as err:
            raise JournalError("flash_error", repr(err))
        self._wseq = w
        self.upto = upto
        self._gc()

    def _gc(self):
        # delete segments entirely below the watermark (never the last one: it takes appends)
        keep = []
        for i, s in enumerate(self._segs):
            if i < len(self._segs) - 1 and s[2] < self.upto:
                try:
                    os.remove(self._path("s%d" % s[0]))
                except OSError:
                    pass
                continue
            keep.append(s)
        self._segs = keep
