"""firmware/lib/xinka/sram.py (the SRAM pass-through windows) and passthrough.py (the terminal's
RF-side exchange): the one implementation the badge, both terminals, the test reader and the
attacker's tags use.

(a) the spec in docs/protocol.md "SRAM exchange" against the module's constants; (b) round
trips through windows()/fill() and the Assembler; (c) every malformed window refused with its
reason; (d) the same checks under MicroPython, fill() and Assembler.add() with the heap locked,
PassThrough against a tag in both; (e) no other file in the tree defines the framing again.
"""
import ast
import contextlib
import io
import pathlib
import re
import sys

import pytest

from hardware.sim import replay_tag, runner
from xinka import passthrough, sram, tokens

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"


# ---- (a) the spec ----

def _section(title):
    text = DOC.read_text()
    start = text.index("### " + title)
    end = text.find("\n##", start + 4)
    return text[start:end if end > 0 else len(text)]


def _flat(text):
    return re.sub(r"\s+", " ", text)


def test_window_table_in_the_doc_is_the_module():
    sec = _section("SRAM exchange (NT3H2111 pass-through)")
    rows = dict(re.findall(r"^\| *([0-9–-]+) *\| *(.+?) *\|$", sec, re.M))
    assert list(rows) == ["0", "1", "2", "3", "4–63"], rows
    assert sram.HEADER == 4 and sram.WINDOW == 64 and sram.PAYLOAD == sram.WINDOW - sram.HEADER
    # byte 0: the kinds
    kinds = {name: int(k) for k, name in re.findall(r"(\d+) (challenge|response|error)",
                                                       rows["0"])}
    assert kinds == {"challenge": sram.K_CHALLENGE, "response": sram.K_RESPONSE,
                     "error": sram.K_ERROR}
    assert rows["0"].startswith("kind") and rows["1"].startswith("index")
    assert "number of windows" in rows["2"] and "payload bytes" in rows["3"]
    # byte 2: the window limits of each kind
    assert int(re.search(r"challenge 1–(\d+)", rows["2"]).group(1)) == \
        sram.MAX_CHALLENGE_WINDOWS == sram.max_windows(sram.K_CHALLENGE)
    assert int(re.search(r"response up to (\d+)", rows["2"]).group(1)) == \
        sram.MAX_RESPONSE_WINDOWS == sram.max_windows(sram.K_RESPONSE)
    assert int(re.search(r"error (\d+)", rows["2"]).group(1)) == \
        sram.MAX_ERROR_WINDOWS == sram.max_windows(sram.K_ERROR)
    # byte 3: the length rule
    assert int(re.search(r"0–(\d+);", rows["3"]).group(1)) == sram.PAYLOAD
    assert int(re.search(r"(\d+) in every window but the last", rows["3"]).group(1)) == \
        sram.PAYLOAD
    assert "challenge is not empty" in rows["3"]
    # the bytes of a window the module builds are what the table says
    payload = bytes(range(1, 131))
    wins = sram.windows(sram.K_RESPONSE, payload)
    assert [tuple(w[:4]) for w in wins] == [(2, 0, 3, 60), (2, 1, 3, 60), (2, 2, 3, 10)]
    assert b"".join(w[4:4 + w[3]] for w in wins) == payload
    assert wins[2][14:] == bytes(50)                    # zero-padded
    assert all(len(w) == 64 for w in wins)


