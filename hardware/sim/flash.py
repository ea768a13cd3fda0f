"""File-backed NOR flash with power-cut injection, for littlefs under MicroPython and CPython.

Speaks MicroPython's extended block-device protocol (MicroPython docs, `vfs` "Block devices") as
the ESP32 port's `esp32.Partition` does: readblocks(block, buf, offset) reads anywhere,
writeblocks(block, buf, offset) programs without erasing, ioctl(6, block) erases one sector to
0xFF; writeblocks without an offset is the simple protocol (erase, then program whole blocks).
Like NOR flash, programming only clears bits: new = old & data. The image is a file, read and
written in place on every call, so what a reboot sees (a new FlashDevice on the same file) is
exactly what was programmed before the cut.

Power cuts: cut_after(n) arms the device. It counts units of write time, one per programmed byte
and `erase_units` per sector erase, and the unit after the n-th is torn:
  mode "byte"  bytes before it are programmed, the torn byte gets a random subset of its 1->0 bits;
  mode "page"  a program is applied per 256-byte page (the chip's page program): pages before the
               torn one are programmed, the torn page gets a random subset of its 1->0 bits;
  an erase     cut at its unit j, the first j/erase_units of the sector are 0xFF, the rest as was.
Then PowerCut is raised (a BaseException: no `except Exception` in firmware can swallow it) and
the device is dead: every later call raises PowerCut again and changes nothing, so cleanup code
on the way out (a `with` block closing its file) cannot write either, nor swap the PowerCut for
some other error. A reboot is a new FlashDevice (and a new mount) on the same file.
"""
import os

PAGE = 256
_FF = b"\xff" * PAGE


class PowerCut(BaseException):
    """The supply failed during a write; the device is dead until a new FlashDevice is made."""


class FlashDevice:
    """`block_count` sectors of `block_size` bytes in the file at `path`, created erased (0xFF)."""

    def __init__(self, path, block_size=4096, block_count=None, erase_units=64):
        self.path = path
        self.block_size = block_size
        self.erase_units = erase_units
        try:
            size = os.stat(path)[6]
        except OSError:
            size = -1
        if block_count is None:
            if size <= 0:
                raise ValueError("new image needs block_count")
            block_count = size // block_size
        self.block_count = block_count
        if size < 0:
            open(path, "wb").close()
            size = 0
        self._f = open(path, "r+b")
        want = block_size * block_count
        if size < want:  # a new chip comes erased
            self._f.seek(size)
            self._fill(want - size)
            self._f.flush()
        self.units = 0  # write time spent since this object was made (see cut_after)
        self.erases = [0] * block_count
        self.prog_bytes = 0
        self.dead = False
        self.torn = None  # "program" or "erase": what the cut interrupted
        self._left = -1  # units until the torn one; -1 = not armed
        self._mode = "byte"
        self._rnd = 1

    # --- power-cut injection ------------------------------------------------------------------

    def cut_after(self, n, mode="byte", seed=1):
        """Tear the unit after the next n units of write time; then PowerCut."""
        if mode not in ("byte", "page"):
            raise ValueError("mode is 'byte' or 'page'")
        self._left = n
        self._mode = mode
        self._rnd = (seed & 0xFFFFFFFF) or 1

    def disarm(self):
        self._left = -1

    def _rand(self):
        # xorshift32: the same torn bits under MicroPython and CPython for one seed
        x = self._rnd
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._rnd = x
        return x

    def _die(self, what):
        self.torn = what
        self.dead = True
        self._left = -1
        self._f.flush()
        raise PowerCut("power cut after %d units" % self.units)

    # --- raw image access ---------------------------------------------------------------------

    def _check(self, addr, n):
        if addr < 0 or addr + n > self.block_size * self.block_count:
            raise ValueError("access outside the device")

    def _fill(self, n):
        # 0xFF from the file position on (small writes: a sector-sized buffer may not fit the heap)
        while n > 0:
            k = min(n, PAGE)
            self._f.write(_FF if k == PAGE else _FF[:k])
            n -= k

    def _read(self, addr, n):
        self._f.seek(addr)
        return self._f.read(n)

    def _program(self, addr, data, torn=None):
        # NOR: bits only go 1 -> 0; `torn` = (start, end) whose bits land at random
        old = self._read(addr, len(data))
        out = bytearray(data)
        if old.count(b"\xff") != len(old):
            for i in range(len(out)):
                out[i] &= old[i]
        if torn:
            for i in range(torn[0], torn[1]):
                clear = old[i] & ~out[i] & 0xFF
                out[i] = old[i] & ~(clear & self._rand()) & 0xFF
        self._f.seek(addr)
        self._f.write(out)
        self.prog_bytes += len(out)

    # --- MicroPython block-device protocol ----------------------------------------------------

    def readblocks(self, block, buf, offset=0):
        if self.dead:
            raise PowerCut("device has no power")
        addr = block * self.block_size + offset
        self._check(addr, len(buf))
        self._f.seek(addr)
        mv = memoryview(buf)
        got = 0
        while got < len(buf):
            n = self._f.readinto(mv[got:])
            if not n:
                raise OSError(5)
            got += n
        return 0

    def writeblocks(self, block, buf, offset=None):
        if offset is None:  # simple protocol: whole blocks, erased first
            for i in range(len(buf) // self.block_size):
                self.ioctl(6, block + i)
            offset = 0
        if self.dead:
            raise PowerCut("device has no power")
        addr = block * self.block_size + offset
        n = len(buf)
        self._check(addr, n)
        data = bytes(buf)
        left = self._left
        if left < 0 or left >= n:
            self._program(addr, data)
            self.units += n
            if left >= 0:
                self._left = left - n
            self._f.flush()
            return 0
        # the cut falls inside this program
        if self._mode == "page":
            lo = left - (addr + left) % PAGE  # start of the torn page within data
            if lo < 0:
                lo = 0
            hi = min(n, left + PAGE - (addr + left) % PAGE)
        else:
            lo, hi = left, left + 1
        self._program(addr, data[:hi], (lo, hi))
        self.units += left
        self._die("program")

    def ioctl(self, op, arg):
        if op == 4:
            return self.block_count
        if op == 5:
            return self.block_size
        if self.dead and op in (3, 6):
            raise PowerCut("device has no power")
        if op == 3:
            self._f.flush()
            return 0
        if op == 6:
            if not 0 <= arg < self.block_count:
                return -22  # EINVAL
            addr = arg * self.block_size
            left, e = self._left, self.erase_units
            self._f.seek(addr)
            if 0 <= left < e:  # torn erase
                self._fill(left * self.block_size // e)
                self.units += left
                self._die("erase")
            self._fill(self.block_size)
            self._f.flush()
            self.erases[arg] += 1
            self.units += e
            if left >= 0:
                self._left = left - e
            return 0
        if op in (1, 2):
            return 0
        return None

    def close(self):
        """Release the image file (a dead device may be closed too)."""
        self._f.close()
