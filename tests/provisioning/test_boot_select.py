"""firmware/badge/boot_select.py under MicroPython: which mode a badge boots into.

Unprovisioned (not locked) -> provisioning mode; locked -> the badge loop, unless the button is
held (HOLD_MS without a break within WINDOW_MS of boot). The decision, the button sampling on a
scripted clock, and `run` on a fake board whose state is a real BadgeState in a directory."""
import pytest

BOARD = r"""
import boot_select, state, identity

class Board:
    def __init__(self, root, presses=(), name="b"):
        self.fs_root = root
        self.t = 0
        self.presses = presses          # (from_ms, to_ms) intervals the button is held
        self.shown = []
        self.sleeps = 0
    def ticks_ms(self):
        return self.t
    def button(self):
        return any(a <= self.t < b for a, b in self.presses)
    def sleep(self, ms):
        self.sleeps += 1
        self.t += ms
    def show(self, name):
        self.shown.append(name)
    def chip_id(self):
        return b"\xa4\xcf\x12\x00\x00\x01"
    def rng(self, n):
        return bytes(n)

def held(presses):
    b = Board("/tmp", presses)
    return boot_select.button_held(b.button, b.sleep, b.ticks_ms)
"""


def run(upy, body, tmp_path=None):
    out = upy(BOARD + body, path=("lib", "badge")).stdout.split("\n")
    return [line for line in out if line]


def test_decide_table(upy):
    out = run(upy, "for s in ('blank', 'keyed', 'installed', 'locked'):\n"
                   "    print(s, boot_select.decide(s, False), boot_select.decide(s, True))\n")
    assert out == ["blank provision provision", "keyed provision provision",
                   "installed provision provision", "locked badge provision"]


@pytest.mark.parametrize("presses,expect", [
    ((), False),
    (((0, 2000),), True),                 # held from boot on
    (((1000, 1600),), True),              # pressed late in the window, held HOLD_MS
    (((0, 300), (400, 800)), False),      # two short presses: never HOLD_MS at once
    (((1400, 3000),), False),             # pressed at the end of the window: too late
    (((0, 490),), False),                 # just short of HOLD_MS
])
def test_button_held_for_hold_ms_within_the_window(upy, presses, expect):
    out = run(upy, "print(held(%r))\n" % (presses,))
    assert out == [str(expect)]


def test_run_provisions_an_unprovisioned_badge_and_loops_a_locked_one(upy, tmp_path):
    root = str(tmp_path)
    out = run(upy, r"""
calls = []
def serve(board, st):
    calls.append("serve:" + identity.Identity(st).status())
    ident = identity.Identity(st)
    # what the technician's tool does, in short: a key, a credential, the host, the lock
    st.put("key", b"\x01" * 32); st.put("credential", b"c"); st.put("host", b"h")
    ident.lock()
    return ident.status()
def loop(board):
    calls.append("loop")

b = Board(%r)
boot_select.run(b, loop, serve)                   # a blank badge
print(calls, b.shown, b.t)
calls.clear()
b = Board(%r)
boot_select.run(b, loop, serve)                   # the same flash, now locked
print(calls, b.shown, b.t >= boot_select.WINDOW_MS)
calls.clear()
b = Board(%r, ((0, 5000),))
boot_select.run(b, loop, serve)                   # locked, the button held at boot
print(calls, b.shown, b.t)
""" % (root, root, root))
    assert out[0] == "['serve:blank', 'loop'] ['provisioning'] 0"      # no wait for the button
    assert out[1] == "['loop'] [] True"
    assert out[2] == "['serve:locked', 'loop'] ['provisioning'] %d" % 500


def test_run_serves_again_until_the_badge_is_locked(upy, tmp_path):
    out = run(upy, r"""
n = []
def serve(board, st):
    n.append(1)                                   # the host hung up, the badge not locked
    return identity.Identity(st).status()
def loop(board):
    print("loop")
b = Board(%r)
try:
    import sys
    def serve3(board, st):
        if len(n) == 3:
            raise SystemExit
        return serve(board, st)
    boot_select.run(b, loop, serve3)
except SystemExit:
    print("served", len(n), "slept", b.t)
""" % str(tmp_path))
    assert out == ["served 3 slept 3000"]


def test_locked_and_idle_ends_provisioning_mode(upy, tmp_path):
    out = run(upy, r"""
import boot_select as bs
st = state.BadgeState(%r).load()
class P:
    def __init__(self):
        self.ident = identity.Identity(st)
    def handle(self, body):
        return b"ok"
t = [0]
s = bs._Session(P(), lambda: t[0])
print(s.done())
st.put("locked", b"\x01")
t[0] = bs.LOCKED_IDLE_MS - 1
print(s.done())
s.handle(b"x")                                     # a request: the idle time starts again
t[0] += bs.LOCKED_IDLE_MS - 1
print(s.done())
t[0] += 1
print(s.done())
""" % str(tmp_path))
    assert out == ["False", "False", "False", "True"]


def test_the_badge_loop_gets_the_heap_of_provisioning_mode_back(upy, tmp_path):
    # after provisioning mode (the badge locked), its modules are unloaded before the loop
    out = run(upy, r"""
import gc, sys
def serve(board, st):
    import provision, serial_link
    from xinka import frames
    return identity.LOCKED
def loop(board):
    gc.collect()
    print(sorted(n for n in ("provision", "serial_link", "xinka.frames") if n in sys.modules))
    import xinka
    print(hasattr(xinka, "frames"))
boot_select.run(Board(%r), loop, serve=serve)
""" % str(tmp_path))
    assert out == ["[]", "False"]
