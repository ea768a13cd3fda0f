"""CBOR, the deterministic subset the wire format uses (RFC 8949).

Types: uint, nint, bstr, tstr, array, map, tag, false/true/null (§3.1). Integers fit 64 bits;
no floats, no other simple values, no indefinite lengths.

dumps() writes core deterministic encoding (§4.2.1): shortest heads, definite lengths, map
keys sorted by the bytewise order of their encodings. loads() accepts exactly that and
nothing else (§5.2, §5.3): one item, no trailing bytes, shortest heads, keys in strictly
increasing order (so no duplicates), valid UTF-8 (RFC 3629 §4), nesting at most MAX_DEPTH.
Map keys are limited to int, bytes and str in both directions.

Runs under MicroPython and CPython alike. No `raise ... from` here: MicroPython prints a
warning for exception chaining.
"""
from xinka.compat import const

# names for pyright only (pyrightconfig.esp32*.json); MicroPython never imports typing
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = const(16)
_UINT64_MAX = const(0xFFFFFFFFFFFFFFFF)

# Major types (§3.1)
_UINT = const(0)
_NINT = const(1)
_BSTR = const(2)
_TSTR = const(3)
_ARRAY = const(4)
_MAP = const(5)
_TAG = const(6)
_SIMPLE = const(7)

# Simple values (§3.3)
_FALSE = const(20)
_TRUE = const(21)
_NULL = const(22)


class CBORError(ValueError):
    """Input is not one well-formed, deterministically encoded item of our subset."""


class Tag:
    """A tagged item (§3.4): Tag(tag_number, value)."""

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Tag) and self.tag == other.tag and self.value == other.value

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)


# ---- encoding ----

def write_head(out, major, arg):
    """Append the shortest head for `major` with argument `arg` (0..2**64-1) to bytearray out."""
    mt = major << 5
    if arg < 24:
        out.append(mt | arg)
    elif arg < 0x100:
        out.append(mt | 24)
        out.append(arg)
    elif arg < 0x10000:
        out.append(mt | 25)
        out.append(arg >> 8)
        out.append(arg & 0xFF)
    elif arg < 0x100000000:
        out.append(mt | 26)
        for shift in (24, 16, 8, 0):
            out.append((arg >> shift) & 0xFF)
    else:
        out.append(mt | 27)
        for shift in (56, 48, 40, 32, 24, 16, 8, 0):
            out.append((arg >> shift) & 0xFF)


def _is_int(obj):
    # bool is an int subclass on CPython (not on MicroPython)
    return isinstance(obj, int) and obj is not True and obj is not False


def _encode(out, obj, depth):
    if obj is False:
        out.append(0xF4)
    elif obj is True:
        out.append(0xF5)
    elif obj is None:
        out.append(0xF6)
    elif _is_int(obj):
        if 0 <= obj <= _UINT64_MAX:
            write_head(out, _UINT, obj)
        elif -_UINT64_MAX - 1 <= obj < 0:
            write_head(out, _NINT, -1 - obj)
        else:
            raise CBORError("integer out of 64-bit range")
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        write_head(out, _BSTR, len(obj))
        out.extend(obj)
    elif isinstance(obj, str):
        try:
            raw = obj.encode("utf-8")
        except UnicodeError:
            raise CBORError("text is not UTF-8")
        write_head(out, _TSTR, len(raw))
        out.extend(raw)
    elif depth >= MAX_DEPTH and isinstance(obj, (list, tuple, dict, Tag)):
        raise CBORError("nesting too deep")
    elif isinstance(obj, (list, tuple)):
        write_head(out, _ARRAY, len(obj))
        for item in obj:
            _encode(out, item, depth + 1)
    elif isinstance(obj, dict):
        _encode_map(out, obj, depth)
    elif isinstance(obj, Tag):
        if not _is_int(obj.tag) or not 0 <= obj.tag <= _UINT64_MAX:
            raise CBORError("bad tag number")
        write_head(out, _TAG, obj.tag)
        _encode(out, obj.value, depth + 1)
    else:
        raise CBORError("unsupported type")


def _encode_map(out, obj, depth):
    pairs = []
    for key in obj:
        if not (_is_int(key) or isinstance(key, (bytes, str))):
            raise CBORError("unsupported map key")
        kb = bytearray()
        _encode(kb, key, depth + 1)
        pairs.append((bytes(kb), obj[key]))
    pairs.sort(key=lambda p: p[0])
    write_head(out, _MAP, len(pairs))
    prev = None
    for kb, value in pairs:
        if kb == prev:
            raise CBORError("duplicate map key")
        prev = kb
        out.extend(kb)
        _encode(out, value, depth + 1)


