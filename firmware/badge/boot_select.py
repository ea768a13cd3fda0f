"""At boot: provisioning mode on the USB serial port, or the badge loop (main.py).

Provisioning mode when the badge is not provisioned, or when the button is held at boot:
- not provisioned = its identity is not `locked` (identity.py): blank, keyed or installed. The
  technician's tool locks a badge as the last step of an issuance, so anything else is a new
  badge or an issuance that never finished, and only the tool can finish or wipe it.
- the button held: a locked badge can still be inspected and wiped (`provision inspect`,
  `provision wipe`); it refuses everything else until wiped (provision.py).
  The button of the reference board is GPIO9, the ESP32-C3's BOOT strapping pin: held *through
  reset* it starts the ROM download mode instead (what esptool uses). So it is read after the
  boot: held for HOLD_MS without a break within WINDOW_MS of start.

Provisioning mode speaks serial_link frames on USB-CDC (sys.stdin / sys.stdout), never the
REPL: Ctrl-C is off (micropython.kbd_intr(-1)), a 0x03 in a frame is data. It ends when the
host hangs up or, once the badge is locked, after LOCKED_IDLE_MS without a request (the
technician unplugged it and it runs on its battery); then the badge loop runs if the badge is
locked. Board-independent: the board (board_esp32c3.Board, or a simulation board) provides
fs_root, chip_id(), rng(n), button(), show(name), sleep(ms) and ticks_ms().
"""
from xinka.compat import const, ticks_diff, ticks_ms


from identity import LOCKED, Identity
from state import BadgeState

PROVISION = "provision"
BADGE = "badge"
WINDOW_MS = const(1500)
HOLD_MS = const(500)
LOCKED_IDLE_MS = const(5000)
_SAMPLE_MS = const(10)


def decide(status, held):
    """PROVISION or BADGE for an identity status (identity.py) and the button held or not."""
    if held or status != LOCKED:
        return PROVISION
    return BADGE


def button_held(pressed, sleep_ms, ticks=ticks_ms, window_ms=WINDOW_MS, hold_ms=HOLD_MS):
    """True once pressed() reads True for hold_ms without a break, within window_ms."""
    start = ticks()
    since = None
    while True:
        now = ticks()
        if pressed():
            if since is None:
                since = now
            if ticks_diff(now, since) >= hold_ms:
                return True
        else:
            since = None
        if ticks_diff(now, start) >= window_ms:
            return False
        sleep_ms(_SAMPLE_MS)


def mode(board, st):
    """PROVISION or BADGE for this board and its loaded BadgeState."""
    status = Identity(st).status()
    # an unlocked badge provisions anyway: no need to wait for the button
    held = status == LOCKED and button_held(board.button, board.sleep, board.ticks_ms)
    return decide(status, held)


class _Session:
    """The Provisioner's handler, with the time of the last request."""

    def __init__(self, prov, ticks):
        self.prov = prov
        self.ticks = ticks
        self.last = ticks()

    def handle(self, body):
        self.last = self.ticks()
        return self.prov.handle(body)

    def done(self):
        return (self.prov.ident.locked()
                and ticks_diff(self.ticks(), self.last) >= LOCKED_IDLE_MS)


def serve_usb(board, st):
    """Provisioning mode on the USB serial port until the host hangs up or the badge is
    locked and left alone. Returns the identity status at the end."""
    import sys

    import provision
    import serial_link
    try:
        import micropython
        micropython.kbd_intr(-1)    # 0x03 in a frame is data, not Ctrl-C
    except (ImportError, AttributeError):
        micropython = None
    prov = provision.Provisioner(st, board.chip_id(), board.rng)
    session = _Session(prov, board.ticks_ms)
    link = serial_link.Link(serial_link.PollStream(sys.stdin.buffer, sys.stdout.buffer))
    try:
        provision.serve(link, session, stop=session.done)
    except serial_link.LinkClosed:
        pass
    finally:
        if micropython is not None:
            micropython.kbd_intr(3)
    return prov.ident.status()


def run(board, loop, serve=serve_usb):
    """Boot: provisioning mode or loop(board) (main.main on the badge), as `mode` decides.
    After provisioning mode a locked badge goes on to the loop; an unlocked one serves again
    (after a pause: the USB port may come back)."""
    st = BadgeState(board.fs_root.rstrip("/") + "/badge").load()
    if mode(board, st) == PROVISION:
        board.show("provisioning")
        while serve(board, st) != LOCKED:
            board.sleep(1000)
        _unload(PROVISIONING_MODULES)
    st = None
    loop(board)


# only provisioning mode needs these; the badge loop gets their heap back
PROVISIONING_MODULES = ("provision", "serial_link", "xinka.frames")


def _unload(names):
    import gc
    import sys
    for n in names:
        if n in sys.modules:
            del sys.modules[n]
    pkg = sys.modules.get("xinka")
    for n in names:
        if n.startswith("xinka.") and pkg is not None and hasattr(pkg, n[6:]):
            delattr(pkg, n[6:])
    gc.collect()
