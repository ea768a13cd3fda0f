"""Durable records on littlefs: the badge's A/B state record and atomically replaced blobs.

What this relies on from littlefs v2 (as MicroPython's VfsLfs2 mounts it): a file's new contents
appear in one metadata commit at close (copy-on-write; an interrupted write leaves the previous
contents), and a rename within one directory is one commit that replaces the target. On top of
that every record carries its own CRC-32, so a record is trusted only when it is whole, and the
state record alternates between two files, so even a torn write could only ever hit the older
copy. tests/firmware/test_powercut.py checks all of it on the real VfsLfs2.

  ctr.0, ctr.1  "XSR1" | seq u32 | counter u64 | used u32 | crc32 of the first 20 bytes (24 bytes,
                big-endian). Record seq goes to ctr.<seq & 1>; load takes the valid record with
                the highest seq. Absent or empty files were never written (a first write cut
                after littlefs created the file); a non-empty file that fails its check while no
                record is valid is StateError "corrupt", never a silent reset to zero.
  <name>        blob: "XB1\\0" | length u32 | crc32(data) u32 | data. Written to <name>.tmp,
                then renamed over <name>; a left-over .tmp is removed at load.
"""
import binascii
import os
import struct

_REC = ">4sIQI"
_REC_LEN = 24
_BLOB = ">4sII"
_ENOSPC = 28
_ENAMETOOLONG = 36  # littlefs reports a file create that finds no space as this
_ENOENT = 2


class StateError(Exception):
    """The badge state could not be read or written; `reason` is a stable code:
    flash_full, flash_error, corrupt, pool_empty, bad_entry."""

    def __init__(self, reason, msg=""):
        super().__init__("%s: %s" % (reason, msg) if msg else reason)
        self.reason = reason


def crc(data):
    return binascii.crc32(data) & 0xFFFFFFFF


def join(root, name):
    return root.rstrip("/") + "/" + name


def oserror(err):
    """StateError for an OSError from the filesystem (ENOSPC -> flash_full)."""
    code = err.args[0] if err.args else 0
    if code in (_ENOSPC, _ENAMETOOLONG):
        return StateError("flash_full", "no space left on flash")
    return StateError("flash_error", "filesystem error %r" % (code,))


def read(path):
    """Whole file as bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        if err.args and err.args[0] == _ENOENT:
            return None
        raise oserror(err)


def write(path, data):
    """Replace a file's contents (one littlefs commit at close). StateError on failure."""
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as err:
        raise oserror(err)


def remove(path):
    """Delete a file if it is there (best effort: a missing file is fine)."""
    try:
        os.remove(path)
    except OSError:
        pass


def makedirs(root):
    path = ""
    for part in root.split("/"):
        if not part:
            continue
        path += "/" + part
        try:
            os.stat(path)
        except OSError:
            try:
                os.mkdir(path)
            except OSError as err:
                raise oserror(err)


class Records:
    """The A/B state record in `root`: seq, counter, used (see the module docstring)."""

    def __init__(self, root):
        self.root = root
        self.seq = 0
        self.counter = 0
        self.used = 0

    def load(self):
        best = None
        damaged = False
        for i in (0, 1):
            b = read(join(self.root, "ctr.%d" % i))
            if not b:
                continue
            rec = _parse(b)
            if rec is None:
                damaged = True
            elif best is None or rec[0] > best[0]:
                best = rec
        if best is None:
            if damaged:
                raise StateError("corrupt", "no valid state record")
            best = (0, 0, 0)
        self.seq, self.counter, self.used = best

    def write(self, counter, used):
        """Persist (counter, used) as record seq+1; the fields change only once it is durable."""
        seq = self.seq + 1
        b = struct.pack(_REC, b"XSR1", seq, counter, used)
        write(join(self.root, "ctr.%d" % (seq & 1)), b + struct.pack(">I", crc(b)))
        self.seq = seq
        self.counter = counter
        self.used = used


def _parse(b):
    if len(b) != _REC_LEN or crc(b[:20]) != struct.unpack(">I", b[20:])[0]:
        return None
    magic, seq, counter, used = struct.unpack(_REC, b[:20])
    if magic != b"XSR1":
        return None
    return seq, counter, used


def put_blob(root, name, data):
    """Atomically replace blob `name` (write-temp + rename)."""
    path = join(root, name)
    tmp = path + ".tmp"
    write(tmp, struct.pack(_BLOB, b"XB1\x00", len(data), crc(data)) + data)
    try:
        os.rename(tmp, path)
    except OSError as err:
        remove(tmp)
        raise oserror(err)


def get_blob(root, name):
    """Blob `name`'s bytes, None if absent; StateError "corrupt" if it fails its check."""
    b = read(join(root, name))
    if b is None:
        return None
    if len(b) >= 12:
        magic, n, c = struct.unpack(_BLOB, b[:12])
        data = b[12:]
        if magic == b"XB1\x00" and n == len(data) and c == crc(data):
            return data
    raise StateError("corrupt", "blob %s fails its check" % name)
