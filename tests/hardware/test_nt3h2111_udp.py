"""The NT3H2111 model's RF side on UDP: nfcpy's own reader code over `udp:` reads the NDEF that
was written over I2C; bad input and vanishing readers leave the tag working. Loopback only."""
import contextlib
import socket
import threading
import time

import pytest

from hardware.nt3h2111 import rf_udp
from hardware.nt3h2111.rf_udp import SILENT
from tests.hardware import (read_block, reg_read, reg_write, rig, write_block,
                            write_user_memory)

nfc = pytest.importorskip("nfc")
from xinka import ndef as fw_ndef  # noqa: E402

URL = fw_ndef.tap_url("v.example.cn", bytes(range(98)), bytes(range(256)) + bytes(24))
TLV = fw_ndef.tlv(fw_ndef.uri_record(URL))


@contextlib.contextmanager
def served(tag, field_timeout_ms=1000):
    """The tag's RF side served by a thread on a free loopback port."""
    lock = threading.Lock()
    srv = rf_udp.RFServer(tag, 0, field_timeout_ms=field_timeout_ms, lock=lock)
    stop = threading.Event()

    def run():
        while not stop.is_set():
            srv.step(5)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield srv, lock
    finally:
        stop.set()
        t.join(5)
        srv.close()


def nfcpy_read(port):
    """Read the tag the way host code reads a badge; returns (nfcpy tag, URL)."""
    deadline = time.time() + 10
    clf = nfc.ContactlessFrontend("udp:127.0.0.1:%d" % port)
    try:
        tag = clf.connect(rdwr={"targets": ["106A"], "on-connect": lambda tag: False},
                          terminate=lambda: time.time() > deadline)
        assert tag is not None, "nfcpy found no tag"
        return tag, tag.ndef.records[0].iri
    finally:
        clf.close()


def loaded_tag(**kw):
    tag, bus, clock = rig(clock=None, write_ms=0, **kw)
    write_user_memory(bus, clock, TLV)
    return tag, bus


