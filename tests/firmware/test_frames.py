"""firmware/lib/xinka/frames.py: the USB serial provisioning frame, the one codec of badge and host.

(a) the layout printed in docs/technician.md "Serial protocol" against the module; (b) the
decoder's behaviour: round trips, resync after garbage, bad CRC, oversized length, partial
frames and expire(), any split across feed() calls; (c) the same checks under MicroPython,
byte for byte against CPython; (d) no other file in the tree defines the frame constants.
"""
import ast
import contextlib
import io
import os
import pathlib
import random
import re
import struct
import subprocess
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testkit import device as firmware
from xinka import frames
from xinka.frames import MAX_BODY, SYNC_ANS, SYNC_REQ, Decoder, encode

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "technician.md"


# ---- (a) the spec in docs/technician.md ----

def _section(md, title):
    m = re.search(r"^## [^\n]*\b%s\s*$(.*?)(?=^## )" % re.escape(title), md, re.M | re.S)
    assert m, "no section %r in %s" % (title, DOC)
    return m.group(1)


def _spec():
    """(fields, syncs, prose) of the "Serial protocol" section: fields as (name, size in bytes
    or None for the body, byte order, names the field is computed over)."""
    sec = _section(DOC.read_text(encoding="utf-8"), "Serial protocol")
    block = re.search(r"```\n(.*?)```", sec, re.S).group(1)
    layout = next(ln for ln in block.splitlines() if ln.startswith("sync"))
    fields = []
    for part in (p.strip() for p in layout.split("|")):
        m = re.fullmatch(r"(\w+)(?::.*| \((\d+)\)| u(\d+)(?: (BE|LE))?(?: over (.+))?)", part)
        assert m, "cannot read the field %r of %r" % (part, layout)
        name, nbytes, bits, order, over = m.groups()
        size = int(nbytes) if nbytes else int(bits) // 8 if bits else None
        fields.append((name, size, order, [o.strip() for o in over.split(",")] if over else []))
    syncs = {}
    for hexa, direction in re.findall(r"([0-9A-F]{2} [0-9A-F]{2}) (host -> badge|badge -> host)",
                                      block):
        syncs[direction] = bytes.fromhex(hexa)
    return fields, syncs, " ".join(sec.split())


def _frame_from_spec(fields, sync, seq, body):
    """The frame bytes built field by field from the printed layout."""
    val = {"sync": sync, "seq": seq, "len": len(body), "body": body}
    made = {}
    for name, size, order, over in fields:
        if name == "body":
            made[name] = body
        elif over:
            data = b"".join(made[o] for o in over)
            assert name == "crc32"
            made[name] = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(size, order == "BE" and "big"
                                                                   or "little")
        elif name == "sync":
            assert len(sync) == size
            made[name] = sync
        else:
            made[name] = val[name].to_bytes(size, "big" if order in ("BE", None) else "little")
    return b"".join(made[name] for name, *_ in fields)


def test_the_layout_in_the_technician_guide_is_the_module():
    fields, syncs, prose = _spec()
    assert [f[0] for f in fields] == ["sync", "seq", "len", "body", "crc32"]
    assert syncs == {"host -> badge": SYNC_REQ, "badge -> host": SYNC_ANS}
    body_at = [f[0] for f in fields].index("body")
    assert frames.HEADER == sum(f[1] for f in fields[:body_at])
    assert frames.TRAILER == sum(f[1] for f in fields[body_at + 1:])
    assert re.search(r"a length over %d\b" % MAX_BODY, prose), prose
    for sync in (SYNC_REQ, SYNC_ANS):
        for seq, body in ((0, b""), (7, b"\xa0"), (255, bytes(range(256)) * 8)):
            assert encode(seq, body, sync) == _frame_from_spec(fields, sync, seq, body)
            dec = Decoder(sync)
            f = _frame_from_spec(fields, sync, seq, body)
            assert dec.feed(f) == [(seq, body, int.from_bytes(f[-4:], "big"))]


def test_the_guide_gives_the_badge_link_timeout():
    _, _, prose = _spec()
    (serial_link,) = firmware.load("serial_link")
    ms = serial_link.Link(None).timeout_ms
    assert re.search(r"partial frame after %d ms of silence" % ms, prose), prose


# ---- (b) behaviour ----