def test_error_codes_and_sizes_in_the_doc_are_the_module():
    sec = _flat(_section("SRAM exchange (NT3H2111 pass-through)"))
    listed = re.search(r"error code \(one byte: ([^)]*)\)", sec).group(1)
    codes = {int(c): words for c, words in re.findall(r"(\d+) ([a-z ]+?)(?:,|$)", listed)}
    assert sorted(codes) == list(range(1, len(sram.ERRORS))) == [1, 2, 3, 4, 5]
    for code in codes:                                  # "no_nonce" ~ "no precomputed nonce"
        name = sram.ERRORS[code]
        assert set(name.split("_")) <= set(codes[code].split()), (code, name, codes[code])
    assert (sram.ERR_FRAME, sram.ERR_CHALLENGE, sram.ERR_UNPROVISIONED, sram.ERR_NO_NONCE,
            sram.ERR_INTERNAL) == (1, 2, 3, 4, 5)
    assert int(re.search(r"challenge CBOR \(at most (\d+) bytes\)", sec).group(1)) == \
        sram.CHALLENGE_MAX == sram.max_bytes(sram.K_CHALLENGE)
    assert sram.CHALLENGE_MAX <= sram.MAX_CHALLENGE_WINDOWS * sram.PAYLOAD
    # the largest response (size limits: tap token + credential) fits the response windows
    limits = _flat(_section("Size limits"))
    token = int(re.search(r"tap token \| (\d+) bytes", limits).group(1))
    cred = int(re.search(r"credential \| (\d+) bytes", limits).group(1))
    assert token + cred <= sram.max_bytes(sram.K_RESPONSE) == \
        sram.MAX_RESPONSE_WINDOWS * sram.PAYLOAD
    # pages and registers of the RF-side steps
    assert re.search(r"NFC pages F0h–FFh", sec) and (sram.SRAM_FIRST, sram.SRAM_LAST) == \
        (0xF0, 0xFF)
    assert "READ page ECh" in sec and sram.SESSION_PAGE == 0xEC
    assert "NC_REG is byte 0, NS_REG byte 6" in sec and (sram.NC_BYTE, sram.NS_BYTE) == (0, 6)
    assert "(16 WRITEs)" in sec and (sram.SRAM_LAST - sram.SRAM_FIRST + 1) * 4 == sram.WINDOW
    assert (sram.READ, sram.FAST_READ, sram.WRITE, sram.ACK) == (0x30, 0x3A, 0xA2, 0x0A)
    # NT3H2111 data sheet, session registers
    assert (sram.PTHRU_ON_OFF, sram.TRANSFER_DIR) == (0x40, 0x01)
    assert sram.PT_NFC_TO_I2C == sram.PTHRU_ON_OFF | sram.TRANSFER_DIR
    assert (sram.NDEF_DATA_READ, sram.SRAM_I2C_READY, sram.SRAM_RF_READY) == (0x80, 0x10, 0x08)


def test_the_challenge_parser_has_the_same_size_limit():
    # tokens.py keeps its own private copy of the limit (see the tree check below)
    assert tokens._CHALLENGE_MAX == sram.CHALLENGE_MAX
    longest = tokens.challenge("水" * tokens.TERMINAL_ID_MAX, 2**64 - 1, bytes(16))
    assert len(longest) <= sram.CHALLENGE_MAX
    assert len(sram.windows(sram.K_CHALLENGE, longest)) == sram.MAX_CHALLENGE_WINDOWS


# ---- (b), (c): the checks, as one script for CPython and MicroPython ----

