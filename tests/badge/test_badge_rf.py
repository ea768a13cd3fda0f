"""A simulated badge (firmware under MicroPython, 128 KiB heap budget, NT3H2111 model, littlefs
flash) read and challenged over nfcpy's udp: driver, results verified with host.wire."""
import os
import time

import nfc

from host.wire import encode_challenge, split_sequence, verify_tap
from host.wire.sample import NOW
from testkit import tags as terminal
from testkit.tags import read_tap


def verified_read(badge, trust, purposes=("status",)):
    """Read, verify, and wait until the badge has written the next token."""
    before = badge.state()["ctr"]
    uri, token, cred = read_tap(badge.path)
    tap = verify_tap(token, cred, trust, NOW, purposes=purposes)
    badge.wait_state(lambda s: s["ctr"] > before and s["tag"].endswith(":%d" % s["ctr"]))
    return tap


def test_read_verifies_and_next_token_has_higher_counter(badge, trust):
    uri, token, cred = read_tap(badge.path)
    assert uri.startswith("https://v.example.cn/t/")
    tap = verify_tap(token, cred, trust, NOW, purposes="status")
    assert tap.credential.status_idx == 0
    badge.wait_state(lambda s: s["ctr"] > tap.counter)
    _, token2, cred2 = read_tap(badge.path)
    tap2 = verify_tap(token2, cred2, trust, NOW, purposes="status")
    assert tap2.counter > tap.counter
    assert token2 != token


def test_checkin_through_sram_pass_through(badge, trust):
    nonce = os.urandom(16)
    ch = encode_challenge("T-A330100-01", NOW, nonce)
    before = badge.state()
    kind, payload = terminal.checkin(badge.path, ch)
    assert kind == terminal.K_RESPONSE
    token, cred = split_sequence(payload)
    tap = verify_tap(token, cred, trust, NOW, purposes="checkin")
    assert tap.nonce == nonce and tap.terminal_id == "T-A330100-01" and tap.terminal_time == NOW
    assert tap.counter > before["ctr"]
    st = badge.wait_state(lambda s: s["checkins"] == before["checkins"] + 1)
    assert st["led"] == "ok"


def test_checkin_long_terminal_id_takes_two_challenge_windows(badge, trust):
    nonce = os.urandom(16)
    ch = encode_challenge("T-" + "杭州终端" * 7 + "01", NOW, nonce)   # 32 characters, 88 bytes
    assert len(ch) > terminal.CHUNK
    kind, payload = terminal.checkin(badge.path, ch)
    assert kind == terminal.K_RESPONSE
    token, cred = split_sequence(payload)
    assert verify_tap(token, cred, trust, NOW, purposes="checkin").nonce == nonce


def refused(badge, wins, code):
    before = badge.state()
    clf, tag = terminal.connect(badge.path)
    try:
        terminal.send(clf, wins)
        kind, payload = terminal.receive(clf)
    finally:
        clf.close()
    assert (kind, payload) == (terminal.K_ERROR, bytes((code,)))
    after = badge.wait_state(lambda s: s["refused"] == before["refused"] + 1)
    assert after["ctr"] == before["ctr"]          # nothing signed, state untouched
    assert after["led"] == "refused"


def test_garbage_in_sram_is_refused(badge, trust):
    refused(badge, [bytes(range(64))], 1)
    refused(badge, [b"\xff" * 64], 1)


def test_challenge_with_wrong_length_is_refused(badge, trust):
    ch = encode_challenge("T-1", NOW, os.urandom(16))
    w = terminal.windows(terminal.K_CHALLENGE, ch)[0]
    refused(badge, [w[:3] + bytes((len(ch) - 5,)) + w[4:]], 2)       # cut short: bad CBOR
    refused(badge, [w[:3] + bytes((len(ch) + 7,)) + w[4:]], 2)       # trailing bytes
    bad = encode_challenge("T-1", NOW, os.urandom(16))[:-17] + b"\x4f" + os.urandom(15)
    refused(badge, terminal.windows(terminal.K_CHALLENGE, bad), 2)   # 15-byte nonce
    refused(badge, [bytes((1, 0, 1, 61)) + bytes(60)], 1)            # chunk longer than 60


def test_bad_rf_input_leaves_badge_working(badge, trust):
    tap0 = verified_read(badge, trust)
    clf, tag = terminal.connect(badge.path)
    try:
        # writes outside user memory (UID pages, holes in the map, past the end): all refused
        for page in (0x00, 0x01, 0xEA, 0xEB, 0xEE, 0xEF):
            try:
                r = terminal.x(clf, (terminal.WRITE, page & 0xFF, 1, 2, 3, 4))
            except nfc.clf.CommunicationError:
                r = b""
            assert r != bytes((terminal.ACK,))
            clf.close()
            clf, tag = terminal.connect(badge.path)
        # reader vanishes mid-exchange: half a challenge window, then no RFOFF, no frames
        terminal.wait(clf, lambda nc, ns: nc & 0x41 == 0x41)
        for p in range(7):
            terminal.x(clf, (terminal.WRITE, 0xF0 + p, 1, 0, 1, 40))
        clf.device.socket.close()       # gone without RFOFF: the tag's field times out
        clf.device.socket = None
    finally:
        try:
            clf.close()
        except Exception:
            pass
    time.sleep(1.5)
    # a reader that vanishes while the response is being read
    clf, tag = terminal.connect(badge.path)
    terminal.send(clf, terminal.windows(terminal.K_CHALLENGE,
                                        encode_challenge("T-9", NOW, os.urandom(16))))
    terminal.wait(clf, lambda nc, ns: ns & terminal.SRAM_RF_READY)
    terminal.x(clf, (terminal.FAST_READ, 0xF0, 0xFF))   # first window only
    clf.close()
    time.sleep(0.2)
    tap1 = verified_read(badge, trust)
    assert tap1.counter > tap0.counter
    st = badge.state()
    assert st["provisioned"] == 1 and st["ctr"] > tap1.counter - 1


def test_phone_read_after_a_checkin_gets_a_token_newer_than_the_checkin(badge, trust):
    """The status token written before a check-in has a lower counter than the check-in: the
    badge must replace it, or the employer's phone gets a token the verifier calls a replay."""
    nonce = os.urandom(16)
    kind, payload = terminal.checkin(badge.path, encode_challenge("T-A330100-01", NOW, nonce))
    assert kind == terminal.K_RESPONSE
    checkin = verify_tap(*split_sequence(payload), trust, NOW, purposes="checkin")
    badge.wait_state(lambda s: s["ctr"] > checkin.counter and s["tag"].endswith(":%d" % s["ctr"]))
    uri, token, cred = read_tap(badge.path)
    assert verify_tap(token, cred, trust, NOW, purposes="status").counter > checkin.counter