def test_round_trips_at_the_bounds():
    for sync in (SYNC_REQ, SYNC_ANS):
        dec = Decoder(sync)
        for seq, n in ((0, 0), (1, 1), (255, MAX_BODY), (256 + 3, 100)):
            body = bytes(random.Random(n).getrandbits(8) for _ in range(n))
            f = encode(seq, body, sync)
            assert len(f) == frames.HEADER + n + frames.TRAILER and f[:2] == sync
            assert dec.feed(f) == [(seq & 0xFF, body, frames.crc(f[2:-4]))]
        assert (dec.garbage, dec.bad_crc, dec.oversized, dec.truncated, dec.pending()) == \
            (0, 0, 0, 0, 0)


def test_encode_refuses_a_body_over_max_body():
    encode(1, bytes(MAX_BODY), SYNC_REQ)
    with pytest.raises(ValueError, match="^body too long$"):      # what callers always got
        encode(1, bytes(MAX_BODY + 1), SYNC_REQ)


def test_decoder_takes_only_its_own_sync():
    dec = Decoder(SYNC_ANS)
    echo = encode(3, b"\xa1\x62op", SYNC_REQ)     # the host's own request echoed back
    assert dec.feed(echo) == [] and dec.garbage == len(echo) and dec.pending() == 0


def test_resync_after_garbage():
    f = encode(9, b"hi", SYNC_REQ)
    dec = Decoder(SYNC_REQ)
    junk = b"ESP-ROM:esp32c3\r\n>>> \xa5\xa5\x00\xa5\x5b\x01"   # A5s, the answer sync
    assert dec.feed(junk + f + b"\r\n" + f) == [(9, b"hi", frames.crc(f[2:-4]))] * 2
    assert dec.garbage == len(junk) + 2 and dec.bad_crc == dec.oversized == 0
    # A5 A5 5A: the first A5 is garbage, the second starts the frame
    dec = Decoder(SYNC_REQ)
    assert dec.feed(b"\xa5" + f) == [(9, b"hi", frames.crc(f[2:-4]))] and dec.garbage == 1


def test_a_lone_first_sync_byte_at_the_end_of_a_chunk_is_kept():
    f = encode(9, b"hi", SYNC_REQ)
    dec = Decoder(SYNC_REQ)
    assert dec.feed(b"junk\xa5") == [] and dec.garbage == 4 and dec.pending() == 1
    assert dec.feed(f[1:]) == [(9, b"hi", frames.crc(f[2:-4]))] and dec.garbage == 4
    # ... and dropped as garbage when the next byte does not go on with the sync
    assert dec.feed(b"x\xa5") == [] and dec.garbage == 5 and dec.pending() == 1
    assert dec.feed(b"\xa5") == [] and dec.garbage == 6 and dec.pending() == 1
    assert dec.feed(b"y") == [] and dec.garbage == 8 and dec.pending() == 0
    assert dec.truncated == 0


def test_bad_crc_drops_the_first_sync_byte_and_hunts_on():
    good = encode(5, b"inner", SYNC_REQ)
    bad = bytearray(encode(4, b"\x00" + good, SYNC_REQ))   # a real frame inside a damaged one
    bad[-1] ^= 0xFF
    dec = Decoder(SYNC_REQ)
    assert dec.feed(bytes(bad)) == [(5, b"inner", frames.crc(good[2:-4]))]
    assert dec.bad_crc == 1 and dec.oversized == 0
    # garbage: what is left but the dropped A5 and the inner frame (the rest of the damaged one)
    assert dec.garbage == len(bad) - 1 - len(good) and dec.pending() == 0
    for i in (2, 3, 4, 5, 8, len(good) - 1):               # any damaged byte past the sync
        d = bytearray(good)
        d[i] ^= 0x01
        dec = Decoder(SYNC_REQ)
        out = dec.feed(bytes(d) + bytes(frames.HEADER + MAX_BODY + frames.TRAILER) + good)
        assert out == [(5, b"inner", frames.crc(good[2:-4]))]
        assert dec.bad_crc + dec.oversized == 1


