"""The simulated badge (firmware under MicroPython) and the SRAM framing rules it shares with the
terminals (xinka/sram.py): challenge windows that break them get an error window and leave the
badge working.

A challenge of three full-length-looking windows carrying 161..180 bytes used to overflow the
badge's 160-byte challenge buffer: an IndexError out of the main loop, the badge dead until
reset. It is now refused as a bad challenge (error 2) before anything is copied.
"""
import os

from host.wire import encode_challenge, split_sequence, verify_tap
from host.wire.sample import NOW
from testkit import tags as terminal
from xinka import sram


def window(idx, cnt, payload, kind=sram.K_CHALLENGE):
    w = bytearray(sram.WINDOW)
    sram.fill(w, kind, idx, cnt, payload, b"", 0)
    return bytes(w)


def answer(badge, wins):
    clf, tag = terminal.connect(badge.path)
    try:
        terminal.send(clf, wins)
        return terminal.receive(clf)
    finally:
        clf.close()


def refused(badge, wins, code):
    before = badge.state()
    assert answer(badge, wins) == (sram.K_ERROR, bytes((code,)))
    after = badge.wait_state(lambda s: s["refused"] == before["refused"] + 1)
    assert after["ctr"] == before["ctr"] and after["led"] == "refused"
    assert badge.proc.poll() is None


def checks_in(badge, trust):
    nonce = os.urandom(16)
    kind, payload = terminal.checkin(badge.path, encode_challenge("T-A330100-01", NOW, nonce))
    assert kind == sram.K_RESPONSE
    assert verify_tap(*split_sequence(payload), trust, NOW, purposes="checkin").nonce == nonce


def test_challenge_longer_than_160_bytes_is_refused_not_a_crash(badge, trust):
    for total in (161, 180):
        body = bytes(range(total))
        wins = [window(i, 3, body[60 * i:]) for i in range(3)]
        assert [w[3] for w in wins] == [60, 60, total - 120]
        refused(badge, wins, sram.ERR_CHALLENGE)
    checks_in(badge, trust)


def test_windows_out_of_order_or_recounted_are_a_bad_frame(badge, trust):
    ch = encode_challenge("T-" + "杭州终端" * 7 + "01", NOW, os.urandom(16))    # two windows
    first, second = sram.windows(sram.K_CHALLENGE, ch)
    refused(badge, [first, second[:1] + b"\x02" + second[2:]], sram.ERR_FRAME)   # index skip
    refused(badge, [first, first], sram.ERR_FRAME)                               # repeat
    refused(badge, [first, second[:2] + b"\x03" + second[3:]], sram.ERR_FRAME)   # count 3 now
    refused(badge, [first[:3] + b"\x3b" + first[4:]], sram.ERR_FRAME)            # short first
    refused(badge, [window(0, 1, b"", sram.K_RESPONSE)], sram.ERR_FRAME)         # wrong kind
    checks_in(badge, trust)
