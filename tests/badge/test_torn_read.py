"""A read of a badge gives its old message, its new one, or nothing (a phone taps again), never a
mix of the two: the URL a phone opens must be one the badge signed.

Two readers make the ways a read could tear likely:
- an impatient one: nfcpy's own Type 2 code (on the simulated badges' driver, which numbers
  its frames), but each READ is given up on at once and a copy sent before its answer is
  waited for, as nfcpy does after its 5 ms timeout: the answer to the first copy always crosses
  the repeat, however fast the badge answers. It must not be followed by a second one, which
  the reader would take for the answer to its next READ (hardware/nt3h2111/rf_udp.py, "Answers
  and time"), however the two processes are scheduled;
- a re-selecting one: reads the whole message but loses the answer to its last READ (the tag
  counts the message as read all the same), drops its field, selects the tag again a little
  later and reads the body again after the TLV header it kept. The badge must not rewrite the
  tag in that gap (firmware/badge/main.py, SETTLE_MS). A reader that stays away longer than
  SETTLE_MS and still trusts its old header cannot be helped by any tag: such reads (a loaded
  machine can stretch the gap) are not checked.
Every read that returns a message must verify (host.wire.verify_tap). Beside them, the same
rules in small: the UDP server's answers to a repeated frame, and the model's arbitration
(data sheet §11.1.1: the I2C side gets the memory only while the NFC side is IDLE or HALT).
"""
import random
import socket
import time

import ndef
import nfc
import nfc.clf
import nfc.tag
import pytest

from hardware.nt3h2111 import rf_udp
from hardware.sim.reader import frontend
from host.wire import parse_tap_url, verify_tap
from host.wire.sample import NOW
from tests.hardware import (activate as rf_select, read_block, release_i2c_lock, rig, write_block,
                            write_user_memory)

SETTLE = 0.15                   # s: firmware/badge/main.py SETTLE_MS
GAP_MAX = 0.06                  # s: the re-selecting reader's pause, well below SETTLE
TAPS, MAX_TAPS, ENOUGH = 40, 120, 10


def impatient(clf):
    """Make clf give up on each READ at once and send a copy of it (nfcpy's transceive retry),
    numbered as the same command."""
    exchange = clf.exchange

    def x(data, timeout):
        if data and data[0] == 0x30:
            exchange(data, 0)   # timeout 0: sent, no answer waited for (nfcpy's udp driver)
            clf.device.copy_next = True
        return exchange(data, timeout)
    clf.exchange = x
    return clf


def tap(path, reader=None):
    """One activation by nfcpy's Type 2 code: the NDEF message bytes, or None."""
    clf = frontend(path)
    try:
        if reader:
            reader(clf)
        tag = clf.connect(rdwr={"on-connect": lambda t: False})
        if tag is None or tag.ndef is None:
            return None
        return tag.ndef.octets
    except (nfc.tag.TagCommandError, nfc.clf.CommunicationError):
        return None
    finally:
        clf.close()


def activate(path):
    clf = frontend(path)
    tag = clf.connect(rdwr={"on-connect": lambda t: False})
    if tag is None:
        clf.close()
    return clf, tag


def read_body(tag, head):
    """The message bytes from page 8 on, after the TLV header `head` (pages 4-7)."""
    n, start = (head[1], 2) if head[1] != 0xFF else ((head[2] << 8) | head[3], 4)
    mem = bytearray(head)
    page = 8
    while len(mem) < start + n:
        mem += tag.read(page)
        page += 4
    return bytes(mem[start:start + n])


def reselecting_tap(path, gap):
    """(message or None, field gap in s). Reads the whole message, but the answer to its last
    READ is lost (the tag has set NDEF_DATA_READ all the same): it drops its field, selects the
    tag again after `gap` s and reads the body again after the TLV header it kept."""
    clf, tag = activate(path)
    if tag is None:
        return None, 0
    try:
        head = bytes(tag.read(4))               # pages 4-7: TLV header and the first bytes
        if head[0] != 0x03 or head[1] == 0:
            return None, 0                      # an empty message: a rewrite under way
        read_body(tag, head)                    # ...whose last answer never arrives
    except nfc.tag.TagCommandError:
        return None, 0
    finally:
        clf.close()
        off = time.monotonic()
    time.sleep(gap)
    clf, tag = activate(path)
    gap = time.monotonic() - off                # at most this long without a field
    if tag is None:
        return None, gap
    try:
        return read_body(tag, head), gap
    except nfc.tag.TagCommandError:
        return None, gap
    finally:
        clf.close()


def check(octets, trust):
    """Counter of a message that verifies; None for no message. A torn message fails here."""
    if not octets:
        return None
    try:
        uri = list(ndef.message_decoder(octets))[0].uri
        token, cred = parse_tap_url(uri)
        return verify_tap(token, cred, trust, NOW, purposes="status").counter
    except Exception as err:
        raise AssertionError("torn read: %s\n%s" % (err, octets.hex())) from err


def taps(one, seed):
    """Counters of the messages read by `one()` (None: nothing read), with a pause of up to
    0.4 s after each tap so that taps land before, during and after the badge's rewrites: at
    least TAPS taps, more (up to MAX_TAPS) until ENOUGH messages of 3 tokens came back. A loaded
    machine makes more taps come back empty: the badge misses nfcpy's 5 ms READ timeout."""
    rnd = random.Random(seed)
    counters = []
    for i in range(MAX_TAPS):
        read = [c for c in counters if c is not None]
        if i >= TAPS and len(read) >= ENOUGH and len(set(read)) >= 3:
            break
        counters.append(one(rnd))
        time.sleep(rnd.uniform(0, 0.4))
    read = [c for c in counters if c is not None]
    assert len(read) >= 5 and len(set(read)) >= 2, counters     # rewrites happened in between
    return read