CHECKS = r'''
from xinka import sram


def win(kind, idx, cnt, n, size=64):
    w = bytearray(size)
    w[0] = kind
    w[1] = idx
    w[2] = cnt
    w[3] = n
    i = 0
    while i < n and i < 60:
        w[4 + i] = 0xA0 + i % 16
        i += 1
    return bytes(w)


def full(kind, idx, cnt):
    return win(kind, idx, cnt, 60)


def feed(kinds, ws):
    a = sram.Assembler(kinds)
    done = False
    for w in ws:
        try:
            done = a.add(w)
        except sram.FrameError as e:
            # the message in progress is forgotten: a good one goes through right after
            ok = a.add(win(kinds[0], 0, 1, 1))
            return e.reason + ("" if ok else " not_reset")
    return "complete" if done else "incomplete"


CH = (sram.K_CHALLENGE,)
TE = (sram.K_RESPONSE, sram.K_ERROR)
CASES = [
    ("challenge_ok", CH, [full(1, 0, 2), win(1, 1, 2, 5)]),
    ("challenge_incomplete", CH, [full(1, 0, 2)]),
    ("challenge_160", CH, [full(1, 0, 3), full(1, 1, 3), win(1, 2, 3, 40)]),
    ("response_780", TE, [full(2, i, 13) for i in range(13)]),
    ("response_empty", TE, [win(2, 0, 1, 0)]),
    ("error_one_byte", TE, [win(3, 0, 1, 1)]),
    ("kind_response_at_badge", CH, [win(2, 0, 1, 5)]),
    ("kind_error_at_badge", CH, [win(3, 0, 1, 1)]),
    ("kind_challenge_at_terminal", TE, [win(1, 0, 1, 5)]),
    ("kind_0", TE, [win(0, 0, 1, 5)]),
    ("kind_4", TE, [win(4, 0, 1, 5)]),
    ("garbage_ff", CH, [b"\xff" * 64]),
    ("garbage_range", CH, [bytes(range(64))]),
    ("kind_change", TE, [full(2, 0, 2), win(3, 1, 2, 1)]),
    ("index_not_from_0", CH, [win(1, 1, 2, 5)]),
    ("index_skip", TE, [full(2, 0, 3), win(2, 2, 3, 5)]),
    ("index_repeat", TE, [full(2, 0, 3), full(2, 0, 3)]),
    ("count_change", TE, [full(2, 0, 3), full(2, 1, 4)]),
    ("count_change_down", CH, [full(1, 0, 3), win(1, 1, 2, 5)]),
    ("count_0", CH, [win(1, 0, 0, 5)]),
    ("count_0_response", TE, [win(2, 0, 0, 0)]),
    ("count_4_challenge", CH, [full(1, 0, 4)]),
    ("count_14_response", TE, [full(2, 0, 14)]),
    ("count_2_error", TE, [full(3, 0, 2)]),
    ("length_61", CH, [win(1, 0, 1, 61)]),
    ("length_255", TE, [win(2, 0, 1, 255)]),
    ("short_first", TE, [win(2, 0, 2, 59)]),
    ("short_middle", TE, [full(2, 0, 3), win(2, 1, 3, 1)]),
    ("empty_middle", TE, [full(2, 0, 3), win(2, 1, 3, 0)]),
    ("short_challenge", CH, [win(1, 0, 2, 30)]),
    ("empty_challenge", CH, [win(1, 0, 1, 0)]),
    ("empty_last_challenge", CH, [full(1, 0, 2), win(1, 1, 2, 0)]),
    ("challenge_161", CH, [full(1, 0, 3), full(1, 1, 3), win(1, 2, 3, 41)]),
    ("challenge_180", CH, [full(1, 0, 3), full(1, 1, 3), full(1, 2, 3)]),
    ("size_63", CH, [win(1, 0, 1, 5, 63)]),
    ("size_65", TE, [win(2, 0, 1, 5, 65)]),
    ("size_0", TE, [b""]),
]
for name, kinds, ws in CASES:
    print("case", name, feed(kinds, ws))


def source(n):
    b = bytearray(n)
    i = 0
    while i < n:
        b[i] = (i * 7 + 3) & 0xFF
        i += 1
    return bytes(b)


def check_windows(kind, p, ws):
    # the table of docs/protocol.md, window by window
    cnt = len(ws)
    if cnt != sram.count(len(p)) or cnt != max(1, (len(p) + 59) // 60):
        return "count"
    for i in range(cnt):
        w = ws[i]
        n = w[3]
        if len(w) != 64 or w[0] != kind or w[1] != i or w[2] != cnt:
            return "header"
        if n != (60 if i < cnt - 1 else len(p) - 60 * (cnt - 1)):
            return "length"
        if w[4:4 + n] != p[60 * i:60 * i + n] or w[4 + n:] != bytes(60 - n):
            return "payload"
    return ""


def badge_windows(kind, a, b):
    # what the badge writes: fill() straight from a and b into one buffer
    cnt = sram.count(len(a) + len(b))
    w = bytearray(64)
    out = []
    pos = 0
    for i in range(cnt):
        pos += sram.fill(w, kind, i, cnt, a, b, pos)
        out.append(bytes(w))
    return out


def roundtrips(kind, kinds, lo, hi):
    src = source(hi)
    tally = {}
    for n in range(lo, hi + 1):
        p = src[:n]
        try:
            ws = sram.windows(kind, p)
        except sram.FrameError as e:
            ws = None
            what = "windows_" + e.reason
        if ws is not None:
            what = check_windows(kind, p, ws) or "ok"
            for k in (0, 1, n // 3, n // 2, n - 1, n):
                if 0 <= k <= n and badge_windows(kind, p[:k], p[k:]) != ws:
                    what = "fill_differs"
        else:
            ws = badge_windows(kind, p, b"")      # built anyway: the receiver must refuse
        a = sram.Assembler(kinds)
        got = None
        try:
            for i in range(len(ws)):
                if a.add(ws[i]) != (i == len(ws) - 1):
                    what += "_early"
            got = a.message()
        except sram.FrameError as e:
            what += "_refused_" + e.reason
        if got is not None and got != (kind, p):
            what += "_differs"
        tally[what] = tally.get(what, 0) + 1
    print("rt", kind, lo, hi, " ".join("%s=%d" % kv for kv in sorted(tally.items())))


roundtrips(sram.K_RESPONSE, TE, 0, 800)
roundtrips(sram.K_CHALLENGE, CH, 0, 200)
roundtrips(sram.K_ERROR, TE, 0, 61)
'''