class Reader:
    """A raw UDP reader speaking the udp driver's format, for exact-bytes checks."""

    def __init__(self, port):
        self.addr = ("127.0.0.1", port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # the server answers every frame, with "SILENT 00" where the tag is silent: the
        # timeout only catches a server that says nothing at all
        self.s.settimeout(5)

    def send(self, raw):
        self.s.sendto(raw, self.addr)

    def recv(self):
        try:
            return self.s.recvfrom(1024)[0]
        except socket.timeout:
            return None

    def xchg(self, hexframe):
        self.send(b"106A " + hexframe.encode())
        return self.recv()

    def select(self, uid_hex="043c5e0a912b80", earlier_silences=0):
        """Activate the tag; `earlier_silences` SILENT datagrams still owed for frames sent
        before are read first."""
        u = bytes.fromhex(uid_hex)
        self.send(b"106A 26")
        for _ in range(earlier_silences):
            assert self.recv() == SILENT
        assert self.recv() == b"106A 4400"
        cl1 = bytes((0x88, u[0], u[1], u[2], 0x88 ^ u[0] ^ u[1] ^ u[2]))
        assert self.xchg("9320") == b"106A " + cl1.hex().encode()
        assert self.xchg("9370" + cl1.hex()) == b"106A 04"
        cl2 = u[3:7] + bytes((u[3] ^ u[4] ^ u[5] ^ u[6],))
        assert self.xchg("9520") == b"106A " + cl2.hex().encode()
        assert self.xchg("9570" + cl2.hex()) == b"106A 00"

    def close(self):
        self.s.close()


def test_tlv_fits_the_1k_user_memory():
    assert fw_ndef.fits(TLV) and 500 < len(TLV) <= 888


def test_nfcpy_reads_the_ndef_written_over_i2c():
    tag, bus = loaded_tag()
    last = (16 + len(TLV) - 2) // 16             # block holding the last NDEF byte
    reg_write(bus, 1, 0xFF, last)                # LAST_NDEF_BLOCK
    reg_write(bus, 0, 0x3C, 0x28)                # FD_ON: tag selected, FD_OFF: last NDEF read
    levels = []
    tag.on_fd(levels.append)
    with served(tag) as (srv, _):
        nt, url = nfcpy_read(srv.port)
    assert url == URL
    assert type(nt).__name__ == "Type2Tag"       # no VERSION_MAP entry: generic Type 2
    assert bytes(nt.identifier).hex() == tag.uid.hex()
    assert reg_read(bus, 6) & 0x80               # NDEF_DATA_READ
    assert 1 in levels and levels[0] == 0         # pulled at selection, released after the read
    assert tag.session_registers()[6] & 0x21 == 0  # field gone, memory free
    assert srv.stats["garbage"] == 0 and srv.stats["rfoff"] >= 1


def test_udp_format_exact_bytes():
    tag, _ = loaded_tag()
    with served(tag) as (srv, _):
        r = Reader(srv.port)
        r.select()
        assert r.xchg("60") == b"106A 0004040502021303"
        assert r.xchg("3003") == b"106A e1106d00" + TLV[:12].hex().encode()
        assert r.xchg("30f0") == b"106A 00"      # no SRAM window: NAK
        r.select()
        assert r.xchg("a2041122") == SILENT      # truncated WRITE: silence, said
        r.send(b"RFOFF")
        time.sleep(0.05)
        assert tag.rf_state == "OFF"
        r.close()


GARBAGE = [b"", b"106A", b"106A zz", b"106A 3", b"106A 30 04", b"XYZ 26", b"106B 050010",
           b"\xff\xfe\x00", b"212F 0600ffff0100", b"106A " + b"00" * 400, b"RFOFFX"]


def test_garbage_and_truncated_frames_leave_the_tag_readable():
    tag, bus = loaded_tag()
    with served(tag) as (srv, _):
        r = Reader(srv.port)
        for g in GARBAGE:
            r.send(g)
        r.select(earlier_silences=1)             # the 400-byte frame: well formed, unanswered
        for frame in ("30", "3a04", "a20401", "c2", "3c", "ffffffff", "3aff00", "30ea"):
            assert r.xchg(frame) in (SILENT, b"106A 00")
            r.select()
        assert r.xchg("3004")[5:] == TLV[:16].hex().encode()
        r.close()
        _, url = nfcpy_read(srv.port)
    assert url == URL
    assert srv.stats["garbage"] >= 7 and srv.stats["silent"] >= 1


def test_a_reader_that_vanishes_mid_exchange_is_a_field_off():
    tag, bus = loaded_tag()
    with served(tag, field_timeout_ms=150) as (srv, lock):
        r = Reader(srv.port)
        r.select()
        assert r.xchg("3004") is not None
        with lock:
            assert reg_read(bus, 6) & 0x21 == 0x21       # RF_LOCKED, field present
            with pytest.raises(OSError):
                write_block(bus, 2, bytes(16))           # memory belongs to RF
        time.sleep(0.4)                                  # the reader is gone
        with lock:
            assert reg_read(bus, 6) == 0x00
            assert tag.rf_state == "OFF"
        assert srv.stats["timeouts"] == 1
        r.close()
        _, url = nfcpy_read(srv.port)
    assert url == URL


def test_a_reader_vanishing_during_pass_through_frees_the_sram():
    tag, bus = loaded_tag()
    with served(tag, field_timeout_ms=150) as (srv, lock):
        r = Reader(srv.port)
        r.select()
        with lock:
            reg_write(bus, 0, 0x41, 0x41)                # pass-through, NFC -> I2C
            assert reg_read(bus, 0) & 0x40
        for page in range(0xF0, 0xF8):                   # half a challenge, then nothing
            assert r.xchg("a2%02x01020304" % page) == b"106A 0a"
        time.sleep(0.4)
        with lock:
            assert reg_read(bus, 0) & 0x40 == 0          # pass-through ended with the field
            assert reg_read(bus, 6) == 0
            write_block(bus, 0xF8, bytes(16))            # the host owns the SRAM again
        r.close()


def test_a_second_reader_gets_a_fresh_field():
    tag, _ = loaded_tag()
    with served(tag) as (srv, _):
        a, b = Reader(srv.port), Reader(srv.port)
        a.select()
        b.select()                                       # would fail in a continuing field
        assert b.xchg("3003")[5:13] == b"e1106d00"
        a.close()
        b.close()


def test_late_frames_only_the_newest_is_answered():
    tag, _ = loaded_tag()
    srv = rf_udp.RFServer(tag, 0)
    try:
        r = Reader(srv.port)
        for frame in (b"26", b"9320"):
            r.send(b"106A " + frame)
            srv.step(100)
            r.s.recvfrom(1024)
        cl1 = tag._cl1.hex().encode()
        r.send(b"106A 9370" + cl1)
        srv.step(100)
        r.s.recvfrom(1024)
        r.send(b"106A 9520")
        srv.step(100)
        cl2 = r.s.recvfrom(1024)[0][5:]
        r.send(b"106A 9570" + cl2)
        srv.step(100)
        r.s.recvfrom(1024)
        for page in (b"04", b"08", b"0c"):              # the loop was busy: three wait
            r.send(b"106A 30" + page)
        time.sleep(0.05)
        srv.step(0)
        assert r.s.recvfrom(1024)[0][5:] == TLV[32:48].hex().encode()
        with pytest.raises(socket.timeout):
            r.s.recvfrom(1024)
        assert srv.stats["dropped"] == 2
        r.close()
    finally:
        srv.close()


def test_rf_lock_seen_from_i2c_while_nfcpy_holds_the_tag():
    tag, bus = loaded_tag()
    with served(tag) as (srv, lock):
        clf = nfc.ContactlessFrontend("udp:127.0.0.1:%d" % srv.port)
        try:
            nt = clf.connect(rdwr={"targets": ["106A"], "on-connect": lambda t: False},
                             terminate=lambda: False)
            assert nt.ndef is not None
            with lock:
                assert reg_read(bus, 6) & 0x21 == 0x21
        finally:
            clf.close()
        time.sleep(0.05)
        with lock:
            assert reg_read(bus, 6) & 0x21 == 0
            assert read_block(bus, 1)[:2] == TLV[:2]
