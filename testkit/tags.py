"""Reading simulated (or real) badges with nfcpy, as a phone and a terminal do.

- read_tap: nfcpy's own Type 2 tag code reads the NDEF URI, as a phone does;
- checkin and its steps (session, wait, write_window, send, receive): the terminal's side of
  the check-in, as a PN532 or a phone does it: raw NFC Forum Type 2 frames through nfcpy's
  clf.exchange. Thin wrappers over xinka.passthrough.PassThrough and xinka.sram, the
  terminals' own exchange and windows (docs/protocol.md "SRAM exchange"), so the tests drive
  the badge with the code the terminals run; `send` also takes windows built by hand
  (malformed ones included), and `x` is one raw frame whose nfc.clf.CommunicationError is the
  caller's.
Used by the badge tests and bench/bench_badge_tap.py.
"""
import time

from hardware.sim import reader
from host.wire import parse_tap_url
from xinka.passthrough import PassThrough

# the names the tests and the bench use, re-exported from the one definition
from xinka.sram import (  # noqa: F401
    ACK,
    FAST_READ,
    K_CHALLENGE,
    K_ERROR,
    K_RESPONSE,
    READ,
    SESSION_PAGE,
    SRAM_FIRST,
    SRAM_I2C_READY,
    SRAM_LAST,
    SRAM_RF_READY,
    WRITE,
    windows,
)
from xinka.sram import PAYLOAD as CHUNK  # noqa: F401 - the tests' name for it

TIMEOUT = 0.05


class TerminalError(Exception):
    pass


def connect(path):
    """(clf, tag) with the tag activated (nfcpy's own anticollision and Type 2 activation)."""
    clf = reader.frontend(path)
    tag = clf.connect(rdwr={"on-connect": lambda t: False})
    if tag is None:
        clf.close()
        raise TerminalError("no tag")
    return clf, tag


def x(clf, frame, timeout=TIMEOUT):
    return bytes(clf.exchange(bytearray(frame), timeout))


def passthrough(clf, timeout=3.0):
    """PassThrough over clf.exchange, `timeout` s for each wait on the badge."""
    return PassThrough(lambda frame, ms: x(clf, frame, ms / 1000),
                       frame_ms=round(TIMEOUT * 1000), wait_ms=round(timeout * 1000))


def session(clf):
    """(NC_REG, NS_REG) read through the RF side's session register page."""
    return passthrough(clf).session()


def wait(clf, pred, timeout=3.0):
    """Poll the session registers until pred(nc, ns): (nc, ns); passthrough.TagError
    badge_timeout when it does not come."""
    return passthrough(clf, timeout).wait(pred, "the test's condition")


def write_window(clf, window):
    """WRITE pages F0h..FFh, 4 bytes each; the write to FFh hands the SRAM to the badge."""
    passthrough(clf).write_window(window)


def send(clf, wins):
    """Confirm pass-through NFC -> I2C, then write the windows, each once the badge took the
    one before (SRAM_I2C_READY low)."""
    passthrough(clf).send_windows(wins)


def receive(clf, timeout=3.0):
    """(kind, payload): poll NS_REG.SRAM_RF_READY, FAST_READ F0h..FFh, until the last window;
    the windows checked as a terminal checks them (sram.FrameError)."""
    return passthrough(clf, timeout).receive()


def checkin(path, challenge):
    """One check-in: (kind, payload) of the badge's answer."""
    clf, tag = connect(path)
    try:
        pt = passthrough(clf)
        pt.send(K_CHALLENGE, challenge)
        return pt.receive()
    finally:
        clf.close()


def read_tap(path, attempts=3):
    """nfcpy's own Type 2 tag code: activate, read the NDEF, return (uri, token, credential).

    Like a phone, it taps again when a read comes back without an NDEF message: the simulated
    tag answers RF only between the firmware's loop steps (a real NT3H2111 answers on its own),
    and a read that lands during a rewrite sees the empty message the badge writes first.
    """
    for _ in range(attempts):
        clf = reader.frontend(path)
        try:
            tag = clf.connect(rdwr={"on-connect": lambda t: False})
            uri = tag.ndef.records[0].uri if tag is not None and tag.ndef is not None else None
        finally:
            clf.close()
        if uri is not None:
            token, cred = parse_tap_url(uri)
            return uri, token, cred
        time.sleep(0.05)
    raise AssertionError("no NDEF message read from %s in %d taps" % (path, attempts))