EXPECTED_CASES = {
    "challenge_ok": "complete", "challenge_incomplete": "incomplete",
    "challenge_160": "complete", "response_780": "complete", "response_empty": "complete",
    "error_one_byte": "complete",
    "kind_response_at_badge": "bad_kind", "kind_error_at_badge": "bad_kind",
    "kind_challenge_at_terminal": "bad_kind", "kind_0": "bad_kind", "kind_4": "bad_kind",
    "garbage_ff": "bad_kind", "garbage_range": "bad_kind", "kind_change": "bad_kind",
    "index_not_from_0": "bad_index", "index_skip": "bad_index", "index_repeat": "bad_index",
    "count_change": "bad_count", "count_change_down": "bad_count", "count_0": "bad_count",
    "count_0_response": "bad_count", "count_4_challenge": "bad_count",
    "count_14_response": "bad_count", "count_2_error": "bad_count",
    "length_61": "bad_length", "length_255": "bad_length",
    "short_first": "short_window", "short_middle": "short_window",
    "empty_middle": "short_window", "short_challenge": "short_window",
    "empty_challenge": "empty_window", "empty_last_challenge": "empty_window",
    "challenge_161": "too_long", "challenge_180": "too_long",
    "size_63": "bad_size", "size_65": "bad_size", "size_0": "bad_size",
}
EXPECTED_RT = [
    # responses: 0..780 bytes round trip; 781..800 need 14 windows: windows() refuses them,
    # and windows built anyway are refused by the receiver at the first one
    "rt 2 0 800 ok=781 windows_too_long_refused_bad_count=20",
    # challenges: an empty one is refused (its only window is empty), 1..160 round trip,
    # 161..180 are too long for the badge, 181..200 would need a fourth window
    "rt 1 0 200 ok=160 ok_refused_empty_window=1 windows_too_long_refused_bad_count=20 "
    "windows_too_long_refused_too_long=20",
    # errors: one window of up to 60 bytes
    "rt 3 0 61 ok=61 windows_too_long_refused_bad_count=1",
]


def _expected_lines():
    return ["case %s %s" % kv for kv in EXPECTED_CASES.items()] + EXPECTED_RT


def _run_here(script):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(script, "<checks>", "exec"), {"__name__": "checks"})
    return out.getvalue().splitlines()


def test_windows_and_assembler_cpython():
    assert _run_here(CHECKS) == _expected_lines()


def test_windows_and_assembler_micropython(upy):
    assert upy(CHECKS).stdout.splitlines() == _expected_lines()


def test_frame_error_carries_its_reason():
    a = sram.Assembler((sram.K_CHALLENGE,))
    with pytest.raises(sram.FrameError) as e:
        a.add(bytes((1, 0, 1, 61)) + bytes(60))
    assert (e.value.reason, str(e.value)) == ("bad_length", "bad_length: window 0100013d")
    assert isinstance(e.value, sram.SramError)
    with pytest.raises(sram.FrameError) as e:
        sram.windows(sram.K_CHALLENGE, bytes(161))
    assert e.value.reason == "too_long"
    r = passthrough.BadgeRefused(4)
    assert (r.reason, r.code, r.name, str(r)) == ("badge_refused", 4, "no_nonce",
                                                  "badge_refused: no_nonce")
    assert passthrough.BadgeRefused(9).name == "code 9"
    assert passthrough.BadgeRefused(0).name == "code 0"
    assert {sram.FrameError, passthrough.TagError, passthrough.BadgeRefused} == \
        set(sram.SramError.__subclasses__())


# ---- (d) the badge side with the heap locked ----

HEAP_LOCKED = r'''
import micropython
from xinka import sram

a = bytes(range(137))                     # a check-in token ...
b = bytes(range(256)) + bytes(range(200))  # ... and a credential
w = bytearray(64)
asm = sram.Assembler((sram.K_CHALLENGE,))
ch = sram.windows(sram.K_CHALLENGE, bytes(range(150)))
cnt = sram.count(len(a) + len(b))
out = bytearray(64 * cnt)


def send():
    # Badge._send's loop: every window of a || b through one buffer
    pos = 0
    for i in range(cnt):
        pos += sram.fill(w, sram.K_RESPONSE, i, cnt, a, b, pos)
        j = 0
        while j < 64:
            out[64 * i + j] = w[j]
            j += 1
    return pos


def take():
    # Badge._sram_in: the challenge windows into the assembler
    done = 0
    for k in range(len(ch)):
        if asm.add(ch[k]):
            done += 1
    asm.reset()
    for k in range(len(ch)):
        if asm.add(ch[k]):
            done += 1
    return done


micropython.heap_lock()
try:
    sent = send()
    done = take()
finally:
    micropython.heap_unlock()
print(sent, done, asm.n)
print(bytes(out) == b"".join(sram.windows(sram.K_RESPONSE, a + b)))
print(asm.message() == (sram.K_CHALLENGE, bytes(range(150))))
'''


