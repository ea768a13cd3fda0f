"""Reading simulated (or real) badges with nfcpy, as a phone and a terminal do.

- read_tap: nfcpy's own Type 2 tag code reads the NDEF URI, as a phone does;
- checkin: the terminal's side of the check-in, as a PN532 or a phone does it: raw NFC Forum
  Type 2 frames through nfcpy's clf.exchange (NT3H2111 data sheet "Pass-through mode"; framing
  in docs/protocol.md "Check-in challenge").
Used by the badge tests and bench/bench_badge_tap.py.
"""
import time

import nfc

from host.wire import parse_tap_url

READ, FAST_READ, WRITE = 0x30, 0x3A, 0xA2
SESSION_PAGE = 0xEC          # NC_REG .. WDT_LS, then ED: WDT_MS, I2C_CLOCK_STR, NS_REG, 00
SRAM_FIRST, SRAM_LAST = 0xF0, 0xFF
PTHRU, DIR_NFC_TO_I2C = 0x40, 0x01
SRAM_I2C_READY, SRAM_RF_READY = 0x10, 0x08
ACK = 0x0A
K_CHALLENGE, K_RESPONSE, K_ERROR = 1, 2, 3
CHUNK = 60
TIMEOUT = 0.05


class TerminalError(Exception):
    pass


def connect(path):
    """(clf, tag) with the tag activated (nfcpy's own anticollision and Type 2 activation)."""
    clf = nfc.ContactlessFrontend(path)
    tag = clf.connect(rdwr={"on-connect": lambda t: False})
    if tag is None:
        clf.close()
        raise TerminalError("no tag")
    return clf, tag


def x(clf, frame, timeout=TIMEOUT):
    return bytes(clf.exchange(bytearray(frame), timeout))


def session(clf):
    """(NC_REG, NS_REG) read through the RF side's session register page."""
    r = x(clf, (READ, SESSION_PAGE))
    if len(r) != 16:
        raise TerminalError("session read answered %s" % r.hex())
    return r[0], r[6]


def wait(clf, pred, timeout=3.0):
    end = time.monotonic() + timeout
    while True:
        nc, ns = session(clf)
        if pred(nc, ns):
            return nc, ns
        if time.monotonic() > end:
            raise TerminalError("timeout: NC_REG %02x NS_REG %02x" % (nc, ns))
        time.sleep(0.002)


def windows(kind, payload):
    """64-byte SRAM windows: kind, index, count, chunk length, 60 payload bytes (zero padded)."""
    n = max(1, -(-len(payload) // CHUNK))
    out = []
    for i in range(n):
        chunk = payload[i * CHUNK:(i + 1) * CHUNK]
        out.append(bytes((kind, i, n, len(chunk))) + chunk + bytes(CHUNK - len(chunk)))
    return out


def write_window(clf, window):
    """WRITE pages F0h..FFh, 4 bytes each; the write to FFh hands the SRAM to the badge."""
    for p in range(16):
        r = x(clf, (WRITE, SRAM_FIRST + p) + tuple(window[4 * p:4 * p + 4]))
        if r != bytes((ACK,)):
            raise TerminalError("WRITE %02x answered %s" % (SRAM_FIRST + p, r.hex()))


def send(clf, wins):
    """Confirm pass-through NFC -> I2C, then write the windows, each once the badge took the
    one before (SRAM_I2C_READY low)."""
    wait(clf, lambda nc, ns: nc & (PTHRU | DIR_NFC_TO_I2C) == PTHRU | DIR_NFC_TO_I2C)
    for i, w in enumerate(wins):
        if i:
            wait(clf, lambda nc, ns: not ns & SRAM_I2C_READY)
        write_window(clf, w)


def receive(clf, timeout=3.0):
    """(kind, payload): poll NS_REG.SRAM_RF_READY, FAST_READ F0h..FFh, until the last window."""
    payload = b""
    idx = 0
    while True:
        wait(clf, lambda nc, ns: ns & SRAM_RF_READY, timeout)
        w = x(clf, (FAST_READ, SRAM_FIRST, SRAM_LAST))
        if len(w) != 64 or w[1] != idx:
            raise TerminalError("bad window %s" % w.hex())
        kind, cnt, n = w[0], w[2], w[3]
        payload += w[4:4 + n]
        idx += 1
        if idx == cnt:
            return kind, payload


def checkin(path, challenge):
    """One check-in: (kind, payload) of the badge's answer."""
    clf, tag = connect(path)
    try:
        send(clf, windows(K_CHALLENGE, challenge))
        return receive(clf)
    finally:
        clf.close()


def read_tap(path, attempts=3):
    """nfcpy's own Type 2 tag code: activate, read the NDEF, return (uri, token, credential).

    Like a phone, it taps again when a read comes back without an NDEF message: the simulated
    tag answers RF only between the firmware's loop steps (a real NT3H2111 answers on its own),
    and a read that lands during a rewrite sees the empty message the badge writes first.
    """
    for _ in range(attempts):
        clf = nfc.ContactlessFrontend(path)
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