def dumps(obj):
    """Encode obj deterministically (§4.2.1). Raises CBORError for what the subset lacks."""
    out = bytearray()
    _encode(out, obj, 0)
    return bytes(out)


# ---- decoding ----

def utf8_ok(data, i, end):
    """True if data[i:end] is well-formed UTF-8 (RFC 3629 §4): no overlongs, no surrogates."""
    while i < end:
        c = data[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            n, lo, hi = 1, 0x80, 0xBF
        elif 0xE0 <= c <= 0xEF:
            n = 2
            lo = 0xA0 if c == 0xE0 else 0x80
            hi = 0x9F if c == 0xED else 0xBF
        elif 0xF0 <= c <= 0xF4:
            n = 3
            lo = 0x90 if c == 0xF0 else 0x80
            hi = 0x8F if c == 0xF4 else 0xBF
        else:
            return False
        if i + n >= end:
            return False
        c = data[i + 1]
        if c < lo or c > hi:
            return False
        for j in range(i + 2, i + n + 1):
            c = data[j]
            if c < 0x80 or c > 0xBF:
                return False
        i += n + 1
    return True


def _less(data, a0, a1, b0, b1):
    """Bytewise data[a0:a1] < data[b0:b1], without slicing."""
    while a0 < a1 and b0 < b1:
        x = data[a0]
        y = data[b0]
        if x != y:
            return x < y
        a0 += 1
        b0 += 1
    return a1 - a0 < b1 - b0


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.end = len(data)

    def head(self):
        """Read one head; returns (major, additional info, argument)."""
        data = self.data
        pos = self.pos
        if pos >= self.end:
            raise CBORError("truncated")
        ib = data[pos]
        major = ib >> 5
        ai = ib & 0x1F
        pos += 1
        if ai < 24:
            self.pos = pos
            return major, ai, ai
        if ai > 27:
            raise CBORError("indefinite length" if ai == 31 else "reserved additional info")
        n = 1 << (ai - 24)
        if pos + n > self.end:
            raise CBORError("truncated")
        arg = 0
        for i in range(pos, pos + n):
            arg = (arg << 8) | data[i]
        self.pos = pos + n
        # shortest form (§4.2.1); simple values in 0xf8 follow their own rule (§3.3)
        if major != _SIMPLE and arg < (24 if n == 1 else 1 << (4 * n)):
            raise CBORError("non-shortest head")
        return major, ai, arg

    def item(self, depth):
        major, ai, arg = self.head()
        if _ARRAY <= major <= _TAG and depth >= MAX_DEPTH:
            raise CBORError("nesting too deep")
        if major == _UINT:
            return arg
        if major == _NINT:
            return -1 - arg
        if major == _BSTR or major == _TSTR:
            start = self.pos
            if arg > self.end - start:
                raise CBORError("truncated")
            self.pos = start + arg
            if major == _BSTR:
                return bytes(self.data[start:self.pos])
            if not utf8_ok(self.data, start, self.pos):
                raise CBORError("invalid UTF-8")
            return str(bytes(self.data[start:self.pos]), "utf-8")
        if major == _ARRAY:
            # every item takes at least one byte: refuse counts the input cannot hold
            if arg > self.end - self.pos:
                raise CBORError("truncated")
            return [self.item(depth + 1) for _ in range(arg)]
        if major == _MAP:
            if arg > (self.end - self.pos) // 2:
                raise CBORError("truncated")
            return self.map(arg, depth)
        if major == _TAG:
            return Tag(arg, self.item(depth + 1))
        if ai == _FALSE:
            return False
        if ai == _TRUE:
            return True
        if ai == _NULL:
            return None
        raise CBORError("float" if ai >= 25 else "unsupported simple value")

    def map(self, count, depth):
        out = {}
        p0 = p1 = 0
        for _ in range(count):
            k0 = self.pos
            key = self.item(depth + 1)
            k1 = self.pos
            if not (_is_int(key) or isinstance(key, (bytes, str))):
                raise CBORError("unsupported map key")
            if p1 and not _less(self.data, p0, p1, k0, k1):
                if _less(self.data, k0, k1, p0, p1):
                    raise CBORError("map keys out of order")
                raise CBORError("duplicate map key")
            p0, p1 = k0, k1
            out[key] = self.item(depth + 1)
        return out


def loads(data) -> "Any":
    """Decode exactly one item from bytes-like data. Raises CBORError on anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CBORError("not bytes")
    r = _Reader(data)
    obj = r.item(0)
    if r.pos != r.end:
        raise CBORError("trailing bytes")
    return obj