def test_oversized_length_is_its_own_counter_and_hunts_on():
    f = encode(1, b"ok", SYNC_REQ)
    dec = Decoder(SYNC_REQ)
    over = SYNC_REQ + struct.pack(">BH", 1, MAX_BODY + 1)
    assert dec.feed(over) == [] and dec.oversized == 1 and dec.pending() == 0
    assert dec.feed(over[:-1]) == [] and dec.pending() == 4      # the length is not known yet
    assert dec.feed(b"\xff" + f) == [(1, b"ok", frames.crc(f[2:-4]))]
    assert (dec.oversized, dec.bad_crc, dec.garbage) == (2, 0, 2 * (len(over) - 1))
    # MAX_BODY itself is a length the decoder waits for
    dec = Decoder(SYNC_REQ)
    assert dec.feed(SYNC_REQ + struct.pack(">BH", 1, MAX_BODY)) == [] and dec.oversized == 0
    assert dec.pending() == 5


def test_partial_frame_then_expire():
    f = encode(2, b"identify", SYNC_REQ)
    dec = Decoder(SYNC_REQ)
    assert dec.feed(f[:7]) == [] and dec.pending() == 7
    dec.expire()
    assert dec.truncated == 1 and dec.pending() == 0
    assert dec.feed(f[7:]) == [] and dec.garbage == len(f) - 7     # its tail is garbage now
    assert dec.feed(f) == [(2, b"identify", frames.crc(f[2:-4]))]
    dec.expire()                                                    # nothing held: no count
    assert dec.feed(b"\xa5") == [] and dec.pending() == 1
    dec.expire()                                                    # a lone A5 is garbage
    assert dec.truncated == 1 and dec.garbage == len(f) - 7 + 1 and dec.pending() == 0


def _stream():
    fs = [encode(s, bytes([s]) * n, SYNC_REQ) for s, n in ((1, 0), (2, 1), (250, 300))]
    junk = b"boot\xa5\xa5"
    data = junk + fs[0] + fs[1] + b"\xa5\x00" + fs[2]
    want = [(f[2], f[5:-4], frames.crc(f[2:-4])) for f in fs]
    return data, want, len(junk) + 2


def test_frames_split_across_feed_calls_at_every_byte_boundary():
    data, want, junk = _stream()
    for i in range(len(data) + 1):
        dec = Decoder(SYNC_REQ)
        assert dec.feed(data[:i]) + dec.feed(data[i:]) == want, i
        assert (dec.garbage, dec.bad_crc, dec.oversized, dec.pending()) == (junk, 0, 0, 0)
    dec = Decoder(SYNC_REQ)
    got = []
    for i in range(len(data)):
        got += dec.feed(data[i:i + 1])
    assert got == want and dec.garbage == junk


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=40).map(lambda b: b.replace(b"\xa5", b"")),
                          st.tuples(st.integers(0, 255), st.binary(max_size=300))),
                max_size=8),
       st.lists(st.integers(1, 64), min_size=1))
def test_any_chunking_gives_the_frames_of_the_stream(parts, cuts):
    data, want, junk = b"", [], 0
    for p in parts:
        if isinstance(p, bytes):
            data, junk = data + p, junk + len(p)
        else:
            f = encode(p[0], p[1], SYNC_ANS)
            data += f
            want.append((p[0], p[1], frames.crc(f[2:-4])))
    dec, got, i, k = Decoder(SYNC_ANS), [], 0, 0
    while i < len(data):
        n = cuts[k % len(cuts)]
        got += dec.feed(data[i:i + n])
        i, k = i + n, k + 1
    assert got == want and dec.garbage == junk and dec.pending() == 0


# ---- (c) MicroPython, byte for byte against CPython ----