def test_fill_and_assembler_allocate_nothing_under_micropython(upy):
    out = upy(HEAP_LOCKED).stdout.split()
    assert out == ["593", "2", "150", "True", "True"]


# ---- passthrough.PassThrough over a tag that answers like a badge (the attacker's tag) ----

PASSTHROUGH = r'''
from xinka import passthrough, sram
import replay_tag


def active(payload, kind=None):
    tag = replay_tag.ReplayTag(payload, kind)
    tag.rf_field(True)
    tag.state = "active"
    return tag


def over(tag):
    def exchange(frame, timeout_ms):
        r = tag.rf_exchange(bytes(frame))
        if r is None:
            raise OSError("silence")
        return r
    return exchange


def source(n):
    b = bytearray(n)
    for i in range(n):
        b[i] = (i * 13 + 5) & 0xFF
    return bytes(b)


def attempt(label, pt, call):
    try:
        r = call()
        print(label, "ok", len(r) if isinstance(r, (bytes, bytearray)) else r)
    except sram.SramError as e:
        print(label, type(e).__name__, e.reason)
    except OSError as e:
        print(label, "OSError")
    print(label, "frames", pt.frames)


payload = source(700)
ch = source(88)
tag = active(payload)
pt = passthrough.PassThrough(over(tag))
got = pt.checkin(ch)
print("checkin", got == payload, pt.frames)
print("challenge", tag.challenges == sram.windows(sram.K_CHALLENGE, ch))

tag = active(bytes((2,)), sram.K_ERROR)
pt = passthrough.PassThrough(over(tag))
attempt("refused", pt, lambda: pt.checkin(ch))
try:
    passthrough.PassThrough(over(active(bytes((5,)), sram.K_ERROR))).checkin(ch)
except passthrough.BadgeRefused as e:
    print("refused_code", e.code, e.name)

tag = active(payload)
tag.wins[1] = tag.wins[1][:3] + bytes((59,)) + tag.wins[1][4:]
pt = passthrough.PassThrough(over(tag))
attempt("short", pt, lambda: pt.checkin(ch))

tag = active(payload)
tag.wins[2] = tag.wins[2][:2] + bytes((13,)) + tag.wins[2][3:]
pt = passthrough.PassThrough(over(tag))
attempt("count_change", pt, lambda: pt.checkin(ch))

pt = passthrough.PassThrough(over(active(payload)))
attempt("too_long", pt, lambda: pt.checkin(source(161)))

pt = passthrough.PassThrough(lambda f, t: bytes(16), wait_ms=20)     # pass-through never on
attempt("timeout", pt, lambda: pt.checkin(ch))

pt = passthrough.PassThrough(lambda f, t: bytes(4))
attempt("session", pt, lambda: pt.checkin(ch))


def nak(frame, timeout_ms):
    return b"\x41" + bytes(15) if frame[0] == sram.READ else b"\x00"


pt = passthrough.PassThrough(nak)
attempt("nak", pt, lambda: pt.checkin(ch))


def silent(frame, timeout_ms):
    raise OSError("silence")


pt = passthrough.PassThrough(silent)
attempt("silence", pt, lambda: pt.checkin(ch))
'''

EXPECTED_PT = [
    # 1 session read, 2 x 16 WRITEs with a session read between, 12 x (session + FAST_READ)
    "checkin True 58", "challenge True",
    "refused BadgeRefused badge_refused", "refused frames 36", "refused_code 5 internal",
    "short FrameError short_window", "short frames 38",
    "count_change FrameError bad_count", "count_change frames 40",
    "too_long FrameError too_long", "too_long frames 0",
    "timeout TagError badge_timeout",
    "session TagError tag_protocol", "session frames 1",
    "nak TagError tag_nak", "nak frames 2",
    "silence OSError", "silence frames 1",
]


def _pt_lines(lines):
    # how many session polls a 20 ms timeout takes depends on the machine
    return [ln for ln in lines if not ln.startswith("timeout frames")]


def test_passthrough_cpython(monkeypatch):
    monkeypatch.setitem(sys.modules, "replay_tag", replay_tag)
    assert _pt_lines(_run_here(PASSTHROUGH)) == EXPECTED_PT