def test_impatient_nfcpy_reads_are_whole_or_nothing(badge, trust):
    before = badge.stats()
    read = taps(lambda rnd: check(tap(badge.path, impatient), trust), 3)
    after = badge.stats()
    crossed = sum(after[k] - before[k] for k in ("udp_repeats", "udp_dropped"))
    assert crossed > 0, "no READ was repeated: the reader was not impatient enough"
    assert badge.state()["ctr"] >= max(read)


def test_reselecting_reader_never_mixes_header_and_body(badge, trust):
    def one(rnd):
        octets, gap = reselecting_tap(badge.path, rnd.uniform(0, GAP_MAX))
        return check(octets, trust) if gap < SETTLE else None

    read = taps(one, 7)
    st = badge.state()
    assert st["provisioned"] == 1 and st["ctr"] >= max(read)


# --- the same rules in small -------------------------------------------------------------------

BODY = bytes(range(1, 49))


class RawReader:
    """A reader on a UDP socket in nfcpy's udp format, stepping the server itself."""

    def __init__(self, srv):
        self.srv = srv
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(0.2)

    def send(self, hexframe, number=None):
        tail = b"" if number is None else b" #%d" % number
        self.s.sendto(b"106A " + hexframe.encode() + tail, ("127.0.0.1", self.srv.port))

    def recv_raw(self):
        return self.s.recvfrom(1024)[0]

    def recv(self):
        return bytes.fromhex(self.recv_raw()[5:].decode())

    def silent(self):
        self.s.settimeout(0.05)
        try:
            self.s.recvfrom(1024)
        except socket.timeout:
            return True
        return False

    def xchg(self, hexframe):
        self.send(hexframe)
        self.srv.step(100)
        return self.recv()

    def select(self):
        self.xchg("26")
        cl1 = self.xchg("9320")
        self.xchg("9370" + cl1.hex())
        cl2 = self.xchg("9520")
        assert self.xchg("9570" + cl2.hex()) == b"\x00"


@pytest.fixture
def served():
    tag, bus, clock = rig(clock=None, write_ms=0)
    write_user_memory(bus, clock, BODY)
    srv = rf_udp.RFServer(tag, 0)
    r = RawReader(srv)
    r.select()
    yield srv, r
    r.s.close()
    srv.close()


def test_a_repeat_that_crossed_the_answer_gets_no_second_answer(served):
    srv, r = served
    r.send("3004")
    srv.step(100)                       # answered, but the reader has already sent it again
    r.send("3004")
    srv.step(100)                       # the repeat is held: no answer yet
    assert r.recv() == BODY[0:16]       # the first answer, taken for the repeat
    r.send("3008")                      # the reader moves on
    srv.step(100)
    assert r.recv() == BODY[16:32]      # not a second copy of pages 04h-07h
    assert r.silent()
    assert srv.stats["held"] == 1 and srv.stats["answers"] == 7


def test_a_numbered_copy_gets_no_second_answer_however_late_the_reader(served):
    srv, r = served
    r.send("3004", 7)
    srv.step(100)
    r.send("3004", 7)                   # the same command, after its answer went out
    for _ in range(20):                 # the reader takes its time to move on
        srv.step(5)
    assert r.recv() == BODY[0:16]
    assert r.silent()
    r.send("3008", 8)
    srv.step(100)
    assert r.recv() == BODY[16:32]
    assert srv.stats["repeats"] == 1 and srv.stats["held"] == 0


def test_copies_waiting_together_are_one_command(served):
    srv, r = served
    for _ in range(3):
        r.send("3008")
    time.sleep(0.02)
    srv.step(0)
    assert r.recv() == BODY[16:32]
    assert r.silent()
    assert srv.stats["repeats"] == 2


def test_a_reader_polling_one_page_is_answered_each_time(served):
    srv, r = served
    for _ in range(3):
        r.send("30ec")
        for _ in range(20):             # the repeat is answered once it has been held
            srv.step(5)
        assert len(r.recv()) == 16
    assert srv.stats["answers"] == 8 and srv.stats["held"] == 2


def test_a_numbered_poll_is_answered_at_once(served):
    srv, r = served
    for n in range(3):
        r.send("30ec", n)
        srv.step(100)                   # a new number: a new command, nothing held
        assert len(r.recv()) == 16
    assert srv.stats["answers"] == 8 and srv.stats["held"] == 0


def test_i2c_cannot_take_the_memory_from_a_selected_reader():
    tag, bus, clock = rig(write_ms=0)
    write_user_memory(bus, clock, BODY)
    write_block(bus, 3, bytes(16))      # the host holds the memory (I2C_LOCKED)...
    tag.rf_field(True)
    assert rf_select(tag) == b"\x00"    # ...when a reader selects the tag: no RF_LOCKED yet
    release_i2c_lock(bus)
    with pytest.raises(OSError):        # §11.1.1: ACTIVE, so the host cannot lock again
        write_block(bus, 1, bytes(16))
    with pytest.raises(OSError):
        read_block(bus, 1)
    assert tag.rf_exchange(b"\x30\x04") == BODY[0:16]  # the reader reads what was there
    assert tag.session_registers()[6] & 0x60 == 0x20   # RF_LOCKED
    tag.rf_exchange(b"\x50\x00")        # HLTA: HALT frees the memory for the host
    write_block(bus, 1, bytes(16))
    assert read_block(bus, 1) == bytes(16)