SCENARIO = r"""
import binascii
from xinka import frames
from xinka.frames import SYNC_REQ, SYNC_ANS, MAX_BODY, Decoder, encode

def h(b):
    return binascii.hexlify(b).decode()

def show(tag, dec, out):
    print(tag, [(s, h(b), c) for s, b, c in out], dec.garbage, dec.bad_crc, dec.oversized,
          dec.truncated, dec.pending())

print("consts", h(SYNC_REQ), h(SYNC_ANS), MAX_BODY, frames.HEADER, frames.TRAILER)
big = bytes(range(256)) * 8
print("enc", h(encode(0, b"", SYNC_REQ)), h(encode(300, b"hi", SYNC_ANS)))
print("encbig", binascii.crc32(encode(255, big, SYNC_ANS)))
try:
    encode(1, big + b"x", SYNC_REQ)
    print("toolong none")
except ValueError as e:
    print("toolong", e)

f = encode(9, b"hi", SYNC_REQ)
d = Decoder(SYNC_REQ)
show("roundtrip", d, d.feed(encode(255, big, SYNC_REQ)) + d.feed(f))
d = Decoder(SYNC_REQ)
show("garbage", d, d.feed(b"ESP-ROM\r\n\xa5\xa5\x00" + encode(1, b"x", SYNC_ANS) + f))
d = Decoder(SYNC_REQ)
show("lone1", d, d.feed(b"junk\xa5"))
show("lone2", d, d.feed(f[1:]))
show("lone3", d, d.feed(b"x\xa5") + d.feed(b"y"))
inner = encode(5, b"inner", SYNC_REQ)
bad = bytearray(encode(4, b"\x00" + inner, SYNC_REQ))
bad[-1] ^= 0xFF
d = Decoder(SYNC_REQ)
show("badcrc", d, d.feed(bytes(bad)))
d = Decoder(SYNC_REQ)
show("over", d, d.feed(SYNC_REQ + b"\x01\x08\x01") + d.feed(SYNC_REQ + b"\x01\x08\x00"))
d = Decoder(SYNC_REQ)
show("partial", d, d.feed(f[:7]))
d.expire()
show("expired", d, d.feed(f[7:]) + d.feed(f))
d.feed(b"\xa5")
d.expire()
show("expired1", d, [])
data = (b"boot\xa5\xa5" + f + encode(2, b"", SYNC_REQ) + b"\xa5\x00"
        + encode(250, big[:300], SYNC_REQ))
ok = 0
for i in range(len(data) + 1):
    d = Decoder(SYNC_REQ)
    out = d.feed(data[:i]) + d.feed(data[i:])
    if len(out) == 3 and d.garbage == 8 and d.pending() == 0:
        ok += 1
d = Decoder(SYNC_REQ)
out = []
for i in range(len(data)):
    out += d.feed(data[i:i + 1])
show("split %d/%d" % (ok, len(data) + 1), d, out)
"""


def test_the_same_checks_under_micropython_give_the_same_output(upy):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(SCENARIO, "scenario", "exec"), {})
    want = buf.getvalue().splitlines()
    got = upy(SCENARIO).stdout.splitlines()
    assert got == want
    lines = {ln.split()[0]: ln for ln in want}
    assert lines["consts"] == "consts a55a a55b 2048 5 4"
    assert lines["toolong"] == "toolong body too long"
    assert lines["badcrc"].endswith("] 9 1 0 0 0") and "'696e6e6572'" in lines["badcrc"]
    assert lines["over"].endswith("[] 4 0 1 0 5")
    assert lines["lone3"].endswith("[] 7 0 0 0 0")
    assert lines["expired"].endswith("4 0 0 1 0") and lines["expired1"].endswith("5 0 0 1 0")
    ok, points = lines["split"].split()[1].split("/")       # every split point worked
    assert ok == points and int(points) > 300


def test_badge_decode_of_a_full_frame_is_cheap_under_micropython(upy):
    """A MAX_BODY request arriving in 64-byte reads (USB-CDC): the decoder's allocations stay
    a few times the frame, not one copy of the buffer per read."""
    script = r"""
import gc
from xinka.frames import SYNC_REQ, Decoder, encode
f = encode(1, bytes(2048), SYNC_REQ)
d = Decoder(SYNC_REQ)
chunks = [f[i:i + 64] for i in range(0, len(f), 64)]
gc.collect()
gc.disable()
a = gc.mem_alloc()
out = []
for c in chunks:
    out += d.feed(c)
used = gc.mem_alloc() - a
gc.enable()
print(len(out), len(out[0][1]), used)
"""
    n, size, used = map(int, upy(script).stdout.split())
    assert (n, size) == (1, 2048)
    assert used < 4 * len(encode(1, bytes(2048), SYNC_REQ)), used


# ---- (d) one definition in the tree ----

ALLOWED = {"firmware/lib/xinka/frames.py",       # the definition
           "docs/technician.md",                  # the spec it is checked against, above
           "tests/firmware/test_frames.py"}       # this file: the patterns it looks for
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".hypothesis", ".pytest_cache", "node_modules",
              "build", "dist"}
_TEXT = {".py", ".md", ".txt", ".rst", ".json", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".sh",
         ".html", ".js", ".c", ".h"}