def test_passthrough_micropython(firmware_build, tmp_path):
    runner.compile_module(ROOT / "hardware" / "sim" / "replay_tag.py", tmp_path)
    out = runner.run(PASSTHROUGH, firmware_build, path=("lib", str(tmp_path))).stdout
    assert _pt_lines(out.splitlines()) == EXPECTED_PT


# ---- (e) one definition in the tree ----

SCANNED = ("firmware", "host", "hardware", "testkit", "tests", "bench", "tools", "demo")
HOME = ROOT / "firmware" / "lib" / "xinka" / "sram.py"
# names that mean the SRAM framing wherever they are defined (leading underscores ignored)
FRAMING = {"CHUNK", "K_CHALLENGE", "K_RESPONSE", "K_ERROR", "SRAM_FIRST", "SRAM_LAST",
           "SESSION_PAGE", "PTHRU", "DIR_NFC_TO_I2C", "PT_IN", "PTHRU_ON_OFF", "TRANSFER_DIR",
           "PT_NFC_TO_I2C", "SRAM_I2C_READY", "SRAM_RF_READY", "NDEF_DATA_READ", "NS_READ",
           "MAX_WINDOWS", "MAX_CHALLENGE_WINDOWS", "MAX_RESPONSE_WINDOWS",
           "MAX_ERROR_WINDOWS", "CHALLENGE_MAX", "RESPONSE_MAX", "BADGE_ERRORS", "ERR_FRAME",
           "ERR_CHALLENGE", "ERR_UNPROVISIONED", "ERR_NO_NONCE", "ERR_INTERNAL", "FAST_READ",
           "TAG_ACK"}
# generic names: framing only with the framing's value
VALUED = {"READ": 0x30, "WRITE": 0xA2, "ACK": 0x0A, "WINDOW": 64, "HEADER": 4, "HDR": 4,
          "PAYLOAD": 60}
# the chip's own maps: the driver's register map (the whole registers, for its I2C side) and
# the chip model (the chip itself, written independently of the firmware it tests) keep their
# NC_/NS_ names, and the model its ACK answer
REGISTER_MAPS = {"firmware/drivers/nt3h2111.py", "hardware/nt3h2111/model.py"}
CHIP_NAMES = r"N[SC]_|ACK$"
# tokens.py's private copy of the challenge size limit: checked equal above
KNOWN = {("firmware/lib/xinka/tokens.py", "CHALLENGE_MAX")}


def _value(node):
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "const" and node.args:
        node = node.args[0]
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _definitions(tree):
    """(name, value or None, line) of every assignment to a plain name, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            pairs = []
            for t in node.targets:
                if isinstance(t, ast.Name):
                    pairs.append((t, node.value))
                elif isinstance(t, ast.Tuple):
                    vals = node.value.elts if isinstance(node.value, ast.Tuple) and \
                        len(node.value.elts) == len(t.elts) else [None] * len(t.elts)
                    pairs += [(e, v) for e, v in zip(t.elts, vals, strict=True)
                              if isinstance(e, ast.Name)]
            for t, v in pairs:
                yield t.id, (_value(v) if v is not None else None), node.lineno
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id, _value(node.value) if node.value else None, node.lineno
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == "windows":
            yield "def windows", None, node.lineno


def test_no_other_file_defines_the_framing():
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if path == HOME:
                continue
            rel = path.relative_to(ROOT).as_posix()
            try:
                tree = ast.parse(path.read_text(), rel)
            except SyntaxError:
                continue            # someone's file mid-edit; it is checked once it parses
            for name, value, line in _definitions(tree):
                bare = name.lstrip("_")
                if (rel, bare) in KNOWN:
                    continue
                if rel in REGISTER_MAPS and re.match(CHIP_NAMES, bare):
                    continue
                if name == "def windows" or bare in FRAMING or \
                        (bare in VALUED and value == VALUED[bare]) or re.match(r"N[SC]_", bare):
                    found.append("%s:%d %s" % (rel, line, name))
    assert found == [], "defined again outside xinka/sram.py:\n" + "\n".join(found)


def test_the_badge_does_not_load_the_terminal_side():
    # the RF side is a module of its own so the badge's heap does not carry it (sram.py)
    for path in sorted((ROOT / "firmware" / "badge").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in ("xinka", "xinka.passthrough"):
                assert node.module == "xinka" and \
                    "passthrough" not in [a.name for a in node.names], path