SYNCS = (SYNC_REQ, SYNC_ANS)
# the sync written out: "A5 5A", "a5:5b", "0xA55A", a hex string that starts with it
_SPELLED = re.compile(r"(?i)(?<![0-9a-z])(?:a5[ _:-]5[ab]|(?:0x)?a55[ab])(?![0-9a-z])")
_HEX_START = re.compile(r"(?i)^\s*(?:0x)?a5[ _:-]?5[ab]")
_SYNC_INTS = {int.from_bytes(s, o) for s in SYNCS for o in ("big", "little")}


def _tree():
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=ROOT, capture_output=True,
                             check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for d, dirs, files in os.walk(ROOT):
            dirs[:] = [x for x in dirs if x not in _SKIP_DIRS and not x.endswith(".egg-info")]
            names += [os.path.relpath(os.path.join(d, f), ROOT) for f in files]
    return sorted(n for n in names if pathlib.PurePath(n).suffix in _TEXT
                  and (ROOT / n).is_file())


def _redefinitions(source, name="<source>"):
    """Where `source` defines the frame constants again: (line, what)."""
    found = []
    if not name.endswith(".py"):
        for i, line in enumerate(source.splitlines(), 1):
            if _SPELLED.search(line):
                found.append((i, "sync spelled out: " + line.strip()))
        return found
    try:
        tree = ast.parse(source)
    except SyntaxError:                      # someone's file mid-edit: read it as text
        return _redefinitions(source, name + ".txt")
    for node in ast.walk(tree):
        v = getattr(node, "value", None) if isinstance(node, ast.Constant) else None
        if isinstance(v, bytes) and v[:2] in SYNCS:
            found.append((node.lineno, "sync bytes %r" % v[:8]))
        elif isinstance(v, str) and (_HEX_START.match(v) or _SPELLED.search(v)):
            found.append((node.lineno, "sync spelled out in %r" % v[:40]))
        elif type(v) is int and v in _SYNC_INTS:
            found.append((node.lineno, "sync as an int 0x%X" % v))
        elif isinstance(node, (ast.List, ast.Tuple)):
            ints = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
            if any(ints[i:i + 2] in ([s[0], s[1]] for s in SYNCS) for i in range(len(ints))):
                found.append((node.lineno, "sync as a list of ints"))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                tname = getattr(t, "id", None) or getattr(t, "attr", None) or ""
                if tname == "MAX_BODY" or (tname.endswith("MAX_BODY") and node.value and
                                           "%d" % MAX_BODY in ast.unparse(node.value)):
                    found.append((node.lineno, "%s defined" % tname))
    return found


def test_the_checker_finds_redefinitions():
    src = ('SYNC = b"\\xa5\\x5a"\nFRAME = b"\\xa5\\x5b\\x01\\x00\\x00"\nMAX_BODY = 2048\n'
           '_MAX_BODY = const(2048)\nS = bytes([0xA5, 0x5B])\nH = "a55a0700"\nX = 0xA55A\n'
           'D = "sync = A5 5A for requests"\nclass L:\n    MAX_BODY = 4096\n')
    assert sorted(ln for ln, _ in _redefinitions(src, "x.py")) == [1, 2, 3, 4, 5, 6, 7, 8, 10]
    # what is not a definition: the sync inside a longer table, another body limit, a CBOR
    # map head (A5), hex that only contains the digits, the names imported
    ok = ('T = b"\\x00\\xa5\\x5a\\x01"\n_MAX_BODY = const(262144)\nM = b"\\xa5"\n'
          'V = "01a55a02"\nfrom xinka.frames import MAX_BODY, SYNC_REQ\nn = MAX_BODY + 1\n')
    assert _redefinitions(ok, "y.py") == []
    assert [ln for ln, _ in _redefinitions("one\nsync A5 5B here\n", "z.md")] == [2]


def test_no_other_file_defines_the_sync_bytes_or_max_body():
    files = _tree()
    assert "firmware/lib/xinka/frames.py" in files and len(files) > 100
    bad = []
    for name in files:
        if name in ALLOWED:
            continue
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        bad += ["%s:%d: %s" % (name, ln, what) for ln, what in _redefinitions(text, name)]
    assert bad == [], "use xinka.frames instead:\n" + "\n".join(bad)
    # and the definition is where the check says it is
    assert _redefinitions((ROOT / "firmware/lib/xinka/frames.py").read_text(), "frames.py")
